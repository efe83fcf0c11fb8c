"""The order page's exception panel for one signed-in person: what they may do on each.

CX acts directly on the kinds it owns (an invalid address: one click to the exception's fix
with the desk's suggestion; a status drift: "Tell Magento now" once a replayer is registered)
and comments on any exception of the order; acting on another team's kind stays with that
team (exceptions_app.services checks it again whatever the page shows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import TextChoices

from accounts.roles import can_act
from cx.order_path import ExceptionView, OrderPath
from cx.step_timing import duration_words
from exceptions_app.models import DeskException, ExceptionKind, TimelineEntry, TimelineVerb
from exceptions_app.replay import has_replayer
from exceptions_app.selectors import may_act, visible_teams

COMMENTS_SHOWN = 3


class DirectAction(TextChoices):
    NONE = "", "—"
    FIX_ADDRESS = "fix_address", "Correct the address and replay"
    TELL_MAGENTO = "tell_magento", "Tell Magento now"


@dataclass(frozen=True)
class ExceptionRow:
    view: ExceptionView
    readable: bool  # the person may open the exception's own page
    action: DirectAction
    may_comment: bool
    comments: tuple[TimelineEntry, ...]  # the latest few, newest first
    due: str  # "due in 3 h", "overdue by 2 h", "" when closed or without a time limit

    @property
    def exception(self) -> DeskException:
        return self.view.exception


def direct_action(user: AbstractBaseUser, exception: DeskException) -> DirectAction:
    """What the person may do on the exception from the order page itself."""
    if not exception.is_working or not may_act(user, exception):
        return DirectAction.NONE
    if exception.kind == ExceptionKind.ADDRESS_INVALID:
        return DirectAction.FIX_ADDRESS
    if exception.kind == ExceptionKind.STATUS_DRIFT and has_replayer(exception.kind):
        return DirectAction.TELL_MAGENTO
    return DirectAction.NONE


def _due_words(exception: DeskException, now: datetime) -> str:
    if not exception.is_working or exception.sla_due_at is None:
        return ""
    if exception.sla_due_at < now:
        return f"overdue by {duration_words(now - exception.sla_due_at)}"
    return f"due in {duration_words(exception.sla_due_at - now)}"


def _comments(exceptions: list[DeskException]) -> dict[int, list[TimelineEntry]]:
    found: dict[int, list[TimelineEntry]] = {}
    entries = (
        TimelineEntry.objects.filter(
            exception__in=[e.pk for e in exceptions], verb=TimelineVerb.COMMENTED
        )
        .select_related("actor")
        .order_by("-at", "-pk")
    )
    for entry in entries:
        found.setdefault(entry.exception_id, []).append(entry)
    return found


def exception_rows(
    *, path: OrderPath, user: AbstractBaseUser, now: datetime
) -> tuple[ExceptionRow, ...]:
    """Open exceptions (due soonest first), then closed ones, in one query for the comments."""
    views = (*path.exceptions_open, *path.exceptions_closed)
    comments = _comments([v.exception for v in views])
    readable = set(visible_teams(user))
    may_comment = can_act(user, "exception.comment")
    return tuple(
        ExceptionRow(
            view=view,
            readable=view.exception.team in readable,
            action=direct_action(user, view.exception),
            may_comment=may_comment,
            comments=tuple(comments.get(view.exception.pk, [])[:COMMENTS_SHOWN]),
            due=_due_words(view.exception, now),
        )
        for view in views
    )
