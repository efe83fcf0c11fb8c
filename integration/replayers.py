"""Replays the exception desk can run: each re-does the work a fixed cause blocked.

Held orders are re-validated and posted through `orders_process`, the same path the flow uses,
so a replay can never post an order twice (the ERP is asked for the reference first).
"""

from __future__ import annotations

from django.db.models import QuerySet

from exceptions_app.models import DeskException, ExceptionKind
from exceptions_app.replay import ReplayOutcome, register_replayer
from integration.connections import erp_adapter
from integration.connectors.backoff import ConnectorError
from integration.flows.orders_out import orders_out_run, orders_process
from integration.models import Order, OrderHold, RunStatus
from integration.orders.validation import context_build, orders_for_validation

HELD_KINDS = (
    ExceptionKind.SKU_UNKNOWN,
    ExceptionKind.SKU_INACTIVE,
    ExceptionKind.CARRIER_UNMAPPED,
    ExceptionKind.ADDRESS_INVALID,
)


def _orders(queryset: QuerySet[Order]) -> list[Order]:
    return orders_for_validation(queryset.order_by("pk"))


def orders_replay(orders: list[Order], *, kind: str, subject: str) -> ReplayOutcome:
    """Re-validate and post `orders`; ok when none is still held by (kind, subject)."""
    if not orders:
        return ReplayOutcome(ok=True, detail="No order is held by this any more.")
    with erp_adapter() as erp:
        try:
            ctx = context_build(erp=erp, orders=orders)
            outcomes = [o for _, o in orders_process(orders=orders, erp=erp, ctx=ctx)]
        except ConnectorError as exc:
            return ReplayOutcome(ok=False, detail=f"The ERP could not be reached: {exc}")
    posted = sum(1 for o in outcomes if o.in_erp)
    still = OrderHold.objects.filter(
        kind=kind, subject=subject, released_at__isnull=True, order__in=orders
    ).count()
    other = [o.detail for o in outcomes if not o.in_erp]
    detail = f"{posted} of {len(orders)} order(s) posted to the ERP."
    if other:
        detail += " Still held: " + "; ".join(other[:5])
    if kind == ExceptionKind.ORDER_POST_FAILED:
        return ReplayOutcome(ok=posted == len(orders), detail=detail)
    return ReplayOutcome(ok=still == 0, detail=detail)


def replay_held(exception: DeskException) -> ReplayOutcome:
    held = Order.objects.filter(
        holds__kind=exception.kind,
        holds__subject=exception.subject,
        holds__released_at__isnull=True,
    ).distinct()
    return orders_replay(_orders(held), kind=exception.kind, subject=exception.subject)


def replay_post_failed(exception: DeskException) -> ReplayOutcome:
    if not exception.order_increment_id:
        # The outage exception: replay every order still waiting for the ERP.
        with erp_adapter() as erp:
            run = orders_out_run(erp=erp)
        return ReplayOutcome(
            ok=run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL),
            detail=f"Orders-out run: {run.posted} posted, {run.held} held, {run.failed} failed."
            + (f" {run.error}" if run.error else ""),
        )
    orders = _orders(Order.objects.filter(increment_id=exception.order_increment_id))
    return orders_replay(orders, kind=exception.kind, subject=exception.subject)


def register() -> None:
    for kind in HELD_KINDS:
        register_replayer(kind, replay_held)
    register_replayer(ExceptionKind.ORDER_POST_FAILED, replay_post_failed)
