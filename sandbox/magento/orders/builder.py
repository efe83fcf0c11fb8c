"""A new `new/pending` order document from an OrderSpec, its totals computed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.magento.clock import timestamp
from sandbox.magento.orders.document import finalise
from sandbox.magento.orders.items import OrderItems
from sandbox.magento.orders.pricing import CURRENCY_FIELDS, VAT_RATE, TaxBasis, Taxer, money, num
from sandbox.magento.orders.spec import OrderSpec, Party
from sandbox.magento.store import Store

STORE_NAME = "Main Website\nMain Website Store\nDefault Store View"

# Magento's column name for this one base twin is truncated.
_BASE_NAMES = {
    "shipping_discount_tax_compensation_amount": "base_shipping_discount_tax_compensation_amnt"
}


@dataclass(frozen=True)
class Totals:
    """The order's money: summed over the priced rows, plus shipping."""

    subtotal: Decimal
    subtotal_incl: Decimal
    discount: Decimal
    compensation: Decimal
    ship_gross: Decimal
    ship_tax: Decimal
    ship_net: Decimal
    tax: Decimal
    grand: Decimal

    @classmethod
    def of(cls, priced: list[dict[str, Decimal]], taxer: Taxer, ship_gross: Decimal) -> Totals:
        def total(key: str) -> Decimal:
            return sum((p[key] for p in priced), Decimal("0"))

        ship_tax = money(taxer.included(ship_gross))
        ship_net = ship_gross - ship_tax
        subtotal = total("row_total")
        discount = total("discount_amount")
        compensation = total("discount_tax_compensation_amount")
        tax = total("tax_amount") + ship_tax
        return cls(
            subtotal=subtotal,
            subtotal_incl=total("row_total_incl_tax"),
            discount=discount,
            compensation=compensation,
            ship_gross=ship_gross,
            ship_tax=ship_tax,
            ship_net=ship_net,
            tax=tax,
            grand=subtotal + tax + compensation + ship_net - discount,
        )


def build_order(
    store: Store, spec: OrderSpec, *, entity_id: int, now: datetime, basis: TaxBasis
) -> dict[str, Any]:
    """A new `new/pending` order document, totals computed; not yet saved."""
    created = timestamp(spec.created_at or now)
    taxer = Taxer(basis)
    items = OrderItems(store, entity_id, created, taxer, spec.discount_percent)
    for line in spec.lines:
        items.add(line)
    virtual = all(line.kind == "downloadable" for line in spec.lines)
    totals = Totals.of(items.priced, taxer, Decimal("0") if virtual else spec.shipping_incl_tax)
    billing = _address(store, spec.customer, address_type="billing", parent_id=entity_id)
    shipping = _address(store, spec.shipping, address_type="shipping", parent_id=entity_id)
    order = _header(spec, entity_id=entity_id, created=created, virtual=virtual,
                    items=items.rows, billing=billing, totals=totals)  # fmt: skip
    for key, value in _money_fields(totals).items():
        order[key] = num(value)
        order[_BASE_NAMES.get(key, f"base_{key}")] = num(value)
    order["extension_attributes"] = {
        "shipping_assignments": [] if virtual else [_shipping_assignment(spec, shipping, totals)],
        "payment_additional_info": [{"key": "method_title", "value": spec.payment_title}],
        "applied_taxes": [_vat(num(totals.tax))],
        "item_applied_taxes": _item_applied_taxes(items.rows, totals.ship_tax),
        "converting_from_quote": False,
    }
    return finalise(order)


def _address(store: Store, party: Party, *, address_type: str, parent_id: int) -> dict[str, Any]:
    return {
        "address_type": address_type,
        "entity_id": store.next_id("order_address"),
        "parent_id": parent_id,
        "customer_id": party.customer_id,
        "firstname": party.firstname,
        "lastname": party.lastname,
        "company": party.company,
        "street": list(party.street),
        "city": party.city,
        "region": party.region,
        "region_code": party.region,
        "region_id": 0,
        "postcode": party.postcode,
        "country_id": party.country_id,
        "telephone": party.telephone,
        "email": party.email,
    }


def _header(
    spec: OrderSpec,
    *,
    entity_id: int,
    created: str,
    virtual: bool,
    items: list[dict[str, Any]],
    billing: dict[str, Any],
    totals: Totals,
) -> dict[str, Any]:
    """The order's fields up to its payment; the money fields follow."""
    top = [i for i in items if "parent_item_id" not in i]
    return {
        "entity_id": entity_id,
        "increment_id": f"{entity_id:09d}",
        "quote_id": entity_id,
        "store_id": 1,
        "store_name": STORE_NAME,
        "state": "new",
        "status": "pending",
        "created_at": created,
        "updated_at": created,
        "customer_id": spec.customer.customer_id,
        "customer_is_guest": 0 if spec.customer.customer_id else 1,
        "customer_email": spec.customer.email,
        "customer_firstname": spec.customer.firstname,
        "customer_lastname": spec.customer.lastname,
        "customer_group_id": 1 if spec.customer.customer_id else 0,
        "customer_note_notify": 1,
        "email_sent": 1,
        "is_virtual": 1 if virtual else 0,
        "coupon_code": spec.coupon_code,
        "applied_rule_ids": "1" if spec.coupon_code else None,
        "discount_description": spec.coupon_code,
        **CURRENCY_FIELDS,
        "shipping_description": None if virtual else spec.shipping_description,
        "total_item_count": len(top),
        "total_qty_ordered": sum(i["qty_ordered"] for i in top),
        "weight": sum(i["row_weight"] for i in top),
        "remote_ip": "127.0.0.1",
        "protect_code": f"{entity_id:06x}",
        "items": items,
        "billing_address_id": billing["entity_id"],
        "billing_address": billing,
        "status_histories": [],
        "payment": {
            "entity_id": entity_id,
            "parent_id": entity_id,
            "method": spec.payment_method,
            "account_status": None,
            "additional_information": [spec.payment_title],
            "cc_last4": None,
            "amount_ordered": num(totals.grand),
            "base_amount_ordered": num(totals.grand),
            "shipping_amount": num(totals.ship_net),
            "base_shipping_amount": num(totals.ship_net),
        },
    }


def _money_fields(totals: Totals) -> dict[str, Decimal]:
    """The order's money fields (each also stored as its base_ twin)."""
    return {
        "subtotal": totals.subtotal,
        "subtotal_incl_tax": totals.subtotal_incl,
        "discount_amount": -totals.discount,
        "discount_tax_compensation_amount": totals.compensation,
        "shipping_amount": totals.ship_net,
        "shipping_incl_tax": totals.ship_gross,
        "shipping_tax_amount": totals.ship_tax,
        "shipping_discount_amount": Decimal("0"),
        "shipping_discount_tax_compensation_amount": Decimal("0"),
        "tax_amount": totals.tax,
        "grand_total": totals.grand,
        "total_due": totals.grand,
        "total_paid": Decimal("0"),
        "total_invoiced": Decimal("0"),
        "total_refunded": Decimal("0"),
    }


def _shipping_assignment(
    spec: OrderSpec, shipping: dict[str, Any], totals: Totals
) -> dict[str, Any]:
    total = {
        "shipping_amount": num(totals.ship_net),
        "base_shipping_amount": num(totals.ship_net),
        "shipping_incl_tax": num(totals.ship_gross),
        "base_shipping_incl_tax": num(totals.ship_gross),
        "shipping_tax_amount": num(totals.ship_tax),
        "base_shipping_tax_amount": num(totals.ship_tax),
        "shipping_discount_amount": 0,
        "base_shipping_discount_amount": 0,
        "shipping_discount_tax_compensation_amount": 0,
        "base_shipping_discount_tax_compensation_amnt": 0,
    }
    return {
        "shipping": {"address": shipping, "method": spec.shipping_method, "total": total},
        "items": [],
    }


def _vat(amount: float | int) -> dict[str, Any]:
    """One applied UK VAT entry."""
    return {
        "code": "GB-VAT-20",
        "title": "VAT",
        "percent": num(VAT_RATE),
        "amount": amount,
        "base_amount": amount,
    }


def _item_applied_taxes(items: list[dict[str, Any]], ship_tax: Decimal) -> list[dict[str, Any]]:
    applied = [
        {
            "type": "product",
            "item_id": i["item_id"],
            "associated_item_id": None,
            "applied_taxes": [_vat(i["tax_amount"])],
        }
        for i in items
        if i["tax_amount"]
    ]
    if ship_tax:
        applied.append(
            {
                "type": "shipping",
                "item_id": None,
                "associated_item_id": None,
                "applied_taxes": [_vat(num(ship_tax))],
            }
        )
    return applied
