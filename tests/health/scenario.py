"""A realistic morning for the health page: a day of runs, an ERP outage, waiting work, a month
of exceptions. Used by the browser test (screenshots) and bench/health_bench.py (at scale)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from exceptions_app.models import DeskException, ExceptionStatus
from integration.models import Flow, Order, RunErrorKind, RunStatus, StockPush, SyncRun

EVERY = {
    Flow.ORDERS_IN: 1,
    Flow.ORDERS_OUT: 1,
    Flow.STOCK: 5,
    Flow.SHIPMENTS: 5,
    Flow.CHECKS: 15,
    Flow.FINANCE: 24 * 60,
}
KINDS = [
    ("sku_unknown", "ops", "erp", "order"),
    ("carrier_unmapped", "ops", "integration", "order"),
    ("address_invalid", "cx", "magento", "order"),
    ("order_stuck", "ops", "integration", ""),
    ("stock_drift", "ops", "magento", ""),
    ("tax_variance", "finance", "erp", ""),
    ("settlement_mismatch", "finance", "payment", ""),
]


def seed_runs(*, hours: int = 24, rng: random.Random, scale: int = 1) -> int:
    """Every flow on schedule for `hours`, with an ERP outage on orders out for the last 35 min."""
    now = timezone.now()
    rows = []
    for flow in Flow:
        minutes = EVERY.get(flow, 5)
        step = max(1, minutes // scale) if scale > 1 else minutes
        for ago in range(1, hours * 60, step):
            started = now - timedelta(minutes=ago, seconds=rng.randint(0, 40))
            seen = rng.randint(5, 40)
            failed = 1 if rng.random() < 0.04 else 0
            run = SyncRun(
                flow=flow,
                status=RunStatus.PARTIAL if failed else RunStatus.SUCCEEDED,
                started_at=started,
                finished_at=started + timedelta(seconds=rng.uniform(0.5, 20)),
                seen=0 if flow == Flow.CHECKS else seen,
                posted=0 if flow == Flow.CHECKS else seen - failed - (seen // 10),
                held=seen // 10 if flow == Flow.ORDERS_OUT else 0,
                failed=failed,
                found=rng.randint(0, 6) if flow == Flow.CHECKS else 0,
                error="order 000004021: erp HTTP 422: the party has no address" if failed else "",
                error_system="erp" if failed else "",
                error_kind=RunErrorKind.RECORDS if failed else "",
            )
            if flow == Flow.ORDERS_OUT and ago <= 35:
                run.status, run.posted, run.failed, run.seen, run.held = (
                    RunStatus.FAILED,
                    0,
                    0,
                    0,
                    0,
                )
                run.error = "erp HTTP 503: Service Unavailable"
                run.error_system, run.error_kind, run.error_status = "erp", "refused", 503
            rows.append(run)
    SyncRun.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def seed_waiting(*, rng: random.Random) -> None:
    """Paid orders the outage holds back, and stock changes waiting for Magento."""
    now = timezone.now()
    for i in range(14):
        since = now - timedelta(minutes=35 + i * 3)
        Order.objects.create(
            entity_id=900000 + i,
            increment_id=f"0000090{i:02d}",
            state="processing",
            status="processing",
            currency_code="GBP",
            subtotal=Decimal("45.00"),
            grand_total=Decimal("54.00"),
            magento_created_at=since,
            magento_updated_at=since,
            first_seen_at=since,
            payload={},
        )
    for i in range(6):
        StockPush.objects.create(
            sku=f"24-WG0{i}", quantity=rng.randint(0, 40), created_at=now - timedelta(minutes=4)
        )


def seed_exceptions(*, n: int, rng: random.Random, days: int = 30) -> int:
    now = timezone.now()
    rows = []
    for i in range(n):
        kind, team, system, blocks = rng.choice(KINDS)
        opened = now - timedelta(minutes=rng.randint(5, days * 24 * 60))
        resolved = rng.random() < 0.7
        closed = opened + timedelta(minutes=rng.randint(10, 3000)) if resolved else None
        if closed and closed > now:
            closed, resolved = None, False
        currency = "EUR" if rng.random() < 0.15 else "GBP"
        money = kind not in ("stock_drift", "carrier_unmapped")
        rows.append(
            DeskException(
                kind=kind,
                fingerprint=f"{kind}:seed-{i}",
                subject=f"seed-{i}",
                system=system,
                team=team,
                severity="high",
                blocks=blocks,
                status=ExceptionStatus.RESOLVED if resolved else ExceptionStatus.OPEN,
                resolution="fixed" if resolved else "",
                message=f"seeded {kind}",
                amount=Decimal(rng.randint(100, 20000)) / 100 if money else None,
                currency=currency if money else "",
                units=Decimal(rng.randint(1, 12)) if kind == "stock_drift" else None,
                first_seen_at=opened,
                last_seen_at=opened,
                sla_due_at=opened + timedelta(hours=rng.choice([4, 24, 72])),
                closed_at=closed,
            )
        )
    DeskException.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def seed_morning(*, exceptions: int = 160, seed: int = 4) -> None:
    rng = random.Random(seed)
    seed_runs(rng=rng)
    seed_waiting(rng=rng)
    seed_exceptions(n=exceptions, rng=rng)
