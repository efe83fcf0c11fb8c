"""The fixer registry: how an exception of a kind is fixed in place, filled by the flows.

A flow that knows how to remove a cause (map a SKU, map a shipping method, correct an address)
registers one `Fixer` per fix action, e.g. in its AppConfig.ready():

    register_fixer(Fixer(action="map-sku", kinds=frozenset({"sku_unknown"}), ...))

The core knows nothing of the flow's tables: it asks the fixer for the form, the panel's
context, its suggestion, and the exceptions the fix unblocked; `exception_fix` (services)
locks the exception, checks the role and the transition, calls `apply`, writes the timeline
and replays what the fix unblocked.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from accounts.roles import can_act

if TYPE_CHECKING:
    from exceptions_app.models import DeskException


@dataclass(frozen=True)
class FixApplied:
    """What `apply` changed: one sentence for the timeline, and the before/after data."""

    summary: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DiffRow:
    field: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Suggestion:
    """The fixer's best guess: shown first, with why, applied only when a person accepts it.

    `data` is exactly what the fix form would post; accepting posts it unchanged.
    """

    title: str
    why: str
    data: Mapping[str, str]
    score: float = 0.0
    releases: int | None = None  # held orders accepting it would release
    diff: Sequence[DiffRow] = ()

    def matches(self, posted: Mapping[str, Any]) -> bool:
        """Whether a posted form carries this suggestion unchanged (so it was accepted)."""
        return all(str(posted.get(k, "")).strip() == str(v).strip() for k, v in self.data.items())


@dataclass(frozen=True)
class HeldOrder:
    increment_id: str
    amount: Decimal | None
    currency: str


@dataclass(frozen=True)
class Fixer:
    action: str  # the URL slug of the fix, e.g. "map-sku"
    kinds: frozenset[str]
    label: str  # the button, e.g. "Save mapping and replay"
    form_class: type[forms.Form]
    template: str  # the fix panel, rendered inside the detail page's "How to fix it"
    apply: Callable[..., FixApplied]  # (exception=, data=, actor=) -> FixApplied
    blocked: Callable[["DeskException"], QuerySet]  # exceptions to replay after the fix
    context: Callable[["DeskException"], dict[str, Any]] = lambda exception: {}
    initial: Callable[["DeskException"], dict[str, Any]] = lambda exception: {}
    suggestions: Callable[["DeskException"], list[Suggestion]] = lambda exception: []
    held_orders: Callable[["DeskException"], list[HeldOrder]] = lambda exception: []
    # Side-by-side evidence in the shape of `evidence["compared"]`, for kinds whose check
    # recorded none: {"compared": {field: {system: value}}}.
    evidence: Callable[["DeskException"], dict[str, Any]] = lambda exception: {}
    # Which role action the fix also needs, on top of acting on the exception.
    permission: str = ""

    def form(self, exception: "DeskException", data=None) -> forms.Form:
        if data is not None:
            return self.form_class(data)
        return self.form_class(initial=self.initial(exception))

    def may_apply(self, user: AbstractBaseUser) -> bool:
        return not self.permission or can_act(user, self.permission)


_FIXERS: dict[str, Fixer] = {}


class FixNotAvailable(Exception):  # noqa: N818
    """No fixer is registered for this action, or it does not fix this kind."""


def register_fixer(fixer: Fixer) -> Fixer:
    """Register (or replace, on a module reload) the fixer for its action."""
    from exceptions_app.models import ExceptionKind

    unknown = set(fixer.kinds) - set(ExceptionKind.values)
    if unknown:
        raise ValueError(f"fixer {fixer.action!r} names unknown kinds {sorted(unknown)}")
    _FIXERS[fixer.action] = fixer
    return fixer


def fixer_for_action(action: str) -> Fixer | None:
    return _FIXERS.get(action)


def fixer_for_kind(kind: str) -> Fixer | None:
    return next((f for f in _FIXERS.values() if kind in f.kinds), None)
