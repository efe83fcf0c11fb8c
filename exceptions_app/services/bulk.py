"""Many exceptions at once: bulk actions from the queue and "replay all a fix unblocked".

Each row runs in its own transaction and succeeds or fails on its own; the report names only
exceptions the actor may see.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError

from exceptions_app.models import DeskException, Resolution
from exceptions_app.replay import ReplayNotAvailable
from exceptions_app.services.lifecycle import (
    exception_assign,
    exception_ignore,
    exception_resolve,
    exception_start,
)
from exceptions_app.services.replaying import exception_replay
from exceptions_app.workflow import Action, TransitionNotAllowed


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


def exceptions_replay(
    exceptions: Iterable[DeskException],
    *,
    actor: AbstractBaseUser | None,
    fixed_pk: int | None = None,
) -> list[RowOutcome]:
    """Replay each exception in turn; the one a person just fixed resolves as "fixed"."""
    outcomes = []
    for exception in exceptions:
        resolution = Resolution.FIXED if exception.pk == fixed_pk else Resolution.REPLAYED
        try:
            result = exception_replay(exception=exception, actor=actor, resolution=resolution)
        except ROW_ERRORS as error:
            outcomes.append(RowOutcome(exception.pk, str(exception), False, _error_text(error)))
        else:
            outcomes.append(RowOutcome(exception.pk, str(exception), result.ok, result.detail))
    return outcomes


BULK_ACTIONS = (Action.ASSIGN, Action.START, Action.RESOLVE, Action.IGNORE, Action.REPLAY)


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
    if action == Action.ASSIGN and assignee is None:
        raise ValidationError("Choose whom to assign the selected exceptions to.")
    wanted = sorted({int(i) for i in ids})
    found = {e.pk: e for e in DeskException.objects.filter(pk__in=wanted)}
    outcomes = []
    for pk in wanted:
        exception = found.get(pk)
        if exception is None:
            outcomes.append(RowOutcome(pk, f"#{pk}", False, "No such exception."))
            continue
        if action == Action.REPLAY:
            outcomes += exceptions_replay([exception], actor=actor)
            continue
        try:
            if action == Action.ASSIGN:
                exception_assign(exception=exception, assignee=assignee, actor=actor)
            elif action == Action.START:
                exception_start(exception=exception, actor=actor)
            elif action == Action.RESOLVE:
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
