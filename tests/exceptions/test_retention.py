"""Closed exceptions, their evidence and timeline are kept for the retention window, then purged."""

from datetime import timedelta

import pytest
from django.utils import timezone

from exceptions_app.models import DeskException, TimelineEntry
from exceptions_app.services import exceptions_purge_expired
from exceptions_app.tasks import exceptions_purge
from tests.factories import DeskExceptionFactory

pytestmark = pytest.mark.django_db


def _aged(status: str, days: int, **kwargs):
    when = timezone.now() - timedelta(days=days)
    exception = DeskExceptionFactory(
        status=status,
        closed_at=when if status in ("resolved", "ignored") else None,
        last_seen_at=when,
        **kwargs,
    )
    TimelineEntry.objects.create(exception=exception, verb="raised", at=when)
    return exception


def test_purge_deletes_only_closed_exceptions_past_retention_with_their_timeline(settings):
    settings.EXCEPTION_RETENTION_DAYS = 548
    old_resolved = _aged("resolved", 600)
    old_ignored = _aged("ignored", 600)
    recent_resolved = _aged("resolved", 400)
    old_open = _aged("open", 600)
    ignored_but_recurring = _aged("ignored", 600)
    DeskException.objects.filter(pk=ignored_but_recurring.pk).update(last_seen_at=timezone.now())

    assert exceptions_purge() > 0

    remaining = set(DeskException.objects.values_list("pk", flat=True))
    assert remaining == {recent_resolved.pk, old_open.pk, ignored_but_recurring.pk}
    assert not TimelineEntry.objects.filter(exception_id__in=[old_resolved.pk, old_ignored.pk])


def test_retention_is_configurable(settings):
    exception = _aged("resolved", 40)
    settings.EXCEPTION_RETENTION_DAYS = 548
    exceptions_purge()
    assert DeskException.objects.filter(pk=exception.pk).exists()
    settings.EXCEPTION_RETENTION_DAYS = 30
    exceptions_purge()
    assert not DeskException.objects.filter(pk=exception.pk).exists()


def test_retention_below_a_day_is_refused():
    with pytest.raises(ValueError, match="at least one day"):
        exceptions_purge_expired(older_than_days=0)


def test_default_retention_is_eighteen_months():
    from config import settings as project_settings

    assert project_settings.EXCEPTION_RETENTION_DAYS == 548
