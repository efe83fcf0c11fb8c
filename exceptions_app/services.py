"""Every change to an exception. Each service checks the transition table and who may act,
changes the record, and writes its timeline entry in the same transaction.

Callers: the sync flows and checks (`exception_raise`, `exception_auto_resolve`, with no
actor: the desk itself), and the ops screens (everything else, with the signed-in user).
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.roles import Role, can_act, user_roles
from exceptions_app import notifications
from exceptions_app.kinds import KINDS
from exceptions_app.models import (
    LIVE_STATUSES,
    MANUAL_RESOLUTIONS,
    WORKING_STATUSES,
    Blocks,
    DeskException,
    ExceptionKind,
    ExceptionStatus,
    Resolution,
    RoutingRule,
    SubStatus,
    TimelineEntry,
    TimelineVerb,
)
from exceptions_app.replay import ReplayNotAvailable, ReplayOutcome, has_replayer, replay
from exceptions_app.workflow import TransitionNotAllowed, transition_check
from integration.models import Order, OrderAddress, System

logger = logging.getLogger(__name__)

SKU_KINDS = (ExceptionKind.SKU_UNKNOWN, ExceptionKind.SKU_INACTIVE)


@dataclass(frozen=True)
class Routing:
    team: str
    sla_minutes: int
    severity: str
    blocks: str
    notify_on_raise: bool


def routing_for(kind: str) -> Routing:
    """The admin-edited routing rule, or the built-in default if the rule was deleted."""
    rule = RoutingRule.objects.filter(kind=kind).first()
    if rule is not None:
        return Routing(
            rule.team, rule.sla_minutes, rule.severity, rule.blocks, rule.notify_on_raise
        )
    info = KINDS[kind]
    return Routing(info.team, info.sla_minutes, info.severity, info.blocks, True)


def _timeline(
    exception: DeskException,
    *,
    verb: str,
    actor: AbstractBaseUser | None = None,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        exception=exception,
        verb=verb,
        actor=actor,
        note=note,
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )


def _authorize(actor: AbstractBaseUser | None, exception: DeskException, action: str) -> None:
    """Only the owning team (and admins) act on an exception; None is the desk itself."""
    if actor is None:
        return
    held = user_roles(actor)
    if not can_act(actor, f"exception.{action}"):
        raise PermissionDenied(f"Your role may not {action} exceptions.")
    if Role.ADMIN not in held and exception.team not in held:
        raise PermissionDenied(
            f"This exception belongs to the {exception.get_team_display()} team; "
            "only that team (or an admin) may act on it."
        )


def _locked(exception: DeskException) -> DeskException:
    """Re-read the row under a lock, so two people acting at once are applied in turn."""
    return DeskException.objects.select_for_update().get(pk=exception.pk)


def _move(
    exception: DeskException,
    *,
    action: str,
    verb: str,
    actor: AbstractBaseUser | None,
    note: str = "",
    data: dict | None = None,
    **changes: Any,
) -> DeskException:
    """Apply one table transition: check it, set the fields, save, write the timeline."""
    from_status = exception.status
    exception.status = transition_check(action, from_status) or from_status
    for name, value in changes.items():
        setattr(exception, name, value)
    to_status = exception.status
    if to_status in (ExceptionStatus.RESOLVED, ExceptionStatus.IGNORED):
        exception.closed_at = timezone.now()
    elif from_status != to_status:
        exception.closed_at = None
    exception.save()
    _timeline(
        exception,
        verb=verb,
        actor=actor,
        note=note,
        from_status=from_status,
        to_status=to_status if to_status != from_status else "",
        data=data,
    )
    return exception


# --- raised and cleared by the flows and checks -------------------------------------------


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
    _timeline(
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
        _move(
            exception,
            action="regress",
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
            return _move(
                exception,
                action="reopen",
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
        _timeline(exception, verb=TimelineVerb.SEEN_AGAIN, note=refs["message"])
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
    return _move(
        exception,
        action="auto_resolve",
        verb=TimelineVerb.AUTO_RESOLVED,
        actor=None,
        note=note or "A later check no longer sees the cause.",
        resolution=Resolution.AUTO,
        sub_status=SubStatus.NONE,
        ignored_until=None,
    )


# --- worked by people on the ops screens ---------------------------------------------------


def _team_member(user: AbstractBaseUser, team: str) -> bool:
    return team in user_roles(user) or Role.ADMIN in user_roles(user)


@transaction.atomic
def exception_assign(
    *, exception: DeskException, assignee: AbstractBaseUser, actor: AbstractBaseUser | None
) -> DeskException:
    exception = _locked(exception)
    _authorize(actor, exception, "assign")
    if not _team_member(assignee, exception.team):
        raise ValidationError(
            f"{assignee.get_username()} is not in the {exception.get_team_display()} team, "
            "which owns this exception."
        )
    previous = exception.assignee
    _move(
        exception,
        action="assign",
        verb=TimelineVerb.ASSIGNED,
        actor=actor,
        note=f"Assigned to {assignee.get_username()}",
        data={
            "assignee": assignee.get_username(),
            "previous": previous.get_username() if previous else None,
        },
        assignee=assignee,
    )
    if assignee != actor:
        notifications.notify_assigned(exception)
    return exception


@transaction.atomic
def exception_unassign(
    *, exception: DeskException, actor: AbstractBaseUser | None
) -> DeskException:
    exception = _locked(exception)
    _authorize(actor, exception, "unassign")
    previous = exception.assignee
    changes: dict[str, Any] = {"assignee": None}
    if exception.status == ExceptionStatus.IN_PROGRESS:
        # Nobody is working on it any more, so it goes back to open.
        changes["status"] = ExceptionStatus.OPEN
    return _move(
        exception,
        action="unassign",
        verb=TimelineVerb.UNASSIGNED,
        actor=actor,
        data={"previous": previous.get_username() if previous else None},
        **changes,
    )


@transaction.atomic
def exception_start(*, exception: DeskException, actor: AbstractBaseUser) -> DeskException:
    """The actor starts work on it; it becomes theirs if nobody had it."""
    exception = _locked(exception)
    _authorize(actor, exception, "start")
    changes: dict[str, Any] = {}
    if exception.assignee_id is None and _team_member(actor, exception.team):
        changes["assignee"] = actor
    return _move(exception, action="start", verb=TimelineVerb.STARTED, actor=actor, **changes)


@transaction.atomic
def exception_resolve(
    *,
    exception: DeskException,
    actor: AbstractBaseUser,
    resolution: str,
    note: str,
) -> DeskException:
    exception = _locked(exception)
    _authorize(actor, exception, "resolve")
    if resolution not in MANUAL_RESOLUTIONS:
        raise ValidationError(
            f"Pick how it was resolved: one of {', '.join(MANUAL_RESOLUTIONS)} "
            f"(got {resolution!r})."
        )
    if not note.strip():
        raise ValidationError("Say in a note how it was resolved; the note is the audit trail.")
    return _move(
        exception,
        action="resolve",
        verb=TimelineVerb.RESOLVED,
        actor=actor,
        note=note.strip(),
        data={"resolution": resolution},
        resolution=resolution,
        sub_status=SubStatus.NONE,
    )


@transaction.atomic
def exception_ignore(
    *,
    exception: DeskException,
    actor: AbstractBaseUser,
    reason: str,
    until: datetime | None = None,
) -> DeskException:
    exception = _locked(exception)
    _authorize(actor, exception, "ignore")
    if not reason.strip():
        raise ValidationError("Give a reason for ignoring it; the reason is the audit trail.")
    if until is not None and until <= timezone.now():
        raise ValidationError("The ignore-until date must be in the future.")
    return _move(
        exception,
        action="ignore",
        verb=TimelineVerb.IGNORED,
        actor=actor,
        note=reason.strip(),
        data={"until": until.isoformat() if until else None},
        ignored_until=until,
        sub_status=SubStatus.IGNORED_UNTIL if until else SubStatus.IGNORED_FOREVER,
    )


@transaction.atomic
def exception_comment(
    *, exception: DeskException, actor: AbstractBaseUser, note: str
) -> DeskException:
    exception = _locked(exception)
    _authorize(actor, exception, "comment")
    if not note.strip():
        raise ValidationError("A comment cannot be empty.")
    return _move(
        exception, action="comment", verb=TimelineVerb.COMMENTED, actor=actor, note=note.strip()
    )


@transaction.atomic
def exception_escalate(
    *, exception: DeskException, actor: AbstractBaseUser | None, reason: str
) -> DeskException:
    """Tell the team lead; once per episode (a regression starts a new one)."""
    exception = _locked(exception)
    _authorize(actor, exception, "escalate")
    if exception.escalated_at is not None:
        raise ValidationError(
            f"Already escalated at {timezone.localtime(exception.escalated_at):%Y-%m-%d %H:%M}."
        )
    _move(
        exception,
        action="escalate",
        verb=TimelineVerb.ESCALATED,
        actor=actor,
        note=reason,
        escalated_at=timezone.now(),
    )
    notifications.notify_escalated(exception, reason=reason)
    return exception


@transaction.atomic
def exception_replay(*, exception: DeskException, actor: AbstractBaseUser | None) -> ReplayOutcome:
    """Redo the blocked work through the kind's replayer; resolve only if it succeeds.

    The row stays locked during the replay so two people cannot replay the same exception
    at once. A failed replay is written to the timeline and leaves the exception open.
    """
    exception = _locked(exception)
    _authorize(actor, exception, "replay")
    transition_check("replay", exception.status)
    if not has_replayer(exception.kind):
        raise ReplayNotAvailable(
            f"{exception.get_kind_display()} cannot be replayed yet: no flow has registered "
            "a replay for this kind."
        )
    outcome = replay(exception)
    # The replayer may itself have auto-resolved the exception (the flow's own check).
    exception.refresh_from_db()
    if not outcome.ok:
        if exception.status in WORKING_STATUSES:
            exception.sub_status = SubStatus.REPLAY_FAILED
            exception.save(update_fields=["sub_status"])
        _timeline(exception, verb=TimelineVerb.REPLAY_FAILED, actor=actor, note=outcome.detail)
        return outcome
    if exception.status in WORKING_STATUSES:
        _move(
            exception,
            action="replay",
            verb=TimelineVerb.REPLAYED,
            actor=actor,
            note=outcome.detail,
            resolution=Resolution.REPLAYED,
            sub_status=SubStatus.NONE,
        )
    else:
        _timeline(exception, verb=TimelineVerb.REPLAYED, actor=actor, note=outcome.detail)
    return outcome


# --- many at once: bulk actions and "replay everything this fix unblocked" ---------------


@dataclass(frozen=True)
class RowOutcome:
    exception_id: int
    label: str
    ok: bool
    detail: str


# The errors a single row may fail with; anything else is a bug and must surface.
ROW_ERRORS = (TransitionNotAllowed, PermissionDenied, ValidationError, ReplayNotAvailable)


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _replay_rows(exceptions: Iterable[DeskException], actor) -> list[RowOutcome]:
    outcomes = []
    for exception in exceptions:
        try:
            result = exception_replay(exception=exception, actor=actor)
        except ROW_ERRORS as error:
            outcomes.append(RowOutcome(exception.pk, str(exception), False, _error_text(error)))
        else:
            outcomes.append(RowOutcome(exception.pk, str(exception), result.ok, result.detail))
    return outcomes


def exception_replay_blocked(
    *,
    actor: AbstractBaseUser | None,
    sku: str = "",
    shipping_method: str = "",
    order: Order | None = None,
) -> list[RowOutcome]:
    """Replay every open exception a mapping or address blocked, each in its own transaction
    (one failed replay must not undo the others), and report row by row.
    """
    condition = Q()
    if sku:
        condition |= Q(kind__in=SKU_KINDS, sku=sku)
    if shipping_method:
        condition |= Q(kind=ExceptionKind.CARRIER_UNMAPPED, subject=shipping_method)
    if order is not None:
        condition |= Q(kind=ExceptionKind.ADDRESS_INVALID, order=order)
    if not condition:
        raise ValueError("say what was fixed: a sku, a shipping_method or an order")
    blocked = DeskException.objects.filter(condition, status__in=WORKING_STATUSES).order_by("id")
    return _replay_rows(list(blocked), actor)


BULK_ACTIONS = ("assign", "start", "resolve", "ignore", "replay")


def exceptions_bulk(
    *,
    actor: AbstractBaseUser,
    ids: Iterable[int],
    action: str,
    assignee: AbstractBaseUser | None = None,
    resolution: str = Resolution.FIXED,
    note: str = "",
    until: datetime | None = None,
) -> list[RowOutcome]:
    """Run one action on many exceptions; each row succeeds or fails on its own."""
    if action not in BULK_ACTIONS:
        raise ValueError(f"unknown bulk action {action!r}; expected one of {BULK_ACTIONS}")
    if action == "assign" and assignee is None:
        raise ValidationError("Choose whom to assign the selected exceptions to.")
    wanted = sorted({int(i) for i in ids})
    found = {e.pk: e for e in DeskException.objects.filter(pk__in=wanted)}
    outcomes = []
    for pk in wanted:
        exception = found.get(pk)
        if exception is None:
            outcomes.append(RowOutcome(pk, f"#{pk}", False, "No such exception."))
            continue
        if action == "replay":
            outcomes += _replay_rows([exception], actor)
            continue
        try:
            if action == "assign":
                exception_assign(exception=exception, assignee=assignee, actor=actor)
            elif action == "start":
                exception_start(exception=exception, actor=actor)
            elif action == "resolve":
                exception_resolve(
                    exception=exception, actor=actor, resolution=resolution, note=note
                )
            else:
                exception_ignore(exception=exception, actor=actor, reason=note, until=until)
        except ROW_ERRORS as error:
            outcomes.append(RowOutcome(pk, str(exception), False, _error_text(error)))
        else:
            outcomes.append(RowOutcome(pk, str(exception), True, "Done."))
    return outcomes


# --- fix in place: write the mapping, then replay all it blocked --------------------------


@dataclass
class FixResult:
    summary: str
    outcomes: list[RowOutcome] = field(default_factory=list)


def _fix_begin(exception: DeskException, actor: AbstractBaseUser, kinds: tuple[str, ...]):
    exception = _locked(exception)
    _authorize(actor, exception, "fix")
    if exception.kind not in kinds:
        raise ValidationError(f"This fix does not apply to a {exception.get_kind_display()}.")
    transition_check("fix", exception.status)
    return exception


def exception_fix_sku(
    *, exception: DeskException, actor: AbstractBaseUser, erp_item_code: str, note: str = ""
) -> FixResult:
    """Map the exception's Magento SKU to an ERP item, then replay every order it held.

    The mapping commits first, on its own: a replay that fails later must not undo the fix.
    """
    from integration.services import sku_mapping_save

    with transaction.atomic():
        exception = _fix_begin(exception, actor, SKU_KINDS)
        sku = exception.sku or exception.subject
        mapping = sku_mapping_save(
            magento_sku=sku, erp_item_code=erp_item_code, actor=actor, note=note
        )
        summary = f"Mapped Magento SKU {sku} to ERP item {mapping.erp_item_code}."
        _timeline(
            exception,
            verb=TimelineVerb.FIXED,
            actor=actor,
            note=summary + (f" {note}" if note else ""),
            data={"sku": sku, "erp_item_code": mapping.erp_item_code},
        )
    return FixResult(summary, exception_replay_blocked(actor=actor, sku=sku))


def exception_fix_carrier(
    *,
    exception: DeskException,
    actor: AbstractBaseUser,
    courier: str,
    service: str,
    erp_carrier_id: str = "",
    note: str = "",
) -> FixResult:
    """Map the exception's shipping method to a courier service, then replay all it held."""
    from integration.services import carrier_mapping_save

    with transaction.atomic():
        exception = _fix_begin(exception, actor, (ExceptionKind.CARRIER_UNMAPPED,))
        method = exception.subject
        mapping = carrier_mapping_save(
            magento_method=method,
            courier=courier,
            service=service,
            erp_carrier_id=erp_carrier_id,
            actor=actor,
            note=note,
        )
        summary = f"Mapped shipping method {method} to {mapping.courier} {mapping.service}."
        _timeline(
            exception,
            verb=TimelineVerb.FIXED,
            actor=actor,
            note=summary + (f" {note}" if note else ""),
            data={"method": method, "courier": mapping.courier, "service": mapping.service},
        )
    return FixResult(summary, exception_replay_blocked(actor=actor, shipping_method=method))


def exception_fix_address(
    *, exception: DeskException, actor: AbstractBaseUser, changes: Mapping[str, Any]
) -> FixResult:
    """Correct the held order's shipping address (Magento's kept), then replay the order."""
    from integration.services import order_address_correct

    with transaction.atomic():
        exception = _fix_begin(exception, actor, (ExceptionKind.ADDRESS_INVALID,))
        if exception.order is None:
            raise ValidationError("This exception names no order, so there is no address to fix.")
        address = OrderAddress.objects.filter(
            order=exception.order, address_type="shipping"
        ).first()
        if address is None:
            raise ValidationError(f"Order {exception.order} has no shipping address on record.")
        before = {name: getattr(address, name) for name in changes}
        address = order_address_correct(address=address, actor=actor, changes=changes)
        changed = {
            name: {"before": before[name], "after": getattr(address, name)}
            for name in changes
            if before[name] != getattr(address, name)
        }
        summary = f"Corrected the shipping address of order {exception.order}."
        _timeline(exception, verb=TimelineVerb.FIXED, actor=actor, note=summary, data=changed)
        order = exception.order
    return FixResult(summary, exception_replay_blocked(actor=actor, order=order))


# --- retention --------------------------------------------------------------------------


@transaction.atomic
def exceptions_purge_expired(*, older_than_days: int, now: datetime | None = None) -> int:
    """Delete closed exceptions (and their timeline) closed before the retention window."""
    if older_than_days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    expired = DeskException.objects.filter(
        status__in=(ExceptionStatus.RESOLVED, ExceptionStatus.IGNORED),
        closed_at__lt=cutoff,
        # An ignored cause that still recurs keeps its record (and its counting).
        last_seen_at__lt=cutoff,
    )
    deleted, _ = expired.delete()
    logger.info("purged closed exceptions older than %s days: %s rows", older_than_days, deleted)
    return deleted
