"""The stored order document: fetch, save, and the parts Magento derives on read."""

from __future__ import annotations

from typing import Any

from sandbox.magento.errors import not_found
from sandbox.magento.store import Store


def get_order(store: Store, order_id: int) -> dict[str, Any]:
    order = store.get_doc("orders", order_id)
    if order is None:
        raise not_found()
    return order


def save_order(store: Store, order: dict[str, Any]) -> None:
    store.put_doc("orders", finalise(order))


def finalise(order: dict[str, Any]) -> dict[str, Any]:
    """Refresh the parts Magento derives on read: children's `parent_item`, and the items list
    repeated inside the shipping assignment."""
    by_id = {item["item_id"]: item for item in order["items"]}
    for item in order["items"]:
        item.pop("parent_item", None)
    for item in order["items"]:
        parent_id = item.get("parent_item_id")
        if parent_id is not None and parent_id in by_id:
            item["parent_item"] = {k: v for k, v in by_id[parent_id].items() if k != "parent_item"}
    for assignment in order.get("extension_attributes", {}).get("shipping_assignments", []):
        assignment["items"] = order["items"]
    return order


def top_items(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in order["items"] if i.get("parent_item_id") is None]


def children(order: dict[str, Any], parent_id: int) -> list[dict[str, Any]]:
    return [i for i in order["items"] if i.get("parent_item_id") == parent_id]


def shipping_address_id(order: dict[str, Any]) -> int | None:
    assignments = order.get("extension_attributes", {}).get("shipping_assignments") or []
    return assignments[0]["shipping"]["address"]["entity_id"] if assignments else None
