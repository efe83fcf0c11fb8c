"""What the exception screens read, scoped to what the user may see (DESIGN §5).

The queue (ops and admins) shows the exceptions of the teams the user belongs to; admins see
every team's. The detail page is open to the owning team and admins.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.roles import Role, user_roles
from exceptions_app.models import (
    LIVE_STATUSES,
    WORKING_STATUSES,
    DeskException,
    ExceptionKind,
    ExceptionStatus,
    Team,
    TimelineEntry,
)


def visible_teams(user: AbstractBaseUser) -> list[str]:
    held = user_roles(user)
    if Role.ADMIN in held:
        return list(Team.values)
    return [team for team in Team.values if team in held]


def may_read(user: AbstractBaseUser, exception: DeskException) -> bool:
    return exception.team in visible_teams(user)


def may_act(user: AbstractBaseUser, exception: DeskException) -> bool:
    held = user_roles(user)
    return Role.ADMIN in held or exception.team in held


def exceptions_visible(*, user: AbstractBaseUser) -> QuerySet[DeskException]:
    return DeskException.objects.filter(team__in=visible_teams(user))


def exception_queue(
    *, user: AbstractBaseUser, filters: Mapping[str, str] | None = None
) -> QuerySet[DeskException]:
    """The user's queue, with the related rows the table shows (no query per row).

    `filters` is applied by exceptions_app.filters.ExceptionFilter in the view; this accepts
    the same keys for callers outside a request (e.g. the benchmark).
    """
    queryset = exceptions_visible(user=user).select_related("assignee")
    if filters:
        from exceptions_app.filters import ExceptionFilter

        queryset = ExceptionFilter(filters, queryset=queryset, user=user).qs
    return queryset


def exception_for_user(*, user: AbstractBaseUser, pk: int) -> DeskException:
    """The exception if the user may read it: 404 if it does not exist, 403 if not theirs."""
    exception = DeskException.objects.select_related("assignee").filter(pk=pk).first()
    if exception is None:
        raise Http404("No such exception.")
    if not may_read(user, exception):
        raise PermissionDenied(
            f"This exception belongs to the {exception.get_team_display()} team."
        )
    return exception


def exception_timeline(*, exception: DeskException) -> QuerySet[TimelineEntry]:
    return exception.timeline.select_related("actor").order_by("-at", "-id")


OVERDUE_CAP = 1000


@dataclass(frozen=True)
class QueueCounts:
    by_kind: list[tuple[str, str, int]]  # (kind, label, working count)
    by_status: list[tuple[str, str, int]]  # (status, label, count)
    overdue: int
    overdue_capped: bool = False


def _status_count_label(status: str) -> str:
    label = ExceptionStatus(status).label
    return f"{label} (7 days)" if status == ExceptionStatus.RESOLVED else label


def exception_counts(*, user: AbstractBaseUser) -> QueueCounts:
    """Counts above the queue: live exceptions per kind and per status, and those overdue.

    Resolved ones are counted only for the last 7 days: an all-time resolved count grows
    forever and would make every page load scan the whole history.
    """
    scope = exceptions_visible(user=user)
    week_ago = timezone.now() - timedelta(days=7)
    # Two small queries, each answered from its own index, rather than one OR over both.
    rows = list(
        scope.filter(status__in=LIVE_STATUSES)
        .values("kind", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    resolved = scope.filter(status=ExceptionStatus.RESOLVED, closed_at__gte=week_ago).count()
    if resolved:
        rows.append({"kind": "", "status": ExceptionStatus.RESOLVED, "n": resolved})
    kinds: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for row in rows:
        if row["status"] in WORKING_STATUSES:
            kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["n"]
        statuses[row["status"]] = statuses.get(row["status"], 0) + row["n"]
    # Capped: "1000+" says enough, and counting further would read every overdue row.
    overdue = (
        scope.filter(status__in=WORKING_STATUSES, sla_due_at__lt=timezone.now())
        .values("pk")[:OVERDUE_CAP]
        .count()
    )
    return QueueCounts(
        by_kind=[(k, ExceptionKind(k).label, n) for k, n in sorted(kinds.items()) if n],
        by_status=[
            (s, _status_count_label(s), statuses.get(s, 0))
            for s in ExceptionStatus.values
            if s in statuses
        ],
        overdue=overdue,
        overdue_capped=overdue >= OVERDUE_CAP,
    )


def team_members(*, teams: list[str]) -> QuerySet:
    """Users who may be assigned exceptions of these teams (their members and admins)."""
    return (
        get_user_model()
        .objects.filter(
            Q(groups__name__in=teams) | Q(groups__name=Role.ADMIN) | Q(is_superuser=True),
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )
