"""The money a credit memo gives back, as Magento's credit memo total collectors compute it.

An item's row total, tax and discount are taken pro rata of what was invoiced, rounded, except
for the last units, which take exactly what is left (so refunds add up to the invoice). The
shipping refunded is everything left unless `shipping_amount` names a part of it; this UK store
displays shipping including VAT, so that amount is read as VAT-inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.magento.errors import MagentoError
from sandbox.magento.orders.pricing import CURRENCY, money

EPSILON = 0.0001
ZERO = Decimal("0")
_SYMBOL = {"GBP": "£", "EUR": "€", "USD": "$"}


def qty_to_refund(item: dict[str, Any]) -> float:
    """Invoiced and not yet refunded (Magento's Item::getQtyToRefund)."""
    return max(0.0, float(item["qty_invoiced"] or 0) - float(item["qty_refunded"] or 0))


def _dec(value: Any) -> Decimal:
    return Decimal(str(value or 0))


@dataclass(frozen=True)
class ItemRefund:
    item: dict[str, Any]
    qty: float
    dummy: bool = False
    row_total: Decimal = ZERO
    row_total_incl_tax: Decimal = ZERO
    tax_amount: Decimal = ZERO
    discount_amount: Decimal = ZERO
    discount_tax_compensation_amount: Decimal = ZERO


def item_refund(item: dict[str, Any], qty: float, *, dummy: bool = False) -> ItemRefund:
    """What refunding `qty` of `item` gives back; dummies carry no money of their own."""
    invoiced_qty = float(item["qty_invoiced"] or 0)
    if dummy or qty <= 0 or invoiced_qty <= 0:
        return ItemRefund(item, qty, dummy)
    last = abs(qty - qty_to_refund(item)) < EPSILON

    def part(invoiced: Any, refunded: Any) -> Decimal:
        if last:
            return _dec(invoiced) - _dec(refunded)
        return money(_dec(invoiced) * Decimal(str(qty)) / Decimal(str(invoiced_qty)))

    row_total = part(item["row_invoiced"], item.get("amount_refunded"))
    tax = part(item["tax_invoiced"], item.get("tax_refunded"))
    discount = part(item["discount_invoiced"], item.get("discount_refunded"))
    compensation = part(
        item.get("discount_tax_compensation_amount"), item.get("discount_tax_compensation_refunded")
    )
    return ItemRefund(
        item=item,
        qty=qty,
        row_total=row_total,
        row_total_incl_tax=row_total + tax + compensation,
        tax_amount=tax,
        discount_amount=discount,
        discount_tax_compensation_amount=compensation,
    )


@dataclass(frozen=True)
class ShippingRefund:
    amount: Decimal  # net of VAT
    tax: Decimal
    left_before: bool  # whether any shipping was still refundable before this credit memo


def shipping_refund(order: dict[str, Any], desired: Any) -> ShippingRefund:
    """The shipping a credit memo refunds (Creditmemo\\Total\\Shipping)."""
    net, tax_total = _dec(order["shipping_amount"]), _dec(order["shipping_tax_amount"])
    incl = _dec(order.get("shipping_incl_tax"))
    refunded, tax_refunded = (
        _dec(order.get("shipping_refunded")),
        _dec(order.get("shipping_tax_refunded")),
    )
    allowed, allowed_tax = net - refunded, tax_total - tax_refunded
    allowed_incl = max(incl - refunded - tax_refunded, ZERO)
    left_before = abs(money(net) - refunded) >= Decimal(str(EPSILON))
    if desired is None:
        return ShippingRefund(allowed, allowed_tax, left_before)
    try:
        wanted = money(Decimal(str(desired)))
    except InvalidOperation:
        raise MagentoError("The creditmemo item data is invalid.") from None
    if wanted >= money(allowed_incl) + Decimal(str(EPSILON)):
        symbol = _SYMBOL.get(CURRENCY, "")
        raise MagentoError(
            "Maximum shipping amount allowed to refund is: %1", [f"{symbol}{allowed_incl:.2f}"]
        )
    if wanted > allowed_incl - Decimal(str(EPSILON)):
        return ShippingRefund(allowed, allowed_tax, left_before)
    ratio = wanted / incl if incl > 0 else ZERO
    amount = money(net * ratio)
    return ShippingRefund(amount, money(incl * ratio) - amount, left_before)
