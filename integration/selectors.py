"""Reads for the health page: each flow's runs and lag, the stock outbox, quarantined windows.

The CX screens' reads live in cx.selectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from integration.models import (
    Flow,
    PushStatus,
    QuarantinedWindow,
    QuarantineStatus,
    RunStatus,
    StockPush,
    SyncRun,
    Watermark,
)


@dataclass(frozen=True)
class FlowHealth:
    flow: str
    label: str
    last: SyncRun | None
    runs_24h: int
    failed_24h: int
    seen_24h: int
    posted_24h: int
    lag_seconds: float | None


def flow_health() -> list[FlowHealth]:
    """One row per flow: its last run, 24-hour counts and, for pull flows, watermark lag."""
    now = timezone.now()
    since = now - timedelta(hours=24)
    stats = {
        row["flow"]: row
        for row in SyncRun.objects.filter(started_at__gte=since)
        .values("flow")
        .annotate(
            runs=Count("id"),
            failed=Count("id", filter=Q(status=RunStatus.FAILED)),
            seen=Sum("seen"),
            posted=Sum("posted"),
        )
    }
    marks = dict(Watermark.objects.values_list("flow", "value"))
    rows = []
    for flow in Flow:
        last = SyncRun.objects.filter(flow=flow).exclude(status=RunStatus.SKIPPED)
        last = last.order_by("-started_at").first()
        stat = stats.get(flow.value, {})
        mark = marks.get(flow.value)
        rows.append(
            FlowHealth(
                flow=flow.value,
                label=flow.label,
                last=last,
                runs_24h=stat.get("runs", 0),
                failed_24h=stat.get("failed", 0),
                seen_24h=stat.get("seen") or 0,
                posted_24h=stat.get("posted") or 0,
                lag_seconds=(now - mark).total_seconds() if mark else None,
            )
        )
    return rows


# The stock pushes the health page counts: waiting, in flight, given up on.
OUTBOX_SHOWN = (PushStatus.PENDING, PushStatus.SENT, PushStatus.DEAD)


def outbox_counts() -> dict[str, int]:
    counts = dict(
        StockPush.objects.filter(status__in=OUTBOX_SHOWN)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {status.value: counts.get(status, 0) for status in OUTBOX_SHOWN}


def quarantined_windows() -> QuerySet[QuarantinedWindow]:
    return QuarantinedWindow.objects.filter(status=QuarantineStatus.OPEN).order_by("window_start")[
        :50
    ]
