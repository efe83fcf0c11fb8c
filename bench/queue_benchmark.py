"""How fast is the ops queue with 100,000 exceptions in PostgreSQL?

    .venv/bin/python bench/queue_benchmark.py                 # starts a throw-away PostgreSQL
    DATABASE_URL=postgres://... .venv/bin/python bench/queue_benchmark.py   # uses a test_ copy

Creates a test database (Django's test-database machinery: `test_<name>`, dropped at the end),
bulk-creates the exceptions, then times the queue view through the Django test client: the
server-side time of each request (middleware, queries, template), the median of several runs,
and the number of SQL queries per request.
"""

import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        # Re-run this script under an ephemeral PostgreSQL server.
        script = [sys.executable, str(ROOT / "scripts" / "with_postgres.py"), "--"]
        sys.exit(subprocess.call([*script, sys.executable, __file__], cwd=ROOT))
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: PostgreSQL {connection.pg_version} ({test_db})")
        user = _seed(ROWS)
        _measure(user)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


def _seed(rows: int):
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from exceptions_app.kinds import KINDS
    from exceptions_app.models import DeskException, ExceptionKind, TimelineEntry

    ops = User.objects.create_user("bench-ops", "ops@example.test", "x")
    ops.groups.add(Group.objects.get(name="ops"))
    mates = []
    for n in range(8):
        mate = User.objects.create_user(f"ops-{n}", f"ops{n}@example.test", "x")
        mate.groups.add(Group.objects.get(name="ops"))
        mates.append(mate)
    assignees = [None, None, None, ops, *mates]

    rng = random.Random(4)  # noqa: S311 - reproducible benchmark data, not secrets
    kinds = list(ExceptionKind.values)
    statuses = ["open"] * 30 + ["in_progress"] * 10 + ["regressed"] * 3 + ["resolved"] * 50
    statuses += ["ignored"] * 7
    now = timezone.now()
    started = time.perf_counter()
    batch: list[DeskException] = []
    for i in range(rows):
        kind = rng.choice(kinds)
        info = KINDS[kind]
        status = rng.choice(statuses)
        first_seen = now - timedelta(minutes=rng.randint(0, 60 * 24 * 120))
        sku = f"MH{rng.randint(1, 99):02d}-{rng.choice('SML')}-{i}"
        order_id = f"{100000000 + i}"
        subject = sku if "sku" in kind or "stock" in kind else order_id
        batch.append(
            DeskException(
                kind=kind,
                subject=subject,
                fingerprint=f"{kind}:{subject}",
                sku=sku if subject == sku else "",
                order_increment_id=order_id if subject == order_id else "",
                system=rng.choice(["magento", "integration", "erp", "payment"]),
                team=info.team,
                assignee=rng.choice(assignees)
                if info.team == "ops" and (status != "open" or rng.random() < 0.3)
                else None,
                status=status,
                sub_status="",
                severity=info.severity,
                amount=Decimal(rng.randint(100, 50000)) / 100 if rng.random() < 0.6 else None,
                currency="GBP",
                message=f"{kind} on {subject}",
                evidence={"field_path": "items[0].sku", "payload": {"sku": sku, "qty": 1}},
                blocks=info.blocks,
                first_seen_at=first_seen,
                last_seen_at=first_seen + timedelta(minutes=rng.randint(0, 600)),
                occurrences=rng.randint(1, 20),
                sla_due_at=first_seen + timedelta(minutes=info.sla_minutes),
                closed_at=first_seen + timedelta(hours=5)
                if status in ("resolved", "ignored")
                else None,
            )
        )
        if len(batch) == 5000:
            DeskException.objects.bulk_create(batch)
            batch = []
    if batch:
        DeskException.objects.bulk_create(batch)
    # A timeline row per exception, as raise writes one.
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(exception_id=pk, verb="raised", note="raised")
            for pk in DeskException.objects.values_list("pk", flat=True).iterator()
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    ops_rows = DeskException.objects.filter(team="ops").count()
    print(f"seeded {rows:,} exceptions (+ timeline) in {seconds:.1f} s; {ops_rows:,} are ops'")
    return ops


def _measure(user) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    cases = [
        ("first page (default: needs work, SLA order)", "/ops/exceptions/"),
        ("first page, 100 rows", "/ops/exceptions/?per_page=100"),
        ("filtered: kind + assignee=me", "/ops/exceptions/?kind=stock_drift&assignee=me"),
        ("filtered: SLA breached", "/ops/exceptions/?sla=breached"),
        ("filtered: SKU prefix", "/ops/exceptions/?sku=MH42&status=all"),
        ("filtered: order number", "/ops/exceptions/?order=100050001&status=all"),
        ("sorted: severity desc", "/ops/exceptions/?sort=-severity"),
        ("sorted: at stake desc", "/ops/exceptions/?sort=-amount"),
        ("sorted: last page-ish (page 200)", "/ops/exceptions/?page=200"),
        ("htmx fragment: kind filter", "/ops/exceptions/?kind=sku_unknown"),
    ]
    print(f"\n{'case':48} {'median ms':>10} {'min ms':>8} {'queries':>8} {'SQL ms':>8}")
    for label, url in cases:
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "queue"} if "htmx" in label else {}
        timings = []
        sql_ms = []
        queries = 0
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, **headers)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            queries = len(captured)
            sql_ms.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        if os.environ.get("BENCH_VERBOSE"):
            for q in captured.captured_queries:
                print(f"    {float(q['time']) * 1000:6.1f} ms  {q['sql'][:110]}")
        print(
            f"{label:48} {statistics.median(timings):10.1f} {min(timings):8.1f} {queries:8d}"
            f" {statistics.median(sql_ms):8.1f}"
        )
    detail_pk = user.assigned_exceptions.filter(team="ops").values_list("pk", flat=True).first()
    if detail_pk:
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            client.get(f"/ops/exceptions/{detail_pk}/")
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{'detail page':48} {statistics.median(timings):10.1f} {min(timings):8.1f}")


if __name__ == "__main__":
    main()
