"""Shipping an order: ShipOrder's validation, the shipment document, stock and order updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.magento.clock import timestamp
from sandbox.magento.errors import REQUIRED_FIELD, SHIPMENT_VALIDATION, MagentoError
from sandbox.magento.msi import DEFAULT_SOURCE
from sandbox.magento.orders.document import children, shipping_address_id, top_items
from sandbox.magento.orders.reservations import add_order_reservation
from sandbox.magento.orders.state import (
    CANNOT_SHIP_STATES,
    FINAL_STATES,
    add_history,
    qty_to_ship,
    resolve_state,
    set_state,
)
from sandbox.magento.store import Store

Item = dict[str, Any]


def ship_order(
    store: Store, order: dict[str, Any], request: dict[str, Any], *, now: datetime
) -> dict[str, Any]:
    """POST /V1/order/{id}/ship: validate like ShipOrder, then create the shipment.

    Updates the order (qty_shipped, state, updated_at), deducts the source and compensates the
    reservations. Returns the shipment document.
    """
    _check_shippable(order)
    pairs = _requested(order, request.get("items"))
    tracks_in = request.get("tracks") or []
    _check_tracks(tracks_in)
    source_code = ((request.get("arguments") or {}).get("extension_attributes") or {}).get(
        "source_code"
    ) or DEFAULT_SOURCE
    created = timestamp(now)
    shipment_id = store.next_id("shipment")
    shipment_items, physical, total_qty = _ship_items(store, order, shipment_id, pairs, created)
    for sku, qty in physical:
        store.deduct_source(sku, source_code, qty)
        add_order_reservation(store, order, sku=sku, quantity=qty, event_type="shipment_created")
    tracks = [_track(store, order, shipment_id, track, created) for track in tracks_in]
    comments = _comments(store, shipment_id, request, created)
    notify = 1 if request.get("notify") else 0
    shipment = {
        "entity_id": shipment_id,
        "increment_id": f"{shipment_id:09d}",
        "order_id": order["entity_id"],
        "store_id": 1,
        "customer_id": order.get("customer_id"),
        "billing_address_id": order["billing_address_id"],
        "shipping_address_id": shipping_address_id(order),
        "email_sent": notify,
        "total_qty": total_qty,
        "total_weight": None,
        "shipment_status": None,
        "created_at": created,
        "updated_at": created,
        "packages": [],
        "items": shipment_items,
        "tracks": tracks,
        "comments": comments,
        "extension_attributes": {"source_code": source_code},
    }
    if order["state"] == "new":
        set_state(order, "processing")
    resolve_state(order)
    if request.get("appendComment") and comments:
        add_history(store, order, comment=comments[0]["comment"], created=created,
                    is_customer_notified=notify)  # fmt: skip
    order["updated_at"] = created
    return shipment


def _validation_error(lines: list[str]) -> MagentoError:
    return MagentoError(SHIPMENT_VALIDATION + "\n".join(lines))


def _check_shippable(order: dict[str, Any]) -> None:
    if order["state"] in CANNOT_SHIP_STATES:
        raise _validation_error(
            [f"A shipment cannot be created when an order has a status of {order['status']}"]
        )
    if (
        order.get("is_virtual")
        or order["state"] in FINAL_STATES
        or not any(qty_to_ship(i) > 0 for i in order["items"])
    ):
        raise _validation_error(["The order does not allow a shipment to be created."])


def _requested(order: dict[str, Any], requested: Any) -> list[tuple[Item, float]]:
    """(item, qty) pairs to ship: every open top-level line when the request names none."""
    if not requested:
        return [(i, qty_to_ship(i)) for i in top_items(order) if qty_to_ship(i) > 0]
    by_id = {item["item_id"]: item for item in order["items"]}
    pairs = []
    messages = []
    total = 0.0
    for entry in requested:
        if not isinstance(entry, dict) or "order_item_id" not in entry:
            raise MagentoError(REQUIRED_FIELD, {"fieldName": "order_item_id"})
        try:
            item_id = int(entry["order_item_id"])
            qty = float(entry.get("qty", 0))
        except (TypeError, ValueError):
            raise MagentoError("The shipment item data is invalid.") from None
        item = by_id.get(item_id)
        if item is None:
            messages.append(f'We can not found item "{item_id}" in order.')
            continue
        if item.get("parent_item_id") is not None:
            parent = by_id.get(item["parent_item_id"])
            if parent and parent["product_type"] == "configurable":
                item = parent  # configurable children ship through their parent line
        if qty > qty_to_ship(item) or qty < 0:
            messages.append(f'We found an invalid quantity to ship for item "{item["name"]}".')
            continue
        total += qty
        if qty > 0:
            pairs.append((item, qty))
    if total <= 0:
        messages.append("You can't create a shipment without products.")
    if messages:
        raise _validation_error(messages)
    return pairs


def _check_tracks(tracks: list[Any]) -> None:
    for track in tracks:
        for required in ("track_number", "title", "carrier_code"):
            if not isinstance(track, dict) or not str(track.get(required) or "").strip():
                raise MagentoError(REQUIRED_FIELD, {"fieldName": required})


def _ship_items(
    store: Store,
    order: dict[str, Any],
    shipment_id: int,
    pairs: list[tuple[Item, float]],
    created: str,
) -> tuple[list[Item], list[tuple[str, float]], float]:
    """Count the shipped quantities on the order's items; return the shipment items, the
    (sku, qty) of the simples that leave the source, and the total quantity."""
    by_id = {item["item_id"]: item for item in order["items"]}
    shipment_items = []
    physical: list[tuple[str, float]] = []
    total_qty = 0.0
    for item, qty in pairs:
        item["qty_shipped"] = float(item["qty_shipped"]) + qty
        item["updated_at"] = created
        total_qty += qty
        shipment_items.append(_shipment_item(store, shipment_id, item, qty))
        kids = children(order, item["item_id"])
        if item["product_type"] == "configurable":
            for child in kids:
                child["qty_shipped"] = float(child["qty_shipped"]) + qty
                physical.append((child["sku"], qty))
        elif item["product_type"] == "bundle":
            ratio = qty / float(item["qty_ordered"])
            for child in kids:
                child_qty = float(child["qty_ordered"]) * ratio
                child["qty_shipped"] = float(child["qty_shipped"]) + child_qty
                shipment_items.append(_shipment_item(store, shipment_id, child, child_qty))
                physical.append((child["sku"], child_qty))
        elif item["product_type"] == "simple":
            physical.append((item["sku"], qty))
            parent_id = item.get("parent_item_id")
            if parent_id is not None and by_id[parent_id]["product_type"] == "bundle":
                parent = by_id[parent_id]
                parent["qty_shipped"] = min(
                    float(parent["qty_ordered"]),
                    min(float(c["qty_shipped"]) for c in children(order, parent_id)),
                )
    return shipment_items, physical, total_qty


def _shipment_item(store: Store, shipment_id: int, item: Item, qty: float) -> Item:
    return {
        "entity_id": store.next_id("shipment_item"),
        "parent_id": shipment_id,
        "order_item_id": item["item_id"],
        "product_id": item["product_id"],
        "sku": item["sku"],
        "name": item["name"],
        "qty": qty,
        "price": item["price"],
        "row_total": item["row_total"],
        "weight": item["weight"],
    }


def _track(
    store: Store, order: dict[str, Any], shipment_id: int, track: dict[str, Any], created: str
) -> dict[str, Any]:
    return {
        "entity_id": store.next_id("shipment_track"),
        "parent_id": shipment_id,
        "order_id": order["entity_id"],
        "track_number": str(track["track_number"]),
        "title": str(track["title"]),
        "carrier_code": str(track["carrier_code"]),
        "description": track.get("description"),
        "qty": track.get("qty") or 0,
        "weight": track.get("weight") or 0,
        "created_at": created,
        "updated_at": created,
    }


def _comments(
    store: Store, shipment_id: int, request: dict[str, Any], created: str
) -> list[dict[str, Any]]:
    comment_in = request.get("comment") or {}
    if not (isinstance(comment_in, dict) and comment_in.get("comment")):
        return []
    return [
        {
            "entity_id": store.next_id("shipment_comment"),
            "parent_id": shipment_id,
            "comment": str(comment_in["comment"]),
            "is_customer_notified": 1 if request.get("notify") else 0,
            "is_visible_on_front": int(comment_in.get("is_visible_on_front") or 0),
            "created_at": created,
        }
    ]
