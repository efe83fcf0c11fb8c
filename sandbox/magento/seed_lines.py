"""What seeded customers buy: the sellable catalogue, with the ERP-divergent SKUs kept apart."""

from __future__ import annotations

import random
from typing import Any

from sandbox.divergence import catalogue_divergence, catalogue_rows
from sandbox.magento.catalogue import BUNDLE_OPTIONS, configurable_options, option_values
from sandbox.magento.orders.spec import Line
from sandbox.magento.store import Store


class LinePool:
    """The sellable pool, with the ERP-divergent SKUs kept apart so causes stay controlled."""

    def __init__(self, products_by_sku: dict[str, dict[str, Any]]):
        divergence = catalogue_divergence()
        self.divergent = (
            set(divergence.missing) | set(divergence.inactive) | set(divergence.renamed)
        )
        self.missing = sorted(divergence.missing)
        self.inactive = sorted(divergence.inactive)
        self.renamed = sorted(divergence.renamed)
        rows = catalogue_rows()
        self.values = option_values(rows)
        self.products = products_by_sku
        self.children = [
            r["sku"] for r in rows if r["parent_sku"] and r["sku"] not in self.divergent
        ]
        self.simples = [
            r["sku"]
            for r in rows
            if r["type_id"] == "simple" and not r["parent_sku"] and r["sku"] not in self.divergent
            and float(r["price"] or 0) > 0
        ]  # fmt: skip
        self.downloadables = [
            r["sku"] for r in rows if r["type_id"] == "downloadable" and float(r["price"] or 0) > 0
        ]
        self.parent_of = {r["sku"]: r["parent_sku"] for r in rows if r["parent_sku"]}

    def line_for(self, sku: str, qty: int) -> Line:
        product = self.products[sku]
        parent_sku = self.parent_of.get(sku)
        if parent_sku:
            return Line(
                kind="configurable",
                product=product,
                parent=self.products[parent_sku],
                qty=qty,
                options=configurable_options(sku, self.values),
            )
        return Line(kind=product["type_id"], product=product, qty=qty)

    def random_line(self, rng: random.Random) -> Line:
        qty = rng.choices([1, 2, 3, 5], weights=[75, 15, 7, 3])[0]
        roll = rng.random()
        if roll < 0.03:
            bundle = self.products["24-WG080"]
            components = [
                self.products[rng.choice(option)] for option in BUNDLE_OPTIONS["24-WG080"]
            ]
            return Line(kind="bundle", product=bundle, qty=1, components=components)
        if roll < 0.08:
            return Line(kind="downloadable", product=self.products[rng.choice(self.downloadables)],
                        qty=1)  # fmt: skip
        if roll < 0.25:
            return self.line_for(rng.choice(self.simples), qty)
        return self.line_for(rng.choice(self.children), qty)


def product_rows(store: Store) -> dict[str, dict[str, Any]]:
    """Catalogue rows keyed by sku, with the sandbox product id the order items reference."""
    ids = {doc["sku"]: doc["id"] for doc in store.all_docs("products")}
    return {row["sku"]: {**row, "id": ids[row["sku"]]} for row in catalogue_rows()}
