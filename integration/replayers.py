"""Replays the exception desk can run: each re-does the work a fixed cause blocked.

Held orders are re-validated and posted through `orders_process`, the same path the flow uses,
so a replay can never post an order twice (the ERP is asked for the reference first).

The shipment, stock and refund replays succeed only on a confirmed effect, read back from the
system that had to change: Magento's shipments (with their tracks), Magento's source items,
the ERP's credit note. A push the other system accepts without effect leaves the exception open.
Each takes the lease of the flow that does the same work, so a replay and a run never race.
"""

from __future__ import annotations

from django.db.models import QuerySet

from exceptions_app.models import DeskException, ExceptionKind
from exceptions_app.replay import ReplayOutcome, register_replayer
from integration.connections import erp_adapter, magento_client
from integration.connectors.backoff import ConnectorError
from integration.flows.orders_out import orders_out_run, orders_process
from integration.flows.refunds import credit_memo_post
from integration.flows.shipments import shipments_tell_order
from integration.flows.stock_now import stock_dead_settle, stock_push_now
from integration.locks import FlowBusy, flow_lock
from integration.models import CreditMemo, Flow, Order, OrderHold, RunStatus
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


def _busy(flow: str) -> ReplayOutcome:
    return ReplayOutcome(
        ok=False, detail=f"A {flow} run is doing this work right now; replay again in a minute."
    )


def replay_status_drift(exception: DeskException) -> ReplayOutcome:
    """Tell Magento of the order's dispatched ERP parcels now; ok once Magento has each."""
    reference = exception.order_increment_id or exception.subject
    order = Order.objects.filter(increment_id=reference).first()
    if order is None:
        return ReplayOutcome(ok=False, detail=f"The desk has no order {reference}.")
    try:
        with flow_lock(Flow.SHIPMENTS), magento_client() as magento, erp_adapter() as erp:
            check = shipments_tell_order(magento=magento, erp=erp, order=order)
    except FlowBusy:
        return _busy("shipments")
    except ConnectorError as exc:
        return ReplayOutcome(ok=False, detail=f"{exc.system} could not be reached: {exc}")
    notes = (" " + " ".join(check.notes)) if check.notes else ""
    if check.confirmed:
        return ReplayOutcome(
            ok=True,
            detail=f"Magento shows {check.parcels} shipment(s) for order {reference}, each with "
            "its tracking." + notes,
        )
    return ReplayOutcome(ok=False, detail="Not confirmed by Magento: " + "; ".join(check.problems))


def _stock_replay(skus: list[str]) -> tuple[ReplayOutcome, bool]:
    """Push the ERP's figure for `skus` now and read Magento back; (outcome, confirmed)."""
    if not skus:
        return ReplayOutcome(ok=False, detail="The exception names no SKU to push."), False
    try:
        with magento_client() as magento, erp_adapter() as erp:
            pushed = stock_push_now(magento=magento, erp=erp, skus=skus)
    except ConnectorError as exc:
        return ReplayOutcome(ok=False, detail=f"{exc.system} could not be reached: {exc}"), False
    if pushed.unknown:
        detail = f"The ERP has no goods item for {', '.join(pushed.unknown)}."
        return ReplayOutcome(ok=False, detail=detail), False
    differing = pushed.differing
    if differing:
        shown = "; ".join(
            f"{sku}: told {pushed.told[sku]}, Magento shows "
            f"{pushed.reported.get(sku, 'no source item')}"
            for sku in differing[:5]
        )
        return ReplayOutcome(
            ok=False, detail=f"Pushed, but Magento did not take it: {shown}."
        ), False
    shown = ", ".join(f"{sku} {qty}" for sku, qty in list(pushed.told.items())[:5])
    more = f" and {len(pushed.told) - 5} more" if len(pushed.told) > 5 else ""
    return ReplayOutcome(
        ok=True, detail=f"Magento now shows the ERP's figure: {shown}{more}."
    ), True


def replay_stock_drift(exception: DeskException) -> ReplayOutcome:
    return _stock_replay([exception.sku or exception.subject])[0]


def replay_stock_push_failed(exception: DeskException) -> ReplayOutcome:
    """Re-send the dead-lettered SKUs (the ERP's figure now, absolute) and read them back."""
    evidence = exception.evidence if isinstance(exception.evidence, dict) else {}
    skus = [str(s) for s in evidence.get("skus") or []] or (
        [exception.sku] if exception.sku else []
    )
    outcome, confirmed = _stock_replay(skus)
    if confirmed:
        stock_dead_settle(skus=skus, note=f"re-sent by the replay of exception {exception.pk}")
    return outcome


def replay_refund(exception: DeskException) -> ReplayOutcome:
    """Post the credit note again; ok once the ERP has it booked (asked for its key after)."""
    order_number, _, memo_number = exception.subject.rpartition("/CM")
    memo = (
        CreditMemo.objects.select_related("order")
        .filter(increment_id=memo_number, order__increment_id=order_number)
        .first()
    )
    if memo is None:
        return ReplayOutcome(ok=False, detail=f"The desk has no credit memo {exception.subject}.")
    try:
        with flow_lock(Flow.REFUNDS), erp_adapter() as erp:
            result = credit_memo_post(memo=memo, erp=erp)
            note = erp.credit_note_find(memo.refund_key) if result.credited else None
    except FlowBusy:
        return _busy("refunds")
    except ConnectorError as exc:
        return ReplayOutcome(ok=False, detail=f"The ERP could not be reached: {exc}")
    if note is not None and note.posted:
        return ReplayOutcome(
            ok=True, detail=f"The ERP has credit note {note.number} ({note.total_amount})."
        )
    return ReplayOutcome(ok=False, detail=f"Not credited: {result.detail or result.outcome}.")


def register() -> None:
    for kind in HELD_KINDS:
        register_replayer(kind, replay_held)
    register_replayer(ExceptionKind.ORDER_POST_FAILED, replay_post_failed)
    register_replayer(ExceptionKind.STATUS_DRIFT, replay_status_drift)
    register_replayer(ExceptionKind.STOCK_DRIFT, replay_stock_drift)
    register_replayer(ExceptionKind.STOCK_PUSH_FAILED, replay_stock_push_failed)
    register_replayer(ExceptionKind.REFUND_POST_FAILED, replay_refund)
