"""Order states and statuses, the status history, what is left to do, and cancelling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.magento.clock import timestamp
from sandbox.magento.orders.document import top_items
from sandbox.magento.orders.reservations import add_order_reservation
from sandbox.magento.store import Store

# Default status of each state (order_states_statuses.json).
STATE_STATUS = {
    "new": "pending",
    "pending_payment": "pending_payment",
    "processing": "processing",
    "complete": "complete",
    "closed": "closed",
    "canceled": "canceled",
    "holded": "holded",
    "payment_review": "payment_review",
}
CANNOT_SHIP_STATES = ("payment_review", "holded", "canceled")
FINAL_STATES = ("complete", "closed", "canceled")


def set_state(order: dict[str, Any], state: str, status: str | None = None) -> None:
    order["state"] = state
    order["status"] = status or STATE_STATUS[state]


def add_history(
    store: Store,
    order: dict[str, Any],
    *,
    comment: str | None,
    created: str,
    status: str | None = None,
    is_customer_notified: int | None = 0,
    is_visible_on_front: int = 0,
) -> dict[str, Any]:
    entry = {
        "entity_id": store.next_id("order_status_history"),
        "parent_id": order["entity_id"],
        "entity_name": "order",
        "comment": comment,
        "status": status or order["status"],
        "is_customer_notified": is_customer_notified,
        "is_visible_on_front": is_visible_on_front,
        "created_at": created,
    }
    order["status_histories"].insert(0, entry)
    return entry


def qty_to_ship(item: dict[str, Any]) -> float:
    if item.get("is_virtual"):
        return 0
    return max(
        0.0,
        float(item["qty_ordered"])
        - float(item["qty_shipped"])
        - float(item["qty_refunded"] or 0)
        - float(item["qty_canceled"] or 0),
    )


def qty_to_invoice(item: dict[str, Any]) -> float:
    return max(
        0.0,
        float(item["qty_ordered"]) - float(item["qty_invoiced"]) - float(item["qty_canceled"] or 0),
    )


def resolve_state(order: dict[str, Any]) -> None:
    """OrderStateResolver: nothing left to ship or invoice -> complete."""
    if order["state"] in ("canceled", "closed", "holded", "payment_review"):
        return
    to_ship = sum(qty_to_ship(i) for i in top_items(order))
    to_invoice = sum(qty_to_invoice(i) for i in top_items(order))
    if to_ship == 0 and to_invoice == 0:
        set_state(order, "complete")
    elif order["state"] == "new":
        set_state(order, "processing")


def cancel_order(store: Store, order: dict[str, Any], *, now: datetime) -> None:
    created = timestamp(now)
    for item in order["items"]:
        open_qty = qty_to_ship(item)
        item["qty_canceled"] = float(item["qty_canceled"] or 0) + open_qty
        if item["product_type"] == "simple" and open_qty:
            add_order_reservation(
                store, order, sku=item["sku"], quantity=open_qty, event_type="order_canceled"
            )
    set_state(order, "canceled")
    order["updated_at"] = created
