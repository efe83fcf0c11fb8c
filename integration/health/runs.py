"""What the flows' runs say: last run, last success, a failing streak, 24-hour and hourly totals.

A constant number of queries whatever the number of runs: each per-flow "latest" is one
indexed subquery per flow inside a single statement.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Case, CharField, Count, F, Min, Q, Subquery, Sum, Value, When
from django.db.models.functions import TruncHour

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

    def __add__(self, other: RunTotals) -> RunTotals:
        return RunTotals(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def failure_rate(self) -> float | None:
        """Failed records per record seen (None when nothing was seen)."""
        return self.failed / self.seen if self.seen else None

    @property
    def failed_run_rate(self) -> float | None:
        return self.failed_runs / self.runs if self.runs else None


TOTALS = {
    "runs": Count("id", filter=~Q(status=RunStatus.SKIPPED)),
    "failed_runs": Count("id", filter=RUN_FAILED),
    "partial_runs": Count("id", filter=RUN_PARTIAL),
    "skipped": Count("id", filter=Q(status=RunStatus.SKIPPED)),
    "seen": Sum("seen"),
    "posted": Sum("posted"),
    "held": Sum("held"),
    "failed": Sum("failed"),
    "found": Sum("found"),
}


def _totals(row: dict) -> RunTotals:
    return RunTotals(**{name: row.get(name) or 0 for name in TOTALS})


@dataclass(frozen=True)
class FlowRuns:
    last: SyncRun | None  # the latest run that was not skipped (may still be running)
    last_success: SyncRun | None
    failing_since: datetime | None  # first failed run after the last success
    failing_runs: int
    day: RunTotals
    hourly: dict[datetime, RunTotals]


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


def flow_runs(*, now: datetime) -> dict[str, FlowRuns]:
    """Every flow's run figures, in five queries."""
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
    since = now - timedelta(hours=24)
    hourly: dict[str, dict[datetime, RunTotals]] = {flow: {} for flow in Flow}
    for row in (
        SyncRun.objects.filter(started_at__gte=since)
        .annotate(hour=TruncHour("started_at"))
        .values("flow", "hour")
        .annotate(**TOTALS)
        .order_by()
    ):
        if row["flow"] in hourly:
            hourly[row["flow"]][row["hour"]] = _totals(row)
    out = {}
    for flow in Flow:
        streak = streaks.get(flow.value, {})
        out[flow.value] = FlowRuns(
            last=last.get(flow.value),
            last_success=success.get(flow.value),
            failing_since=streak.get("first"),
            failing_runs=streak.get("n", 0),
            day=sum(hourly[flow.value].values(), RunTotals()),
            hourly=hourly[flow.value],
        )
    return out
