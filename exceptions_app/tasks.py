"""django-q2 tasks: thin wrappers that call services and are safe to run twice."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from exceptions_app.delivery import notifications_deliver_due
from exceptions_app.models import WORKING_STATUSES, DeskException
from exceptions_app.notifications import notifications_send_digests
from exceptions_app.services import exception_escalate, exceptions_purge_expired
from exceptions_app.workflow import TransitionNotAllowed

logger = logging.getLogger(__name__)

__all__ = [
    "notifications_deliver_due",
    "exceptions_escalate_overdue",
    "exceptions_purge",
    "notifications_send_digests",
]


def exceptions_escalate_overdue() -> int:
    """Escalate each working exception past its SLA, once (escalated_at marks it)."""
    overdue = DeskException.objects.filter(
        status__in=WORKING_STATUSES,
        sla_due_at__lt=timezone.now(),
        escalated_at__isnull=True,
    ).values_list("pk", flat=True)
    escalated = 0
    for pk in list(overdue[:1000]):
        exception = DeskException.objects.get(pk=pk)
        overdue_by = timezone.now() - exception.sla_due_at
        hours = int(overdue_by.total_seconds() // 3600)
        try:
            exception_escalate(
                exception=exception,
                actor=None,
                reason=f"SLA breached: due "
                f"{timezone.localtime(exception.sla_due_at):%Y-%m-%d %H:%M} ({hours} h ago) "
                f"and still {exception.get_status_display().lower()}.",
            )
        except (ValidationError, TransitionNotAllowed):
            # A concurrent run escalated it, or someone closed it meanwhile: nothing to do.
            continue
        escalated += 1
    return escalated


def exceptions_purge() -> int:
    """Delete closed exceptions past the retention window (EXCEPTION_RETENTION_DAYS)."""
    return exceptions_purge_expired(older_than_days=settings.EXCEPTION_RETENTION_DAYS)
