"""Magento's order JSON (sales-data-order-interface) as mirror rows: order, lines, addresses."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from integration.models import AddressType, OrderErpStatus

MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"
PAID_STATES = frozenset({"processing", "complete"})
DEAD_STATES = frozenset({"canceled", "closed"})
ZERO = Decimal("0")


def magento_time(value: str | None) -> datetime | None:
    """Magento timestamps are UTC without a zone marker."""
    if not value:
        return None
    return datetime.strptime(value[:19], MAGENTO_TIME).replace(tzinfo=UTC)


def decimal_of(value: object) -> Decimal:
    """A Magento amount as a Decimal; absent or empty is zero."""
    if value in (None, ""):
        return ZERO
    return Decimal(str(value))


def shipping_block(payload: dict) -> dict:
    for assignment in (payload.get("extension_attributes") or {}).get("shipping_assignments") or []:
        shipping = assignment.get("shipping") or {}
        if shipping:
            return shipping
    return {}


def order_fields(payload: dict) -> dict:
    """Order columns from a sales-data-order-interface payload."""
    shipping = shipping_block(payload)
    return {
        "increment_id": str(payload["increment_id"]),
        "store_id": int(payload.get("store_id") or 1),
        "state": payload.get("state") or "",
        "status": payload.get("status") or "",
        "customer_email": payload.get("customer_email") or "",
        "customer_firstname": payload.get("customer_firstname") or "",
        "customer_lastname": payload.get("customer_lastname") or "",
        "currency_code": payload.get("order_currency_code")
        or payload.get("base_currency_code")
        or "GBP",
        "subtotal": decimal_of(payload.get("subtotal")),
        "discount_amount": decimal_of(payload.get("discount_amount")),
        "shipping_amount": decimal_of(payload.get("shipping_amount")),
        "shipping_tax_amount": decimal_of(payload.get("shipping_tax_amount")),
        "tax_amount": decimal_of(payload.get("tax_amount")),
        "grand_total": decimal_of(payload.get("grand_total")),
        "total_paid": decimal_of(payload["total_paid"])
        if payload.get("total_paid") is not None
        else None,
        "payment_method": ((payload.get("payment") or {}).get("method") or "")[:64],
        "shipping_method": shipping.get("method") or payload.get("shipping_method") or "",
        "shipping_description": (payload.get("shipping_description") or "")[:255],
        "magento_created_at": magento_time(payload.get("created_at")),
        "magento_updated_at": magento_time(payload.get("updated_at")),
        # An edited order: Magento links the replacement and the original by entity id.
        "relation_parent_id": _entity_ref(payload.get("relation_parent_id")),
        "relation_child_id": _entity_ref(payload.get("relation_child_id")),
        "payload": payload,
    }


def _entity_ref(value: object) -> int | None:
    """A relation id as Magento sends it (a string, often empty) as an entity id, or None."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def order_is_paid(fields: dict) -> bool:
    """Paid and released: Magento moves an invoiced order to processing; on hold or under
    payment review it is paid but must not reach the warehouse yet."""
    return fields["state"] in PAID_STATES


def erp_status_for(fields: dict) -> OrderErpStatus:
    """New if the order is for the ERP (paid, not cancelled), else skipped."""
    if fields["state"] in DEAD_STATES or not order_is_paid(fields):
        return OrderErpStatus.SKIPPED
    return OrderErpStatus.NEW


def line_rows(order_id: int, payload: dict) -> list[dict]:
    """OrderLine columns for every item of the payload, parents and children alike."""
    rows = []
    for item in payload.get("items") or []:
        rows.append(
            {
                "order": order_id,
                "item_id": int(item["item_id"]),
                "parent_item_id": int(item["parent_item_id"])
                if item.get("parent_item_id")
                else None,
                "sku": item.get("sku") or "",
                "name": (item.get("name") or "")[:255],
                "product_type": item.get("product_type") or "simple",
                "qty_ordered": decimal_of(item.get("qty_ordered")),
                "qty_shipped": decimal_of(item.get("qty_shipped")),
                "price": decimal_of(item.get("price")),
                "row_total": decimal_of(item.get("row_total")),
                "tax_amount": decimal_of(item.get("tax_amount")),
                "tax_percent": decimal_of(item.get("tax_percent")),
                "discount_amount": decimal_of(item.get("discount_amount")),
                "row_total_incl_tax": decimal_of(item.get("row_total_incl_tax")),
            }
        )
    return rows


def _address_row(order_id: int, kind: str, data: dict) -> dict:
    street = data.get("street") or []
    if isinstance(street, str):
        street = street.split("\n")
    return {
        "order": order_id,
        "address_type": kind,
        "firstname": data.get("firstname") or "",
        "lastname": data.get("lastname") or "",
        "company": data.get("company") or "",
        "street": list(street),
        "city": data.get("city") or "",
        "region": data.get("region") or "",
        "postcode": data.get("postcode") or "",
        "country_id": data.get("country_id") or "",
        "telephone": data.get("telephone") or "",
        "email": data.get("email") or "",
    }


def address_rows(order_id: int, payload: dict) -> list[dict]:
    """OrderAddress columns for the billing and the shipping address the payload carries."""
    rows = []
    if payload.get("billing_address"):
        rows.append(_address_row(order_id, AddressType.BILLING, payload["billing_address"]))
    shipping = shipping_block(payload).get("address")
    if shipping:
        rows.append(_address_row(order_id, AddressType.SHIPPING, shipping))
    return rows
