"""MSI reservations an order writes: negative at placement, compensated by shipping or cancel."""

from __future__ import annotations

from typing import Any

from sandbox.magento.store import Store


def stock_lines(order: dict[str, Any]) -> list[dict[str, Any]]:
    """Items that hold physical stock: simples (standalone, configurable or bundle children)."""
    return [i for i in order["items"] if i["product_type"] == "simple"]


def add_order_reservation(
    store: Store, order: dict[str, Any], *, sku: str, quantity: float, event_type: str
) -> None:
    store.add_reservation(
        sku=sku,
        quantity=quantity,
        metadata={"event_type": event_type, "object_type": "order",
                  "object_id": str(order["entity_id"])},
    )  # fmt: skip


def reserve(store: Store, order: dict[str, Any]) -> None:
    """MSI reservations at order placement (negative quantities)."""
    for item in stock_lines(order):
        add_order_reservation(
            store, order, sku=item["sku"], quantity=-float(item["qty_ordered"]),
            event_type="order_placed",
        )  # fmt: skip
