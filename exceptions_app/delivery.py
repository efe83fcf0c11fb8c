"""The notification outbox's delivery: every Notification row is written in the transaction of
the change that caused it (DESIGN §9) and delivered from here, with retries, backoff and a
dead letter, so no broker can lose one.

A row is claimed with a conditional UPDATE (its `next_attempt_at` moved on by the claim lease)
and sent with no transaction open: a slow mail server or webhook never holds a row lock, and
two workers never send the same row at once. A worker killed mid-send leaves the claim to
expire, and the row is sent again: delivery is at least once, and nothing is lost.
"""

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from exceptions_app import notifications
from exceptions_app.models import Notification
from exceptions_app.notifications import WebhookError

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
BATCH = 200


def _backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failure, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def notifications_due(*, now: datetime | None = None):
    """Rows waiting for a channel (email, or the webhook), not dead, due now."""
    now = now or timezone.now()
    return Notification.objects.filter(
        Q(sent_at__isnull=True) | Q(webhook_wanted=True, webhook_sent_at__isnull=True),
        dead_at__isnull=True,
        held_for_digest=False,
        next_attempt_at__lte=now,
    )


def notifications_dead():
    return Notification.objects.filter(dead_at__isnull=False)


def _claim(notification_id: int, now: datetime) -> Notification | None:
    claimed = (
        notifications_due(now=now)
        .filter(pk=notification_id)
        .update(next_attempt_at=now + CLAIM_LEASE)
    )
    return Notification.objects.get(pk=notification_id) if claimed else None


def _email(notification: Notification) -> None:
    if notification.recipients:
        send_mail(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            notification.recipients,
        )
    else:
        # Nothing to send to is an answer, not a failure to retry: recorded and logged.
        notification.error = "no recipients: nobody in the team has an email address"
        logger.warning("notification %s: %s", notification.pk, notification.error)


def notification_deliver(notification_id: int, *, now: datetime | None = None) -> bool:
    """Deliver one outbox row on every channel still owed; True when it is fully delivered.

    Safe to run twice and from two workers at once: a row already delivered, claimed by
    another worker, or not yet due is left alone (False).
    """
    now = now or timezone.now()
    notification = _claim(notification_id, now)
    if notification is None:
        return False
    errors = []
    if notification.sent_at is None:
        try:
            _email(notification)
        except (smtplib.SMTPException, OSError) as exc:
            errors.append(f"email: {type(exc).__name__}: {exc}")
        else:
            notification.sent_at = timezone.now()
    if notification.webhook_wanted and notification.webhook_sent_at is None:
        if not settings.EXCEPTION_WEBHOOK_URL:
            errors.append("webhook: EXCEPTION_WEBHOOK_URL was unset after the row was written")
        else:
            try:
                notifications.webhook_post(
                    url=settings.EXCEPTION_WEBHOOK_URL,
                    payload={"text": f"{notification.subject}\n{notification.body}"},
                    timeout=settings.EXCEPTION_WEBHOOK_TIMEOUT,
                )
            except WebhookError as exc:
                errors.append(f"webhook: {exc}")
            else:
                notification.webhook_sent_at = timezone.now()
    fields = ["sent_at", "webhook_sent_at", "next_attempt_at", "attempts", "error", "dead_at"]
    if errors:
        notification.attempts += 1
        notification.error = "; ".join(errors)
        logger.error("notification %s attempt %s: %s", notification.pk, notification.attempts,
                     notification.error)  # fmt: skip
        if notification.attempts >= MAX_ATTEMPTS:
            notification.dead_at = timezone.now()
        notification.next_attempt_at = timezone.now() + _backoff(notification.attempts)
    else:
        notification.next_attempt_at = timezone.now()
    notification.save(update_fields=fields)
    return notification.delivered


def notifications_deliver_due(*, now: datetime | None = None) -> int:
    """Task (every minute): deliver what is due, oldest first; returns rows fully delivered."""
    ids = list(notifications_due(now=now).order_by("next_attempt_at", "pk").values_list(
        "pk", flat=True)[:BATCH])  # fmt: skip
    return sum(notification_deliver(pk, now=now) for pk in ids)
