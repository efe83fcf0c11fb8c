"""What the flows' runs say: last run, last success, a failing streak, 24-hour and hourly totals.

A constant number of queries whatever the number of runs: each per-flow "latest" is one
indexed subquery per flow inside a single statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Case, CharField, Count, F, Min, Q, Subquery, Sum, Value, When

from integration.models import Flow, RunStatus, SyncRun


class RunResult:
    """A run's outcome as the health figures count it (a status plus what it managed)."""

    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some records failed, the rest were handled
    FAILED = "failed"  # stopped, or every record it tried failed
    SKIPPED = "skipped"
    RUNNING = "running"


# A "finished with failures" run in which every record failed did nothing: it failed.
RUN_FAILED = Q(status=RunStatus.FAILED) | Q(
    status=RunStatus.PARTIAL, failed__gte=F("seen"), posted=0
)
RUN_PARTIAL = Q(status=RunStatus.PARTIAL) & ~RUN_FAILED
RUN_SUCCEEDED = Q(status=RunStatus.SUCCEEDED) | RUN_PARTIAL

RESULT = Case(
    When(RUN_FAILED, then=Value(RunResult.FAILED)),
    When(status=RunStatus.PARTIAL, then=Value(RunResult.PARTIAL)),
    When(status=RunStatus.SUCCEEDED, then=Value(RunResult.SUCCEEDED)),
    When(status=RunStatus.SKIPPED, then=Value(RunResult.SKIPPED)),
    default=Value(RunResult.RUNNING),
    output_field=CharField(),
)


def run_result(run: SyncRun) -> str:
    if run.status == RunStatus.FAILED or (
        run.status == RunStatus.PARTIAL and run.failed >= run.seen and not run.posted
    ):
        return RunResult.FAILED
    return run.status


@dataclass(frozen=True)
class RunTotals:
    runs: int = 0  # not counting skipped runs
    failed_runs: int = 0
    partial_runs: int = 0
    skipped: int = 0
    seen: int = 0
    posted: int = 0
    held: int = 0
    failed: int = 0
    found: int = 0

    @property
    def failure_rate(self) -> float | None:
        """Failed records per record seen (None when nothing was seen)."""
        return self.failed / self.seen if self.seen else None

    @property
    def failed_run_rate(self) -> float | None:
        return self.failed_runs / self.runs if self.runs else None


# Annotation names differ from the field names: an alias "posted" would shadow the field.
TOTALS = {
    "n_runs": Count("id", filter=~Q(status=RunStatus.SKIPPED)),
    "n_failed_runs": Count("id", filter=RUN_FAILED),
    "n_partial_runs": Count("id", filter=RUN_PARTIAL),
    "n_skipped": Count("id", filter=Q(status=RunStatus.SKIPPED)),
    "n_seen": Sum("seen"),
    "n_posted": Sum("posted"),
    "n_held": Sum("held"),
    "n_failed": Sum("failed"),
    "n_found": Sum("found"),
}


def _totals(row: dict) -> RunTotals:
    return RunTotals(**{name[2:]: row.get(name) or 0 for name in TOTALS})


@dataclass(frozen=True)
class FlowRuns:
    last: SyncRun | None  # the latest run that was not skipped (may still be running)
    last_success: SyncRun | None
    failing_since: datetime | None  # first failed run after the last success
    failing_runs: int
    day: RunTotals  # the last 24 hours
    hourly_posted: list[int]  # records posted per hour, for each of `hour_starts(now)`


def latest_runs(condition: Q) -> dict[str, SyncRun]:
    """Per flow, the latest run matching `condition`: one statement, one index probe per flow."""
    per_flow = [
        Q(
            pk=Subquery(
                SyncRun.objects.filter(condition, flow=flow)
                .order_by("-started_at", "-pk")
                .values("pk")[:1]
            )
        )
        for flow in Flow
    ]
    return {run.flow: run for run in SyncRun.objects.filter(reduce(or_, per_flow))}


def hour_starts(now: datetime) -> list[datetime]:
    """The starts of the last 24 clock hours, the current one last (UTC arithmetic: DST-safe)."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [end - timedelta(hours=23 - i) for i in range(24)]


def flow_runs(*, now: datetime) -> dict[str, FlowRuns]:
    """Every flow's run figures, in four queries (no per-row date functions: plain ranges)."""
    last = latest_runs(~Q(status=RunStatus.SKIPPED))
    success = latest_runs(RUN_SUCCEEDED)
    # A flow that never succeeded: its failures of the last week (a bounded read).
    after_success = [
        Q(flow=flow, started_at__gt=success[flow].started_at)
        if flow in success
        else Q(flow=flow, started_at__gte=now - timedelta(days=7))
        for flow in Flow
    ]
    streaks = {
        row["flow"]: row
        for row in SyncRun.objects.filter(RUN_FAILED, reduce(or_, after_success))
        .values("flow")
        .annotate(first=Min("started_at"), n=Count("id"))
    }
    hours = hour_starts(now)
    per_hour = {
        f"hour_{i}": Sum(
            "posted", filter=Q(started_at__gte=start, started_at__lt=start + timedelta(hours=1))
        )
        for i, start in enumerate(hours)
    }
    days = {
        row["flow"]: row
        for row in SyncRun.objects.filter(started_at__gte=now - timedelta(hours=24))
        .values("flow")
        .annotate(**TOTALS, **per_hour)
        .order_by()
    }
    out = {}
    for flow in Flow:
        streak = streaks.get(flow.value, {})
        day = days.get(flow.value, {})
        out[flow.value] = FlowRuns(
            last=last.get(flow.value),
            last_success=success.get(flow.value),
            failing_since=streak.get("first"),
            failing_runs=streak.get("n", 0),
            day=_totals(day),
            hourly_posted=[day.get(f"hour_{i}") or 0 for i in range(len(hours))],
        )
    return out
