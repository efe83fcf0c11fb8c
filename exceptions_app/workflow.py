"""The exception lifecycle as one explicit table: which action may run from which status.

open ──start──▶ in_progress ──resolve / replay ok──▶ resolved ──raised again──▶ regressed
  │                 │                                                       │
  └──ignore──▶ ignored ◀──ignore──┘        (regressed behaves like open)    │
                 └──raised after its ignore-until date──▶ open ◀────────────┘
"""

from dataclasses import dataclass

from exceptions_app.models import ExceptionStatus

OPEN = ExceptionStatus.OPEN
IN_PROGRESS = ExceptionStatus.IN_PROGRESS
REGRESSED = ExceptionStatus.REGRESSED
RESOLVED = ExceptionStatus.RESOLVED
IGNORED = ExceptionStatus.IGNORED
ALL = frozenset(ExceptionStatus.values)
WORKING = frozenset({OPEN, IN_PROGRESS, REGRESSED})


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    # None: the action leaves the status as it is (assign, comment, escalate...).
    to: str | None


TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({OPEN, REGRESSED}), IN_PROGRESS),
    "resolve": Transition(WORKING, RESOLVED),
    "replay": Transition(WORKING, RESOLVED),  # only on a successful replay
    "ignore": Transition(WORKING, IGNORED),
    # The check that raised it sees the cause gone: closes even an ignored one.
    "auto_resolve": Transition(WORKING | {IGNORED}, RESOLVED),
    "regress": Transition(frozenset({RESOLVED}), REGRESSED),
    "reopen": Transition(frozenset({IGNORED}), OPEN),
    "assign": Transition(WORKING, None),
    # Nobody is working it any more, so an in-progress exception goes back to open.
    "unassign": Transition(WORKING, None),
    "escalate": Transition(WORKING, None),
    "comment": Transition(ALL, None),
    "fix": Transition(WORKING, None),
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


def allowed_actions(status: str) -> frozenset[str]:
    return frozenset(a for a, t in TRANSITIONS.items() if status in t.allowed_from)
