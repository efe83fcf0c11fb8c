"""The queue table (django-tables2). Every cell reads the row or its select_related rows."""

import django_tables2 as tables
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from exceptions_app.models import SEVERITY_RANK, DeskException, ExceptionStatus, Severity

STATUS_BADGE = {
    ExceptionStatus.OPEN: "text-bg-primary",
    ExceptionStatus.IN_PROGRESS: "text-bg-info",
    ExceptionStatus.REGRESSED: "text-bg-danger",
    ExceptionStatus.RESOLVED: "text-bg-success",
    ExceptionStatus.IGNORED: "text-bg-secondary",
}
SEVERITY_BADGE = {
    Severity.LOW: "text-bg-light border",
    Severity.NORMAL: "text-bg-secondary",
    Severity.HIGH: "text-bg-warning",
    Severity.CRITICAL: "text-bg-danger",
}


def _short(delta_text: str) -> str:
    # "3 hours, 5 minutes" → "3 hours": the queue needs the order of magnitude.
    return delta_text.split(",")[0]


class ExceptionTable(tables.Table):
    select = tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            # django-tables2 uses td__input instead of input (not on top of it): all of it here.
            "td__input": {
                "form": "bulk-form",
                "name": "ids",
                "class": "form-check-input",
                "aria-label": lambda record: f"Select exception #{record.pk}",
            },
            "th__input": {
                "class": "form-check-input",
                "data-select-all": "ids",
                "aria-label": "Select every exception on this page",
            },
        },
        orderable=False,
    )
    id = tables.Column(verbose_name="#", attrs={"td": {"class": "text-nowrap"}})
    kind = tables.Column(verbose_name="Kind")
    subject = tables.Column(verbose_name="Subject")
    status = tables.Column()
    severity = tables.Column()
    team = tables.Column()
    assignee = tables.Column(order_by=("assignee__username",), default="—")
    amount = tables.Column(verbose_name="At stake", attrs={"td": {"class": "text-end"}})
    occurrences = tables.Column(verbose_name="Seen", attrs={"td": {"class": "text-end"}})
    first_seen_at = tables.Column(verbose_name="Age")
    sla_due_at = tables.Column(verbose_name="SLA")

    class Meta:
        model = DeskException
        fields = ()
        sequence = (
            "select",
            "id",
            "kind",
            "subject",
            "status",
            "severity",
            "team",
            "assignee",
            "amount",
            "occurrences",
            "first_seen_at",
            "sla_due_at",
        )
        order_by = ("sla_due_at",)
        attrs = {"class": "table table-sm table-hover align-middle queue-table"}
        empty_text = "No exceptions match these filters."
        row_attrs = {"data-exception": lambda record: record.pk}

    def render_id(self, record: DeskException) -> str:
        url = reverse("ops:exception_detail", args=[record.pk])
        # A full page, not a boosted swap into the queue.
        return format_html('<a href="{}" hx-boost="false">#{}</a>', url, record.pk)

    def render_kind(self, record: DeskException) -> str:
        return format_html(
            '<span class="kind-label">{}</span><br>'
            '<span class="small text-body-secondary">{}</span>',
            record.get_kind_display(),
            record.kind,
        )

    def render_subject(self, record: DeskException) -> str:
        extra = []
        if record.order_increment_id and record.order_increment_id != record.subject:
            extra.append(f"order #{record.order_increment_id}")
        if record.sku and record.sku != record.subject:
            extra.append(f"SKU {record.sku}")
        if record.period and record.period != record.subject:
            extra.append(f"period {record.period}")
        return format_html(
            '<span class="text-break">{}</span>{}',
            record.subject,
            format_html('<br><span class="small text-body-secondary">{}</span>', " · ".join(extra))
            if extra
            else "",
        )

    def render_status(self, record: DeskException) -> str:
        # "New" is what open means; only a sub-status that adds something is shown.
        sub = record.get_sub_status_display() if record.sub_status not in ("", "new") else ""
        return format_html(
            '<span class="badge {}">{}</span>{}',
            STATUS_BADGE.get(record.status, "text-bg-light"),
            record.get_status_display(),
            format_html('<br><span class="small text-body-secondary">{}</span>', sub)
            if sub
            else "",
        )

    def render_severity(self, record: DeskException) -> str:
        return format_html(
            '<span class="badge {}">{}</span>',
            SEVERITY_BADGE.get(record.severity, ""),
            record.get_severity_display(),
        )

    def order_severity(self, queryset: QuerySet, is_descending: bool):
        rank = Case(
            *[When(severity=k, then=Value(v)) for k, v in SEVERITY_RANK.items()],
            output_field=IntegerField(),
        )
        queryset = queryset.annotate(severity_order=rank).order_by(
            ("-" if is_descending else "") + "severity_order", "id"
        )
        return queryset, True

    def render_team(self, record: DeskException) -> str:
        return record.get_team_display()

    def render_assignee(self, record: DeskException) -> str:
        user = record.assignee
        return user.get_full_name() or user.get_username()

    def render_amount(self, record: DeskException) -> str:
        if record.amount is not None:
            return f"{record.amount:,.2f} {record.currency}".strip()
        if record.units is not None:
            return f"{record.units.normalize():f} units"
        return "—"

    def render_first_seen_at(self, record: DeskException) -> str:
        return format_html(
            '<span title="{}">{}</span>',
            timezone.localtime(record.first_seen_at).strftime("%Y-%m-%d %H:%M"),
            _short(timesince(record.first_seen_at)),
        )

    def render_sla_due_at(self, record: DeskException) -> str:
        due = record.sla_due_at
        if not record.is_working or due is None:
            return "—"
        if due < timezone.now():
            return format_html(
                '<span class="badge text-bg-danger">overdue {}</span>', _short(timesince(due))
            )
        return format_html('<span class="text-body-secondary">in {}</span>', _short(timeuntil(due)))
