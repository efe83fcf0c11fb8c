"""Cancellations and holds Magento makes after an order reached the ERP, carried into the ERP.

- Cancelled in Magento while the warehouse has not picked it: the ERP sale's unpicked
  shipments and unposted invoices are cancelled and the order becomes *cancelled*.
- Cancelled after the warehouse picked, packed or dispatched it: one `cancel_after_dispatch`
  exception (ops) naming the parcel to stop, and customer service is told. An edited order
  (Magento cancelled it for its replacement) holds the replacement instead, with one
  `edit_after_dispatch` exception, so the customer never gets both.
- Put on hold in Magento after posting: one `hold_after_posting` exception asking the warehouse
  to hold the parcel; it resolves itself when Magento releases the hold.

The ERP is called outside any database transaction; each outcome is recorded in a short one
that re-reads the order, so a pull that changed it meanwhile is never overwritten.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from django.db import transaction
from django.utils import dateformat, timezone

from exceptions_app import notifications
from exceptions_app.models import DeskException, ExceptionKind, Notification, System, Team
from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.connectors.erp import CancelStatus, ErpAdapter, ErpShipment
from integration.models import Order, OrderErpStatus, OrderHold
from integration.orders.holds import cause_raise
from integration.orders.validation import Cause

CANCELED = "canceled"
HOLDED = "holded"
DISPATCHED_STATES = frozenset({"shipped", "done"})


def _day(moment: date | datetime | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment)
    return dateformat.format(moment, "j M Y")


def shipment_phrase(shipment: ErpShipment) -> str:
    """ "shipment WH/OUT/12 is packed" or "shipment 12 left on 3 Mar 2026, tracking TT…"."""
    name = f"shipment {shipment.number or shipment.erp_id}"
    if shipment.state in DISPATCHED_STATES:
        when = f" on {_day(shipment.effective_date)}" if shipment.effective_date else ""
        track = f", tracking {shipment.tracking_number}" if shipment.tracking_number else ""
        return f"{name} left the warehouse{when}{track}"
    return f"{name} is {shipment.state}"


def _stop_advice(shipments: Sequence[ErpShipment]) -> str:
    if any(s.state in DISPATCHED_STATES for s in shipments):
        return "ask the courier to intercept it, or expect a return"
    return (
        "take the parcel off the dispatch bench, cancel the shipment in the ERP and put the "
        "items back"
    )


def _shipments_evidence(shipments: Sequence[ErpShipment]) -> list[dict]:
    return [
        {
            "shipment": s.number or s.erp_id,
            "state": s.state,
            "tracking": s.tracking_number,
            "dispatched_on": s.effective_date.isoformat() if s.effective_date else "",
        }
        for s in shipments
    ]


def cx_tell(exception: DeskException) -> Notification:
    """Customer service hears of an ops exception a customer will ask about (an outbox row in
    the caller's transaction, delivered like every notification)."""
    body = (
        f"{exception.message}\n\nThe operations team owns it; this is so you can answer the "
        f"customer.\n\n{notifications.exception_url(exception)}"
    )
    return notifications.notify_team(
        exception=exception,
        team=Team.CX,
        subject=f"[desk] For customer service: {exception.get_kind_display()} {exception.subject}",
        body=body,
    )


def _hold_add(order: Order, cause: Cause) -> None:
    """Hold one order by one more cause (its other holds stay), unless it was posted meanwhile."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.erp_status == OrderErpStatus.POSTED:
            return
        OrderHold.objects.get_or_create(
            order=locked,
            kind=cause.kind,
            subject=cause.subject,
            released_at=None,
            defaults={"message": cause.message, "field": cause.field},
        )
        cause_raise(locked, cause, evidence=cause.evidence)
        if locked.erp_status != OrderErpStatus.HELD:
            locked.erp_status = OrderErpStatus.HELD
            locked.save(update_fields=["erp_status"])


@transaction.atomic
def _cancelled_record(order: Order) -> list[int]:
    """The ERP sale is cancelled: the order is too; returns the replacements it was holding."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.erp_status != OrderErpStatus.POSTED:
        return []
    locked.erp_status = OrderErpStatus.CANCELLED
    locked.erp_cancelled_at = timezone.now()
    locked.magento_state_followed = CANCELED
    locked.save(update_fields=["erp_status", "erp_cancelled_at", "magento_state_followed"])
    note = f"Order {order.increment_id}'s ERP sale was cancelled."
    for kind in (ExceptionKind.CANCEL_AFTER_DISPATCH, ExceptionKind.HOLD_AFTER_POSTING):
        exception_auto_resolve(kind=kind, subject=order.increment_id, note=note)
    if not locked.relation_child_id:
        return []
    return list(
        Order.objects.filter(
            entity_id=locked.relation_child_id,
            holds__kind=ExceptionKind.EDIT_AFTER_DISPATCH,
            holds__released_at__isnull=True,
        ).values_list("pk", flat=True)
    )


def _too_late_record(order: Order, shipments: Sequence[ErpShipment]) -> bool:
    """Report the cancel the warehouse got ahead of, once; True when newly reported."""
    if order.magento_state_followed == CANCELED:
        return False  # reported on an earlier run; this run only looked again
    what = "; ".join(shipment_phrase(s) for s in shipments)
    evidence = {"shipments": _shipments_evidence(shipments)}
    child = (
        Order.objects.filter(entity_id=order.relation_child_id).first()
        if order.relation_child_id
        else None
    )
    if order.relation_child_id and child is None:
        return False  # the replacement is not mirrored yet: the next pull brings it
    if child is not None:
        if child.erp_status == OrderErpStatus.POSTED:
            # Posted before its original's cancel was seen: both sales are live.
            message = (
                f"Order {child.increment_id} replaced order {order.increment_id} (edited in "
                f"Magento) and both reached the ERP; the original's {what}. Stop one of them: "
                f"{_stop_advice(shipments)}."
            )
            exception_raise(
                kind=ExceptionKind.EDIT_AFTER_DISPATCH,
                subject=child.increment_id,
                message=message,
                system=System.ERP,
                order_increment_id=child.increment_id,
                evidence={"original": order.increment_id, **evidence},
                amount=child.grand_total,
                currency=child.currency_code,
            )
        else:
            message = (
                f"Order {child.increment_id} replaces order {order.increment_id}, edited in "
                f"Magento after the warehouse had started on it: the original's {what}. The "
                f"replacement is held; to send it instead, {_stop_advice(shipments)}."
            )
            _hold_add(
                child,
                Cause(
                    ExceptionKind.EDIT_AFTER_DISPATCH,
                    child.increment_id,
                    message,
                    evidence={"original": order.increment_id, **evidence},
                ),
            )
    else:
        message = (
            f"Order {order.increment_id} was cancelled in Magento on "
            f"{_day(order.magento_updated_at)} after the warehouse had started on it: {what}. "
            f"To stop it: {_stop_advice(shipments)}."
        )
        with transaction.atomic():
            exception = exception_raise(
                kind=ExceptionKind.CANCEL_AFTER_DISPATCH,
                subject=order.increment_id,
                message=message,
                system=System.ERP,
                order_increment_id=order.increment_id,
                evidence=evidence,
                amount=order.grand_total,
                currency=order.currency_code,
            )
            cx_tell(exception)
    Order.objects.filter(pk=order.pk).update(magento_state_followed=CANCELED)
    exception_auto_resolve(
        kind=ExceptionKind.HOLD_AFTER_POSTING,
        subject=order.increment_id,
        note="Magento cancelled the order; see its cancellation.",
    )
    return True


def order_cancel_follow(*, order: Order, erp: ErpAdapter) -> tuple[CancelStatus, list[int]]:
    """Carry Magento's cancel of a posted order into the ERP; (what happened, the pks of
    replacements a now-cancelled original was holding, to post now)."""
    note = (
        f"Cancelled in Magento on {_day(order.magento_updated_at)}: the exception desk cancelled "
        "this sale's unpicked shipment and unposted invoice."
    )
    result = erp.sale_cancel(order.increment_id, note=note)
    if result.status == CancelStatus.TOO_LATE:
        _too_late_record(order, result.shipments)
        return result.status, []
    # NOT_FOUND: no live sale left (cancelled in the ERP by a person): nothing will ship.
    return result.status, _cancelled_record(order)


def orders_hold_follow(*, erp: ErpAdapter) -> tuple[int, int]:
    """Holds placed (raise) and released (resolve) in Magento on posted orders; (raised,
    released)."""
    released = list(
        Order.objects.filter(erp_status=OrderErpStatus.POSTED, magento_state_followed=HOLDED)
        .exclude(state=HOLDED)
        .only("pk", "increment_id")
    )
    for order in released:
        with transaction.atomic():
            Order.objects.filter(pk=order.pk, magento_state_followed=HOLDED).update(
                magento_state_followed=""
            )
            exception_auto_resolve(
                kind=ExceptionKind.HOLD_AFTER_POSTING,
                subject=order.increment_id,
                note="Magento released the hold: the parcel may go.",
            )
    placed = list(
        Order.objects.filter(erp_status=OrderErpStatus.POSTED, state=HOLDED).exclude(
            magento_state_followed=HOLDED
        )
    )
    if not placed:
        return 0, len(released)
    by_reference: dict[str, list[ErpShipment]] = defaultdict(list)
    for shipment in erp.shipments_for_references([o.increment_id for o in placed]):
        by_reference[shipment.sale_reference].append(shipment)
    for order in placed:
        shipments = [s for s in by_reference[order.increment_id] if s.state != "cancelled"]
        gone = [s for s in shipments if s.state in DISPATCHED_STATES]
        if gone:
            advice = (
                f"but {'; '.join(shipment_phrase(s) for s in gone)}: ask the courier to hold "
                "or intercept it"
            )
        elif shipments:
            advice = (
                f"keep its parcel back ({'; '.join(shipment_phrase(s) for s in shipments)}) "
                "until Magento releases it"
            )
        else:
            advice = "keep its parcel back until Magento releases it"
        with transaction.atomic():
            exception_raise(
                kind=ExceptionKind.HOLD_AFTER_POSTING,
                subject=order.increment_id,
                message=(
                    f"Order {order.increment_id} was put on hold in Magento on "
                    f"{_day(order.magento_updated_at)} after it reached the ERP: {advice}."
                ),
                system=System.MAGENTO,
                order_increment_id=order.increment_id,
                evidence={"shipments": _shipments_evidence(shipments)},
                amount=order.grand_total,
                currency=order.currency_code,
            )
            Order.objects.filter(pk=order.pk).update(magento_state_followed=HOLDED)
    return len(placed), len(released)
