"""The item rows of a new order: one per simple line, parent and child rows for the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.magento.orders.pricing import (
    MONEY_ITEM_FIELDS,
    VAT_RATE,
    Taxer,
    num,
    row_amounts,
)
from sandbox.magento.orders.spec import Line
from sandbox.magento.store import Store


def item_row(
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
    """An order item as Magento stores it; without `amounts` its money fields are 0."""
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
    for name_ in MONEY_ITEM_FIELDS:
        value = num(amounts[name_]) if amounts else 0
        item[name_] = value
        item[f"base_{name_}"] = value
    if parent_item_id is not None:
        item["parent_item_id"] = parent_item_id
    return item


@dataclass
class OrderItems:
    """Builds the item rows line by line, keeping every priced row for the order's totals."""

    store: Store
    order_id: int
    created: str
    taxer: Taxer
    discount_percent: Decimal
    rows: list[dict[str, Any]] = field(default_factory=list)
    priced: list[dict[str, Decimal]] = field(default_factory=list)

    def add(self, line: Line) -> None:
        if line.kind in ("simple", "downloadable"):
            self._add_simple(line)
        elif line.kind == "configurable":
            self._add_configurable(line)
        elif line.kind == "bundle":
            self._add_bundle(line)
        else:  # pragma: no cover - seed only builds the kinds above
            raise ValueError(f"unknown line kind {line.kind!r}")

    def _price(self, unit_gross: Any, qty: int) -> dict[str, Decimal]:
        amounts = row_amounts(self.taxer, Decimal(unit_gross), qty, self.discount_percent)
        self.priced.append(amounts)
        return amounts

    def _row(self, **fields: Any) -> dict[str, Any]:
        return item_row(
            item_id=self.store.next_id("order_item"),
            order_id=self.order_id,
            created=self.created,
            discount_percent=self.discount_percent,
            **fields,
        )

    def _add_simple(self, line: Line) -> None:
        amounts = self._price(line.product["price"], line.qty)
        self.rows.append(
            self._row(product=line.product, product_type=line.kind, sku=line.product["sku"],
                      name=line.product["name"], qty=line.qty, amounts=amounts)
        )  # fmt: skip

    def _add_configurable(self, line: Line) -> None:
        assert line.parent is not None
        amounts = self._price(line.product["price"], line.qty)
        parent = self._row(
            product=line.parent, product_type="configurable", sku=line.product["sku"],
            name=line.parent["name"], qty=line.qty, amounts=amounts,
        )  # fmt: skip
        parent["product_option"] = {
            "extension_attributes": {
                "configurable_item_options": [
                    {"option_id": oid, "option_value": int(value)} for oid, value in line.options
                ]
            }
        }
        self.rows.append(parent)
        self.rows.append(
            self._row(product=line.product, product_type="simple", sku=line.product["sku"],
                      name=line.product["name"], qty=line.qty, amounts=None,
                      parent_item_id=parent["item_id"])
        )  # fmt: skip

    def _add_bundle(self, line: Line) -> None:
        children = [(c, self._price(c["price"], line.qty)) for c in line.components]
        price = sum((amounts["price"] for _, amounts in children), Decimal("0"))
        price_incl_tax = sum((amounts["price_incl_tax"] for _, amounts in children), Decimal("0"))
        bundle_sku = "-".join([line.product["sku"]] + [c["sku"] for c, _ in children])
        parent = self._row(
            product=line.product, product_type="bundle", sku=bundle_sku,
            name=line.product["name"], qty=line.qty, amounts=None,
        )  # fmt: skip
        # The parent shows the summed price for display; totals come from the children.
        parent["price"] = parent["base_price"] = num(price)
        parent["price_incl_tax"] = parent["base_price_incl_tax"] = num(price_incl_tax)
        parent["original_price"] = parent["base_original_price"] = num(price_incl_tax)
        self.rows.append(parent)
        for component, amounts in children:
            self.rows.append(
                self._row(product=component, product_type="simple", sku=component["sku"],
                          name=component["name"], qty=line.qty, amounts=amounts,
                          parent_item_id=parent["item_id"])
            )  # fmt: skip
