"""Split parcels against a real Tryton: the warehouse ships part of an order now and the rest
later; each ERP shipment becomes its own Magento shipment with only its items and its track,
and the Magento shipments add up to the order, never more."""

from collections import defaultdict

import pytest

from cx.order_path import order_path
from integration.flows.shipments import shipments_run
from integration.models import Order, RunStatus, Shipment
from sandbox.erp.warehouse import ship
from sandbox.magento.seed import Shares
from sandbox.magento.testing import seed_app
from tests.lifecycle.refund_scenarios import (
    adapter_for,
    magento_order,
    own_tryton,
    store_to_erp,
)
from tests.sync.conftest import magento_for

pytestmark = pytest.mark.django_db

erp_server = pytest.fixture(scope="module")(own_tryton)


def units(payload: dict) -> int:
    return sum(
        int(i["qty_ordered"])
        for i in payload["items"]
        if not i.get("parent_item_id") and not i["is_virtual"] and i["product_type"] != "bundle"
    )


def shipped_per_item(magento_shipments: list[dict]) -> dict[int, float]:
    total: dict[int, float] = defaultdict(float)
    for shipment in magento_shipments:
        for item in shipment["items"]:
            total[item["order_item_id"]] += item["qty"]
    return dict(total)


def tell_magento(app, erp):
    with magento_for(app) as magento:
        run = shipments_run(magento=magento, erp=erp)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def test_an_order_shipped_in_two_erp_shipments_is_two_magento_shipments_adding_up_to_it(
    magento_today, carrier_mappings, erp_server
):
    seed_app(magento_today, orders=30, days=10, seed=5, shares=Shares(refunds=0))
    with adapter_for(erp_server) as erp:
        posted = store_to_erp(magento_today, erp)
        several = [o for o in posted if units(magento_order(magento_today, o)) >= 2]
        assert several
        with erp_server.rest(warehouse=True) as warehouse:
            first = ship(warehouse, 100, part=True, log=lambda message: None)
        assert first and all(d.held_back for d in first)
        tell_magento(magento_today, erp)
        # The flow records the rest too: it waits in a second ERP shipment, not yet dispatched.
        split = [
            o
            for o in several
            if o.shipments.filter(dispatched_at__isnull=False).count() == 1
            and o.shipments.filter(dispatched_at__isnull=True, erp_state="waiting").exists()
        ]
        assert split
        order = split[0]
        (parcel,) = order.shipments.filter(dispatched_at__isnull=False)
        with magento_for(magento_today) as magento:
            (told,) = magento.shipments_for_order(order.entity_id)
        # Only what left in the first parcel: Magento still has the rest to ship.
        payload = magento_order(magento_today, order)
        assert sum(shipped_per_item([told]).values()) < units(payload)
        assert payload["state"] == "processing"
        assert [t["track_number"] for t in told["tracks"]] == [parcel.tracking_number]
        cx = order_path(increment_id=order.increment_id)
        assert cx.headline.startswith("Partly dispatched: one parcel dispatched on ")
        assert f"tracking {parcel.tracking_number}; the rest (" in cx.headline
        assert cx.steps[3].summary.startswith("Partly dispatched: 1 of 2 parcels have left")

        with erp_server.rest(warehouse=True) as warehouse:
            ship(warehouse, 100, log=lambda message: None)
        tell_magento(magento_today, erp)
        tell_magento(magento_today, erp)  # a rerun tells nothing twice
        parcels = list(Shipment.objects.filter(order=order).order_by("pk"))
        assert len(parcels) == 2
        assert len({p.tracking_number for p in parcels}) == 2
        with magento_for(magento_today) as magento:
            both = magento.shipments_for_order(order.entity_id)
        assert sorted(str(s["entity_id"]) for s in both) == sorted(
            p.magento_shipment_id for p in parcels
        )
        assert {t["track_number"] for s in both for t in s["tracks"]} == {
            p.tracking_number for p in parcels
        }
        payload = magento_order(magento_today, order)
        ordered = {
            i["item_id"]: float(i["qty_ordered"])
            for i in payload["items"]
            if not i.get("parent_item_id") and not i["is_virtual"] and i["product_type"] != "bundle"
        }
        assert shipped_per_item(both) == ordered
        assert payload["state"] == "complete"
        assert Order.objects.get(pk=order.pk).shipments.filter(magento_shipment_id="").count() == 0
        cx = order_path(increment_id=order.increment_id)
        assert cx.headline.startswith("Dispatched in 2 parcels: ")
        assert all(p.tracking_number in cx.headline for p in parcels)
