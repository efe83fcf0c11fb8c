"""GET /V1/shipments, /V1/shipment/{id}, /V1/invoices, /V1/invoices/{id}, /V1/creditmemos,
/V1/creditmemo/{id}."""

from __future__ import annotations

from typing import Any

from sandbox.magento.context import Ctx
from sandbox.magento.errors import not_found
from sandbox.magento.routing import route, search_result
from sandbox.magento.schema import scalar_fields
from sandbox.magento.search import parse_search_criteria


def _list(ctx: Ctx, table: str, definition: str) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    return search_result(ctx, ctx.store.all_docs(table), criteria, fields=scalar_fields(definition))


def _get(ctx: Ctx, table: str, entity_id: int) -> dict[str, Any]:
    doc = ctx.store.get_doc(table, entity_id)
    if doc is None:
        raise not_found()
    return doc


@route("GET", "/V1/shipments", "Magento_Sales::shipment")
def shipments_list(ctx: Ctx) -> dict[str, Any]:
    return _list(ctx, "shipments", "sales-data-shipment-interface")


@route("GET", "/V1/shipment/{id:int}", "Magento_Sales::shipment")
def shipment_get(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002
    return _get(ctx, "shipments", id)


@route("GET", "/V1/invoices", "Magento_Sales::sales_invoice")
def invoices_list(ctx: Ctx) -> dict[str, Any]:
    return _list(ctx, "invoices", "sales-data-invoice-interface")


@route("GET", "/V1/invoices/{id:int}", "Magento_Sales::sales_invoice")
def invoice_get(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002
    return _get(ctx, "invoices", id)


@route("GET", "/V1/creditmemos", "Magento_Sales::sales_creditmemo")
def creditmemos_list(ctx: Ctx) -> dict[str, Any]:
    return _list(ctx, "creditmemos", "sales-data-creditmemo-interface")


@route("GET", "/V1/creditmemo/{id:int}", "Magento_Sales::sales_creditmemo")
def creditmemo_get(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002
    return _get(ctx, "creditmemos", id)
