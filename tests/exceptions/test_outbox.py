"""The notification outbox (DESIGN §9): written with the change, delivered by a flow with
retries, backoff and a dead letter, so a lost broker task or a refusing mail server loses
nothing and sends nothing twice."""

import smtplib
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from exceptions_app import delivery
from exceptions_app.delivery import (
    MAX_ATTEMPTS,
    notification_deliver,
    notifications_dead,
    notifications_deliver_due,
)
from exceptions_app.models import Notification
from exceptions_app.services import exception_raise
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_team(db):
    return [UserFactory(username=f"ops{n}", roles=["ops"]) for n in range(2)]


def _raise(sku: str = "MH01-XS-Black"):
    return exception_raise(
        kind="sku_unknown", subject=sku, sku=sku, system="erp", message=f"SKU {sku} unknown"
    )


def test_a_notification_whose_task_the_broker_lost_is_delivered_by_the_flow(ops_team):
    exception = _raise()  # no on-commit callback runs: as if Redis dropped the task
    row = Notification.objects.get(exception=exception)
    assert row.sent_at is None and mail.outbox == []
    assert notifications_deliver_due() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops0@example.test", "ops1@example.test"]
    # Run again (or by a second worker): nothing is sent twice.
    assert notifications_deliver_due() == 0
    assert notification_deliver(row.pk) is False
    assert len(mail.outbox) == 1


def test_a_refusing_mail_server_is_retried_with_backoff_then_dead_lettered(ops_team, monkeypatch):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(1)
        raise smtplib.SMTPServerDisconnected("mail server went away")

    monkeypatch.setattr(delivery, "send_mail", refuse)
    row = Notification.objects.get(exception=_raise())
    now = timezone.now()
    assert notifications_deliver_due(now=now) == 0
    row.refresh_from_db()
    assert (row.attempts, row.sent_at) == (1, None) and "mail server went away" in row.error
    # Not before its backoff: a sweep a second later sends nothing.
    assert row.next_attempt_at > now + timedelta(seconds=30)
    notifications_deliver_due(now=now + timedelta(seconds=1))
    assert len(calls) == 1
    for _ in range(MAX_ATTEMPTS):
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        notifications_deliver_due()
    row.refresh_from_db()
    assert row.attempts == MAX_ATTEMPTS and row.dead_at is not None
    assert len(calls) == MAX_ATTEMPTS  # dead-lettered: no further attempt
    assert list(notifications_dead()) == [row]


def test_a_failing_webhook_is_retried_without_sending_the_email_again(
    ops_team, settings, monkeypatch
):
    settings.EXCEPTION_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    answers = iter([delivery.WebhookError("HTTP 503"), 200])

    def webhook(**kwargs):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr("exceptions_app.notifications.webhook_post", webhook)
    row = Notification.objects.get(exception=_raise())
    assert row.webhook_wanted
    assert notification_deliver(row.pk) is False
    row.refresh_from_db()
    assert row.sent_at is not None and row.webhook_sent_at is None and "HTTP 503" in row.error
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert notification_deliver(row.pk) is True
    assert len(mail.outbox) == 1  # the email went once; only the webhook was retried


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_at_once_send_each_row_once(ops_team, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("needs PostgreSQL: SQLite serialises the two workers' writes")
    sent = []
    barrier = threading.Barrier(2)

    def slow_send(subject, body, sender, recipients):
        sent.append(subject)

    monkeypatch.setattr(delivery, "send_mail", slow_send)
    for n in range(20):
        _raise(f"SKU-{n}")

    def worker():
        barrier.wait()
        notifications_deliver_due()
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 20
