"""What a refund puts back to stock: MSI's ProcessRefundItems, for `return_to_stock_items` only.

The part of an item that never left releases its reservation; the part that was shipped goes
back to the default source. Items not named move no stock (Magento keeps them reserved).
"""

from __future__ import annotations

from typing import Any

from sandbox.magento.errors import MagentoError
from sandbox.magento.msi import DEFAULT_SOURCE
from sandbox.magento.orders.refund_money import ItemRefund
from sandbox.magento.orders.reservations import add_order_reservation
from sandbox.magento.store import Store


def return_to_stock_items(arguments: dict[str, Any]) -> list[int]:
    extension = arguments.get("extension_attributes") or {}
    items = extension.get("return_to_stock_items") if isinstance(extension, dict) else None
    try:
        return [int(i) for i in items or []]
    except (TypeError, ValueError):
        raise MagentoError("The creditmemo item data is invalid.") from None


def return_messages(
    order: dict[str, Any], refunds: list[ItemRefund], returning: list[int]
) -> list[str]:
    """ReturnValidator: every item put back to stock is an item of this credit memo."""
    by_id = {r.item["item_id"]: r for r in refunds}
    for item_id in returning:
        refund = by_id.get(item_id)
        if refund is None:
            return [
                "The return to stock argument contains product item that is not part of the "
                "original order."
            ]
        if refund.qty <= 0:
            return [f'The "{refund.item["sku"]}" product is not part of the current creditmemo.']
    return []


def stock_back(
    store: Store, order: dict[str, Any], refunds: list[ItemRefund], returning: list[int]
) -> None:
    """ProcessRefundItems for the items put back to stock: what never left releases its
    reservation, what was shipped goes back to the default source."""
    back = set(returning)
    for refund in refunds:
        item = refund.item
        parent = _parent(order, item)
        if item["product_type"] != "simple" or refund.qty <= 0:
            continue
        if item["item_id"] not in back and (parent is None or parent["item_id"] not in back):
            continue
        unshipped = max(
            0.0,
            float(item["qty_ordered"])
            - float(item["qty_shipped"])
            - float(item["qty_refunded"] or 0)
            - float(item["qty_canceled"] or 0),
        )
        released = min(refund.qty, unshipped)
        if released > 0:
            add_order_reservation(store, order, sku=item["sku"], quantity=released,
                                  event_type="creditmemo_created")  # fmt: skip
        if refund.qty - released > 0:
            store.deduct_source(item["sku"], DEFAULT_SOURCE, -(refund.qty - released))


def _parent(order: dict[str, Any], item: dict[str, Any]) -> dict[str, Any] | None:
    parent_id = item.get("parent_item_id")
    return next((i for i in order["items"] if i["item_id"] == parent_id), None)
