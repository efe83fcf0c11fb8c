"""The page's figures equal counts computed here, independently, from the rows seeded."""

import random
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from exceptions_app.models import ExceptionStatus, System, Team
from integration.health.page import health_page
from integration.health.runs import hour_starts
from integration.models import Flow, RunStatus
from tests.factories import DeskExceptionFactory, OrderFactory
from tests.health.factories import SyncRunFactory

pytestmark = pytest.mark.django_db

STATUSES = [RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED, RunStatus.SKIPPED]
WORKING = {ExceptionStatus.OPEN, ExceptionStatus.IN_PROGRESS, ExceptionStatus.REGRESSED}


def _seed_runs(rng: random.Random) -> list:
    runs = []
    for _ in range(300):
        seen = rng.randint(0, 20)
        failed = rng.randint(0, seen) if rng.random() < 0.4 else 0
        runs.append(
            SyncRunFactory(
                flow=rng.choice(list(Flow)),
                status=rng.choice(STATUSES),
                ago=timedelta(minutes=rng.randint(1, 30 * 60)),
                seen=seen,
                posted=rng.randint(0, seen - failed) if seen > failed else 0,
                held=rng.randint(0, 3),
                failed=failed,
                found=rng.randint(0, 2),
            )
        )
    return runs


def _seed_exceptions(rng: random.Random) -> list:
    now = timezone.now()
    rows = []
    for i in range(120):
        currency = rng.choice(["GBP", "EUR", ""])
        rows.append(
            DeskExceptionFactory(
                subject=f"subject-{i}",
                kind=rng.choice(["sku_unknown", "tax_variance", "stock_drift", "order_stuck"]),
                system=rng.choice(list(System)),
                team=rng.choice(list(Team)),
                status=rng.choice(list(ExceptionStatus)),
                sla_due_at=now + timedelta(minutes=rng.randint(-600, 600)),
                amount=Decimal(rng.randint(-5000, 5000)) / 100 if currency else None,
                currency=currency,
                units=Decimal(rng.randint(0, 9)) if rng.random() < 0.3 else None,
            )
        )
    return rows


def _is_failed(run) -> bool:
    return run.status == RunStatus.FAILED or (
        run.status == RunStatus.PARTIAL and run.failed >= run.seen and run.posted == 0
    )


def test_flow_figures_equal_counts_of_the_seeded_runs():
    rng = random.Random(12)
    runs = _seed_runs(rng)
    page = health_page()
    since = page.now - timedelta(hours=24)
    for row in page.flows:
        mine = [r for r in runs if r.flow == row.flow and r.started_at >= since]
        worked = [r for r in mine if r.status != RunStatus.SKIPPED]
        day = row.runs.day
        assert day.runs == len(worked), row.flow
        assert day.skipped == len(mine) - len(worked)
        assert day.failed_runs == sum(1 for r in mine if _is_failed(r))
        assert day.partial_runs == sum(
            1 for r in mine if r.status == RunStatus.PARTIAL and not _is_failed(r)
        )
        for name in ("seen", "posted", "held", "failed", "found"):
            assert getattr(day, name) == sum(getattr(r, name) for r in mine), (row.flow, name)
        successes = [
            r for r in runs if r.flow == row.flow and r.status in STATUSES[:2] and not _is_failed(r)
        ]
        expected = max(successes, key=lambda r: r.started_at) if successes else None
        assert row.runs.last_success == expected, row.flow
        first_hour = hour_starts(page.now)[0]
        in_hours = [r for r in runs if r.flow == row.flow and r.started_at >= first_hour]
        assert sum(row.runs.hourly_posted) == sum(r.posted for r in in_hours), row.flow


def test_where_problems_sit_equals_counts_of_the_seeded_exceptions(client_as):
    rng = random.Random(7)
    rows = _seed_exceptions(rng)
    now = timezone.now()
    working = [e for e in rows if e.status in WORKING]
    page = health_page(now=now)
    assert page.problems.total.open == len(working)
    assert page.problems.total.overdue == sum(1 for e in working if e.sla_due_at < now)
    for key, groups in (("system", page.problems.by_system), ("team", page.problems.by_team)):
        for value, _label, stake in groups:
            mine = [e for e in working if getattr(e, key) == value]
            assert stake.open == len(mine), (key, value)
            assert stake.overdue == sum(1 for e in mine if e.sla_due_at < now)
            money = defaultdict(Decimal)
            for e in mine:
                if e.currency and e.amount is not None:
                    money[e.currency] += abs(e.amount)
            assert stake.money == dict(money), (key, value)
            assert stake.units == sum((e.units or 0 for e in mine), Decimal(0))
    body = client_as("ops").get(reverse("health:dashboard")).content.decode()
    open_ = body.split('data-testid="open-exceptions"')[1].split("</span>")[0]
    assert open_.endswith(f">{len(working)}")


def test_the_orders_out_lag_is_the_oldest_paid_order_not_in_the_erp():
    now = timezone.now()
    ages = [5, 50, 95, 400]
    for minutes in ages:
        when = now - timedelta(minutes=minutes)
        OrderFactory(magento_created_at=when, first_seen_at=when)
    old = now - timedelta(days=2)
    OrderFactory(magento_created_at=old, first_seen_at=now - timedelta(minutes=20))  # first seen
    row = next(r for r in health_page(now=now).flows if r.flow == Flow.ORDERS_OUT)
    assert round(row.lag.seconds / 60) == max(ages)
    assert row.lag.waiting == len(ages) + 1
    assert row.lag.over_sla == sum(1 for m in ages if m > 30)
