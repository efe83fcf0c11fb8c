"""Telling the owning team: email (Django's backend) and an optional chat webhook.

Every notification is an outbox row (who, what, when sent) written in the same transaction as
the change that caused it, so a rolled-back raise sends nothing; `exceptions_app.delivery`
sends it (at once after commit, and from the every-minute delivery flow if that task was lost)
with retries and a dead letter. When one team gets more than EXCEPTION_DIGEST_THRESHOLD raise
emails in a day, further raises wait for the daily digest.
"""

import logging
from collections.abc import Callable
from datetime import datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
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


DELIVER_TASK = "exceptions_app.delivery.notification_deliver"


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


def _outbox(**fields) -> Notification:
    """Write an outbox row in the caller's transaction; deliver it at once after commit. If the
    broker loses that task, the delivery flow (`notifications_deliver_due`) still sends it."""
    notification = Notification.objects.create(
        webhook_wanted=bool(settings.EXCEPTION_WEBHOOK_URL), **fields
    )
    if not notification.held_for_digest:
        transaction.on_commit(lambda: async_task(DELIVER_TASK, notification.pk))
    return notification


def notify_team(*, exception: DeskException, team: str, subject: str, body: str) -> Notification:
    """Tell a team (other than the owner, e.g. CX of an ops exception a customer will ask about)."""
    return _outbox(
        exception=exception,
        team=team,
        event=NotificationEvent.RAISED,
        recipients=team_recipients(team),
        subject=subject,
        body=body,
    )


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
    return _outbox(
        exception=exception,
        team=exception.team,
        event=NotificationEvent.RAISED,
        recipients=team_recipients(exception.team),
        subject=f"[desk] {exception.get_kind_display()}: {exception.subject}",
        body=_describe(exception),
        held_for_digest=held,
    )


def notify_assigned(exception: DeskException) -> Notification | None:
    assignee = exception.assignee
    if assignee is None or not assignee.email:
        return None
    return _outbox(
        exception=exception,
        team=exception.team,
        event=NotificationEvent.ASSIGNED,
        recipients=[assignee.email],
        subject=f"[desk] Assigned to you: {exception.get_kind_display()} {exception.subject}",
        body=_describe(exception),
    )


def notify_escalated(exception: DeskException, *, reason: str) -> Notification:
    recipients = lead_recipients(exception.team)
    if exception.assignee and exception.assignee.email:
        recipients = sorted({*recipients, exception.assignee.email})
    return _outbox(
        exception=exception,
        team=exception.team,
        event=NotificationEvent.ESCALATED,
        recipients=recipients,
        subject=f"[desk] Escalated: {exception.get_kind_display()} {exception.subject}",
        body=f"{reason}\n\n{_describe(exception)}",
    )


def notifications_send_digests() -> int:
    """Task (daily): one digest per team of the raises held back today; returns digests."""
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
            _outbox(
                team=team,
                event=NotificationEvent.DIGEST,
                recipients=team_recipients(team),
                subject=f"[desk] Daily digest: {len(held)} exceptions for {team}",
                body="\n".join(lines),
            )
            # Folded into the digest, which the outbox delivers like any other row.
            now = timezone.now()
            Notification.objects.filter(pk__in=[n.pk for n in held]).update(sent_at=now)
            sent += 1
    return sent
