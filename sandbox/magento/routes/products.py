"""GET /V1/products and /V1/products/{sku}."""

from __future__ import annotations

from typing import Any

from sandbox.magento.catalogue import PRODUCT_FIELDS, product_field
from sandbox.magento.context import Ctx
from sandbox.magento.errors import NOT_FOUND_PRODUCT, MagentoError, not_found
from sandbox.magento.routing import route, search_result
from sandbox.magento.search import parse_search_criteria


@route("GET", "/V1/products", "Magento_Catalog::products")
def products_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    for group in criteria.filter_groups:
        for flt in group:
            if flt.field not in PRODUCT_FIELDS:
                raise MagentoError("Invalid attribute name: %1", [flt.field])
    docs, indexes = ctx.store.indexed_docs("products", ("sku",), product_field)
    return search_result(
        ctx, docs, criteria, fields=PRODUCT_FIELDS, get=product_field, indexes=indexes
    )


@route("GET", "/V1/products/{sku}", "Magento_Catalog::products")
def products_get(ctx: Ctx, sku: str) -> dict[str, Any]:
    doc = ctx.store.get_doc("products", str(sku))
    if doc is None:
        raise not_found(NOT_FOUND_PRODUCT)
    return doc
