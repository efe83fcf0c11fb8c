"""Refunds: POST /V1/order/{orderId}/refund, GET /V1/creditmemos, GET /V1/creditmemo/{id}.

Magento's online refund (`POST /V1/invoice/{invoiceId}/refund`, through the payment gateway) is
not served: the in-repo 2.4.8 schema subset does not describe it, so its answers could not be
checked. The seed makes online refunds directly (`refund_order(..., online=True)`).
"""

from __future__ import annotations

from typing import Any

from sandbox.magento.context import Ctx
from sandbox.magento.errors import not_found
from sandbox.magento.orders.creditmemos import refund_order
from sandbox.magento.orders.document import get_order, save_order
from sandbox.magento.routing import route, search_result
from sandbox.magento.schema import scalar_fields
from sandbox.magento.search import parse_search_criteria


def _latest_invoice_id(ctx: Ctx, order_id: int) -> int | None:
    ids = [d["entity_id"] for d in ctx.store.all_docs("invoices") if d["order_id"] == order_id]
    return max(ids) if ids else None


def _refund(ctx: Ctx, order_id: int) -> int:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    with ctx.store.transaction():
        order = get_order(ctx.store, order_id)
        memo = refund_order(
            ctx.store,
            order,
            body,
            now=ctx.state.now(),
            invoice_id=_latest_invoice_id(ctx, order_id),
        )
        ctx.store.put_doc("creditmemos", memo)
        save_order(ctx.store, order)
    return memo["entity_id"]


@route("POST", "/V1/order/{orderId:int}/refund", "Magento_Sales::creditmemo")
def order_refund(ctx: Ctx, orderId: int) -> int:  # noqa: N803 - Magento's route param
    return _refund(ctx, orderId)


@route("GET", "/V1/creditmemos", "Magento_Sales::sales_creditmemo")
def creditmemos_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    return search_result(
        ctx,
        ctx.store.all_docs("creditmemos"),
        criteria,
        fields=scalar_fields("sales-data-creditmemo-interface"),
    )


@route("GET", "/V1/creditmemo/{id:int}", "Magento_Sales::sales_creditmemo")
def creditmemo_get(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002
    memo = ctx.store.get_doc("creditmemos", id)
    if memo is None:
        raise not_found()
    return memo
