"""Refunds against a real Tryton: a partial refund of a dispatched order is one credit note of
the refunded amount (a sale return whose return shipment the warehouse receives); a rerun makes
no second; the received goods reach Magento through the stock flow."""

from decimal import Decimal

import pytest

from cx.order_path import order_path
from integration.flows.refunds import refunds_run
from integration.flows.shipments import shipments_run
from integration.flows.stock import stock_run
from integration.models import CreditMemo, CreditMemoErpStatus, RunStatus, StockLevel
from sandbox.erp.warehouse import receive_returns, ship
from sandbox.magento.seed import Shares
from sandbox.magento.testing import seed_app
from tests.lifecycle.refund_scenarios import (
    adapter_for,
    goods_lines,
    magento_order,
    magento_refund,
    money,
    one_unit_back,
    own_tryton,
    pull,
    store_to_erp,
)
from tests.sync.conftest import magento_for

pytestmark = pytest.mark.django_db

erp_server = pytest.fixture(scope="module")(own_tryton)


def return_sales(erp, reference):
    return erp.search("sale.sale", [["reference", "=", reference]], ["state", "invoices"])


def test_a_partial_refund_is_one_tryton_credit_note_and_the_returned_unit_reaches_magento(
    magento_today, carrier_mappings, erp_server
):
    seed_app(magento_today, orders=30, days=10, seed=11, shares=Shares(refunds=0))
    with adapter_for(erp_server) as erp:
        posted = store_to_erp(magento_today, erp)
        assert posted
        with erp_server.rest(warehouse=True) as warehouse:
            ship(warehouse, 100, log=lambda message: None)
        with magento_for(magento_today) as magento:
            assert shipments_run(magento=magento, erp=erp).posted
        pull(magento_today)
        order = next(
            o
            for o in posted
            if o.shipments.filter(dispatched_at__isnull=False).exists()
            and goods_lines(magento_order(magento_today, o))
            # more than the one unit refunded: a partial refund
            and sum(i["qty_ordered"] for i in goods_lines(magento_order(magento_today, o))) > 1
        )
        payload = magento_order(magento_today, order)
        sku = goods_lines(payload)[0]["sku"]
        # The stock flow has told Magento the ERP's figure for the SKU before the refund.
        before = erp.availability([sku])[sku]
        StockLevel.objects.create(sku=sku, erp_code=sku, erp_available=before, magento_told=before)
        memo = magento_refund(magento_today, order, one_unit_back(payload))

        with magento_for(magento_today) as magento:
            run = refunds_run(magento=magento, erp=erp)
        assert (run.status, run.posted) == (RunStatus.SUCCEEDED, 1), run.error
        row = CreditMemo.objects.get(entity_id=memo["entity_id"])
        assert row.erp_status == CreditMemoErpStatus.POSTED
        note = erp.credit_note_find(row.refund_key)
        assert note.posted and note.number == row.erp_number
        # Tryton computed its own VAT on the net refunded: within a penny of Magento's refund.
        assert abs(note.total_amount - money(memo["grand_total"])) <= Decimal("0.01")
        (return_id,) = note.returns
        with erp_server.rest() as rest:
            moves = rest.search(
                "stock.move",
                [["shipment", "=", f"stock.shipment.out.return,{return_id}"]],
                ["product.code", "quantity"],
            )
        assert [(m["product"]["code"], m["quantity"]) for m in moves] == [(sku, 1.0)]
        refunded = order_path(increment_id=order.increment_id).steps[-1]
        assert refunded.summary.startswith(f"Partly refunded: £{money(memo['grand_total'])} of ")
        assert (
            f"credit note {note.number} is in the ERP; the warehouse expects 1 × "
            in (refunded.details[0])
        )

        with magento_for(magento_today) as magento:
            assert refunds_run(magento=magento, erp=erp).posted == 0
        CreditMemo.objects.filter(pk=row.pk).update(erp_status=CreditMemoErpStatus.NEW)
        with magento_for(magento_today) as magento:
            assert refunds_run(magento=magento, erp=erp).posted == 0  # found, not made again
        assert len(return_sales(erp, row.refund_key)) == 1

        # The parcel is not back yet: the ERP's figure is unchanged, and that is what Magento
        # hears (its own return to stock is overruled).
        assert erp.availability([sku])[sku] == before
        with erp_server.rest(warehouse=True) as warehouse:
            (received,) = receive_returns(warehouse, 10, log=lambda message: None)
        assert received.lines == ((sku, 1.0),)
        assert erp.availability([sku])[sku] == before + 1
        with magento_for(magento_today) as magento:
            stocked = stock_run(magento=magento, erp=erp, sleep=lambda s: None)
            assert stocked.status == RunStatus.SUCCEEDED, stocked.error
            (item,) = magento.source_items([sku])
        assert Decimal(str(item["quantity"])) == before + 1
