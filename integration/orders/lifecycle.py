"""The order lifecycle after the first post: what Magento changed, carried into the ERP.

Run at the start of every orders-out run (before new orders are posted, so an edited order's
original is cancelled before its replacement goes out):

- holds placed and released in Magento on posted orders (`cancels.orders_hold_follow`);
- cancellations of posted orders: the ERP sale cancelled, or the parcel to stop reported
  (`cancels.order_cancel_follow`); orders reported earlier are looked at again while their
  exception is worked, so a parcel the warehouse stopped settles by itself.

`orders_wanted` is the guard in front of every post (the flow's and each replay's): an order
cancelled, held or under payment review in Magento is never posted; one Magento shipped
meanwhile is history, never the warehouse's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from exceptions_app.models import WORKING_STATUSES, DeskException, ExceptionKind
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.erp import CancelStatus, ErpAdapter, ErpRejected
from integration.models import Order, OrderErpStatus, OrderHold
from integration.orders.cancels import CANCELED, order_cancel_follow, orders_hold_follow
from integration.orders.history import HISTORY_STATES, HistoryPosting, history_posting
from integration.orders.holds import holds_release
from integration.orders.payload import PAID_STATES
from integration.orders.posting import PostOutcome, PostStatus

# Why an order Magento no longer wants posted is skipped, by its Magento state.
NOT_WANTED_BECAUSE = {
    "canceled": "was cancelled in Magento",
    "holded": "was put on hold in Magento",
    "payment_review": "is under payment review in Magento",
}


@dataclass
class LifecycleResult:
    cancelled: int = 0  # ERP sales cancelled
    too_late: int = 0  # cancels the warehouse got ahead of (reported or looked at again)
    holds_raised: int = 0
    holds_released: int = 0
    # To process again in this run: replacements whose original's sale is now cancelled, and
    # held orders Magento changed (cancelled, held, fulfilled) since they were held.
    reprocess: list[int] = field(default_factory=list)
    # Orders the ERP could not be asked about this time (tried again on the next run).
    failed: list[tuple[str, ErpRejected | ConnectorError]] = field(default_factory=list)


def _cancel_candidates() -> list[Order]:
    """Posted orders Magento has cancelled: new ones, and those whose exception is worked."""
    reported = DeskException.objects.filter(
        kind=ExceptionKind.CANCEL_AFTER_DISPATCH, status__in=WORKING_STATUSES
    ).values("subject")
    held_replacements = OrderHold.objects.filter(
        kind=ExceptionKind.EDIT_AFTER_DISPATCH, released_at__isnull=True
    ).values("order__relation_parent_id")
    return list(
        Order.objects.filter(erp_status=OrderErpStatus.POSTED, state=CANCELED)
        .filter(
            ~Q(magento_state_followed=CANCELED)
            | Q(increment_id__in=reported)
            | Q(entity_id__in=held_replacements)
        )
        .defer("payload")
        .order_by("pk")
    )


def _held_but_changed() -> list[int]:
    """Held or failed orders Magento has cancelled, held, or fulfilled itself since: the guard
    settles them (skipped, or history) when they are processed again."""
    return list(
        Order.objects.filter(erp_status__in=[OrderErpStatus.HELD, OrderErpStatus.FAILED])
        .exclude(state__in=PAID_STATES - HISTORY_STATES)
        .exclude(fulfilled_outside=True)
        .values_list("pk", flat=True)
    )


def orders_lifecycle(*, erp: ErpAdapter) -> LifecycleResult:
    """Carry Magento's holds and cancels of posted orders into the ERP (see the module doc)."""
    result = LifecycleResult(reprocess=_held_but_changed())
    result.holds_raised, result.holds_released = orders_hold_follow(erp=erp)
    for order in _cancel_candidates():
        try:
            status, released = order_cancel_follow(order=order, erp=erp)
        except CircuitOpenError:
            raise
        except (ErpRejected, ConnectorError) as exc:
            # Nothing recorded: the order stays posted and cancelled, so the next run asks again.
            result.failed.append((order.increment_id, exc))
            continue
        if status == CancelStatus.TOO_LATE:
            result.too_late += 1
        else:
            result.cancelled += 1
            result.reprocess += released
    return result


def _skip(order: Order, because: str, status: OrderErpStatus) -> PostOutcome:
    """Not for the ERP after all: the order is skipped (or history) and its holds released."""
    note = f"Order {order.increment_id} {because}: it will not be posted."
    with transaction.atomic():
        Order.objects.filter(
            pk=order.pk,
            erp_status__in=[OrderErpStatus.NEW, OrderErpStatus.HELD, OrderErpStatus.FAILED],
        ).update(erp_status=status, fulfilled_outside=order.fulfilled_outside)
        holds_release(
            OrderHold.objects.filter(order_id=order.pk, released_at__isnull=True),
            notes={order.pk: note},
        )
    order.erp_status = status
    return PostOutcome(PostStatus.SKIPPED, note)


def orders_wanted(orders: Sequence[Order]) -> tuple[list[Order], list[tuple[Order, PostOutcome]]]:
    """The orders still to post, and the outcome of each one Magento no longer wants posted.

    Reads the mirror only (the state the last pull saw): a change after that is carried by the
    lifecycle on the next run.
    """
    keep: list[Order] = []
    settled: list[tuple[Order, PostOutcome]] = []
    for order in orders:
        if order.fulfilled_outside or order.state in PAID_STATES - HISTORY_STATES:
            keep.append(order)
        elif order.state in HISTORY_STATES:
            # Shipped or closed by Magento while it waited here: history, not the warehouse's.
            order.fulfilled_outside = True
            if history_posting() == HistoryPosting.BOOKS:
                Order.objects.filter(pk=order.pk).update(fulfilled_outside=True)
                keep.append(order)
            else:
                because = "was fulfilled in Magento meanwhile"
                settled.append((order, _skip(order, because, OrderErpStatus.HISTORY)))
        else:
            because = NOT_WANTED_BECAUSE.get(order.state, f"is “{order.state}” in Magento")
            settled.append((order, _skip(order, because, OrderErpStatus.SKIPPED)))
    return keep, settled
