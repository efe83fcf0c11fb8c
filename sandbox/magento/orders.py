"""Orders, invoices and shipments the way Magento computes and stores them.

UK store settings modelled: catalogue prices include VAT at 20%, tax applied after discount,
discount applied on prices including tax, and a configurable "Tax Calculation Method Based On"
(UNIT_BASE, ROW_BASE, TOTAL_BASE; see erp-and-uk-rules §5.1). The gross totals are the same
under all three; the split into net and VAT moves by pennies, as in a real store.

Rounding is PHP's round(): half away from zero, to 2 decimals.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.magento.errors import SHIPMENT_VALIDATION, MagentoError, not_found
from sandbox.magento.store import Store

VAT_RATE = Decimal("20")
CURRENCY = "GBP"
STORE_NAME = "Main Website\nMain Website Store\nDefault Store View"
DEFAULT_SOURCE = "default"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

# Default status of each state (order_states_statuses.json).
STATE_STATUS = {
    "new": "pending",
    "pending_payment": "pending_payment",
    "processing": "processing",
    "complete": "complete",
    "closed": "closed",
    "canceled": "canceled",
    "holded": "holded",
    "payment_review": "payment_review",
}
CANNOT_SHIP_STATES = ("payment_review", "holded", "canceled")
FINAL_STATES = ("complete", "closed", "canceled")


class TaxBasis(enum.StrEnum):
    UNIT_BASE = "UNIT_BASE"
    ROW_BASE = "ROW_BASE"
    TOTAL_BASE = "TOTAL_BASE"


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def num(value: Decimal | int | float) -> float | int:
    """A JSON number as Magento prints it (floats for money, ints when whole qty)."""
    return float(value)


def timestamp(moment: datetime) -> str:
    return moment.strftime(TIMESTAMP_FORMAT)


# --- building an order ---------------------------------------------------------------------


@dataclass
class Line:
    """One thing the customer bought. `kind` is simple | configurable | bundle | downloadable.

    simple/downloadable: `product` is the catalogue row. configurable: `product` is the child
    simple row and `parent` the configurable row. bundle: `product` is the bundle row and
    `components` the chosen child rows (each priced by itself, dynamic-price bundle).
    """

    kind: str
    product: dict[str, Any]
    qty: int
    parent: dict[str, Any] | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)  # (option_id, option_value)


@dataclass
class Party:
    firstname: str
    lastname: str
    email: str
    customer_id: int | None
    street: list[str]
    city: str
    region: str | None
    postcode: str
    telephone: str | None
    company: str | None = None
    country_id: str = "GB"


@dataclass
class OrderSpec:
    customer: Party
    shipping: Party
    lines: list[Line]
    shipping_method: str
    shipping_description: str
    shipping_incl_tax: Decimal
    payment_method: str
    payment_title: str
    coupon_code: str | None = None
    discount_percent: Decimal = Decimal("0")
    created_at: datetime | None = None


@dataclass
class _Taxer:
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


def _priced(
    taxer: _Taxer, unit_gross: Decimal, qty: int, discount_percent: Decimal
) -> dict[str, Decimal]:
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


_MONEY_ITEM_FIELDS = (
    "price",
    "price_incl_tax",
    "row_total",
    "row_total_incl_tax",
    "tax_amount",
    "tax_before_discount",
    "discount_amount",
    "discount_tax_compensation_amount",
)


def _item(
    *,
    item_id: int,
    order_id: int,
    product: dict[str, Any],
    product_type: str,
    sku: str,
    name: str,
    qty: int,
    created: str,
    amounts: dict[str, Decimal] | None,
    parent_item_id: int | None = None,
    discount_percent: Decimal = Decimal("0"),
) -> dict[str, Any]:
    weight = float(product.get("weight") or 0) if product_type != "downloadable" else 0.0
    item: dict[str, Any] = {
        "item_id": item_id,
        "order_id": order_id,
        "quote_item_id": item_id,
        "store_id": 1,
        "product_id": int(product["id"]),
        "product_type": product_type,
        "sku": sku,
        "name": name,
        "created_at": created,
        "updated_at": created,
        "qty_ordered": qty,
        "qty_invoiced": 0,
        "qty_shipped": 0,
        "qty_refunded": 0,
        "qty_canceled": 0,
        "qty_backordered": None,
        "qty_returned": None,
        "is_virtual": 1 if product_type == "downloadable" else 0,
        "is_qty_decimal": 0,
        "no_discount": 0,
        "free_shipping": 0,
        "weight": weight,
        "row_weight": weight * qty,
        "tax_percent": num(VAT_RATE),
        "discount_percent": num(discount_percent) if amounts else 0,
        "row_invoiced": 0,
        "base_row_invoiced": 0,
        "tax_invoiced": 0,
        "base_tax_invoiced": 0,
        "discount_invoiced": 0,
        "base_discount_invoiced": 0,
        "amount_refunded": 0,
        "base_amount_refunded": 0,
        "original_price": num(amounts["price_incl_tax"]) if amounts else 0,
        "base_original_price": num(amounts["price_incl_tax"]) if amounts else 0,
    }
    for name_ in _MONEY_ITEM_FIELDS:
        value = num(amounts[name_]) if amounts else 0
        item[name_] = value
        item[f"base_{name_}"] = value
    if parent_item_id is not None:
        item["parent_item_id"] = parent_item_id
    return item


def _address(party: Party, *, address_type: str, entity_id: int, parent_id: int) -> dict[str, Any]:
    return {
        "address_type": address_type,
        "entity_id": entity_id,
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


# Magento's column name for this one base twin is truncated.
_BASE_NAMES = {
    "shipping_discount_tax_compensation_amount": "base_shipping_discount_tax_compensation_amnt"
}


def build_order(
    store: Store, spec: OrderSpec, *, entity_id: int, now: datetime, basis: TaxBasis
) -> dict[str, Any]:
    """A new `new/pending` order document, totals computed; not yet saved."""
    created = timestamp(spec.created_at or now)
    taxer = _Taxer(basis)
    items: list[dict[str, Any]] = []
    priced: list[dict[str, Decimal]] = []

    def new_id() -> int:
        return store.next_id("order_item")

    for line in spec.lines:
        if line.kind in ("simple", "downloadable"):
            amounts = _priced(
                taxer, Decimal(line.product["price"]), line.qty, spec.discount_percent
            )
            priced.append(amounts)
            items.append(
                _item(
                    item_id=new_id(), order_id=entity_id, product=line.product,
                    product_type=line.kind, sku=line.product["sku"], name=line.product["name"],
                    qty=line.qty, created=created, amounts=amounts,
                    discount_percent=spec.discount_percent,
                )
            )  # fmt: skip
        elif line.kind == "configurable":
            assert line.parent is not None
            amounts = _priced(
                taxer, Decimal(line.product["price"]), line.qty, spec.discount_percent
            )
            priced.append(amounts)
            parent = _item(
                item_id=new_id(), order_id=entity_id, product=line.parent,
                product_type="configurable", sku=line.product["sku"], name=line.parent["name"],
                qty=line.qty, created=created, amounts=amounts,
                discount_percent=spec.discount_percent,
            )  # fmt: skip
            parent["product_option"] = {
                "extension_attributes": {
                    "configurable_item_options": [
                        {"option_id": oid, "option_value": int(value)}
                        for oid, value in line.options
                    ]
                }
            }
            items.append(parent)
            child = _item(
                item_id=new_id(), order_id=entity_id, product=line.product, product_type="simple",
                sku=line.product["sku"], name=line.product["name"], qty=line.qty, created=created,
                amounts=None, parent_item_id=parent["item_id"],
            )  # fmt: skip
            items.append(child)
        elif line.kind == "bundle":
            children = []
            sums = dict.fromkeys(_MONEY_ITEM_FIELDS, Decimal("0"))
            for component in line.components:
                amounts = _priced(
                    taxer, Decimal(component["price"]), line.qty, spec.discount_percent
                )
                priced.append(amounts)
                for key in _MONEY_ITEM_FIELDS:
                    if key not in ("price", "price_incl_tax"):
                        sums[key] += amounts[key]
                sums["price"] += amounts["price"]
                sums["price_incl_tax"] += amounts["price_incl_tax"]
                children.append((component, amounts))
            bundle_sku = "-".join([line.product["sku"]] + [c["sku"] for c, _ in children])
            parent = _item(
                item_id=new_id(), order_id=entity_id, product=line.product, product_type="bundle",
                sku=bundle_sku, name=line.product["name"], qty=line.qty, created=created,
                amounts=None,
            )  # fmt: skip
            # The parent shows the summed price for display; totals come from the children.
            parent["price"] = parent["base_price"] = num(sums["price"])
            parent["price_incl_tax"] = parent["base_price_incl_tax"] = num(sums["price_incl_tax"])
            parent["original_price"] = parent["base_original_price"] = num(sums["price_incl_tax"])
            items.append(parent)
            for component, amounts in children:
                items.append(
                    _item(
                        item_id=new_id(), order_id=entity_id, product=component,
                        product_type="simple", sku=component["sku"], name=component["name"],
                        qty=line.qty, created=created, amounts=amounts,
                        parent_item_id=parent["item_id"], discount_percent=spec.discount_percent,
                    )
                )  # fmt: skip
        else:  # pragma: no cover - seed only builds the kinds above
            raise ValueError(f"unknown line kind {line.kind!r}")

    def total(key: str) -> Decimal:
        return sum((p[key] for p in priced), Decimal("0"))

    virtual = all(line.kind == "downloadable" for line in spec.lines)
    ship_gross = Decimal("0") if virtual else spec.shipping_incl_tax
    ship_tax = money(taxer.included(ship_gross))
    ship_net = ship_gross - ship_tax
    subtotal = total("row_total")
    subtotal_incl = total("row_total_incl_tax")
    discount = total("discount_amount")
    items_tax = total("tax_amount")
    compensation = total("discount_tax_compensation_amount")
    tax = items_tax + ship_tax
    grand = subtotal + tax + compensation + ship_net - discount
    qty_ordered = sum(i["qty_ordered"] for i in items if "parent_item_id" not in i)

    billing = _address(
        spec.customer, address_type="billing", entity_id=store.next_id("order_address"),
        parent_id=entity_id,
    )  # fmt: skip
    shipping = _address(
        spec.shipping, address_type="shipping", entity_id=store.next_id("order_address"),
        parent_id=entity_id,
    )  # fmt: skip
    increment_id = f"{entity_id:09d}"
    order: dict[str, Any] = {
        "entity_id": entity_id,
        "increment_id": increment_id,
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
        "base_currency_code": CURRENCY,
        "global_currency_code": CURRENCY,
        "order_currency_code": CURRENCY,
        "store_currency_code": CURRENCY,
        "base_to_global_rate": 1,
        "base_to_order_rate": 1,
        "store_to_base_rate": 0,
        "store_to_order_rate": 0,
        "shipping_description": None if virtual else spec.shipping_description,
        "total_item_count": sum(1 for i in items if "parent_item_id" not in i),
        "total_qty_ordered": qty_ordered,
        "weight": sum(i["row_weight"] for i in items if "parent_item_id" not in i),
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
            "amount_ordered": num(grand),
            "base_amount_ordered": num(grand),
            "shipping_amount": num(ship_net),
            "base_shipping_amount": num(ship_net),
        },
    }
    money_fields = {
        "subtotal": subtotal,
        "subtotal_incl_tax": subtotal_incl,
        "discount_amount": -discount,
        "discount_tax_compensation_amount": compensation,
        "shipping_amount": ship_net,
        "shipping_incl_tax": ship_gross,
        "shipping_tax_amount": ship_tax,
        "shipping_discount_amount": Decimal("0"),
        "shipping_discount_tax_compensation_amount": Decimal("0"),
        "tax_amount": tax,
        "grand_total": grand,
        "total_due": grand,
        "total_paid": Decimal("0"),
        "total_invoiced": Decimal("0"),
        "total_refunded": Decimal("0"),
    }
    for key, value in money_fields.items():
        order[key] = num(value)
        order[_BASE_NAMES.get(key, f"base_{key}")] = num(value)
    shipping_total = {
        "shipping_amount": num(ship_net),
        "base_shipping_amount": num(ship_net),
        "shipping_incl_tax": num(ship_gross),
        "base_shipping_incl_tax": num(ship_gross),
        "shipping_tax_amount": num(ship_tax),
        "base_shipping_tax_amount": num(ship_tax),
        "shipping_discount_amount": 0,
        "base_shipping_discount_amount": 0,
        "shipping_discount_tax_compensation_amount": 0,
        "base_shipping_discount_tax_compensation_amnt": 0,
    }
    applied = [
        {
            "code": "GB-VAT-20",
            "title": "VAT",
            "percent": num(VAT_RATE),
            "amount": num(tax),
            "base_amount": num(tax),
        }
    ]
    item_taxes = [
        {
            "type": "product",
            "item_id": i["item_id"],
            "associated_item_id": None,
            "applied_taxes": [
                {
                    "code": "GB-VAT-20",
                    "title": "VAT",
                    "percent": num(VAT_RATE),
                    "amount": i["tax_amount"],
                    "base_amount": i["tax_amount"],
                }
            ],
        }
        for i in items
        if i["tax_amount"]
    ]
    if ship_tax:
        item_taxes.append(
            {
                "type": "shipping",
                "item_id": None,
                "associated_item_id": None,
                "applied_taxes": [
                    {
                        "code": "GB-VAT-20",
                        "title": "VAT",
                        "percent": num(VAT_RATE),
                        "amount": num(ship_tax),
                        "base_amount": num(ship_tax),
                    }
                ],
            }
        )
    order["extension_attributes"] = {
        "shipping_assignments": []
        if virtual
        else [
            {
                "shipping": {
                    "address": shipping,
                    "method": spec.shipping_method,
                    "total": shipping_total,
                },
                "items": [],
            }
        ],
        "payment_additional_info": [{"key": "method_title", "value": spec.payment_title}],
        "applied_taxes": applied,
        "item_applied_taxes": item_taxes,
        "converting_from_quote": False,
    }
    return finalise(order)


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


def set_state(order: dict[str, Any], state: str, status: str | None = None) -> None:
    order["state"] = state
    order["status"] = status or STATE_STATUS[state]


def add_history(
    store: Store,
    order: dict[str, Any],
    *,
    comment: str | None,
    created: str,
    status: str | None = None,
    is_customer_notified: int | None = 0,
    is_visible_on_front: int = 0,
) -> dict[str, Any]:
    entry = {
        "entity_id": store.next_id("order_status_history"),
        "parent_id": order["entity_id"],
        "entity_name": "order",
        "comment": comment,
        "status": status or order["status"],
        "is_customer_notified": is_customer_notified,
        "is_visible_on_front": is_visible_on_front,
        "created_at": created,
    }
    order["status_histories"].insert(0, entry)
    return entry


def stock_lines(order: dict[str, Any]) -> list[dict[str, Any]]:
    """Items that hold physical stock: simples (standalone, configurable or bundle children)."""
    return [i for i in order["items"] if i["product_type"] == "simple"]


def reserve(store: Store, order: dict[str, Any]) -> None:
    """MSI reservations at order placement (negative quantities)."""
    for item in stock_lines(order):
        store.add_reservation(
            sku=item["sku"],
            quantity=-float(item["qty_ordered"]),
            metadata={"event_type": "order_placed", "object_type": "order",
                      "object_id": str(order["entity_id"])},
        )  # fmt: skip


def qty_to_ship(item: dict[str, Any]) -> float:
    if item.get("is_virtual"):
        return 0
    return max(
        0.0,
        float(item["qty_ordered"])
        - float(item["qty_shipped"])
        - float(item["qty_refunded"] or 0)
        - float(item["qty_canceled"] or 0),
    )


def qty_to_invoice(item: dict[str, Any]) -> float:
    return max(
        0.0,
        float(item["qty_ordered"]) - float(item["qty_invoiced"]) - float(item["qty_canceled"] or 0),
    )


def _top_items(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in order["items"] if i.get("parent_item_id") is None]


def _children(order: dict[str, Any], parent_id: int) -> list[dict[str, Any]]:
    return [i for i in order["items"] if i.get("parent_item_id") == parent_id]


def _resolve_state(order: dict[str, Any]) -> None:
    """OrderStateResolver: nothing left to ship or invoice -> complete."""
    if order["state"] in ("canceled", "closed", "holded", "payment_review"):
        return
    to_ship = sum(qty_to_ship(i) for i in _top_items(order))
    to_invoice = sum(qty_to_invoice(i) for i in _top_items(order))
    if to_ship == 0 and to_invoice == 0:
        set_state(order, "complete")
    elif order["state"] == "new":
        set_state(order, "processing")


# --- invoices ------------------------------------------------------------------------------


def invoice_order(store: Store, order: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Invoice (capture) everything left; returns the invoice document, updates the order."""
    created = timestamp(now)
    entity_id = store.next_id("invoice")
    invoice_items = []
    summed = ("row_total", "tax_amount", "discount_amount", "discount_tax_compensation_amount",
              "row_total_incl_tax")  # fmt: skip
    sums = dict.fromkeys(summed, Decimal("0"))
    total_qty = 0.0
    for item in order["items"]:
        qty = qty_to_invoice(item)
        if qty <= 0:
            continue
        invoice_items.append(
            {
                "entity_id": store.next_id("invoice_item"),
                "parent_id": entity_id,
                "order_item_id": item["item_id"],
                "product_id": item["product_id"],
                "sku": item["sku"],
                "name": item["name"],
                "qty": qty,
                "price": item["price"],
                "base_price": item["base_price"],
                "price_incl_tax": item["price_incl_tax"],
                "base_price_incl_tax": item["base_price_incl_tax"],
                "row_total": item["row_total"],
                "base_row_total": item["base_row_total"],
                "row_total_incl_tax": item["row_total_incl_tax"],
                "base_row_total_incl_tax": item["base_row_total_incl_tax"],
                "tax_amount": item["tax_amount"],
                "base_tax_amount": item["base_tax_amount"],
                "discount_amount": item["discount_amount"],
                "base_discount_amount": item["base_discount_amount"],
                "discount_tax_compensation_amount": item["discount_tax_compensation_amount"],
                "base_discount_tax_compensation_amount": item[
                    "base_discount_tax_compensation_amount"
                ],
            }
        )
        for key in sums:
            sums[key] += Decimal(str(item[key]))
        if item.get("parent_item_id") is None:
            total_qty += qty
        item["qty_invoiced"] = item["qty_ordered"]
        item["row_invoiced"] = item["base_row_invoiced"] = item["row_total"]
        item["tax_invoiced"] = item["base_tax_invoiced"] = item["tax_amount"]
        item["discount_invoiced"] = item["base_discount_invoiced"] = item["discount_amount"]
        item["updated_at"] = created
    if not invoice_items:
        raise MagentoError("The order does not allow an invoice to be created.")
    grand = Decimal(str(order["grand_total"]))
    ship_net = Decimal(str(order["shipping_amount"]))
    ship_tax = Decimal(str(order["shipping_tax_amount"]))
    invoice = {
        "entity_id": entity_id,
        "increment_id": f"{entity_id:09d}",
        "order_id": order["entity_id"],
        "store_id": 1,
        "state": 2,
        "billing_address_id": order["billing_address_id"],
        "shipping_address_id": _shipping_address_id(order),
        "created_at": created,
        "updated_at": created,
        "email_sent": 1,
        "can_void_flag": 0,
        "total_qty": total_qty,
        "base_currency_code": CURRENCY,
        "global_currency_code": CURRENCY,
        "order_currency_code": CURRENCY,
        "store_currency_code": CURRENCY,
        "base_to_global_rate": 1,
        "base_to_order_rate": 1,
        "store_to_base_rate": 0,
        "store_to_order_rate": 0,
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
        "grand_total": grand,
    }
    for key, value in invoice_money.items():
        invoice[key] = num(value)
        invoice[f"base_{key}"] = num(value)
    order["total_invoiced"] = order["base_total_invoiced"] = num(grand)
    order["total_paid"] = order["base_total_paid"] = num(grand)
    order["total_due"] = order["base_total_due"] = 0.0
    order["payment"]["amount_paid"] = order["payment"]["base_amount_paid"] = num(grand)
    order["payment"]["last_trans_id"] = f"{order['increment_id']}-capture"
    _resolve_state(order)
    order["updated_at"] = created
    return invoice


def _shipping_address_id(order: dict[str, Any]) -> int | None:
    assignments = order.get("extension_attributes", {}).get("shipping_assignments") or []
    return assignments[0]["shipping"]["address"]["entity_id"] if assignments else None


# --- shipments -----------------------------------------------------------------------------


def _validation_error(lines: list[str]) -> MagentoError:
    return MagentoError(SHIPMENT_VALIDATION + "\n".join(lines))


def ship_order(
    store: Store, order: dict[str, Any], request: dict[str, Any], *, now: datetime
) -> dict[str, Any]:
    """POST /V1/order/{id}/ship: validate like ShipOrder, then create the shipment.

    Updates the order (qty_shipped, state, updated_at), deducts the source and compensates the
    reservations. Returns the shipment document.
    """
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

    by_id = {item["item_id"]: item for item in order["items"]}
    requested = request.get("items")
    if not requested:
        pairs = [(i, qty_to_ship(i)) for i in _top_items(order) if qty_to_ship(i) > 0]
    else:
        pairs = []
        messages = []
        total = 0.0
        for entry in requested:
            if not isinstance(entry, dict) or "order_item_id" not in entry:
                raise MagentoError('"%fieldName" is required. Enter and try again.',
                                   {"fieldName": "order_item_id"})  # fmt: skip
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

    tracks_in = request.get("tracks") or []
    for track in tracks_in:
        for required in ("track_number", "title", "carrier_code"):
            if not isinstance(track, dict) or not str(track.get(required) or "").strip():
                raise MagentoError('"%fieldName" is required. Enter and try again.',
                                   {"fieldName": required})  # fmt: skip

    source_code = ((request.get("arguments") or {}).get("extension_attributes") or {}).get(
        "source_code"
    ) or DEFAULT_SOURCE
    created = timestamp(now)
    shipment_id = store.next_id("shipment")
    shipment_items = []
    physical: list[tuple[str, float]] = []
    total_qty = 0.0
    for item, qty in pairs:
        item["qty_shipped"] = float(item["qty_shipped"]) + qty
        item["updated_at"] = created
        total_qty += qty
        shipment_items.append(_shipment_item(store, shipment_id, item, qty))
        children = _children(order, item["item_id"])
        if item["product_type"] == "configurable":
            for child in children:
                child["qty_shipped"] = float(child["qty_shipped"]) + qty
                physical.append((child["sku"], qty))
        elif item["product_type"] == "bundle":
            ratio = qty / float(item["qty_ordered"])
            for child in children:
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
                    min(float(c["qty_shipped"]) for c in _children(order, parent_id)),
                )
    for sku, qty in physical:
        store.deduct_source(sku, source_code, qty)
        store.add_reservation(
            sku=sku,
            quantity=qty,
            metadata={"event_type": "shipment_created", "object_type": "order",
                      "object_id": str(order["entity_id"])},
        )  # fmt: skip

    tracks = [
        {
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
        for track in tracks_in
    ]
    comments = []
    comment_in = request.get("comment") or {}
    if isinstance(comment_in, dict) and comment_in.get("comment"):
        comments.append(
            {
                "entity_id": store.next_id("shipment_comment"),
                "parent_id": shipment_id,
                "comment": str(comment_in["comment"]),
                "is_customer_notified": 1 if request.get("notify") else 0,
                "is_visible_on_front": int(comment_in.get("is_visible_on_front") or 0),
                "created_at": created,
            }
        )
    shipment = {
        "entity_id": shipment_id,
        "increment_id": f"{shipment_id:09d}",
        "order_id": order["entity_id"],
        "store_id": 1,
        "customer_id": order.get("customer_id"),
        "billing_address_id": order["billing_address_id"],
        "shipping_address_id": _shipping_address_id(order),
        "email_sent": 1 if request.get("notify") else 0,
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
    _resolve_state(order)
    if request.get("appendComment") and comments:
        add_history(store, order, comment=comments[0]["comment"], created=created,
                    is_customer_notified=1 if request.get("notify") else 0)  # fmt: skip
    order["updated_at"] = created
    return shipment


def _shipment_item(store: Store, shipment_id: int, item: dict[str, Any], qty: float) -> dict:
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


def cancel_order(store: Store, order: dict[str, Any], *, now: datetime) -> None:
    created = timestamp(now)
    for item in order["items"]:
        open_qty = qty_to_ship(item)
        item["qty_canceled"] = float(item["qty_canceled"] or 0) + open_qty
        if item["product_type"] == "simple" and open_qty:
            store.add_reservation(
                sku=item["sku"], quantity=open_qty,
                metadata={"event_type": "order_canceled", "object_type": "order",
                          "object_id": str(order["entity_id"])},
            )  # fmt: skip
    set_state(order, "canceled")
    order["updated_at"] = created


def get_order(store: Store, order_id: int) -> dict[str, Any]:
    order = store.get_doc("orders", order_id)
    if order is None:
        raise not_found()
    return order


def save_order(store: Store, order: dict[str, Any]) -> None:
    store.put_doc("orders", finalise(order))
