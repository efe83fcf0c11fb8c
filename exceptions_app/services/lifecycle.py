"""Worked by people: assign, start, resolve, ignore, comment, escalate. Each checks the team
and the transition table and writes its timeline entry in the same transaction.
"""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from exceptions_app import notifications
from exceptions_app.models import (
    MANUAL_RESOLUTIONS,
    DeskException,
    ExceptionStatus,
    SubStatus,
    TimelineVerb,
)
from exceptions_app.services.records import authorize, locked, move, team_member
from exceptions_app.workflow import Action


@transaction.atomic
def exception_assign(
    *, exception: DeskException, assignee: AbstractBaseUser, actor: AbstractBaseUser | None
) -> DeskException:
    exception = locked(exception)
    authorize(actor, exception, Action.ASSIGN)
    if not team_member(assignee, exception.team):
        raise ValidationError(
            f"{assignee.get_username()} is not in the {exception.get_team_display()} team, "
            "which owns this exception."
        )
    previous = exception.assignee
    move(
        exception,
        action=Action.ASSIGN,
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
    exception = locked(exception)
    authorize(actor, exception, Action.UNASSIGN)
    previous = exception.assignee
    changes: dict[str, Any] = {"assignee": None}
    if exception.status == ExceptionStatus.IN_PROGRESS:
        # Nobody is working on it any more, so it goes back to open.
        changes["status"] = ExceptionStatus.OPEN
    return move(
        exception,
        action=Action.UNASSIGN,
        verb=TimelineVerb.UNASSIGNED,
        actor=actor,
        data={"previous": previous.get_username() if previous else None},
        **changes,
    )


@transaction.atomic
def exception_start(*, exception: DeskException, actor: AbstractBaseUser) -> DeskException:
    """The actor starts work on it; it becomes theirs if nobody had it."""
    exception = locked(exception)
    authorize(actor, exception, Action.START)
    changes: dict[str, Any] = {}
    if exception.assignee_id is None and team_member(actor, exception.team):
        changes["assignee"] = actor
    return move(exception, action=Action.START, verb=TimelineVerb.STARTED, actor=actor, **changes)


@transaction.atomic
def exception_resolve(
    *,
    exception: DeskException,
    actor: AbstractBaseUser,
    resolution: str,
    note: str,
) -> DeskException:
    exception = locked(exception)
    authorize(actor, exception, Action.RESOLVE)
    if resolution not in MANUAL_RESOLUTIONS:
        raise ValidationError(
            f"Pick how it was resolved: one of {', '.join(MANUAL_RESOLUTIONS)} "
            f"(got {resolution!r})."
        )
    if not note.strip():
        raise ValidationError("Say in a note how it was resolved; the note is the audit trail.")
    return move(
        exception,
        action=Action.RESOLVE,
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
    exception = locked(exception)
    authorize(actor, exception, Action.IGNORE)
    if not reason.strip():
        raise ValidationError("Give a reason for ignoring it; the reason is the audit trail.")
    if until is not None and until <= timezone.now():
        raise ValidationError("The ignore-until date must be in the future.")
    return move(
        exception,
        action=Action.IGNORE,
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
    exception = locked(exception)
    authorize(actor, exception, Action.COMMENT)
    if not note.strip():
        raise ValidationError("A comment cannot be empty.")
    return move(
        exception,
        action=Action.COMMENT,
        verb=TimelineVerb.COMMENTED,
        actor=actor,
        note=note.strip(),
    )


@transaction.atomic
def exception_escalate(
    *, exception: DeskException, actor: AbstractBaseUser | None, reason: str
) -> DeskException:
    """Tell the team lead; once per episode (a regression starts a new one)."""
    exception = locked(exception)
    authorize(actor, exception, Action.ESCALATE)
    if exception.escalated_at is not None:
        raise ValidationError(
            f"Already escalated at {timezone.localtime(exception.escalated_at):%Y-%m-%d %H:%M}."
        )
    move(
        exception,
        action=Action.ESCALATE,
        verb=TimelineVerb.ESCALATED,
        actor=actor,
        note=reason,
        escalated_at=timezone.now(),
    )
    notifications.notify_escalated(exception, reason=reason)
    return exception
