"""/V1/inventory/...: MSI source items, sources and salable quantity."""

from __future__ import annotations

import json
from typing import Any

from sandbox.magento.context import Ctx
from sandbox.magento.errors import DEADLOCK, MagentoError, not_found
from sandbox.magento.msi import SOURCE_ITEM_FIELDS, salable, sources, validate_source_items
from sandbox.magento.routing import require, route, search_result
from sandbox.magento.search import parse_search_criteria


@route("GET", "/V1/inventory/source-items", "Magento_InventoryApi::source")
def source_items_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    docs, indexes = ctx.store.indexed_docs("source_items", ("sku", "source_code"))
    return search_result(ctx, docs, criteria, fields=SOURCE_ITEM_FIELDS, indexes=indexes)


@route("POST", "/V1/inventory/source-items", "Magento_InventoryApi::source_item",
       topic="async.magento.inventoryapi.api.sourceitemssaveinterface.execute.post")  # fmt: skip
def source_items_save(ctx: Ctx) -> list[Any]:
    items = validate_source_items(ctx.store, require(ctx.body, "sourceItems"))
    if ctx.fault == "deadlock":
        raise MagentoError(DEADLOCK)
    ctx.store.upsert_source_items(items)
    return []


@route("POST", "/V1/inventory/source-items-delete", "Magento_InventoryApi::source_item",
       topic="async.magento.inventoryapi.api.sourceitemsdeleteinterface.execute.post")  # fmt: skip
def source_items_delete(ctx: Ctx) -> list[Any]:
    items = require(ctx.body, "sourceItems")
    if not isinstance(items, list) or not items:
        raise MagentoError("Input data is empty")
    ctx.store.delete_source_items(
        [{"sku": i.get("sku"), "source_code": i.get("source_code")} for i in items]
    )
    return []


@route("GET", "/V1/inventory/sources", "Magento_InventoryApi::source")
def sources_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    return search_result(ctx, list(sources(ctx.store).values()), criteria)


@route("POST", "/V1/inventory/sources", "Magento_InventoryApi::source_edit")
def sources_create(ctx: Ctx) -> list[Any]:
    source = require(ctx.body, "source")
    errors = [
        {"message": '"%field" can not be empty.', "parameters": {"field": name}}
        for name in ("source_code", "name", "postcode", "country_id")
        if not isinstance(source, dict) or not str(source.get(name) or "").strip()
    ]
    if errors:
        raise MagentoError("Validation Failed", errors=errors)
    known = sources(ctx.store)
    known[str(source["source_code"])] = {"carrier_links": [], **source}
    ctx.store.meta_set("msi_sources", json.dumps(known))
    return []  # void service methods answer [] over REST


@route("GET", "/V1/inventory/sources/{sourceCode}", "Magento_InventoryApi::source")
def sources_get(ctx: Ctx, sourceCode: str) -> dict[str, Any]:  # noqa: N803
    known = sources(ctx.store)
    if sourceCode not in known:
        raise not_found('Source with code "%value" does not exist.', {"value": sourceCode})
    return known[sourceCode]


@route("GET", "/V1/inventory/get-product-salable-quantity/{sku}/{stockId}",
       "Magento_InventoryApi::stock")  # fmt: skip
def salable_quantity(ctx: Ctx, sku: str, stockId: Any) -> float:  # noqa: N803
    return salable(ctx.store, str(sku), stockId)


@route("GET", "/V1/inventory/is-product-salable/{sku}/{stockId}", "Magento_InventoryApi::stock")
def is_salable(ctx: Ctx, sku: str, stockId: Any) -> bool:  # noqa: N803
    try:
        return salable(ctx.store, str(sku), stockId) > 0
    except MagentoError:
        return False
