"""The Luma catalogue as Magento's product repository and MSI default source expose it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sandbox.divergence import catalogue_rows
from sandbox.magento.clock import timestamp
from sandbox.magento.msi import DEFAULT_SOURCE
from sandbox.magento.store import Store

ATTRIBUTE_SETS = {
    "Default": 4,
    "Top": 9,
    "Bottom": 10,
    "Gear": 11,
    "Bag": 15,
    "Downloadable": 4,
    "Sprite Stasis Ball": 12,
    "Sprite Yoga Strap": 14,
}
VISIBILITY = {"Not Visible Individually": 1, "Catalog": 2, "Search": 3, "Catalog, Search": 4}
# Luma's eav attribute ids for the two configurable attributes.
COLOR_ATTRIBUTE_ID = "93"
SIZE_ATTRIBUTE_ID = "144"
TAX_CLASS_TAXABLE_GOODS = "2"

# The components a customer picks for the Sprite Yoga Companion Kit (bundle 24-WG080).
BUNDLE_OPTIONS: dict[str, list[list[str]]] = {
    "24-WG080": [
        ["24-WG081-blue", "24-WG082-blue", "24-WG083-blue", "24-WG081-pink", "24-WG082-gray"],
        ["24-WG084"],
        ["24-WG085", "24-WG086", "24-WG087"],
        ["24-WG088"],
    ]
}

CATALOGUE_LOADED_AT = datetime(2024, 3, 6, 9, 0, 0)  # the sample-data snapshot date


def url_key(name: str, sku: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"{slug}-{sku.lower()}" if "-" in sku and sku.count("-") >= 2 else slug


def option_values(rows: list[dict[str, str]]) -> dict[str, int]:
    """Stable option ids for every size and colour label in the catalogue."""
    sizes: set[str] = set()
    colours: set[str] = set()
    for row in rows:
        if row["parent_sku"]:
            _, size, colour = row["sku"].rsplit("-", 2)
            sizes.add(size)
            colours.add(colour)
    values = {f"color:{c}": 49 + i for i, c in enumerate(sorted(colours))}
    values.update({f"size:{s}": 166 + i for i, s in enumerate(sorted(sizes))})
    return values


def configurable_options(sku: str, values: dict[str, int]) -> list[tuple[str, str]]:
    _, size, colour = sku.rsplit("-", 2)
    return [
        (SIZE_ATTRIBUTE_ID, str(values[f"size:{size}"])),
        (COLOR_ATTRIBUTE_ID, str(values[f"color:{colour}"])),
    ]


def product_docs() -> list[dict[str, Any]]:
    rows = catalogue_rows()
    stamp = timestamp(CATALOGUE_LOADED_AT)
    ids = {row["sku"]: index for index, row in enumerate(rows, start=1)}
    children: dict[str, list[int]] = {}
    for row in rows:
        if row["parent_sku"]:
            children.setdefault(row["parent_sku"], []).append(ids[row["sku"]])
    docs = []
    for row in rows:
        extension: dict[str, Any] = {"website_ids": [1], "category_links": []}
        if row["type_id"] == "configurable":
            extension["configurable_product_links"] = children.get(row["sku"], [])
        custom = [
            {"attribute_code": "url_key", "value": url_key(row["name"], row["sku"])},
            {"attribute_code": "tax_class_id", "value": TAX_CLASS_TAXABLE_GOODS},
        ]
        doc: dict[str, Any] = {
            "id": ids[row["sku"]],
            "sku": row["sku"],
            "name": row["name"],
            "attribute_set_id": ATTRIBUTE_SETS.get(row["attribute_set"], 4),
            "price": float(row["price"] or 0),
            "status": 1,
            "visibility": VISIBILITY.get(row["visibility"], 4),
            "type_id": row["type_id"],
            "created_at": stamp,
            "updated_at": stamp,
            "extension_attributes": extension,
            "product_links": [],
            "options": [],
            "media_gallery_entries": [],
            "tier_prices": [],
            "custom_attributes": custom,
        }
        if row["weight"]:
            doc["weight"] = float(row["weight"])
        docs.append(doc)
    return docs


def load_catalogue(store: Store) -> int:
    """Products and default-source items for the whole Luma catalogue. Idempotent."""
    docs = product_docs()
    with store.transaction():
        for doc in docs:
            store.put_doc("products", doc)
        store.upsert_source_items(
            [
                {"sku": row["sku"], "source_code": DEFAULT_SOURCE,
                 "quantity": float(row["qty"]), "status": 1 if float(row["qty"]) > 0 else 0}
                for row in catalogue_rows()
                if row["type_id"] == "simple" and row["qty"]
            ]
        )  # fmt: skip
        store.meta_set("catalogue_loaded", "1")
    return len(docs)


def product_field(doc: dict[str, Any], name: str) -> Any:
    """searchCriteria getter: product columns, then EAV custom attributes."""
    if name == "entity_id":
        return doc.get("id")
    if name in doc:
        return doc[name]
    for attribute in doc.get("custom_attributes", []):
        if attribute["attribute_code"] == name:
            return attribute["value"]
    return None


PRODUCT_FIELDS = frozenset(
    {"entity_id", "id", "sku", "name", "attribute_set_id", "price", "status", "visibility",
     "type_id", "created_at", "updated_at", "weight", "url_key", "tax_class_id"}
)  # fmt: skip
