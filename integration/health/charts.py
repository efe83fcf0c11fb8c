"""The health page's charts: exceptions opened vs resolved per day (30 days, overall and by
kind), orders synced per hour (24 hours), failure rate per flow (24 hours)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus
from integration.health.runs import FlowRuns
from integration.health.svg import Chart, diverging_bars, grouped_bars, horizontal_bars
from integration.models import Flow

DAYS = 30


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


def _per_day(field: str, since: datetime, **filters) -> dict[tuple[str, date], int]:
    rows = (
        DeskException.objects.filter(**{f"{field}__gte": since}, **filters)
        .annotate(day=TruncDate(field))
        .values("kind", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(row["kind"], row["day"]): row["n"] for row in rows}


def exception_trends(*, now: datetime) -> tuple[Chart, list[KindTrend], int, int]:
    today = timezone.localdate(now)
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    since = timezone.make_aware(datetime.combine(days[0], datetime.min.time()))
    opened = _per_day("first_seen_at", since)
    resolved = _per_day("closed_at", since, status=ExceptionStatus.RESOLVED)
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
    end = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    hours = [end - timedelta(hours=23 - i) for i in range(24)]

    def series(flow: str) -> list[int]:
        by_hour = {timezone.localtime(h): t.posted for h, t in runs[flow].hourly.items()}
        return [by_hour.get(h, 0) for h in hours]

    return grouped_bars(
        title="Orders synced per hour, last 24 hours",
        slots=[f"{h:%H}:00" for h in hours],
        series=[
            ("bar-in", "new or changed orders read from Magento", series(Flow.ORDERS_IN)),
            ("bar-out", "orders posted to the ERP", series(Flow.ORDERS_OUT)),
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
    chart, trends, opened, resolved = exception_trends(now=now)
    return Charts(
        exceptions=chart,
        by_kind=trends,
        orders_per_hour=orders_per_hour(now=now, runs=runs),
        failure_rate=failure_rate(runs=runs),
        opened_30d=opened,
        resolved_30d=resolved,
    )
