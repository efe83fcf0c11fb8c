"""Forms for the exception actions; each maps onto one service's arguments."""

from datetime import datetime, time

from django import forms
from django.utils import timezone

from exceptions_app.models import MANUAL_RESOLUTIONS, Resolution
from exceptions_app.services import BULK_ACTIONS

RESOLUTION_CHOICES = [(r, Resolution(r).label) for r in MANUAL_RESOLUTIONS]


class BootstrapMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            elif isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")


def _end_of_day(day) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


class AssignForm(BootstrapMixin, forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, empty_label=None)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = members
        self.fields["assignee"].label_from_instance = lambda u: (
            u.get_full_name() or u.get_username()
        )


class ResolveForm(BootstrapMixin, forms.Form):
    resolution = forms.ChoiceField(choices=RESOLUTION_CHOICES)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class IgnoreForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)
    until = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to ignore until someone reopens it.",
    )

    def clean_until(self):
        return _end_of_day(self.cleaned_data.get("until"))


class CommentForm(BootstrapMixin, forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class EscalateForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(max_length=1000)


BULK_CHOICES = [
    ("assign", "Assign to…"),
    ("start", "Start work"),
    ("resolve", "Resolve with note"),
    ("ignore", "Ignore with reason"),
    ("replay", "Replay"),
]
if {c for c, _ in BULK_CHOICES} != set(BULK_ACTIONS):
    raise ImportError("BULK_CHOICES must offer exactly the bulk actions the service runs")


class BulkForm(BootstrapMixin, forms.Form):
    action = forms.ChoiceField(choices=BULK_CHOICES)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    assignee = forms.ChoiceField(choices=[], required=False)
    resolution = forms.ChoiceField(choices=RESOLUTION_CHOICES, required=False)
    note = forms.CharField(max_length=4000, required=False, label="Note / reason")

    def __init__(self, *args, members: list, **kwargs):
        # `members` is an evaluated list (the queue already read it for its filter).
        super().__init__(*args, **kwargs)
        self._members = {str(u.pk): u for u in members}
        self.fields["assignee"].choices = [("", "(whom?)")] + [
            (pk, u.get_full_name() or u.get_username()) for pk, u in self._members.items()
        ]
        self.fields["ids"].widget = forms.MultipleHiddenInput()
        self.fields["ids"].error_messages["required"] = "Select at least one exception."

    def clean_assignee(self):
        return self._members.get(self.cleaned_data.get("assignee") or "")

    def full_clean(self):
        # Ids are any integers; the service reports unknown or foreign ones row by row.
        ids = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(i, i) for i in ids]
        super().full_clean()

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("assignee"):
            self.add_error("assignee", "Choose whom to assign them to.")
        if action in ("resolve", "ignore") and not (data.get("note") or "").strip():
            self.add_error("note", "A note (or reason) is required for the audit trail.")
        if action == "resolve" and not data.get("resolution"):
            self.add_error("resolution", "Choose how they were resolved.")
        return data
