"""The exception lifecycle as one explicit table: which action may run from which status.

open ──start──▶ in_progress ──resolve / replay ok──▶ resolved ──raised again──▶ regressed
  │                 │                                                       │
  └──ignore──▶ ignored ◀──ignore──┘        (regressed behaves like open)    │
                 └──raised after its ignore-until date──▶ open ◀────────────┘
"""

from dataclasses import dataclass
from enum import StrEnum

from exceptions_app.models import ExceptionStatus

OPEN = ExceptionStatus.OPEN
IN_PROGRESS = ExceptionStatus.IN_PROGRESS
REGRESSED = ExceptionStatus.REGRESSED
RESOLVED = ExceptionStatus.RESOLVED
IGNORED = ExceptionStatus.IGNORED
ALL = frozenset(ExceptionStatus.values)
WORKING = frozenset({OPEN, IN_PROGRESS, REGRESSED})


class Action(StrEnum):
    """What a person (or the desk) may do to an exception; the keys of the table below."""

    START = "start"
    RESOLVE = "resolve"
    REPLAY = "replay"
    IGNORE = "ignore"
    AUTO_RESOLVE = "auto_resolve"
    REGRESS = "regress"
    REOPEN = "reopen"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    ESCALATE = "escalate"
    COMMENT = "comment"
    FIX = "fix"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    # None: the action leaves the status as it is (assign, comment, escalate...).
    to: str | None


TRANSITIONS: dict[Action, Transition] = {
    Action.START: Transition(frozenset({OPEN, REGRESSED}), IN_PROGRESS),
    Action.RESOLVE: Transition(WORKING, RESOLVED),
    Action.REPLAY: Transition(WORKING, RESOLVED),  # only on a successful replay
    Action.IGNORE: Transition(WORKING, IGNORED),
    # The check that raised it sees the cause gone: closes even an ignored one.
    Action.AUTO_RESOLVE: Transition(WORKING | {IGNORED}, RESOLVED),
    Action.REGRESS: Transition(frozenset({RESOLVED}), REGRESSED),
    Action.REOPEN: Transition(frozenset({IGNORED}), OPEN),
    Action.ASSIGN: Transition(WORKING, None),
    # Nobody is working it any more, so an in-progress exception goes back to open.
    Action.UNASSIGN: Transition(WORKING, None),
    Action.ESCALATE: Transition(WORKING, None),
    Action.COMMENT: Transition(ALL, None),
    Action.FIX: Transition(WORKING, None),
}


class TransitionNotAllowed(Exception):  # noqa: N818 (the domain's own word reads better)
    """An action was asked of an exception whose status does not allow it."""

    def __init__(self, action: str, status: str) -> None:
        self.action = action
        self.status = status
        allowed = TRANSITIONS[action].allowed_from if action in TRANSITIONS else frozenset()
        labels = ", ".join(sorted(ExceptionStatus(s).label.lower() for s in allowed)) or "nowhere"
        super().__init__(
            f"Cannot {action.replace('_', ' ')} an exception that is "
            f"{ExceptionStatus(status).label.lower()}; allowed only when it is {labels}."
        )


def transition_check(action: str, status: str) -> str | None:
    """The status the action leads to; raises TransitionNotAllowed if not allowed from here."""
    transition = TRANSITIONS[action]
    if status not in transition.allowed_from:
        raise TransitionNotAllowed(action, status)
    return transition.to


def allowed_actions(status: str) -> frozenset[Action]:
    return frozenset(a for a, t in TRANSITIONS.items() if status in t.allowed_from)
