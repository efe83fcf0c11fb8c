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


def can_cancel(order: dict[str, Any]) -> bool:
    """Order::canCancel: not on hold, not under payment review, not finished, and something
    left to invoice (an invoiced order is refunded with a credit memo instead)."""
    if order["state"] in ("holded", "payment_review", *FINAL_STATES):
        return False
    return any(qty_to_invoice(item) > 0 for item in order["items"])


def can_hold(order: dict[str, Any]) -> bool:
    """Order::canHold: not cancelled, complete, closed, already on hold or under review."""
    return order["state"] not in ("holded", "payment_review", *FINAL_STATES)


def can_edit(order: dict[str, Any]) -> bool:
    """Order::canEdit: not on hold, not finished or under review, and never invoiced (an
    authorised card payment or an unpaid order can be edited; a captured one cannot)."""
    if order["state"] in ("holded", "payment_review", *FINAL_STATES):
        return False
    return not any(float(item.get("qty_invoiced") or 0) for item in order["items"])


def _qty_to_cancel(item: dict[str, Any]) -> float:
    """Item::getQtyToCancel: what is neither invoiced nor shipped yet."""
    return min(qty_to_invoice(item), qty_to_ship(item))


def cancel_order(store: Store, order: dict[str, Any], *, now: datetime) -> None:
    """Order::registerCancellation: cancel what is left; an order with invoiced (refundable)
    items stays processing or complete, any other is canceled. Reservations are given back and
    an authorised payment is voided."""
    created = timestamp(now)
    refundable = False
    for item in order["items"]:
        open_qty = _qty_to_cancel(item)
        item["qty_canceled"] = float(item["qty_canceled"] or 0) + open_qty
        if item["product_type"] == "simple" and open_qty:
            add_order_reservation(
                store, order, sku=item["sku"], quantity=open_qty, event_type="order_canceled"
            )
        refundable |= float(item.get("qty_invoiced") or 0) > float(item.get("qty_refunded") or 0)
    payment = order.get("payment") or {}
    if payment.get("amount_authorized") and not payment.get("amount_paid"):
        payment["amount_canceled"] = payment["amount_authorized"]
        payment["base_amount_canceled"] = payment["amount_authorized"]
    if refundable:
        left = any(qty_to_ship(i) > 0 for i in top_items(order))
        set_state(order, "processing" if left else "complete")
    else:
        set_state(order, "canceled")
    order["updated_at"] = created


def hold_order(order: dict[str, Any], *, now: datetime) -> None:
    """Order::hold (callers check `can_hold`): remember the state to return to."""
    order["hold_before_state"] = order["state"]
    order["hold_before_status"] = order["status"]
    set_state(order, "holded")
    order["updated_at"] = timestamp(now)


def unhold_order(order: dict[str, Any], *, now: datetime) -> None:
    """Order::unhold (callers check the order is on hold): back to the state it had."""
    set_state(order, order.pop("hold_before_state", None) or "processing",
              order.pop("hold_before_status", None))  # fmt: skip
    order["updated_at"] = timestamp(now)
