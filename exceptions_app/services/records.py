"""The shared steps of every exception change: read under lock, check who may act, apply a
transition of the table, and write the timeline entry in the same transaction.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.roles import Role, can_act, user_roles
from exceptions_app.models import CLOSED_STATUSES, DeskException, TimelineEntry
from exceptions_app.workflow import Action, transition_check


def timeline_write(
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


def team_member(user: AbstractBaseUser, team: str) -> bool:
    held = user_roles(user)
    return team in held or Role.ADMIN in held


def authorize(actor: AbstractBaseUser | None, exception: DeskException, action: Action) -> None:
    """Only the owning team (and admins) act on an exception, but any team may comment on one
    it can see; None is the desk itself."""
    if actor is None:
        return
    if not can_act(actor, f"exception.{action}"):
        raise PermissionDenied(f"Your role may not {action} exceptions.")
    if action == Action.COMMENT:
        # Any team may say what it knows (CX comments on an ops exception of its customer's
        # order); the screens decide who sees the exception at all.
        return
    if not team_member(actor, exception.team):
        raise PermissionDenied(
            f"This exception belongs to the {exception.get_team_display()} team; "
            "only that team (or an admin) may act on it."
        )


def locked(exception: DeskException) -> DeskException:
    """Re-read the row under a lock, so two people acting at once are applied in turn."""
    return DeskException.objects.select_for_update().get(pk=exception.pk)


def move(
    exception: DeskException,
    *,
    action: Action,
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
    if to_status in CLOSED_STATUSES:
        exception.closed_at = timezone.now()
    elif from_status != to_status:
        exception.closed_at = None
    exception.save()
    timeline_write(
        exception,
        verb=verb,
        actor=actor,
        note=note,
        from_status=from_status,
        to_status=to_status if to_status != from_status else "",
        data=data,
    )
    return exception
