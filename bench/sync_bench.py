"""Sync engine benchmarks. Each prints its figures; run from the repository root:

    .venv/bin/python bench/sync_bench.py pipeline --orders 10000   # our own cost
    .venv/bin/python bench/sync_bench.py tryton --orders 200       # against a real Tryton
    .venv/bin/python bench/sync_bench.py latency --orders 50       # 100 ms per ERP call
    .venv/bin/python bench/sync_bench.py stock --skus 100000       # stock delta, 1% changed
    .venv/bin/python bench/sync_bench.py readback                  # stock read-back, 1,891 SKUs

A throwaway SQLite database under a temp directory is migrated first (DATABASE_URL is set
for this process only), so nothing touches var/desk.sqlite3. Settings are production's
(DJANGO_DEBUG off, a throwaway secret key): with debug on Django records and formats every
query, which is not what a deployment pays for.

Time inside the other system is measured at its boundary (the httpx transport, or the ERP
adapter for the in-process stand-in) and subtracted, both as wall time and as CPU time: the
machine is shared, and CPU seconds are the figure that does not move with its load.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="sync-bench-"))
# A 10,000-order run leaves ~400 MB of databases; they are only needed while it runs.
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
os.environ["DATABASE_URL"] = f"sqlite:///{TMP / 'bench.sqlite3'}"
# Production settings: notification tasks are queued on the ORM broker as in a deployment,
# not run inline as the test settings do, and debug (query logging) is off.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("DESK_LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)

import httpx  # noqa: E402
from django.db import connection  # noqa: E402

from exceptions_app.models import DeskException, ExceptionKind  # noqa: E402
from integration.connectors.backoff import CircuitBreaker, RetryPolicy  # noqa: E402
from integration.connectors.magento.client import BearerAuth, MagentoClient  # noqa: E402
from integration.flows.orders_in import orders_in_run  # noqa: E402
from integration.flows.orders_out import orders_out_run  # noqa: E402
from integration.models import CarrierMapping, Flow, Order, StockLevel  # noqa: E402
from sandbox.erp.inprocess import FakeErp  # noqa: E402

DEMO_CARRIERS = ROOT / "integration" / "fixtures" / "demo_carrier_mappings.csv"


class TimedTransport(httpx.BaseTransport):
    """Wraps a transport and adds up the time spent inside it (the other system's share):
    wall seconds, and CPU seconds of this thread (what an in-process sandbox burns)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.seconds, self.cpu, self.calls = inner, 0.0, 0.0, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            response = self.inner.handle_request(request)
            response.read()
            return response
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu += time.thread_time() - cpu
            self.calls += 1


class TimedErp:
    """The ERP stand-in with the time spent inside its methods added up, like TimedTransport."""

    def __init__(self, inner: FakeErp) -> None:
        self.inner, self.seconds, self.cpu = inner, 0.0, 0.0

    def __getattr__(self, name: str):
        method = getattr(self.inner, name)
        if not callable(method):
            return method

        def timed(*args, **kwargs):
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.cpu += time.thread_time() - cpu

        return timed


def carriers() -> None:
    import csv

    with DEMO_CARRIERS.open() as handle:
        for row in csv.DictReader(handle):
            CarrierMapping.objects.get_or_create(magento_method=row["magento_method"],
                                                 defaults=row)  # fmt: skip


def magento_app(orders: int):
    from sandbox.magento.testing import make_app, seed_app

    app = make_app(TMP)
    started = time.perf_counter()
    app.seed_report = seed_app(app, orders=orders, days=30, seed=5)
    print(f"seeded {orders} sandbox orders in {time.perf_counter() - started:.1f}s (not timed)")
    return app


def holds_explained(app) -> dict:
    """Open holds by kind, and how many held orders the seed gave no cause (a bug if any)."""
    from collections import Counter

    from integration.models import OrderHold

    seeded = {i for ids in app.seed_report.causes.values() for i in ids}
    holds = OrderHold.objects.filter(released_at__isnull=True)
    held_orders = set(holds.values_list("order__increment_id", flat=True))
    return {
        "holds_by_kind": dict(Counter(holds.values_list("kind", flat=True))),
        "held_orders_without_a_seeded_cause": sorted(held_orders - seeded),
    }


def magento_client(app) -> tuple[MagentoClient, TimedTransport]:
    from sandbox.magento.auth import Credentials
    from sandbox.magento.testing import sandbox_transport

    transport = TimedTransport(sandbox_transport(app))
    return (
        MagentoClient(
            base_url="http://magento.test", auth=BearerAuth(Credentials().access_token),
            transport=transport, policy=RetryPolicy(max_attempts=3),
            breaker=CircuitBreaker("bench", threshold=1000), page_size=300,
        ),
        transport,
    )  # fmt: skip


def pipeline(args) -> dict:
    carriers()
    app = magento_app(args.orders)
    magento, timed = magento_client(app)
    erp = TimedErp(FakeErp())
    started, cpu_started = time.perf_counter(), time.thread_time()
    run_in = orders_in_run(magento=magento)
    pulled, cpu_pulled, sandbox_cpu_pull = time.perf_counter(), time.thread_time(), timed.cpu
    run_out = orders_out_run(erp=erp)
    wall = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    others = timed.seconds + erp.seconds
    ours = wall - others
    ours_cpu = cpu - timed.cpu - erp.cpu
    result = {
        "orders": Order.objects.count(),
        "posted": run_out.posted,
        "held": run_out.held,
        "wall_s": round(wall, 2),
        "orders_per_s_total": round(args.orders / wall, 1),
        "pull_s": round(pulled - started, 2),
        "post_s": round(wall - (pulled - started), 2),
        "inside_magento_sandbox_s": round(timed.seconds, 2),
        "inside_erp_stand_in_s": round(erp.seconds, 3),
        "our_code_s": round(ours, 2),
        "orders_per_s_our_code": round(args.orders / ours, 1),
        "our_code_cpu_s": round(ours_cpu, 2),
        "our_code_cpu_s_pull": round(cpu_pulled - cpu_started - sandbox_cpu_pull, 2),
        "orders_per_s_our_code_cpu": round(args.orders / ours_cpu, 1),
        "magento_calls": timed.calls,
        "erp_calls": erp.calls,
        "run_in": run_in.status,
        "run_out": run_out.status,
        **holds_explained(app),
    }
    return result


def tryton(args) -> dict:
    from integration.connectors.tryton.client import TrytonAdapter
    from sandbox.erp.testing import running_tryton

    carriers()
    app = magento_app(args.orders)
    magento, _ = magento_client(app)
    with running_tryton() as server:
        timed = TimedTransport(httpx.HTTPTransport())
        erp = TrytonAdapter(base_url=server.base_url, database=server.database,
                            api_key=server.api_key, transport=timed,
                            breaker=CircuitBreaker("bench-erp", threshold=1000))  # fmt: skip
        orders_in_run(magento=magento)
        with erp:
            started = time.perf_counter()
            run = orders_out_run(erp=erp)
            wall = time.perf_counter() - started
    return {
        "orders_seen": run.seen,
        "posted": run.posted,
        "held": run.held,
        "wall_s": round(wall, 2),
        "posted_per_s": round(run.posted / wall, 2),
        "waiting_on_tryton_s": round(timed.seconds, 2),
        "tryton_share": round(timed.seconds / wall, 3),
        "our_share": round(1 - timed.seconds / wall, 3),
        "erp_calls": timed.calls,
        "failed": run.failed,
        **holds_explained(app),
        "failures": list(
            DeskException.objects.filter(kind=ExceptionKind.ORDER_POST_FAILED).values_list(
                "message", flat=True
            )[:3]
        ),
    }


def latency(args) -> dict:
    carriers()
    app = magento_app(args.orders)
    magento, _ = magento_client(app)
    orders_in_run(magento=magento)
    erp = FakeErp(latency=args.latency)
    started = time.perf_counter()
    run = orders_out_run(erp=erp)
    wall = time.perf_counter() - started
    concurrency = 1  # orders-out posts in order, one ERP call at a time
    ideal = erp.calls * args.latency / concurrency
    return {
        "orders_seen": run.seen,
        "posted": run.posted,
        "erp_calls": erp.calls,
        "latency_s": args.latency,
        "concurrency": concurrency,
        "wall_s": round(wall, 2),
        "ideal_s": round(ideal, 2),
        "share_of_ideal": round(ideal / wall, 3),
    }


def stock(args) -> dict:
    from integration.flows.stock import StockPusher, stock_delta_record, stock_outbox_write
    from integration.models import StockPush, SyncRun

    skus = [f"SKU-{n:06d}" for n in range(args.skus)]
    StockLevel.objects.bulk_create(
        (StockLevel(sku=s, erp_code=s, erp_available=Decimal(10), magento_told=Decimal(10))
         for s in skus),
        batch_size=5000,
    )  # fmt: skip
    availability = {s: Decimal(10) for s in skus}
    changed = max(1, args.skus // 100)
    for s in skus[:: args.skus // changed][:changed]:
        availability[s] = Decimal(11)
    started = time.perf_counter()
    changes = stock_delta_record(availability=availability)
    delta_s = time.perf_counter() - started
    stock_outbox_write(changes=changes)
    outbox_s = time.perf_counter() - started

    calls = {"n": 0}

    def magento_stub(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if request.url.path.endswith("/source-items") and request.method == "POST":
            return httpx.Response(
                202,
                json={
                    "bulk_uuid": f"u{calls['n']}",
                    "errors": False,
                    "request_items": [{"id": 0, "status": "accepted"}],
                },
            )
        if "/bulk/" in request.url.path:
            return httpx.Response(200, json={"operations_list": [{"id": 1, "status": 1}]})
        return httpx.Response(200, json={"items": [], "total_count": 0})

    magento = MagentoClient(base_url="http://magento.test", auth=BearerAuth("x"),
                            transport=httpx.MockTransport(magento_stub),
                            breaker=CircuitBreaker("bench-stock", threshold=1000))  # fmt: skip
    run = SyncRun.objects.create(flow=Flow.STOCK)
    pusher = StockPusher(magento, run)
    pusher.push_due()
    pusher.poll()
    push_calls = calls["n"]
    batch = pusher.batch
    return {
        "skus": args.skus,
        "changed": len(changes),
        "delta_compute_s": round(delta_s, 3),
        "delta_plus_outbox_s": round(outbox_s, 3),
        "push_and_status_calls": push_calls,
        "full_push_calls": -(-args.skus // batch) * 2,
        "outbox_rows": StockPush.objects.count(),
        "database": connection.vendor,
    }


def readback(args) -> dict:
    """Stock read-back against the in-process Magento sandbox: every stocked Luma SKU."""
    from sandbox.divergence import catalogue_rows
    from sandbox.magento.testing import make_app

    magento, timed = magento_client(make_app(TMP))
    skus = [r["sku"] for r in catalogue_rows() if r["type_id"] == "simple" and r["qty"]]
    rounds = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        items = magento.source_items(skus)
        rounds.append(time.perf_counter() - started)
    return {
        "skus": len(skus),
        "items_read": len(items),
        "calls_per_read_back": timed.calls // args.rounds,
        "read_back_s": [round(r, 3) for r in rounds],
        "inside_magento_sandbox_s": round(timed.seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="which", required=True)
    p = sub.add_parser("pipeline")
    p.add_argument("--orders", type=int, default=10000)
    p = sub.add_parser("tryton")
    p.add_argument("--orders", type=int, default=200)
    p = sub.add_parser("latency")
    p.add_argument("--orders", type=int, default=50)
    p.add_argument("--latency", type=float, default=0.1)
    p = sub.add_parser("readback")
    p.add_argument("--rounds", type=int, default=3)
    p = sub.add_parser("stock")
    p.add_argument("--skus", type=int, default=100000)
    args = parser.parse_args()
    result = {
        "pipeline": pipeline,
        "tryton": tryton,
        "latency": latency,
        "stock": stock,
        "readback": readback,
    }[args.which](args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
