"""Emails to the owning team on raise (blocking), assignment and escalation; the daily digest
when volume is high; escalation of overdue exceptions exactly once; the chat webhook."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from exceptions_app import notifications, services
from exceptions_app.delivery import notification_deliver
from exceptions_app.models import DeskException, Notification, TeamContact
from exceptions_app.notifications import WebhookError, notifications_send_digests
from exceptions_app.tasks import exceptions_escalate_overdue
from tests.factories import DeskExceptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db):
    return {
        "ops1": UserFactory(username="olivia", roles=["ops"]),
        "ops2": UserFactory(username="omar", roles=["ops"]),
        "lead": UserFactory(username="lena", roles=["ops"]),
        "finance": UserFactory(username="fiona", roles=["finance"]),
    }


def _raise(sku="MH01-XS-Black", kind="sku_unknown"):
    return services.exception_raise(
        kind=kind, subject=sku, sku=sku, system="erp", message=f"SKU {sku} unknown"
    )


def test_a_blocking_raise_emails_the_owning_team_after_commit(
    team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        exception = _raise()
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert sorted(email.to) == sorted(u.email for k, u in team.items() if k != "finance")
    assert "MH01-XS-Black" in email.subject
    assert f"/ops/exceptions/{exception.pk}/" in email.body
    assert Notification.objects.get(exception=exception).sent_at is not None


def test_a_non_blocking_raise_and_a_repeat_send_nothing(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.exception_raise(
            kind="stock_drift", subject="24-MB01", sku="24-MB01", system="magento", message="12≠0"
        )
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        _raise()
        _raise()
    assert len(mail.outbox) == 1


def test_a_rolled_back_raise_sends_nothing(team, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                _raise()
                raise RuntimeError("the flow failed after raising")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []


def test_assignment_emails_the_assignee(team, django_capture_on_commit_callbacks):
    exception = DeskExceptionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.exception_assign(exception=exception, assignee=team["ops2"], actor=team["ops1"])
    assert [m.to for m in mail.outbox] == [[team["ops2"].email]]
    assert "Assigned to you" in mail.outbox[0].subject


def test_over_the_threshold_raises_wait_for_one_daily_digest_per_team(
    team, settings, django_capture_on_commit_callbacks
):
    settings.EXCEPTION_DIGEST_THRESHOLD = 2
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            _raise(f"SKU-{n}")
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(held_for_digest=True, sent_at__isnull=True).count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_send_digests() == 1
    assert len(mail.outbox) == 3
    digest = mail.outbox[-1]
    assert "Daily digest: 3 exceptions" in digest.subject
    for n in (2, 3, 4):
        assert f"SKU-{n}" in digest.body
    assert "SKU-0" not in digest.body
    assert notifications_send_digests() == 0
    assert len(mail.outbox) == 3


def test_overdue_exceptions_are_escalated_exactly_once_and_the_lead_is_told(
    team, django_capture_on_commit_callbacks
):
    TeamContact.objects.create(team="ops", lead=team["lead"])
    overdue = DeskExceptionFactory(sla_due_at=timezone.now() - timedelta(hours=2))
    DeskExceptionFactory(sla_due_at=timezone.now() + timedelta(hours=2))
    DeskExceptionFactory(sla_due_at=timezone.now() - timedelta(hours=2), status="resolved")

    with django_capture_on_commit_callbacks(execute=True):
        assert exceptions_escalate_overdue() == 1
        assert exceptions_escalate_overdue() == 0

    overdue.refresh_from_db()
    assert overdue.escalated_at is not None
    entry = overdue.timeline.get(verb="escalated")
    assert entry.actor is None and "SLA breached" in entry.note
    assert [m.to for m in mail.outbox] == [[team["lead"].email]]
    assert "Escalated" in mail.outbox[0].subject


def test_a_regression_starts_a_new_episode_that_can_escalate_again(team):
    exception = _raise()
    DeskException.objects.filter(pk=exception.pk).update(
        sla_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert exceptions_escalate_overdue() == 1
    services.exception_auto_resolve(kind="sku_unknown", subject="MH01-XS-Black")
    again = _raise()
    assert again.escalated_at is None
    DeskException.objects.filter(pk=exception.pk).update(
        sla_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert exceptions_escalate_overdue() == 1
    assert again.timeline.filter(verb="escalated").count() == 2


def test_delivery_is_safe_to_run_twice(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        exception = _raise()
    notification = Notification.objects.get(exception=exception)
    assert notification_deliver(notification.pk) is False
    assert len(mail.outbox) == 1


def test_the_webhook_gets_every_notification_when_configured(
    team, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EXCEPTION_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    posted = []

    def fake_post(*, url, payload, timeout):
        posted.append((url, payload, timeout))
        return 200

    monkeypatch.setattr("exceptions_app.notifications.webhook_post", fake_post)
    with django_capture_on_commit_callbacks(execute=True):
        _raise()
    assert len(posted) == 1
    url, payload, timeout = posted[0]
    assert url == "http://127.0.0.1:9/hook" and timeout == 5.0
    assert "MH01-XS-Black" in payload["text"]


def test_a_failing_webhook_is_recorded_and_the_email_still_goes(
    team, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EXCEPTION_WEBHOOK_URL = "http://127.0.0.1:9/hook"

    def failing(**kwargs):
        raise WebhookError("webhook failed after 3 attempts: HTTP 503")

    monkeypatch.setattr("exceptions_app.notifications.webhook_post", failing)
    with django_capture_on_commit_callbacks(execute=True):
        exception = _raise()
    assert len(mail.outbox) == 1
    assert "HTTP 503" in Notification.objects.get(exception=exception).error


def test_the_webhook_goes_out_through_the_integrations_http_chokepoint(monkeypatch):
    from integration.connectors import webhook
    from integration.notify import webhook_send

    assert notifications._webhook_sender is webhook_send
    sent = []

    def connector(**kwargs):
        sent.append(kwargs)
        raise webhook.WebhookError("webhook failed after 3 attempts: HTTP 503")

    monkeypatch.setattr(webhook, "webhook_post", connector)
    with pytest.raises(WebhookError, match="HTTP 503"):
        notifications.webhook_post(url="http://127.0.0.1:9/hook", payload={"t": 1}, timeout=2.0)
    assert sent == [{"url": "http://127.0.0.1:9/hook", "payload": {"t": 1}, "timeout": 2.0}]


def test_without_an_installed_sender_the_webhook_failure_is_said_not_silent(monkeypatch):
    monkeypatch.setattr(notifications, "_webhook_sender", None)
    with pytest.raises(WebhookError, match="no webhook sender is installed"):
        notifications.webhook_post(url="http://127.0.0.1:9/hook", payload={}, timeout=1.0)
