"""Multi-Source Inventory as the sandbox models it: sources, source items, salable quantity."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.magento.errors import NOT_FOUND_PRODUCT, MagentoError, not_found
from sandbox.magento.store import Store

DEFAULT_SOURCE = "default"
DEFAULT_SOURCE_DOC = {
    "source_code": DEFAULT_SOURCE,
    "name": "Default Source",
    "enabled": True,
    "description": "Default Source",
    "latitude": 0,
    "longitude": 0,
    "country_id": "GB",
    "postcode": "00000",
    "use_default_carrier_config": True,
    "carrier_links": [],
}
SOURCE_ITEM_FIELDS = frozenset({"sku", "source_code", "quantity", "status"})


def sources(store: Store) -> dict[str, dict[str, Any]]:
    raw = store.meta_get("msi_sources")
    return json.loads(raw) if raw else {DEFAULT_SOURCE: DEFAULT_SOURCE_DOC}


def validate_source_items(store: Store, items: Any) -> list[dict[str, Any]]:
    """The source items of a save, checked like Magento's SourceItemsSave; clean rows."""
    if not isinstance(items, list) or not items:
        raise MagentoError("Input data is empty")
    errors: list[dict[str, Any]] = []
    clean = []
    for item in items:
        if not isinstance(item, dict):
            raise MagentoError("Input data is empty")
        for name in ("sku", "source_code"):
            value = item.get(name)
            if value is None or str(value).strip() == "":
                errors.append({"message": '"%field" can not be empty.',
                               "parameters": {"field": name}})  # fmt: skip
            elif re.search(r"\s", str(value)) and name == "source_code":
                errors.append({"message": '"%field" can not contain whitespaces.',
                               "parameters": {"field": name}})  # fmt: skip
        quantity = item.get("quantity")
        if isinstance(quantity, str):
            try:
                quantity = float(quantity)
            except ValueError:
                raise MagentoError(
                    f'Error occurred during "quantity" processing. The "{quantity}" value\'s type'
                    ' is invalid. The "float" type was expected. Verify and try again.'
                ) from None
        if quantity is None or isinstance(quantity, bool) or not isinstance(quantity, int | float):
            errors.append({"message": '"%field" should be numeric.',
                           "parameters": {"field": "quantity"}})  # fmt: skip
        status = item.get("status")
        if status is None:
            errors.append({"message": '"%field" should be numeric.',
                           "parameters": {"field": "status"}})  # fmt: skip
        elif str(status) not in ("0", "1"):
            errors.append({"message": '"%field" should a known status.',
                           "parameters": {"field": "status"}})  # fmt: skip
        clean.append({"sku": item.get("sku"), "source_code": item.get("source_code"),
                      "quantity": quantity, "status": status})  # fmt: skip
    if errors:
        raise MagentoError("Validation Failed", errors=errors)
    known = sources(store)
    for item in clean:
        if item["source_code"] not in known:
            raise MagentoError("Could not save Source Item")
    return clean


def salable(store: Store, sku: str, stock_id: Any) -> float:
    """Salable quantity of `sku` on stock 1: the source quantity less open reservations."""
    if str(stock_id) != "1":
        raise not_found('Stock with id "%value" does not exist.', {"value": str(stock_id)})
    if store.get_doc("products", sku) is None:
        raise not_found(NOT_FOUND_PRODUCT)
    quantity = store.source_quantity(sku)
    if quantity is None:
        raise MagentoError("The requested sku is not assigned to given stock.")
    return quantity + store.reserved(sku)
