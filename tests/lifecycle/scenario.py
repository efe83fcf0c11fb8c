"""Builders for the lifecycle scenarios: orders placed in the Magento sandbox, the desk's flows
run against it and a real Tryton, and what Tryton then holds for a reference.

The tests share one Tryton per session and every fresh sandbox numbers orders from 1, so each
scenario places its orders from an entity id of its own (`BASE`): no two tests ever post the
same reference.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integration.flows.orders_in import orders_in_run
from integration.flows.orders_out import orders_out_run
from sandbox.erp.warehouse import order_shipments, pick_and_pack
from sandbox.magento.app import sandbox_state
from sandbox.magento.orders.document import save_order
from sandbox.magento.orders.edit import edit_order
from sandbox.magento.orders.state import cancel_order, hold_order, unhold_order
from sandbox.magento.seed_lifecycle import edited_spec, place_order
from sandbox.magento.testing import make_app
from tests.sync.conftest import magento_for

# Today, not the sync tests' fixed date: a books-only sale's invoice is posted on the order's
# date, and the Tryton sandbox opens fiscal years around today only.
NOW = datetime.now(UTC).replace(microsecond=0, tzinfo=None)


def magento_today_app(tmp_path):
    """A Magento sandbox on today's clock (the `magento_today` fixture)."""
    return make_app(tmp_path, clock=lambda: NOW)


def store(app):
    return sandbox_state(app).store


def place(app, entity_id: int, *, paid: str = "authorised", hours_ago: float = 1.0) -> dict:
    """A clean order (mapped delivery, valid address, stocked items) placed in Magento."""
    return place_order(
        store(app),
        entity_id,
        created=NOW - timedelta(hours=hours_ago),
        paid=paid,
        entity_id=entity_id,
    )


def magento_cancel(app, order: dict) -> dict:
    doc = store(app).get_doc("orders", order["entity_id"])
    cancel_order(store(app), doc, now=NOW)
    save_order(store(app), doc)
    return doc


def magento_hold(app, order: dict, *, release: bool = False) -> None:
    doc = store(app).get_doc("orders", order["entity_id"])
    (unhold_order if release else hold_order)(doc, now=NOW)
    save_order(store(app), doc)


def magento_edit(app, order: dict) -> dict:
    """The admin edits the order: the original is cancelled, `<increment>-1` replaces it."""
    doc = store(app).get_doc("orders", order["entity_id"])
    spec = edited_spec(store(app), order["entity_id"], now=NOW)
    # The replacement takes the next entity id after the scenario's own range.
    return edit_order(store(app), doc, spec, now=NOW)


def sync(app, erp):
    """One pull and one orders-out run, as `sync orders_in` then `sync orders_out`."""
    with magento_for(app) as magento:
        pulled = orders_in_run(magento=magento, now=NOW.replace(tzinfo=UTC) + timedelta(seconds=1))
    assert pulled.status == "succeeded", pulled.error
    return orders_out_run(erp=erp)


def sales(tryton_server, reference: str) -> list[dict]:
    """Tryton's sales carrying the reference, with their shipments' and invoices' states."""
    with tryton_server.rest() as rest:
        return rest.search(
            "sale.sale",
            [["reference", "=", reference]],
            ["state", "shipment_method", "shipments.state", "invoices.state", "moves.state"],
        )


def live_sales(tryton_server, references: list[str]) -> list[str]:
    """References with a sale something will still be shipped or invoiced for."""
    live = []
    for reference in references:
        for sale in sales(tryton_server, reference):
            open_moves = [m for m in sale["moves"] if m["state"] != "cancelled"]
            open_invoices = [i for i in sale["invoices"] if i["state"] != "cancelled"]
            if sale["state"] != "cancelled" and (open_moves or open_invoices):
                live.append(reference)
    return live


def pack(tryton_server, reference: str) -> list[str]:
    """The warehouse picks and packs the order's parcel (not dispatched): its states."""
    with tryton_server.rest() as desk, tryton_server.rest(warehouse=True) as warehouse:
        return [pick_and_pack(warehouse, s) for s in order_shipments(desk, reference)]


def warehouse_cancels(tryton_server, reference: str) -> None:
    """The warehouse takes the parcel off the bench and cancels the shipment in Tryton."""
    with tryton_server.rest() as desk, tryton_server.rest(warehouse=True) as warehouse:
        for shipment in order_shipments(desk, reference):
            warehouse.action("stock.shipment.out", shipment["id"], "cancel")
