"""Raised and cleared by the flows and checks: one record per fingerprint, counting repeats."""

from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from exceptions_app import notifications
from exceptions_app.models import (
    LIVE_STATUSES,
    Blocks,
    DeskException,
    ExceptionKind,
    ExceptionStatus,
    Resolution,
    SubStatus,
    System,
    TimelineVerb,
)
from exceptions_app.services.records import move, timeline_write
from exceptions_app.services.routing import routing_for
from exceptions_app.workflow import Action


@transaction.atomic
def exception_raise(
    *,
    kind: str,
    subject: str,
    message: str,
    system: str,
    order_increment_id: str = "",
    sku: str = "",
    erp_document: str = "",
    period: str = "",
    evidence: dict | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    units: Decimal | None = None,
    blocks: str | None = None,
) -> DeskException:
    """Record one occurrence of a drift: create it, or count it on the record that owns its
    fingerprint (`kind:subject`). A resolved one comes back as regressed; an ignored one
    keeps counting quietly until its ignore-until date has passed, then reopens.
    """
    if kind not in ExceptionKind.values:
        raise ValueError(f"unknown exception kind {kind!r}; expected one of {ExceptionKind.values}")
    if system not in System.values:
        raise ValueError(f"unknown system {system!r}; expected one of {System.values}")
    subject = (subject or "").strip()
    if not subject:
        raise ValueError("an exception needs a subject (the SKU, order number, method or period)")
    if not message:
        raise ValueError("an exception needs a message saying what was found")
    if blocks is not None and blocks not in Blocks.values:
        raise ValueError(f"unknown blocks value {blocks!r}; expected one of {Blocks.values}")
    if amount is not None and not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal (money is never a float)")
    evidence = dict(evidence or {})
    fingerprint = f"{kind}:{subject}"
    refs = {
        "order_increment_id": order_increment_id.strip(),
        "sku": sku,
        "erp_document": erp_document,
        "period": period,
        "system": system,
        "message": message,
        "evidence": evidence,
        "amount": amount,
        "currency": currency,
        "units": units,
    }

    # Two workers may raise the same fingerprint at once: the partial unique constraint lets
    # one insert win; the other retries and finds (and locks) the winner's row.
    for _attempt in range(3):
        current = (
            DeskException.objects.select_for_update()
            .filter(fingerprint=fingerprint)
            .order_by("-id")
            .first()
        )
        if current is None:
            try:
                with transaction.atomic():
                    return _exception_create(kind, subject, fingerprint, refs, blocks)
            except IntegrityError:
                continue
        return _exception_recur(current, refs)
    raise RuntimeError(f"could not record {fingerprint} after 3 attempts")


def _exception_create(
    kind: str, subject: str, fingerprint: str, refs: dict, blocks: str | None
) -> DeskException:
    routing = routing_for(kind)
    now = timezone.now()
    exception = DeskException.objects.create(
        kind=kind,
        subject=subject,
        fingerprint=fingerprint,
        team=routing.team,
        severity=routing.severity,
        blocks=routing.blocks if blocks is None else blocks,
        status=ExceptionStatus.OPEN,
        sub_status=SubStatus.NEW,
        first_seen_at=now,
        last_seen_at=now,
        sla_due_at=now + timedelta(minutes=routing.sla_minutes),
        **refs,
    )
    timeline_write(
        exception,
        verb=TimelineVerb.RAISED,
        note=refs["message"],
        to_status=ExceptionStatus.OPEN,
    )
    if exception.blocks and routing.notify_on_raise:
        notifications.notify_raised(exception)
    return exception


def _exception_recur(exception: DeskException, refs: dict) -> DeskException:
    now = timezone.now()
    message_changed = refs["message"] != exception.message
    exception.occurrences += 1
    exception.last_seen_at = now
    for name, value in refs.items():
        # Keep references a later, less specific occurrence does not repeat.
        if value not in (None, "") or name in ("evidence", "message"):
            setattr(exception, name, value)

    if exception.status == ExceptionStatus.RESOLVED:
        routing = routing_for(exception.kind)
        move(
            exception,
            action=Action.REGRESS,
            verb=TimelineVerb.REGRESSED,
            actor=None,
            note=refs["message"],
            sub_status=SubStatus.RECURRING,
            resolution=Resolution.NONE,
            sla_due_at=now + timedelta(minutes=routing.sla_minutes),
            escalated_at=None,
        )
        if exception.blocks and routing.notify_on_raise:
            notifications.notify_raised(exception)
        return exception

    if exception.status == ExceptionStatus.IGNORED:
        if exception.ignored_until is not None and exception.ignored_until <= now:
            routing = routing_for(exception.kind)
            return move(
                exception,
                action=Action.REOPEN,
                verb=TimelineVerb.REOPENED,
                actor=None,
                note=refs["message"],
                sub_status=SubStatus.RECURRING,
                ignored_until=None,
                sla_due_at=now + timedelta(minutes=routing.sla_minutes),
                escalated_at=None,
            )
        exception.save()
        return exception

    if exception.sub_status == SubStatus.NEW:
        exception.sub_status = SubStatus.RECURRING
    exception.save()
    # Counting is enough for a repeat; the timeline only gets new information.
    if message_changed:
        timeline_write(exception, verb=TimelineVerb.SEEN_AGAIN, note=refs["message"])
    return exception


@transaction.atomic
def exception_auto_resolve(*, kind: str, subject: str, note: str = "") -> DeskException | None:
    """The check that raised `kind:subject` sees the cause gone; None if nothing was open."""
    exception = (
        DeskException.objects.select_for_update()
        .filter(fingerprint=f"{kind}:{subject.strip()}", status__in=LIVE_STATUSES)
        .first()
    )
    if exception is None:
        return None
    return move(
        exception,
        action=Action.AUTO_RESOLVE,
        verb=TimelineVerb.AUTO_RESOLVED,
        actor=None,
        note=note or "A later check no longer sees the cause.",
        resolution=Resolution.AUTO,
        sub_status=SubStatus.NONE,
        ignored_until=None,
    )
