"""VAT and discount on one order row, the way a UK Magento store rounds them.

UK store settings modelled: catalogue prices include VAT at 20%, tax applied after discount,
discount applied on prices including tax, and a configurable "Tax Calculation Method Based On"
(UNIT_BASE, ROW_BASE, TOTAL_BASE; see erp-and-uk-rules §5.1). The gross totals are the same
under all three; the split into net and VAT moves by pennies, as in a real store.

Rounding is PHP's round(): half away from zero, to 2 decimals.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

VAT_RATE = Decimal("20")
CURRENCY = "GBP"
# What every sales document says of its currency: GBP throughout, no conversion.
CURRENCY_FIELDS = {
    "base_currency_code": CURRENCY,
    "global_currency_code": CURRENCY,
    "order_currency_code": CURRENCY,
    "store_currency_code": CURRENCY,
    "base_to_global_rate": 1,
    "base_to_order_rate": 1,
    "store_to_base_rate": 0,
    "store_to_order_rate": 0,
}

# The money an order item carries, as row_amounts() computes it (each with a base_ twin).
MONEY_ITEM_FIELDS = (
    "price",
    "price_incl_tax",
    "row_total",
    "row_total_incl_tax",
    "tax_amount",
    "tax_before_discount",
    "discount_amount",
    "discount_tax_compensation_amount",
)


class TaxBasis(enum.StrEnum):
    UNIT_BASE = "UNIT_BASE"
    ROW_BASE = "ROW_BASE"
    TOTAL_BASE = "TOTAL_BASE"


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def num(value: Decimal | int | float) -> float | int:
    """A JSON number as Magento prints it (floats for money, ints when whole qty)."""
    return float(value)


@dataclass
class Taxer:
    """Rounds VAT on prices that include it, carrying a delta under TOTAL_BASE."""

    basis: TaxBasis
    rate: Decimal = VAT_RATE
    delta: dict[str, Decimal] = field(default_factory=dict)

    def included(self, gross: Decimal) -> Decimal:
        return gross * self.rate / (Decimal("100") + self.rate)

    def row(self, unit_gross: Decimal, qty: int, key: str) -> Decimal:
        """Tax contained in `qty` units of `unit_gross`, per the calculation basis."""
        if self.basis is TaxBasis.UNIT_BASE:
            return money(self.included(unit_gross)) * qty
        if self.basis is TaxBasis.ROW_BASE:
            return money(self.included(unit_gross * qty))
        raw = self.included(unit_gross * qty) + self.delta.get(key, Decimal("0"))
        rounded = money(raw)
        self.delta[key] = raw - rounded
        return rounded


def row_amounts(
    taxer: Taxer, unit_gross: Decimal, qty: int, discount_percent: Decimal
) -> dict[str, Decimal]:
    """The MONEY_ITEM_FIELDS of `qty` units at `unit_gross`, after the discount."""
    row_gross = unit_gross * qty
    discount = money(row_gross * discount_percent / 100)
    tax_before = taxer.row(unit_gross, qty, "before")
    if discount:
        unit_after = (row_gross - discount) / qty
        if taxer.basis is TaxBasis.UNIT_BASE:
            tax_after = money(taxer.included(unit_after)) * qty
        else:
            tax_after = taxer.row(unit_after, qty, "after")
    else:
        tax_after = tax_before
        if taxer.basis is TaxBasis.TOTAL_BASE:
            taxer.delta["after"] = taxer.delta.get("before", Decimal("0"))
    row_total = row_gross - tax_before
    if taxer.basis is TaxBasis.UNIT_BASE:
        price = unit_gross - money(taxer.included(unit_gross))
    else:
        price = money(unit_gross * 100 / (100 + taxer.rate))
    return {
        "price": price,
        "price_incl_tax": unit_gross,
        "row_total": row_total,
        "row_total_incl_tax": row_gross,
        "tax_amount": tax_after,
        "tax_before_discount": tax_before,
        "discount_amount": discount,
        "discount_tax_compensation_amount": tax_before - tax_after,
    }
