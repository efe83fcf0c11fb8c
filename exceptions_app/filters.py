"""The queue's filters (django-filter). Every value comes from the query string, so a
filtered queue is a shareable URL: ?kind=sku_unknown&assignee=me&sla=breached.
"""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from exceptions_app.models import WORKING_STATUSES, ExceptionKind, ExceptionStatus, System, Team
from exceptions_app.selectors import team_members, visible_teams

ACTIVE = "active"
ALL = "all"
STATUS_CHOICES = [
    (ACTIVE, "Needs work (open, in progress, regressed)"),
    *ExceptionStatus.choices,
    (ALL, "Any status"),
]
AGE_CHOICES = [
    ("1h", "Newer than 1 hour"),
    ("24h", "Newer than 24 hours"),
    ("gt24h", "Older than 24 hours"),
    ("gt3d", "Older than 3 days"),
    ("gt7d", "Older than 7 days"),
]
AGE_LOOKUPS = {
    "1h": ("gte", timedelta(hours=1)),
    "24h": ("gte", timedelta(hours=24)),
    "gt24h": ("lt", timedelta(hours=24)),
    "gt3d": ("lt", timedelta(days=3)),
    "gt7d": ("lt", timedelta(days=7)),
}
SLA_CHOICES = [("breached", "SLA breached"), ("ok", "Within SLA")]


class ExceptionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=ExceptionKind.choices, empty_label="Any kind", label="Kind"
    )
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", empty_label=None, label="Status"
    )
    team = django_filters.ChoiceFilter(choices=Team.choices, empty_label="Any team")
    assignee = django_filters.ChoiceFilter(
        choices=[], method="filter_assignee", empty_label="Anyone", label="Assignee"
    )
    age = django_filters.ChoiceFilter(
        choices=AGE_CHOICES, method="filter_age", empty_label="Any age", label="Age"
    )
    sla = django_filters.ChoiceFilter(
        choices=SLA_CHOICES, method="filter_sla", empty_label="Any", label="SLA"
    )
    system = django_filters.ChoiceFilter(choices=System.choices, empty_label="Any system")
    sku = django_filters.CharFilter(method="filter_sku", label="SKU")
    order = django_filters.CharFilter(method="filter_order", label="Order number")

    def __init__(self, data=None, *args, user=None, members=None, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("status"):
            # The queue opens on what needs work; "Any status" is one click away.
            data["status"] = ACTIVE
        super().__init__(data, *args, **kwargs)
        self.user = user
        teams = visible_teams(user) if user is not None else list(Team.values)
        if len(teams) == 1:
            del self.filters["team"]  # one team's queue: nothing to choose
        else:
            self.filters["team"].extra["choices"] = [c for c in Team.choices if c[0] in teams]
        if members is None:
            members = list(team_members(teams=teams))
        others = [
            (str(u.pk), u.get_full_name() or u.get_username())
            for u in members
            if user is None or u.pk != user.pk
        ]
        self.filters["assignee"].extra["choices"] = [
            ("me", "Me"),
            ("none", "Nobody"),
            *others,
        ]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == ALL:
            return queryset
        if value == ACTIVE:
            return queryset.filter(status__in=WORKING_STATUSES)
        return queryset.filter(status=value)

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "me":
            return queryset.filter(assignee=self.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))

    def filter_age(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        lookup, delta = AGE_LOOKUPS[value]
        return queryset.filter(**{f"first_seen_at__{lookup}": timezone.now() - delta})

    def filter_sla(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        breached = Q(status__in=WORKING_STATUSES, sla_due_at__lt=timezone.now())
        return queryset.filter(breached) if value == "breached" else queryset.exclude(breached)

    def filter_sku(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(sku__istartswith=value) if value else queryset

    def filter_order(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip().lstrip("#")
        return queryset.filter(order_increment_id=value) if value else queryset

    @property
    def form(self) -> forms.Form:
        form = super().form
        for field in form.fields.values():
            css = "form-select form-select-sm" if hasattr(field, "choices") else "form-control"
            if "control" in css:
                css += " form-control-sm"
            field.widget.attrs.setdefault("class", css)
        return form
