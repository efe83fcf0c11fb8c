"""Everything the /health/ page shows, read in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from exceptions_app.delivery import notifications_dead, notifications_due
from integration.health.charts import Charts, charts
from integration.health.lag import Lag, flow_lags
from integration.health.policy import FlowPolicy, policy_for
from integration.health.problems import Problems, problems
from integration.health.runs import FlowRuns, flow_runs, run_result
from integration.health.systems import QueueDepth, SystemNow, queue_depths, systems_now
from integration.health.verdicts import (
    FlowVerdict,
    Overall,
    duration_words,
    flow_verdict,
    overall_verdict,
)
from integration.models import Flow, PushStatus, StockPush


@dataclass(frozen=True)
class FlowRow:
    flow: str
    label: str
    verdict: FlowVerdict
    runs: FlowRuns
    lag: Lag
    policy: FlowPolicy
    now: datetime

    @property
    def last_result(self) -> str:
        return run_result(self.runs.last) if self.runs.last else ""

    @property
    def success_age(self) -> str:
        if self.runs.last_success is None:
            return ""
        return duration_words((self.now - self.runs.last_success.started_at).total_seconds())

    @property
    def lag_words(self) -> str:
        if self.lag.seconds is None:
            return "—"
        if not self.lag.seconds:
            return "none"
        return duration_words(self.lag.seconds)

    @property
    def day_counts(self) -> list[tuple[int, str]]:
        return [(getattr(self.runs.day, name), words) for name, words in self.policy.counts]


@dataclass(frozen=True)
class HealthPage:
    now: datetime
    overall: Overall
    flows: list[FlowRow]
    problems: Problems
    systems: list[SystemNow]
    queues: list[QueueDepth]
    outbox: dict[str, int]
    notifications: dict[str, int]
    charts: Charts


OUTBOX_SHOWN = (PushStatus.PENDING, PushStatus.SENT, PushStatus.DEAD)


def outbox_counts() -> dict[str, int]:
    counts = dict(
        StockPush.objects.filter(status__in=OUTBOX_SHOWN)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {status.value: counts.get(status, 0) for status in OUTBOX_SHOWN}


def notification_counts(now: datetime) -> dict[str, int]:
    """The notification outbox: owed to a team for over five minutes, and given up on."""
    late = notifications_due(now=now).filter(created_at__lt=now - timedelta(minutes=5))
    return {"late": late.count(), "dead": notifications_dead().count()}


def health_page(*, now: datetime | None = None) -> HealthPage:
    now = now or timezone.now()
    runs = flow_runs(now=now)
    lags = flow_lags(now=now, runs=runs)
    rows = []
    for flow in Flow:
        lag, signals = lags[flow]
        verdict = flow_verdict(
            flow=flow.value,
            label=flow.label,
            runs=runs[flow.value],
            lag=lag,
            signals=signals,
            now=now,
        )
        rows.append(
            FlowRow(flow.value, flow.label, verdict, runs[flow.value], lag, policy_for(flow), now)
        )
    systems = systems_now(runs=runs)
    unreachable = [s.label for s in systems if s.probe.configured and not s.probe.up]
    return HealthPage(
        now=now,
        overall=overall_verdict([r.verdict for r in rows], unreachable),
        flows=rows,
        problems=problems(now=now),
        systems=systems,
        queues=queue_depths(now=now),
        outbox=outbox_counts(),
        notifications=notification_counts(now),
        charts=charts(now=now, runs=runs),
    )
