"""The replay registry: each exception kind's "do the blocked work again", filled by the flows.

The sync flows register one replayer per kind they can redo, e.g. in their AppConfig.ready():

    from exceptions_app.replay import ReplayOutcome, register_replayer

    @register_replayer("sku_unknown")
    def replay_orders_held_by_sku(exception) -> ReplayOutcome:
        ...post the held orders again...
        return ReplayOutcome(ok=True, detail="3 orders posted")

`exception_replay` (services) calls `replay()` and resolves the exception only when it says ok.
A replayer must be safe to run twice (the order post checks the ERP for the reference first).
"""

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload

from django.db import transaction

if TYPE_CHECKING:
    from exceptions_app.models import DeskException

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayOutcome:
    ok: bool
    detail: str


Replayer = Callable[["DeskException"], ReplayOutcome]

_REPLAYERS: dict[str, Replayer] = {}


class ReplayNotAvailable(Exception):  # noqa: N818
    """No flow has registered a replayer for this exception kind."""


def _check_kind(kind: str) -> None:
    from exceptions_app.models import ExceptionKind

    if kind not in ExceptionKind.values:
        raise ValueError(f"unknown exception kind {kind!r}; expected one of {ExceptionKind.values}")


@overload
def register_replayer(kind: str) -> Callable[[Replayer], Replayer]: ...
@overload
def register_replayer(kind: str, fn: Replayer) -> Replayer: ...
def register_replayer(kind: str, fn: Replayer | None = None):
    """Register `fn` as the replayer for `kind` (call directly or use as a decorator).

    Registering again for the same kind replaces the previous one (module reloads in dev).
    """
    _check_kind(kind)

    def add(func: Replayer) -> Replayer:
        _REPLAYERS[kind] = func
        return func

    return add(fn) if fn is not None else add


def replayer_for(kind: str) -> Replayer | None:
    return _REPLAYERS.get(kind)


def has_replayer(kind: str) -> bool:
    return kind in _REPLAYERS


def replay(exception: "DeskException") -> ReplayOutcome:
    """Run the kind's replayer. A replayer that crashes is a failed replay, recorded, not lost."""
    replayer = _REPLAYERS.get(exception.kind)
    if replayer is None:
        raise ReplayNotAvailable(
            f"Nothing can replay a {exception.kind} exception yet: no flow registered a replayer."
        )
    # No transaction of our own: the replayer calls other systems and commits its own writes.
    # Inside a caller's transaction, a savepoint keeps a failed write from poisoning it.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            outcome = replayer(exception)
    except Exception as exc:
        # The boundary with the flows' code: the crash is logged with its traceback and
        # written to the exception's timeline by exception_replay, and the exception stays open.
        logger.exception("replayer for %s crashed on exception %s", exception.kind, exception.pk)
        return ReplayOutcome(ok=False, detail=f"The replay crashed: {type(exc).__name__}: {exc}")
    if not isinstance(outcome, ReplayOutcome):
        raise TypeError(
            f"replayer for {exception.kind} returned {outcome!r}; it must return a ReplayOutcome"
        )
    return outcome
