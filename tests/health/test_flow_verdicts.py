"""Each flow's verdict and the reason in words, from seeded runs, orders, shipments and pushes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from exceptions_app.models import System
from integration.health.page import health_page
from integration.models import Flow, OrderErpStatus, RunErrorKind, RunStatus, SyncRun
from tests.factories import OrderFactory
from tests.health.factories import StockPushFactory, SyncRunFactory, fresh_runs

pytestmark = pytest.mark.django_db


def _row(flow: str):
    return next(row for row in health_page().flows if row.flow == flow)


def test_every_flow_running_on_time_with_nothing_waiting_is_green():
    fresh_runs()
    page = health_page()
    assert [row.verdict.level.css for row in page.flows] == ["green"] * len(Flow)
    assert page.overall.level.css == "green"
    assert page.overall.sentence == "Every flow is running on time and nothing is waiting."


def test_orders_waiting_within_their_limit_are_green_but_said_not_hidden():
    fresh_runs()
    for _ in range(3):
        OrderFactory()  # paid a moment ago: waiting, within the 30 minutes
    row = _row(Flow.ORDERS_OUT)
    assert row.verdict.level.css == "green"
    sentence = row.verdict.sentence
    assert sentence.startswith("Orders out: running on time; 3 paid orders waiting, the oldest ")
    assert sentence.endswith("within its 30 min limit.") and "nothing waiting" not in sentence
    assert health_page().overall.sentence == (
        "Every flow is running on time; nothing waits beyond its limit."
    )


def test_orders_out_names_the_waiting_orders_and_how_long_the_erp_has_answered_503():
    fresh_runs(ago=timedelta(minutes=20))
    long_ago = timezone.now() - timedelta(hours=2)
    for _ in range(14):
        OrderFactory(magento_created_at=long_ago, first_seen_at=long_ago)
    OrderFactory()  # paid a moment ago: waiting, but within the 30 minutes
    for minutes in (6, 4, 2):
        SyncRunFactory(
            flow=Flow.ORDERS_OUT,
            ago=timedelta(minutes=minutes),
            status=RunStatus.FAILED,
            error="erp HTTP 503: Service Unavailable",
            error_system=System.ERP,
            error_kind=RunErrorKind.REFUSED,
            error_status=503,
        )
    row = _row(Flow.ORDERS_OUT)
    assert row.verdict.level.css == "red"  # 2 h is over three times the 30-minute SLA
    assert row.verdict.sentence.startswith(
        "Orders out: 14 paid orders waiting over 30 min (oldest 2 h); "
        "the ERP answered 503 for 6 min (3 failed runs); no successful run for 20 min"
    )
    assert row.verdict.systems == ["ERP"]
    assert (row.lag.waiting, row.lag.over_sla) == (15, 14)


def test_held_orders_are_named_as_held_and_sit_with_the_integration():
    fresh_runs()
    old = timezone.now() - timedelta(minutes=45)
    for _ in range(3):
        OrderFactory(erp_status=OrderErpStatus.HELD, magento_created_at=old, first_seen_at=old)
    OrderFactory(magento_created_at=old, first_seen_at=old)
    reason = _row(Flow.ORDERS_OUT).verdict.reasons[0]
    assert reason.text == (
        "4 paid orders waiting over 30 min (oldest 45 min; 3 held by exceptions, 1 not yet posted)"
    )
    assert (reason.level.css, reason.system) == ("amber", System.INTEGRATION)


def test_cancelled_and_posted_orders_are_not_waiting():
    fresh_runs()
    old = timezone.now() - timedelta(hours=3)
    OrderFactory(state="canceled", magento_created_at=old, first_seen_at=old)
    OrderFactory(erp_status=OrderErpStatus.POSTED, magento_created_at=old, first_seen_at=old)
    OrderFactory(erp_status=OrderErpStatus.SKIPPED, magento_created_at=old, first_seen_at=old)
    row = _row(Flow.ORDERS_OUT)
    assert (row.lag.waiting, row.verdict.level.css) == (0, "green")


def test_a_flow_silent_past_its_limit_goes_amber_then_red():
    fresh_runs()
    SyncRun.objects.filter(flow=Flow.STOCK).update(
        started_at=timezone.now() - timedelta(minutes=25)
    )
    assert _row(Flow.STOCK).verdict.sentence == (
        "Stock out: no successful run for 25 min (it runs every 5 min)."
    )
    assert _row(Flow.STOCK).verdict.level.css == "amber"
    SyncRun.objects.filter(flow=Flow.STOCK).update(started_at=timezone.now() - timedelta(hours=2))
    assert _row(Flow.STOCK).verdict.level.css == "red"


def test_a_flow_that_never_ran_says_so():
    row = _row(Flow.FINANCE)
    assert row.verdict.sentence == "Finance postings: has never run."
    assert row.verdict.level.css == "amber"


def test_an_open_circuit_in_the_workers_is_named():
    fresh_runs(ago=timedelta(minutes=3))
    SyncRunFactory(
        flow=Flow.SHIPMENTS,
        status=RunStatus.FAILED,
        error="magento: circuit open after 5 consecutive failures",
        error_system=System.MAGENTO,
        error_kind=RunErrorKind.CIRCUIT_OPEN,
    )
    page = health_page()
    row = next(r for r in page.flows if r.flow == Flow.SHIPMENTS)
    assert "Magento is refused by its circuit breaker after repeated failures for" in (
        row.verdict.sentence
    )
    magento = next(s for s in page.systems if s.system == "magento")
    assert "open in the workers" in magento.breaker_words


def test_stock_changes_waiting_and_dead_letters_make_stock_amber():
    fresh_runs()
    StockPushFactory(created_at=timezone.now() - timedelta(minutes=20))
    StockPushFactory(status="sent", created_at=timezone.now() - timedelta(minutes=2))
    StockPushFactory(status="dead")
    StockPushFactory(status="done", created_at=timezone.now() - timedelta(days=3))
    row = _row(Flow.STOCK)
    assert row.verdict.sentence == (
        "Stock out: 1 stock change waiting over 15 min (oldest 20 min); "
        "1 stock update dead-lettered (replay them)."
    )
    assert (row.lag.waiting, row.verdict.systems) == (2, ["Magento"])
