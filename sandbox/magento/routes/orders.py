"""/V1/orders...: reading orders and their items, comments, hold, unhold, cancel, ship, invoice."""

from __future__ import annotations

from typing import Any

from sandbox.magento.context import Ctx
from sandbox.magento.errors import REQUIRED_FIELD, MagentoError
from sandbox.magento.orders.document import get_order, save_order
from sandbox.magento.orders.invoices import invoice_order
from sandbox.magento.orders.shipments import ship_order
from sandbox.magento.orders.state import (
    CANNOT_SHIP_STATES,
    FINAL_STATES,
    add_history,
    can_cancel,
    can_hold,
    cancel_order,
    hold_order,
    unhold_order,
)
from sandbox.magento.routing import require, route, search_result
from sandbox.magento.schema import scalar_fields
from sandbox.magento.search import parse_search_criteria


@route("GET", "/V1/orders", "Magento_Sales::actions_view")
def orders_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    return search_result(
        ctx,
        ctx.store.all_docs("orders"),
        criteria,
        fields=scalar_fields("sales-data-order-interface"),
    )


@route("GET", "/V1/orders/{id:int}", "Magento_Sales::actions_view")
def orders_get(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002 - Magento's route param
    return get_order(ctx.store, id)


@route("GET", "/V1/orders/items", "Magento_Sales::actions_view")
def order_items_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    items = [item for order in ctx.store.all_docs("orders") for item in order["items"]]
    return search_result(
        ctx, items, criteria, fields=scalar_fields("sales-data-order-item-interface")
    )


@route("GET", "/V1/orders/{id:int}/statuses", "Magento_Sales::actions_view")
def orders_status(ctx: Ctx, id: int) -> str:  # noqa: A002
    return get_order(ctx.store, id)["status"]


@route("GET", "/V1/orders/{id:int}/comments", "Magento_Sales::actions_view")
def orders_comments_list(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002
    order = get_order(ctx.store, id)
    return {
        "items": order["status_histories"],
        "search_criteria": {"filter_groups": []},
        "total_count": len(order["status_histories"]),
    }


@route("POST", "/V1/orders/{id:int}/comments", "Magento_Sales::comment",
       topic="async.magento.sales.api.orderstatushistoryrepositoryinterface.save.post")  # fmt: skip
def orders_comment_add(ctx: Ctx, id: int) -> bool:  # noqa: A002
    history = require(ctx.body, "statusHistory")
    if not isinstance(history, dict):
        raise MagentoError(REQUIRED_FIELD, {"fieldName": "statusHistory"})
    order = get_order(ctx.store, id)
    status = history.get("status")
    add_history(
        ctx.store,
        order,
        comment=None if history.get("comment") is None else str(history["comment"]),
        created=ctx.stamp(),
        status=str(status) if status else None,
        is_customer_notified=history.get("is_customer_notified"),
        is_visible_on_front=int(history.get("is_visible_on_front") or 0),
    )
    order["updated_at"] = ctx.stamp()
    save_order(ctx.store, order)
    return True


@route("POST", "/V1/orders/{id:int}/hold", "Magento_Sales::hold")
def orders_hold(ctx: Ctx, id: int) -> bool:  # noqa: A002
    order = get_order(ctx.store, id)
    if not can_hold(order):
        raise MagentoError("A hold action is not available.")
    hold_order(order, now=ctx.state.now())
    save_order(ctx.store, order)
    return True


@route("POST", "/V1/orders/{id:int}/unhold", "Magento_Sales::unhold")
def orders_unhold(ctx: Ctx, id: int) -> bool:  # noqa: A002
    order = get_order(ctx.store, id)
    if order["state"] != "holded":
        raise MagentoError("You cannot remove the hold.")
    unhold_order(order, now=ctx.state.now())
    save_order(ctx.store, order)
    return True


@route("POST", "/V1/orders/{id:int}/cancel", "Magento_Sales::cancel")
def orders_cancel(ctx: Ctx, id: int) -> bool:  # noqa: A002
    order = get_order(ctx.store, id)
    if not can_cancel(order):
        return False  # OrderService::cancel: an invoiced order is refunded, not canceled
    cancel_order(ctx.store, order, now=ctx.state.now())
    save_order(ctx.store, order)
    return True


@route("POST", "/V1/order/{orderId:int}/ship", "Magento_Sales::ship",
       topic="async.magento.sales.api.shiporderinterface.execute.post")  # fmt: skip
def order_ship(ctx: Ctx, orderId: int) -> int:  # noqa: N803 - Magento's route param
    body = ctx.body if isinstance(ctx.body, dict) else {}
    with ctx.store.transaction():  # the order mutex: concurrent ships serialise here
        order = get_order(ctx.store, orderId)
        shipment = ship_order(ctx.store, order, body, now=ctx.state.now())
        ctx.store.put_doc("shipments", shipment)
        save_order(ctx.store, order)
    return shipment["entity_id"]


@route("POST", "/V1/order/{orderId:int}/invoice", "Magento_Sales::sales_invoice")
def order_invoice(ctx: Ctx, orderId: int) -> int:  # noqa: N803
    with ctx.store.transaction():
        order = get_order(ctx.store, orderId)
        if order["state"] in CANNOT_SHIP_STATES or order["state"] in FINAL_STATES:
            raise MagentoError("The order does not allow an invoice to be created.")
        invoice = invoice_order(ctx.store, order, now=ctx.state.now())
        ctx.store.put_doc("invoices", invoice)
        save_order(ctx.store, order)
    return invoice["entity_id"]
