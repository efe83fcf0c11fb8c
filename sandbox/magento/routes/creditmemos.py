"""Refunds: POST /V1/order/{orderId}/refund (the credit memos are read in sales_documents).

Magento's online refund (`POST /V1/invoice/{invoiceId}/refund`, through the payment gateway) is
not served: the in-repo 2.4.8 schema subset does not describe it, so its answers could not be
checked. The seed makes online refunds directly (`refund_order(..., online=True)`).
"""

from __future__ import annotations

from sandbox.magento.context import Ctx
from sandbox.magento.orders.creditmemos import refund_order
from sandbox.magento.orders.document import get_order, save_order
from sandbox.magento.routing import route


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
