"""Telling the owning team: email (Django's backend) and an optional chat webhook.

Every notification is a row (who, what, when sent) written in the same transaction as the
change that caused it; delivery runs as a django-q2 task after commit, so a rolled-back raise
sends nothing and a slow mail server never holds a database lock. When one team gets more than
EXCEPTION_DIGEST_THRESHOLD raise emails in a day, further raises wait for the daily digest.
"""

import logging
from collections.abc import Callable
from datetime import datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from exceptions_app.models import (
    DeskException,
    Notification,
    NotificationEvent,
    TeamContact,
)

logger = logging.getLogger(__name__)


class WebhookError(Exception):
    """The chat webhook could not be delivered (after the sender's retries, or refused)."""


# The chat webhook goes out through the integration's HTTP chokepoint, which registers itself
# here: (url=, payload=, timeout=) -> status code, raising WebhookError on failure.
WebhookSender = Callable[..., int]
_webhook_sender: WebhookSender | None = None


def register_webhook_sender(sender: WebhookSender) -> None:
    global _webhook_sender
    _webhook_sender = sender


def webhook_post(*, url: str, payload: dict, timeout: float) -> int:
    if _webhook_sender is None:
        raise WebhookError("no webhook sender is installed (the integration app registers one)")
    return _webhook_sender(url=url, payload=payload, timeout=timeout)


DELIVER_TASK = "exceptions_app.notifications.notification_deliver"


def team_recipients(team: str) -> list[str]:
    """Active members of the team's group with an email address, plus its shared mailbox."""
    emails = list(
        get_user_model()
        .objects.filter(groups__name=team, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    mailbox = TeamContact.objects.filter(team=team).values_list("mailbox", flat=True).first()
    if mailbox and mailbox not in emails:
        emails.append(mailbox)
    return emails


def lead_recipients(team: str) -> list[str]:
    """The team lead (TeamContact.lead); the whole team when no lead is set."""
    contact = TeamContact.objects.filter(team=team).select_related("lead").first()
    if contact and contact.lead and contact.lead.email:
        return sorted({contact.lead.email, *([contact.mailbox] if contact.mailbox else [])})
    return team_recipients(team)


def exception_url(exception: DeskException) -> str:
    return settings.DESK_BASE_URL.rstrip("/") + reverse("ops:exception_detail", args=[exception.pk])


def _describe(exception: DeskException) -> str:
    lines = [
        f"{exception.get_kind_display()}: {exception.subject}",
        f"Team: {exception.get_team_display()} · severity {exception.get_severity_display()}",
        f"What it blocks: {exception.get_blocks_display() if exception.blocks else 'nothing'}",
        f"Seen {exception.occurrences} time(s), first at "
        f"{timezone.localtime(exception.first_seen_at):%Y-%m-%d %H:%M}",
        "",
        exception.message,
        "",
        exception_url(exception),
    ]
    if exception.amount is not None:
        lines.insert(3, f"At stake: {exception.amount:.2f} {exception.currency}")
    return "\n".join(lines)


def _queue(notification: Notification) -> None:
    transaction.on_commit(lambda: async_task(DELIVER_TASK, notification.pk))


def _day_start() -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


def notify_raised(exception: DeskException) -> Notification:
    """A new (or regressed) exception blocks work: tell its team, or hold for the digest."""
    sent_today = Notification.objects.filter(
        team=exception.team,
        event=NotificationEvent.RAISED,
        held_for_digest=False,
        created_at__gte=_day_start(),
    ).count()
    held = sent_today >= settings.EXCEPTION_DIGEST_THRESHOLD
    notification = Notification.objects.create(
        exception=exception,
        team=exception.team,
        event=NotificationEvent.RAISED,
        recipients=team_recipients(exception.team),
        subject=f"[desk] {exception.get_kind_display()}: {exception.subject}",
        body=_describe(exception),
        held_for_digest=held,
    )
    if not held:
        _queue(notification)
    return notification


def notify_assigned(exception: DeskException) -> Notification | None:
    assignee = exception.assignee
    if assignee is None or not assignee.email:
        return None
    notification = Notification.objects.create(
        exception=exception,
        team=exception.team,
        event=NotificationEvent.ASSIGNED,
        recipients=[assignee.email],
        subject=f"[desk] Assigned to you: {exception.get_kind_display()} {exception.subject}",
        body=_describe(exception),
    )
    _queue(notification)
    return notification


def notify_escalated(exception: DeskException, *, reason: str) -> Notification:
    recipients = lead_recipients(exception.team)
    if exception.assignee and exception.assignee.email:
        recipients = sorted({*recipients, exception.assignee.email})
    notification = Notification.objects.create(
        exception=exception,
        team=exception.team,
        event=NotificationEvent.ESCALATED,
        recipients=recipients,
        subject=f"[desk] Escalated: {exception.get_kind_display()} {exception.subject}",
        body=f"{reason}\n\n{_describe(exception)}",
    )
    _queue(notification)
    return notification


def notification_deliver(notification_id: int) -> bool:
    """Task: send one notification; safe to run twice (a sent one is not sent again)."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.sent_at is not None:
            return False
        _send(notification)
        return True


def _send(notification: Notification) -> None:
    if notification.recipients:
        send_mail(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            notification.recipients,
        )
    else:
        notification.error = "no recipients: nobody in the team has an email address"
        logger.warning("notification %s: %s", notification.pk, notification.error)
    notification.sent_at = timezone.now()
    if settings.EXCEPTION_WEBHOOK_URL:
        try:
            webhook_post(
                url=settings.EXCEPTION_WEBHOOK_URL,
                payload={"text": f"{notification.subject}\n{notification.body}"},
                timeout=settings.EXCEPTION_WEBHOOK_TIMEOUT,
            )
        except WebhookError as exc:
            # The email is the record; a chat ping that failed is noted on the row and logged.
            notification.error = str(exc)
            logger.error("notification %s webhook: %s", notification.pk, exc)
    notification.save(update_fields=["sent_at", "error"])


def notifications_send_digests() -> int:
    """Task (daily): one email per team listing the raises held back today; returns emails."""
    sent = 0
    teams = (
        Notification.objects.filter(held_for_digest=True, sent_at__isnull=True)
        .values_list("team", flat=True)
        .distinct()
    )
    for team in sorted(set(teams)):
        with transaction.atomic():
            held = list(
                Notification.objects.select_for_update(of=("self",))
                .filter(team=team, held_for_digest=True, sent_at__isnull=True)
                .select_related("exception")
                .order_by("created_at")
            )
            if not held:
                continue
            lines = [
                f"{len(held)} blocking exceptions were raised for your team since the last "
                "digest (individual emails stop after "
                f"{settings.EXCEPTION_DIGEST_THRESHOLD} a day):",
                "",
            ]
            for row in held:
                exception = row.exception
                if exception is None:
                    continue
                lines.append(
                    f"- {exception.get_kind_display()}: {exception.subject} "
                    f"({exception.get_status_display()}) {exception_url(exception)}"
                )
            digest = Notification.objects.create(
                team=team,
                event=NotificationEvent.DIGEST,
                recipients=team_recipients(team),
                subject=f"[desk] Daily digest: {len(held)} exceptions for {team}",
                body="\n".join(lines),
            )
            _send(digest)
            now = timezone.now()
            Notification.objects.filter(pk__in=[n.pk for n in held]).update(sent_at=now)
            sent += 1
    return sent
