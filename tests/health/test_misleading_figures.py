"""What a new manager hit on the old page, each fixed: every figure means what its header says."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from exceptions_app.models import System
from integration.connectors.backoff import PermanentError
from integration.flows.checks import checks_run
from integration.flows.finance import finance_run
from integration.health.page import health_page
from integration.models import Flow, OrderErpStatus, RunStatus, SyncRun
from sandbox.erp.inprocess import FakeErp
from tests.factories import OrderFactory, ShipmentFactory
from tests.health.factories import SyncRunFactory, fresh_runs

pytestmark = pytest.mark.django_db


def _row(flow: str):
    return next(row for row in health_page().flows if row.flow == flow)


def _cell(body: str, flow: str, testid: str) -> str:
    row = body.split(f'data-testid="flow-{flow}"', 1)[1].split("</tr>", 1)[0]
    return row.split(f'data-testid="{testid}"', 1)[1].split("</", 1)[0].split(">", 1)[1]


def _yesterdays_paid_orders(n: int) -> list:
    yesterday = timezone.localdate() - timedelta(days=1)
    noon = datetime.combine(yesterday, time(12), tzinfo=UTC)
    return [
        OrderFactory(
            erp_status=OrderErpStatus.POSTED,
            magento_created_at=noon,
            total_paid=Decimal("54.00"),
        )
        for _ in range(n)
    ]


def test_a_finance_run_whose_payments_all_failed_says_why_and_counts_as_failed(client_as):
    orders = _yesterdays_paid_orders(10)
    run = finance_run(erp=FakeErp())  # the ERP has invoiced none of them
    assert (run.status, run.seen, run.failed, run.posted) == (RunStatus.PARTIAL, 10, 10, 0)
    assert run.error.startswith(
        f"10 of 10 failed; order {orders[0].increment_id}: the ERP has no invoice for it yet"
    )
    assert run.error_system == System.ERP
    row = _row(Flow.FINANCE)
    assert (row.runs.day.failed_runs, row.runs.day.partial_runs) == (1, 0)
    assert row.runs.last_success is None
    assert row.verdict.level.css == "red"
    assert "10 of 10 failed" in row.verdict.sentence and row.verdict.systems == ["ERP"]
    body = client_as("finance").get(reverse("health:dashboard")).content.decode()
    assert _cell(body, Flow.FINANCE, "failed-runs-24h") == "1 failed"
    assert _cell(body, Flow.FINANCE, "count-failed") == "failed 10"
    assert _cell(body, Flow.FINANCE, "problem-at") == "ERP"


class RefusingErp(FakeErp):
    def invoices_for_references(self, references, *, include_draft=False):
        from integration.connectors.erp import ErpInvoice

        return [
            ErpInvoice(
                erp_id=f"INV-{ref}",
                number=f"INV-{ref}",
                sale_reference=ref,
                state="posted",
                invoice_date=None,
                currency="GBP",
                untaxed_amount=Decimal("45"),
                tax_amount=Decimal("9"),
                total_amount=Decimal("54"),
                amount_to_pay=Decimal("54"),
            )
            for ref in references
        ]

    def payment_record(self, **kwargs):
        raise PermanentError("the statement journal is closed", system="erp", status=422)


def test_a_refused_payment_keeps_the_erps_words_and_status():
    _yesterdays_paid_orders(2)
    run = finance_run(erp=RefusingErp())
    assert "erp HTTP 422: the statement journal is closed" in run.error
    assert (run.error_status, run.error_system) == (422, System.ERP)


def test_drift_findings_are_counted_as_found_not_held(client_as):
    old = timezone.now() - timedelta(hours=3)
    OrderFactory(magento_created_at=old, first_seen_at=old)  # paid, not in the ERP: stuck
    run = checks_run(magento=None, erp=FakeErp(), catalogue=False)
    assert (run.status, run.found, run.held, run.seen) == (RunStatus.SUCCEEDED, 1, 0, 0)
    row = _row(Flow.CHECKS)
    assert (row.runs.day.found, row.runs.day.held) == (1, 0)
    body = client_as("ops").get(reverse("health:dashboard")).content.decode()
    assert _cell(body, Flow.CHECKS, "count-findings") == "findings 1"
    assert "held" not in body.split('data-testid="flow-checks"')[1].split("</tr>")[0]


def test_shipments_back_is_amber_then_red_while_dispatched_shipments_wait():
    fresh_runs()
    SyncRunFactory(flow=Flow.SHIPMENTS)  # 0 seen, 0 posted, 0 held, 0 failed: on time
    shipment = ShipmentFactory(dispatched_at=timezone.now() - timedelta(hours=2))
    row = _row(Flow.SHIPMENTS)
    assert row.verdict.level.css == "amber"
    assert row.verdict.sentence == (
        "Shipments back: 1 dispatched shipment not in Magento after 60 min (oldest 2 h)."
    )
    assert row.verdict.systems == ["Magento"]
    shipment.dispatched_at = timezone.now() - timedelta(hours=4)
    shipment.save()
    assert _row(Flow.SHIPMENTS).verdict.level.css == "red"
    shipment.magento_shipment_id = "77"
    shipment.save()
    assert _row(Flow.SHIPMENTS).verdict.level.css == "green"


def test_shipments_back_is_not_green_when_nothing_has_shipped_for_days():
    fresh_runs()
    posted = timezone.now() - timedelta(days=3)
    for _ in range(5):
        OrderFactory(
            erp_status=OrderErpStatus.POSTED,
            magento_created_at=posted,
            erp_posted_at=posted + timedelta(minutes=2),
        )
    row = _row(Flow.SHIPMENTS)
    assert row.verdict.level.css == "amber"
    assert row.verdict.sentence == (
        "Shipments back: no shipment has ever been told to Magento; "
        "5 orders in the ERP over 48 h without dispatch."
    )
    assert row.verdict.systems == ["ERP"]
    SyncRunFactory(flow=Flow.SHIPMENTS, ago=timedelta(days=4), posted=3, seen=3)
    assert "no shipment told to Magento for 4 days;" in _row(Flow.SHIPMENTS).verdict.sentence


def test_problem_at_names_the_failing_system_and_is_a_dash_when_healthy(client_as):
    fresh_runs(ago=timedelta(minutes=2))
    SyncRunFactory(
        flow=Flow.ORDERS_IN,
        status=RunStatus.FAILED,
        error="magento HTTP 500: Internal Error",
        error_system=System.MAGENTO,
        error_kind="refused",
        error_status=500,
    )
    body = client_as("cx").get(reverse("health:dashboard")).content.decode()
    assert _cell(body, Flow.ORDERS_IN, "problem-at") == "Magento"
    assert _cell(body, Flow.ORDERS_OUT, "problem-at") == "—"
    assert "Magento answered 500 for" in _cell(body, Flow.ORDERS_IN, "flow-reason")
    assert SyncRun.objects.filter(flow=Flow.ORDERS_IN).count() == 2


def test_notifications_the_outbox_owes_or_gave_up_on_are_on_the_page(client):
    from datetime import timedelta

    from django.utils import timezone

    from exceptions_app.models import Notification
    from tests.factories import UserFactory

    old = timezone.now() - timedelta(minutes=20)
    Notification.objects.create(team="ops", event="raised", subject="late", body="", created_at=old)
    Notification.objects.create(
        team="ops", event="raised", subject="dead", body="", dead_at=old, attempts=8
    )
    Notification.objects.create(team="ops", event="raised", subject="new", body="")
    client.force_login(UserFactory(username="ops-health-outbox", roles=["ops"]))
    html = client.get("/health/").content.decode()
    assert "Owed for over 5 min 1 · given up after 8 attempts 1" in html
