"""Fix in place: apply a registered fixer, then replay everything the fix unblocked."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from exceptions_app.fixers import FixNotAvailable, fixer_for_action
from exceptions_app.models import DeskException, TimelineVerb
from exceptions_app.services.bulk import RowOutcome, exceptions_replay
from exceptions_app.services.records import authorize, locked, timeline_write
from exceptions_app.workflow import Action, transition_check


@dataclass
class FixResult:
    summary: str
    outcomes: list[RowOutcome] = field(default_factory=list)
    suggestion_accepted: bool = False


def exception_fix(
    *,
    exception: DeskException,
    actor: AbstractBaseUser,
    action: str,
    data: Mapping[str, Any],
    note: str = "",
    suggestion_accepted: bool = False,
) -> FixResult:
    """Apply the fix `action` to the exception's cause, then replay all it unblocked.

    The fix commits first, on its own: a replay that fails later must not undo it. Each
    replay then runs in its own transaction (one failed replay must not undo the others).
    """
    fixer = fixer_for_action(action)
    if fixer is None or exception.kind not in fixer.kinds:
        raise FixNotAvailable(f"This fix does not apply to a {exception.get_kind_display()}.")
    with transaction.atomic():
        exception = locked(exception)
        authorize(actor, exception, Action.FIX)
        if not fixer.may_apply(actor):
            raise PermissionDenied("Your role may not make this fix.")
        transition_check(Action.FIX, exception.status)
        applied = fixer.apply(exception=exception, data=data, actor=actor)
        if not applied.summary:
            raise ValidationError("The fix changed nothing.")
        how = "Accepted the desk's suggestion: " if suggestion_accepted else ""
        timeline_write(
            exception,
            verb=TimelineVerb.FIXED,
            actor=actor,
            note=how + applied.summary + (f" {note.strip()}" if note.strip() else ""),
            data={**applied.data, "suggestion_accepted": suggestion_accepted},
        )
    blocked = list(fixer.blocked(exception).order_by("pk"))
    if exception.pk not in {e.pk for e in blocked}:
        blocked.insert(0, exception)
    outcomes = exceptions_replay(blocked, actor=actor, fixed_pk=exception.pk)
    return FixResult(applied.summary, outcomes, suggestion_accepted)
