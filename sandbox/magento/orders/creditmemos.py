"""Refunding an order: RefundOrder's validation, the credit memo document, the order's refunded
totals and state, and what goes back to stock (CONTRACT §4.3).

Follows Magento 2.4: CreditmemoFactory::createByOrder (every order item becomes a credit memo
item, the ones not asked for with qty 0; no `items` at all refunds everything left), the total
collectors (an item's money pro rata of what was invoiced, the last unit taking what is left;
all remaining shipping unless `shipping_amount` says otherwise), CanRefund, QuantityValidator,
TotalsValidator and ReturnValidator, OrderStateResolver (nothing left to ship, invoice or refund:
closed) and MSI's ProcessRefundItems (only `return_to_stock_items` move stock: the unshipped part
releases its reservation, the shipped part goes back to the source).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.magento.clock import timestamp
from sandbox.magento.errors import MagentoError
from sandbox.magento.orders.document import children, shipping_address_id
from sandbox.magento.orders.pricing import CURRENCY_FIELDS, money, num
from sandbox.magento.orders.refund_money import (
    EPSILON,
    ItemRefund,
    ShippingRefund,
    item_refund,
    qty_to_refund,
    shipping_refund,
)
from sandbox.magento.orders.refund_stock import (
    return_messages,
    return_to_stock_items,
    stock_back,
)
from sandbox.magento.orders.state import qty_to_invoice, qty_to_ship, set_state
from sandbox.magento.store import Store

CREDITMEMO_VALIDATION = "Creditmemo Document Validation Error(s):\n"
CANNOT_REFUND_STATES = ("payment_review", "holded", "canceled", "closed")
# sales_creditmemo.state
STATE_REFUNDED = 2

Item = dict[str, Any]


def _parent(order: dict[str, Any], item: Item) -> Item | None:
    parent_id = item.get("parent_item_id")
    if parent_id is None:
        return None
    return next((i for i in order["items"] if i["item_id"] == parent_id), None)


def is_dummy(order: dict[str, Any], item: Item) -> bool:
    """Magento's Item::isDummy for credit memos: a configurable's child (its parent carries the
    money) and a bundle's parent (its children carry it)."""
    parent = _parent(order, item)
    if parent is not None and parent["product_type"] == "configurable":
        return True
    return item["product_type"] == "bundle"


def refund_order(
    store: Store,
    order: dict[str, Any],
    request: dict[str, Any],
    *,
    now: datetime,
    invoice_id: int | None,
    online: bool = False,
) -> dict[str, Any]:
    """POST /V1/order/{id}/refund (offline) or /V1/invoice/{id}/refund (online).

    Validates like RefundOrder, then updates the order (refunded quantities and totals, state,
    updated_at) and the stock, and returns the credit memo document (not yet saved).
    """
    arguments = request.get("arguments") or {}
    if not isinstance(arguments, dict):
        arguments = {}
    qtys = _qtys(order, request.get("items"))
    refunds = _item_refunds(order, qtys)
    shipping = shipping_refund(order, arguments.get("shipping_amount"))
    adjust_plus = money(Decimal(str(arguments.get("adjustment_positive") or 0)))
    adjust_minus = money(Decimal(str(arguments.get("adjustment_negative") or 0)))
    totals = _totals(refunds, shipping, adjust_plus, adjust_minus)
    returning = return_to_stock_items(arguments)
    messages = _order_messages(order)
    messages += _quantity_messages(order, qtys, refunds, totals, shipping)
    messages += _totals_messages(order, totals["grand_total"])
    messages += return_messages(order, refunds, returning)
    if messages:
        raise MagentoError(CREDITMEMO_VALIDATION + "\n".join(messages))

    created = timestamp(now)
    entity_id = store.next_id("creditmemo")
    items = [_memo_item(store, entity_id, r) for r in refunds]
    stock_back(store, order, refunds, returning)
    for refund in refunds:
        _mark_refunded(order, refund, created)
    _order_refunded(order, totals, shipping, online=online)
    _resolve_after_refund(order)
    order["updated_at"] = created
    memo = _document(order, entity_id, created, items, totals, request, online=online)
    memo["invoice_id"] = invoice_id
    return memo


def _qtys(order: dict[str, Any], requested: Any) -> dict[int, float]:
    """Quantity per order item id as Magento's factory reads the request (qtyList)."""
    if not requested:
        return {}
    if not isinstance(requested, list):
        raise MagentoError("The creditmemo item data is invalid.")
    qtys: dict[int, float] = {}
    for entry in requested:
        if not isinstance(entry, dict) or "order_item_id" not in entry:
            raise MagentoError('"%fieldName" is required. Enter and try again.',
                               {"fieldName": "order_item_id"})  # fmt: skip
        try:
            qtys[int(entry["order_item_id"])] = float(entry.get("qty") or 0)
        except (TypeError, ValueError):
            raise MagentoError("The creditmemo item data is invalid.") from None
    return qtys


def _item_refunds(order: dict[str, Any], qtys: dict[int, float]) -> list[ItemRefund]:
    """One refund per order item (qty 0 for those not asked for), dummies following theirs."""
    refunds: list[ItemRefund] = []
    wanted: dict[int, float] = {}
    for item in order["items"]:
        if is_dummy(order, item):
            continue
        if qtys:
            wanted[item["item_id"]] = qtys.get(item["item_id"], 0.0)
        else:
            wanted[item["item_id"]] = qty_to_refund(item)
    for item in order["items"]:
        parent = _parent(order, item)
        if parent is not None and parent["product_type"] == "configurable":
            refunds.append(item_refund(item, wanted.get(parent["item_id"], 0.0), dummy=True))
        elif item["product_type"] == "bundle":
            kids = children(order, item["item_id"])
            ratios = [
                wanted.get(k["item_id"], 0.0) * float(item["qty_ordered"]) / float(k["qty_ordered"])
                for k in kids
            ]
            refunds.append(item_refund(item, min(ratios) if ratios else 0.0, dummy=True))
        else:
            refunds.append(item_refund(item, wanted.get(item["item_id"], 0.0)))
    return refunds


def _totals(
    refunds: list[ItemRefund], shipping: ShippingRefund, plus: Decimal, minus: Decimal
) -> dict[str, Decimal]:
    def total(name: str) -> Decimal:
        return sum((getattr(r, name) for r in refunds), Decimal("0"))

    subtotal, tax, discount = total("row_total"), total("tax_amount"), total("discount_amount")
    compensation = total("discount_tax_compensation_amount")
    grand = subtotal + tax + compensation - discount + shipping.amount + shipping.tax + plus - minus
    return {
        "subtotal": subtotal,
        "subtotal_incl_tax": total("row_total_incl_tax"),
        "discount_amount": -discount,
        "discount_tax_compensation_amount": compensation,
        "tax_amount": tax + shipping.tax,
        "shipping_amount": shipping.amount,
        "shipping_incl_tax": shipping.amount + shipping.tax,
        "shipping_tax_amount": shipping.tax,
        "adjustment_positive": plus,
        "adjustment_negative": minus,
        "adjustment": plus - minus,
        "grand_total": grand,
        "_items_discount": discount,
    }


def _order_messages(order: dict[str, Any]) -> list[str]:
    """CanRefund."""
    messages = []
    if order["state"] in CANNOT_REFUND_STATES:
        messages.append(
            f"A creditmemo can not be created when an order has a status of {order['status']}"
        )
    elif not any(qty_to_refund(i) > 0 or is_dummy(order, i) for i in order["items"]):
        messages.append("The order does not allow a creditmemo to be created.")
    paid = money(Decimal(str(order.get("total_paid") or 0)))
    if abs(paid - Decimal(str(order.get("total_refunded") or 0))) < Decimal("0.0001"):
        messages.append("We can't create creditmemo for the order.")
    return messages


def _quantity_messages(
    order: dict[str, Any],
    qtys: dict[int, float],
    refunds: list[ItemRefund],
    totals: dict[str, Decimal],
    shipping: ShippingRefund,
) -> list[str]:
    """QuantityValidator: never more than invoiced and not yet refunded, per item."""
    messages = []
    quantity = 0.0
    for refund in refunds:
        if refund.dummy:
            continue
        if refund.qty < 0 or refund.qty > qty_to_refund(refund.item) + EPSILON:
            messages.append(
                "The quantity to creditmemo must not be greater than the unrefunded quantity"
                f' for product SKU "{refund.item["sku"]}".'
            )
        else:
            quantity += refund.qty
    if totals["grand_total"] <= 0:
        messages.append("The credit memo's total must be positive.")
    elif quantity <= 0 and not shipping.left_before:
        messages.append("You can't create a creditmemo without products.")
    return messages


def _totals_messages(order: dict[str, Any], grand: Decimal) -> list[str]:
    """TotalsValidator: never more money than was paid and not yet refunded."""
    paid = Decimal(str(order.get("base_total_paid") or order.get("total_paid") or 0))
    refunded = Decimal(str(order.get("base_total_refunded") or order.get("total_refunded") or 0))
    if money(refunded + grand) > money(paid):
        return [f"The most money available to refund is {num(paid - refunded)}."]
    return []


def _mark_refunded(order: dict[str, Any], refund: ItemRefund, created: str) -> None:
    item = refund.item
    if refund.qty <= 0:
        return
    item["qty_refunded"] = float(item["qty_refunded"] or 0) + refund.qty
    for field, value in (
        ("amount_refunded", refund.row_total),
        ("tax_refunded", refund.tax_amount),
        ("discount_refunded", refund.discount_amount),
        ("discount_tax_compensation_refunded", refund.discount_tax_compensation_amount),
    ):
        item[field] = num(Decimal(str(item.get(field) or 0)) + value)
        item[f"base_{field}"] = item[field]
    item["updated_at"] = created


def _order_refunded(
    order: dict[str, Any], totals: dict[str, Decimal], shipping: ShippingRefund, *, online: bool
) -> None:
    """The order's refunded totals (RefundOperation), each with its base_ twin."""

    def add(field: str, value: Decimal) -> None:
        order[field] = num(Decimal(str(order.get(field) or 0)) + value)
        order[f"base_{field}"] = order[field]

    add("total_refunded", totals["grand_total"])
    add("total_online_refunded" if online else "total_offline_refunded", totals["grand_total"])
    add("subtotal_refunded", totals["subtotal"])
    add("tax_refunded", totals["tax_amount"])
    add("discount_refunded", totals["_items_discount"])
    add("shipping_refunded", shipping.amount)
    add("shipping_tax_refunded", shipping.tax)
    add("adjustment_positive", totals["adjustment_positive"])
    add("adjustment_negative", totals["adjustment_negative"])
    payment = order["payment"]
    for field, value in (("amount_refunded", totals["grand_total"]),
                         ("shipping_refunded", shipping.amount)):  # fmt: skip
        payment[field] = num(Decimal(str(payment.get(field) or 0)) + value)
        payment[f"base_{field}"] = payment[field]


def _can_creditmemo(order: dict[str, Any]) -> bool:
    if order["state"] in CANNOT_REFUND_STATES:
        return False
    paid = money(Decimal(str(order.get("total_paid") or 0)))
    return abs(paid - Decimal(str(order.get("total_refunded") or 0))) >= Decimal("0.0001")


def _resolve_after_refund(order: dict[str, Any]) -> None:
    """OrderStateResolver: nothing left to ship or invoice means complete, or closed once
    nothing is left to refund either."""
    if order["state"] in ("canceled", "holded"):
        return
    if any(qty_to_ship(i) > 0 for i in order["items"]) or any(
        qty_to_invoice(i) > 0 for i in order["items"]
    ):
        return
    if not order.get("base_grand_total") or _can_creditmemo(order):
        set_state(order, "complete")
    elif float(order.get("total_refunded") or 0):
        set_state(order, "closed")


def _memo_item(store: Store, memo_id: int, refund: ItemRefund) -> dict[str, Any]:
    item = refund.item
    row: dict[str, Any] = {
        "entity_id": store.next_id("creditmemo_item"),
        "parent_id": memo_id,
        "order_item_id": item["item_id"],
        "product_id": item["product_id"],
        "sku": item["sku"],
        "name": item["name"],
        "qty": refund.qty,
        "price": item["price"],
        "base_price": item["base_price"],
        "price_incl_tax": item["price_incl_tax"],
        "base_price_incl_tax": item["base_price_incl_tax"],
        "base_cost": 0,
    }
    for field in ("row_total", "row_total_incl_tax", "tax_amount", "discount_amount",
                  "discount_tax_compensation_amount"):  # fmt: skip
        row[field] = row[f"base_{field}"] = num(getattr(refund, field))
    return row


def _document(
    order: dict[str, Any],
    entity_id: int,
    created: str,
    items: list[dict[str, Any]],
    totals: dict[str, Decimal],
    request: dict[str, Any],
    *,
    online: bool,
) -> dict[str, Any]:
    notify = 1 if request.get("notify") else 0
    comment = request.get("comment") if isinstance(request.get("comment"), dict) else {}
    memo: dict[str, Any] = {
        "entity_id": entity_id,
        "increment_id": f"{entity_id:09d}",
        "order_id": order["entity_id"],
        "invoice_id": None,
        "store_id": 1,
        "state": STATE_REFUNDED,
        "creditmemo_status": None,
        "billing_address_id": order["billing_address_id"],
        "shipping_address_id": shipping_address_id(order),
        "email_sent": notify,
        "created_at": created,
        "updated_at": created,
        "transaction_id": f"{order['increment_id']}-refund-{entity_id}" if online else None,
        **CURRENCY_FIELDS,
        "shipping_discount_tax_compensation_amount": 0,
        "base_shipping_discount_tax_compensation_amnt": 0,
        "items": items,
        "comments": [],
    }
    for key, value in totals.items():
        if key.startswith("_"):
            continue
        memo[key] = num(value)
        memo[f"base_{key}"] = num(value)
    if comment.get("comment"):
        memo["comments"].append(
            {
                "parent_id": entity_id,
                "comment": str(comment["comment"]),
                "is_customer_notified": notify,
                "is_visible_on_front": int(comment.get("is_visible_on_front") or 0),
                "created_at": created,
            }
        )
    return memo
