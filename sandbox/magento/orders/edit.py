"""Editing an order, as Magento's admin "Edit" does it (AdminOrder\\Create::createOrder).

Magento never changes a placed order: the admin's edit form is submitted as a new order whose
increment id is the original's plus `-<n>` (`000000013` → `000000013-1`), linked both ways
(`relation_parent_id` / `relation_parent_real_id` on the new one, `relation_child_id` /
`relation_child_real_id` on the original), and the original is cancelled. Only an order with
no invoice can be edited (Order::canEdit); an authorised card payment is authorised again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.magento.clock import timestamp
from sandbox.magento.errors import MagentoError
from sandbox.magento.orders.builder import build_order
from sandbox.magento.orders.document import finalise
from sandbox.magento.orders.pricing import TaxBasis
from sandbox.magento.orders.reservations import reserve
from sandbox.magento.orders.spec import OrderSpec
from sandbox.magento.orders.state import add_history, can_edit, cancel_order, set_state
from sandbox.magento.store import Store


def authorise(store: Store, order: dict[str, Any], *, now: datetime) -> None:
    """A card payment authorised, not captured (payment action "authorize"): processing, with
    nothing invoiced; the money is captured when the order ships."""
    payment = order["payment"]
    payment["amount_authorized"] = order["grand_total"]
    payment["base_amount_authorized"] = order["base_grand_total"]
    set_state(order, "processing")
    add_history(
        store,
        order,
        comment=f"Authorized amount of £{order['grand_total']:.2f}.",
        created=timestamp(now),
    )


def edit_order(
    store: Store,
    original: dict[str, Any],
    spec: OrderSpec,
    *,
    now: datetime,
    basis: TaxBasis = TaxBasis.TOTAL_BASE,
) -> dict[str, Any]:
    """Place `spec` (the edited order) as the original's replacement and cancel the original.

    Both documents are saved; returns the replacement. An order Magento cannot edit (invoiced,
    on hold, finished) is refused with Magento's message.
    """
    if not can_edit(original):
        raise MagentoError("This order cannot be edited.")
    edit_increment = int(original.get("edit_increment") or 0) + 1
    base_increment = original.get("original_increment_id") or original["increment_id"]
    entity_id = store.max_key("orders") + 1
    replacement = build_order(store, spec, entity_id=entity_id, now=now, basis=basis)
    replacement.update(
        {
            "increment_id": f"{base_increment}-{edit_increment}",
            "original_increment_id": base_increment,
            "edit_increment": edit_increment,
            "relation_parent_id": str(original["entity_id"]),
            "relation_parent_real_id": original["increment_id"],
            "customer_id": original.get("customer_id"),
        }
    )
    if (original.get("payment") or {}).get("amount_authorized"):
        authorise(store, replacement, now=now)
    reserve(store, replacement)
    original["relation_child_id"] = str(entity_id)
    original["relation_child_real_id"] = replacement["increment_id"]
    cancel_order(store, original, now=now)
    store.put_doc("orders", finalise(replacement))
    store.put_doc("orders", finalise(original))
    return replacement
