"""How far behind each flow is, read from the records still waiting, and flow-specific signals.

Each figure is one bounded query: the waiting sets (unposted orders, unsent shipments, the
stock outbox) are small in a healthy system and indexed by status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.db.models.functions import Greatest

from integration.health.policy import policy_for
from integration.health.runs import FlowRuns
from integration.models import (
    FinanceBatch,
    Flow,
    Order,
    OrderErpStatus,
    PushStatus,
    QuarantinedWindow,
    QuarantineStatus,
    Shipment,
    StockPush,
    SyncRun,
)
from integration.orders.payload import DEAD_STATES

UNPOSTED = (OrderErpStatus.NEW, OrderErpStatus.HELD, OrderErpStatus.FAILED)
# How far back "posted but never dispatched" looks: the window the stuck check cares about.
UNDISPATCHED_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Lag:
    seconds: float | None  # age of the oldest waiting record (None: nothing to measure)
    waiting: int = 0  # records waiting
    over_sla: int = 0  # of which waiting longer than the flow's SLA
    detail: str = ""  # what the waiting records are, in words


@dataclass(frozen=True)
class Signals:
    """Flow-specific facts a verdict needs beyond runs and lag."""

    quarantined_windows: int = 0  # orders in: Magento windows skipped until they read
    dead_letters: int = 0  # stock: updates given up on
    undispatched: int = 0  # shipments: orders in the ERP past the dispatch SLA, not dispatched
    last_told: datetime | None = None  # shipments: last time Magento was told of a shipment
    failed_payments: int = 0  # finance: payments that failed in the last week's batches


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


def orders_out_lag(now: datetime) -> Lag:
    sla = now - policy_for(Flow.ORDERS_OUT).lag_sla
    row = (
        Order.objects.filter(erp_status__in=UNPOSTED)
        .exclude(state__in=DEAD_STATES)
        .annotate(since=Greatest("magento_created_at", "first_seen_at"))
        .aggregate(
            oldest=Min("since"),
            waiting=Count("id"),
            over=Count("id", filter=Q(since__lt=sla)),
            held=Count("id", filter=Q(since__lt=sla, erp_status=OrderErpStatus.HELD)),
            failed=Count("id", filter=Q(since__lt=sla, erp_status=OrderErpStatus.FAILED)),
        )
    )
    parts = [f"{row['held']} held by exceptions"] if row["held"] else []
    if row["failed"]:
        parts.append(f"{row['failed']} refused by the ERP")
    rest = row["over"] - row["held"] - row["failed"]
    if rest and parts:
        parts.append(f"{rest} not yet posted")
    return Lag(_age(now, row["oldest"]), row["waiting"], row["over"], ", ".join(parts))


def shipments_lag(now: datetime) -> Lag:
    sla = now - policy_for(Flow.SHIPMENTS).lag_sla
    row = Shipment.objects.filter(dispatched_at__isnull=False, magento_shipment_id="").aggregate(
        oldest=Min("dispatched_at"),
        waiting=Count("id"),
        over=Count("id", filter=Q(dispatched_at__lt=sla)),
    )
    return Lag(_age(now, row["oldest"]), row["waiting"], row["over"])


def stock_lag(now: datetime) -> tuple[Lag, int]:
    sla = now - policy_for(Flow.STOCK).lag_sla
    waiting = Q(status__in=(PushStatus.PENDING, PushStatus.SENT))
    row = StockPush.objects.filter(
        status__in=(PushStatus.PENDING, PushStatus.SENT, PushStatus.DEAD)
    )
    row = row.aggregate(
        oldest=Min("created_at", filter=waiting),
        waiting=Count("id", filter=waiting),
        over=Count("id", filter=waiting & Q(created_at__lt=sla)),
        dead=Count("id", filter=Q(status=PushStatus.DEAD)),
    )
    return Lag(_age(now, row["oldest"]), row["waiting"], row["over"]), row["dead"]


def finance_lag(now: datetime) -> tuple[Lag, int]:
    """The oldest day whose payments are due and not posted: the day after the last batch."""
    batches = list(FinanceBatch.objects.order_by("-day")[:7])
    failed = sum(b.failed for b in batches)
    if not batches:
        return Lag(None), failed
    due_day = batches[0].day + timedelta(days=1)
    today = now.astimezone(UTC).date()
    if due_day >= today:
        return Lag(0.0), failed
    # A day's payments can be posted from the start of the next day (UTC, as the flow counts).
    due_at = datetime.combine(due_day + timedelta(days=1), time.min, tzinfo=UTC)
    days = (today - due_day).days
    over = 1 if now - due_at > policy_for(Flow.FINANCE).lag_sla else 0
    return Lag(
        _age(now, due_at), days, over, f"{days} day{'' if days == 1 else 's'} without a batch"
    ), failed


def since_success_lag(now: datetime, runs: FlowRuns) -> Lag:
    if runs.last_success is None:
        return Lag(None)
    return Lag(_age(now, runs.last_success.started_at))


def undispatched_orders(now: datetime) -> int:
    """Orders in the ERP longer than the dispatch SLA with no dispatch (a bounded window)."""
    before = now - timedelta(hours=settings.SYNC_DISPATCH_SLA_HOURS)
    dispatched = Shipment.objects.filter(order=OuterRef("pk"), dispatched_at__isnull=False)
    return (
        Order.objects.filter(
            erp_status=OrderErpStatus.POSTED,
            magento_created_at__gte=before - UNDISPATCHED_WINDOW,
            erp_posted_at__lt=before,
        )
        .exclude(Q(state__in=DEAD_STATES) | Q(state="complete"))
        .filter(~Exists(dispatched))
        .count()
    )


def last_told(runs: FlowRuns) -> datetime | None:
    if runs.last is not None and runs.last.posted:
        return runs.last.started_at
    return (
        SyncRun.objects.filter(flow=Flow.SHIPMENTS, posted__gt=0)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )


def flow_lags(*, now: datetime, runs: dict[str, FlowRuns]) -> dict[str, tuple[Lag, Signals]]:
    stock, dead = stock_lag(now)
    finance, failed_payments = finance_lag(now)
    quarantined = QuarantinedWindow.objects.filter(status=QuarantineStatus.OPEN).count()
    lags: dict[str, tuple[Lag, Signals]] = {
        flow: (since_success_lag(now, runs[flow]), Signals()) for flow in runs
    }
    return lags | {
        Flow.ORDERS_IN: (
            since_success_lag(now, runs[Flow.ORDERS_IN]),
            Signals(quarantined_windows=quarantined),
        ),
        Flow.ORDERS_OUT: (orders_out_lag(now), Signals()),
        Flow.STOCK: (stock, Signals(dead_letters=dead)),
        Flow.SHIPMENTS: (
            shipments_lag(now),
            Signals(
                undispatched=undispatched_orders(now), last_told=last_told(runs[Flow.SHIPMENTS])
            ),
        ),
        Flow.FINANCE: (finance, Signals(failed_payments=failed_payments)),
        Flow.CHECKS: (since_success_lag(now, runs[Flow.CHECKS]), Signals()),
    }
