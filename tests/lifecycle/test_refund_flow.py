"""Refunds flow against the Magento sandbox and the in-process ERP: one credit note per credit
memo for exactly what was refunded, never a second; a refusal is an exception naming why.

The same behaviour against a real Tryton (its credit note, its return, its stock) is in
test_refund_tryton.py.
"""

from datetime import date
from decimal import Decimal

import pytest

from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus, Team
from exceptions_app.services import exception_replay
from integration.connections import connections_override
from integration.connectors.erp import ErpShipment
from integration.flows.refunds import refunds_run
from integration.flows.shipments import DISPATCHED, shipments_run
from integration.models import (
    CreditMemo,
    CreditMemoErpStatus,
    Order,
    OrderErpStatus,
    RunStatus,
    StockLevel,
)
from integration.skus import lines_expand
from sandbox.erp.inprocess import FakeErp
from sandbox.magento.seed import Shares
from sandbox.magento.testing import seed_app
from tests.lifecycle.refund_scenarios import (
    magento_order,
    magento_refund,
    money,
    one_unit_back,
    pull,
    store_to_erp,
)
from tests.sync.conftest import magento_for

pytestmark = pytest.mark.django_db


def dispatch(app, erp, order, shipment_id="901"):
    """The warehouse dispatched the whole order and the desk told Magento; pulled again."""
    lines = tuple((e.sku, e.quantity) for e in lines_expand(order.lines.all()) if e.ships)
    erp.shipments.append(
        ErpShipment(shipment_id, order.increment_id, DISPATCHED, date(2026, 3, 2),
                    f"TT{shipment_id}GB", "Royal Mail Tracked 24", lines=lines)
    )  # fmt: skip
    with magento_for(app) as magento:
        assert shipments_run(magento=magento, erp=erp).status == RunStatus.SUCCEEDED
    pull(app)


def refunds(app, erp):
    with magento_for(app) as magento:
        return refunds_run(magento=magento, erp=erp)


@pytest.fixture
def store(magento_app):
    """The seeded store without its refunds: each test makes the ones it needs."""
    seed_app(magento_app, orders=200, days=10, seed=7, shares=Shares(refunds=0))
    return magento_app


@pytest.fixture
def shipped(store, carrier_mappings):
    """A posted order the warehouse dispatched."""
    app = store
    erp = FakeErp()
    posted = store_to_erp(app, erp)
    order = next(o for o in posted if one_unit_back_possible(app, o))
    dispatch(app, erp, order)
    order.refresh_from_db()
    return app, erp, order


def one_unit_back_possible(app, order):
    payload = magento_order(app, order)
    return not payload["is_virtual"] and any(
        not i.get("parent_item_id") and i["product_type"] in ("simple", "configurable")
        for i in payload["items"]
    )


def test_a_partial_refund_makes_one_credit_note_of_the_refunded_amount_and_a_rerun_no_second(
    shipped,
):
    app, erp, order = shipped
    memo = magento_refund(app, order, one_unit_back(magento_order(app, order)))
    StockLevel.objects.create(sku=memo["items"][0]["sku"], erp_available=5, magento_told=5)
    run = refunds(app, erp)
    assert (run.status, run.posted) == (RunStatus.SUCCEEDED, 1), run.error
    row = CreditMemo.objects.get(entity_id=memo["entity_id"])
    assert row.erp_status == CreditMemoErpStatus.POSTED and row.order == order
    (note,) = erp.credit_notes.values()
    assert note.reference == f"{order.increment_id}/CM{memo['increment_id']}"
    assert row.erp_number == note.number and row.erp_total == note.total_amount
    assert abs(note.total_amount - money(memo["grand_total"])) <= Decimal("0.01")
    (line,) = erp.credit_requests[note.reference].lines
    assert (line.quantity, line.returned) == (Decimal(1), True)  # it was shipped: it comes back
    assert erp.credit_requests[note.reference].shipping_amount == 0
    # Magento may have put the unit back in its own stock: the ERP's figure is pushed again.
    assert StockLevel.objects.get(sku=memo["items"][0]["sku"]).magento_told is None

    # Rerun, and a lost answer (the desk forgot it posted): the ERP's note is found, not doubled.
    assert refunds(app, erp).posted == 0
    CreditMemo.objects.filter(pk=row.pk).update(erp_status=CreditMemoErpStatus.NEW, erp_number="")
    again = refunds(app, erp)
    assert again.status == RunStatus.SUCCEEDED and again.posted == 0
    assert len(erp.credit_notes) == 1
    assert CreditMemo.objects.get(pk=row.pk).erp_number == note.number


def test_a_refund_the_erp_refuses_is_a_finance_exception_naming_why_and_its_replay_credits_once(
    shipped,
):
    app, erp, order = shipped
    memo = magento_refund(app, order, {})  # everything, shipping included
    key = f"{order.increment_id}/CM{memo['increment_id']}"
    erp.reject_credit.add(key)
    run = refunds(app, erp)
    assert run.status == RunStatus.PARTIAL and "refused" in run.error
    (exception,) = DeskException.objects.filter(kind=ExceptionKind.REFUND_POST_FAILED)
    assert exception.subject == key and exception.team == Team.FINANCE
    assert exception.order_increment_id == order.increment_id
    assert "refused (by the test)" in exception.message
    assert exception.amount == money(memo["grand_total"])
    assert CreditMemo.objects.get(entity_id=memo["entity_id"]).erp_status == "failed"
    assert refunds(app, erp).failed == 0  # a refused one waits for its replay, not every run

    erp.reject_credit.clear()
    with connections_override(erp=lambda: erp):
        outcome = exception_replay(exception=exception, actor=None)
        assert outcome.ok, outcome.detail
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    (note,) = erp.credit_notes.values()
    assert abs(note.total_amount - money(memo["grand_total"])) <= Decimal("0.02")
    assert erp.credit_requests[key].shipping_amount == money(order.shipping_amount)


def test_refunds_of_orders_not_in_the_erp_wait_for_them_or_are_skipped(store, carrier_mappings):
    app = store
    erp = FakeErp()
    pull(app)
    waiting = (
        Order.objects.filter(erp_status=OrderErpStatus.NEW, state="processing")
        .order_by("pk")
        .first()
    )
    memo = magento_refund(app, waiting, one_unit_back(magento_order(app, waiting)))
    run = refunds(app, erp)
    assert run.held == 1 and not erp.credit_notes  # its order is not in the ERP yet
    assert CreditMemo.objects.get(entity_id=memo["entity_id"]).erp_status == "new"
    store_to_erp(app, erp)
    assert refunds(app, erp).posted == 1
    (line,) = erp.credit_requests[f"{waiting.increment_id}/CM{memo['increment_id']}"].lines
    assert not line.returned  # never shipped: money only, nothing comes back

    unpaid = Order.objects.filter(erp_status=OrderErpStatus.SKIPPED).first()
    CreditMemo.objects.create(
        entity_id=999, increment_id="999", magento_order_id=unpaid.entity_id, order=unpaid,
        state="refunded", currency_code="GBP", grand_total=Decimal("5"),
        magento_created_at=unpaid.magento_created_at, magento_updated_at=unpaid.magento_created_at,
        payload={},
    )  # fmt: skip
    refunds(app, erp)
    assert CreditMemo.objects.get(entity_id=999).erp_status == CreditMemoErpStatus.SKIPPED
    assert len(erp.credit_notes) == 1


def test_every_seeded_refund_case_reaches_the_erp_as_what_it_refunded(seeded, carrier_mappings):
    """The store `make run` shows: full, partial, shipping-only, goodwill and before-dispatch
    refunds, each credited once for what Magento refunded (history orders are in the ERP for
    the books, so their refunds are credited there too)."""
    app, report = seeded
    erp = FakeErp()
    store_to_erp(app, erp)
    run = refunds(app, erp)
    assert run.status == RunStatus.SUCCEEDED, run.error
    cases = {k: v for k, v in report.causes.items() if k.startswith("refund_")}
    assert set(cases) == {"refund_full", "refund_partial", "refund_shipping", "refund_goodwill",
                          "refund_unshipped"}  # fmt: skip
    memos = {m.order.increment_id: m for m in CreditMemo.objects.select_related("order")}
    assert all(m.erp_status == CreditMemoErpStatus.POSTED for m in memos.values())
    assert run.posted == len(memos) == len(erp.credit_notes)
    for case, numbers in cases.items():
        for number in numbers:
            memo = memos[number]
            request = erp.credit_requests[memo.refund_key]
            note = erp.credit_notes[memo.refund_key]
            assert abs(note.total_amount - memo.grand_total) <= Decimal("0.01") * (
                len(request.lines) + 1
            ), (case, number)
            if case == "refund_shipping":
                assert not request.lines and request.shipping_amount == memo.shipping_amount
            elif case == "refund_partial":
                assert [(ln.quantity, ln.returned) for ln in request.lines] == [(1, True)]
            elif case == "refund_goodwill":
                assert request.adjustment == Decimal("2.00") and len(request.lines) == 1
            elif case == "refund_unshipped":
                assert request.lines and not any(ln.returned for ln in request.lines)
            else:
                assert request.lines and all(ln.returned for ln in request.lines)


def test_manage_py_sync_refunds_once_runs_the_flow(store, carrier_mappings):
    from django.core.management import call_command

    from integration.models import SyncRun

    erp = FakeErp()
    store_to_erp(store, erp)
    with connections_override(magento=lambda: magento_for(store), erp=lambda: erp):
        call_command("sync", "refunds", "--once")
    (run,) = SyncRun.objects.filter(flow="refunds")
    assert run.status == RunStatus.SUCCEEDED
