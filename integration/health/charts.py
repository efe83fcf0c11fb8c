"""The health page's charts: exceptions opened vs resolved per day (30 days, overall and by
kind), orders synced per hour (24 hours), failure rate per flow (24 hours)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus
from integration.health.runs import FlowRuns, hour_starts
from integration.health.svg import Chart, diverging_bars, grouped_bars, horizontal_bars
from integration.models import Flow

DAYS = 30
TRENDS_CACHE_SECONDS = 60


@dataclass(frozen=True)
class KindTrend:
    kind: str
    label: str
    opened: int
    resolved: int
    chart: Chart

    @property
    def net(self) -> int:
        return self.opened - self.resolved


@dataclass(frozen=True)
class Charts:
    exceptions: Chart
    by_kind: list[KindTrend]
    orders_per_hour: Chart
    failure_rate: Chart
    opened_30d: int
    resolved_30d: int


def _per_day(field: str, days: list[date], **filters) -> dict[tuple[str, date], int]:
    """Per kind and local day, one conditional count per day (plain ranges, index-friendly)."""
    starts = [timezone.make_aware(datetime.combine(d, time.min)) for d in days]
    ends = starts[1:] + [timezone.make_aware(datetime.combine(days[-1], time.max))]
    counts = {
        f"day_{i}": Count("id", filter=Q(**{f"{field}__gte": start, f"{field}__lt": end}))
        for i, (start, end) in enumerate(zip(starts, ends, strict=True))
    }
    rows = (
        DeskException.objects.filter(**{f"{field}__gte": starts[0]}, **filters)
        .values("kind")
        .annotate(**counts)
        .order_by()
    )
    return {(row["kind"], d): row[f"day_{i}"] for row in rows for i, d in enumerate(days)}


def exception_trends(*, now: datetime) -> tuple[Chart, list[KindTrend], int, int]:
    today = timezone.localdate(now)
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    opened = _per_day("first_seen_at", days)
    resolved = _per_day("closed_at", days, status=ExceptionStatus.RESOLVED)
    names = [f"{d:%a %d %b}" for d in days]
    totals_up: dict[date, int] = defaultdict(int)
    totals_down: dict[date, int] = defaultdict(int)
    trends = []
    for kind in ExceptionKind:
        up = [opened.get((kind.value, d), 0) for d in days]
        down = [resolved.get((kind.value, d), 0) for d in days]
        for d, u, r in zip(days, up, down, strict=True):
            totals_up[d] += u
            totals_down[d] += r
        if sum(up) or sum(down):
            spark = diverging_bars(
                title=f"{kind.label}: opened vs resolved per day",
                slots=names,
                up=up,
                down=down,
                up_name="opened",
                down_name="resolved",
                width=300,
                height=32,
                axis_labels=False,
            )
            trends.append(KindTrend(kind.value, kind.label, sum(up), sum(down), spark))
    trends.sort(key=lambda t: -t.opened)
    up = [totals_up[d] for d in days]
    down = [totals_down[d] for d in days]
    chart = diverging_bars(
        title=f"Exceptions opened (above) and resolved (below) per day, last {DAYS} days",
        slots=names,
        up=up,
        down=down,
        up_name="opened",
        down_name="resolved",
    )
    return chart, trends, sum(up), sum(down)


def orders_per_hour(*, now: datetime, runs: dict[str, FlowRuns]) -> Chart:
    hours = hour_starts(now)
    return grouped_bars(
        title="Orders synced per hour, last 24 hours",
        slots=[f"{timezone.localtime(h):%H}:00" for h in hours],
        series=[
            (
                "bar-in",
                "new or changed orders read from Magento",
                runs[Flow.ORDERS_IN].hourly_posted,
            ),
            ("bar-out", "orders posted to the ERP", runs[Flow.ORDERS_OUT].hourly_posted),
        ],
    )


def failure_rate(*, runs: dict[str, FlowRuns]) -> Chart:
    rows = []
    for flow in Flow:
        day = runs[flow.value].day
        if flow == Flow.CHECKS or not day.seen:
            rate = day.failed_run_rate
            text = f"{day.failed_runs} of {day.runs} runs failed" if day.runs else "no runs in 24 h"
        else:
            rate = day.failure_rate
            text = f"{day.failed} of {day.seen} failed ({rate:.0%})"
        rows.append((flow.label, rate, text))
    return horizontal_bars(title="Failure rate per flow, last 24 hours", rows=rows)


def charts(*, now: datetime, runs: dict[str, FlowRuns]) -> Charts:
    # Per-day bars move slowly: the 30-day trend is read at most once a minute per process,
    # not on every poll of every open page.
    key = f"health:trends:{timezone.localdate(now)}"
    trend = cache.get(key)
    if trend is None:
        trend = exception_trends(now=now)
        cache.set(key, trend, TRENDS_CACHE_SECONDS)
    chart, trends, opened, resolved = trend
    return Charts(
        exceptions=chart,
        by_kind=trends,
        orders_per_hour=orders_per_hour(now=now, runs=runs),
        failure_rate=failure_rate(runs=runs),
        opened_30d=opened,
        resolved_30d=resolved,
    )
