"""Invoicing an order: capture everything left, the way Magento's invoice service does."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.magento.clock import timestamp
from sandbox.magento.errors import MagentoError
from sandbox.magento.orders.document import shipping_address_id
from sandbox.magento.orders.pricing import CURRENCY_FIELDS, num
from sandbox.magento.orders.state import qty_to_invoice, resolve_state
from sandbox.magento.store import Store

# Item money an invoice sums into its own totals.
_SUMMED = ("row_total", "tax_amount", "discount_amount", "discount_tax_compensation_amount",
           "row_total_incl_tax")  # fmt: skip


def invoice_order(store: Store, order: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Invoice (capture) everything left; returns the invoice document, updates the order."""
    created = timestamp(now)
    entity_id = store.next_id("invoice")
    invoice_items = []
    sums = dict.fromkeys(_SUMMED, Decimal("0"))
    total_qty = 0.0
    for item in order["items"]:
        qty = qty_to_invoice(item)
        if qty <= 0:
            continue
        invoice_items.append(_invoice_item(store, entity_id, item, qty))
        for key in sums:
            sums[key] += Decimal(str(item[key]))
        if item.get("parent_item_id") is None:
            total_qty += qty
        _mark_invoiced(item, created)
    if not invoice_items:
        raise MagentoError("The order does not allow an invoice to be created.")
    invoice = _invoice_document(order, entity_id, created, total_qty, invoice_items, sums)
    _capture(order, Decimal(str(order["grand_total"])))
    resolve_state(order)
    order["updated_at"] = created
    return invoice


def _invoice_item(
    store: Store, invoice_id: int, item: dict[str, Any], qty: float
) -> dict[str, Any]:
    row = {
        "entity_id": store.next_id("invoice_item"),
        "parent_id": invoice_id,
        "order_item_id": item["item_id"],
        "product_id": item["product_id"],
        "sku": item["sku"],
        "name": item["name"],
        "qty": qty,
    }
    for key in ("price", "price_incl_tax", "row_total", "row_total_incl_tax", "tax_amount",
                "discount_amount", "discount_tax_compensation_amount"):  # fmt: skip
        row[key] = item[key]
        row[f"base_{key}"] = item[f"base_{key}"]
    return row


def _mark_invoiced(item: dict[str, Any], created: str) -> None:
    item["qty_invoiced"] = item["qty_ordered"]
    item["row_invoiced"] = item["base_row_invoiced"] = item["row_total"]
    item["tax_invoiced"] = item["base_tax_invoiced"] = item["tax_amount"]
    item["discount_invoiced"] = item["base_discount_invoiced"] = item["discount_amount"]
    item["updated_at"] = created


def _invoice_document(
    order: dict[str, Any],
    entity_id: int,
    created: str,
    total_qty: float,
    invoice_items: list[dict[str, Any]],
    sums: dict[str, Decimal],
) -> dict[str, Any]:
    ship_net = Decimal(str(order["shipping_amount"]))
    ship_tax = Decimal(str(order["shipping_tax_amount"]))
    invoice = {
        "entity_id": entity_id,
        "increment_id": f"{entity_id:09d}",
        "order_id": order["entity_id"],
        "store_id": 1,
        "state": 2,
        "billing_address_id": order["billing_address_id"],
        "shipping_address_id": shipping_address_id(order),
        "created_at": created,
        "updated_at": created,
        "email_sent": 1,
        "can_void_flag": 0,
        "total_qty": total_qty,
        **CURRENCY_FIELDS,
        "shipping_discount_tax_compensation_amount": 0,
        "items": invoice_items,
        "comments": [],
    }
    invoice_money = {
        "subtotal": sums["row_total"],
        "subtotal_incl_tax": sums["row_total_incl_tax"],
        "tax_amount": sums["tax_amount"] + ship_tax,
        "discount_amount": -sums["discount_amount"],
        "discount_tax_compensation_amount": sums["discount_tax_compensation_amount"],
        "shipping_amount": ship_net,
        "shipping_incl_tax": ship_net + ship_tax,
        "shipping_tax_amount": ship_tax,
        "grand_total": Decimal(str(order["grand_total"])),
    }
    for key, value in invoice_money.items():
        invoice[key] = num(value)
        invoice[f"base_{key}"] = num(value)
    return invoice


def _capture(order: dict[str, Any], grand: Decimal) -> None:
    order["total_invoiced"] = order["base_total_invoiced"] = num(grand)
    order["total_paid"] = order["base_total_paid"] = num(grand)
    order["total_due"] = order["base_total_due"] = 0.0
    order["payment"]["amount_paid"] = order["payment"]["base_amount_paid"] = num(grand)
    order["payment"]["last_trans_id"] = f"{order['increment_id']}-capture"
