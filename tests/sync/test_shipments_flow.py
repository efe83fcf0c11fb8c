"""Shipments back: only dispatched ERP shipments reach Magento, each exactly once."""

from datetime import date

import pytest

from integration.connectors.erp import ErpShipment
from integration.flows.orders_in import orders_in_run
from integration.flows.orders_out import orders_out_run
from integration.flows.shipments import DISPATCHED, shipments_run
from integration.models import Order, OrderErpStatus, RunStatus, Shipment
from sandbox.erp.inprocess import FakeErp
from tests.sync.conftest import NOW, magento_for

pytestmark = pytest.mark.django_db


def magento_shipments(app, order):
    with magento_for(app) as magento:
        return magento.shipments_for_order(order.entity_id)


def test_only_dispatched_shipments_reach_magento_once(seeded, carrier_mappings):
    app, _ = seeded
    erp = FakeErp()
    with magento_for(app) as magento:
        orders_in_run(magento=magento, now=NOW)
    orders_out_run(erp=erp)
    shipped, waiting = Order.objects.filter(
        state="processing", erp_status=OrderErpStatus.POSTED
    ).order_by("pk")[:2]
    erp.shipments = [
        ErpShipment("501", shipped.increment_id, DISPATCHED, date(2026, 3, 2), "TT123456789GB",
                    "Royal Mail Tracked 24"),
        ErpShipment("502", waiting.increment_id, "assigned", None, "", ""),
    ]  # fmt: skip
    for _ in range(2):
        with magento_for(app) as magento:
            run = shipments_run(magento=magento, erp=erp)
        assert run.status == RunStatus.SUCCEEDED, run.error
    (only,) = magento_shipments(app, shipped)
    (track,) = only["tracks"]
    assert track["track_number"] == "TT123456789GB"
    assert track["carrier_code"] == "custom"
    assert track["title"] == "Royal Mail Tracked 24"
    assert magento_shipments(app, waiting) == []
    # The answer to the first push was lost: the next run recognises Magento's shipment.
    Shipment.objects.filter(erp_shipment_id="501").update(magento_shipment_id="")
    with magento_for(app) as magento:
        shipments_run(magento=magento, erp=erp)
    assert len(magento_shipments(app, shipped)) == 1
    assert Shipment.objects.get(erp_shipment_id="501").magento_shipment_id == str(only["entity_id"])
