"""Closed exceptions are kept for the retention window, then deleted with their timeline."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from exceptions_app.models import CLOSED_STATUSES, DeskException

logger = logging.getLogger(__name__)


@transaction.atomic
def exceptions_purge_expired(*, older_than_days: int, now: datetime | None = None) -> int:
    """Delete closed exceptions (and their timeline) closed before the retention window."""
    if older_than_days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    expired = DeskException.objects.filter(
        status__in=CLOSED_STATUSES,
        closed_at__lt=cutoff,
        # An ignored cause that still recurs keeps its record (and its counting).
        last_seen_at__lt=cutoff,
    )
    deleted, _ = expired.delete()
    logger.info("purged closed exceptions older than %s days: %s rows", older_than_days, deleted)
    return deleted
