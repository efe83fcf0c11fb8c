"""Holds: an order that fails validation waits under one hold per cause, each cause with its
exception; a hold whose cause is gone is released, and the exception of a cause that holds no
order any more resolves itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.db import transaction
from django.utils import timezone

from exceptions_app.models import ExceptionKind, System
from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.models import Order, OrderErpStatus, OrderHold
from integration.orders.validation import Cause

CauseKey = tuple[str, str]  # (kind, subject): the exception's fingerprint


def cause_raise(order: Order, cause: Cause, *, evidence: Mapping | None = None) -> None:
    """One occurrence of the cause's exception, naming the order, the field and the money."""
    details = {"field": cause.field, "order": order.increment_id, **(evidence or {})}
    if cause.kind == ExceptionKind.ADDRESS_INVALID:
        details["fields"] = cause.field.split(", ")
    exception_raise(
        kind=cause.kind,
        subject=cause.subject,
        message=cause.message,
        system=System.ERP if cause.kind == ExceptionKind.ORDER_POST_FAILED else System.INTEGRATION,
        order_increment_id=order.increment_id,
        sku=cause.sku,
        evidence=details,
        amount=order.grand_total,
        currency=order.currency_code,
    )


def _holds_close(holds: Iterable[OrderHold], notes: Mapping[int, str]) -> dict[CauseKey, str]:
    """Release the holds; the causes that now hold no order, each with the note of the order
    whose release cleared it (`notes` by order pk)."""
    now = timezone.now()
    released: dict[CauseKey, str] = {}
    for hold in holds:
        hold.released_at = now
        hold.save(update_fields=["released_at"])
        released[(hold.kind, hold.subject)] = notes[hold.order_id]
    return {
        (kind, subject): note
        for (kind, subject), note in released.items()
        if not OrderHold.objects.filter(
            kind=kind, subject=subject, released_at__isnull=True
        ).exists()
    }


def _exceptions_settle(
    resolved: Mapping[CauseKey, str], raised: Sequence[tuple[Order, Cause]]
) -> None:
    """Resolve and raise the causes' exceptions, one fingerprint after another in sorted order:
    every transaction that holds orders locks exception rows in that one order, so two
    workers never each hold a row the other waits for."""
    by_key: dict[CauseKey, list[tuple[Order, Cause]]] = defaultdict(list)
    for order, cause in raised:
        by_key[(cause.kind, cause.subject)].append((order, cause))
    for key in sorted(resolved.keys() | by_key.keys()):
        if key in resolved:
            exception_auto_resolve(kind=key[0], subject=key[1], note=resolved[key])
        for order, cause in by_key.get(key, ()):
            cause_raise(order, cause, evidence=cause.evidence)


def holds_release(holds: Iterable[OrderHold], *, notes: Mapping[int, str]) -> None:
    """Release holds (`notes`: the timeline note for each order, by pk); an exception whose
    last held order is released resolves itself."""
    _exceptions_settle(_holds_close(holds, notes), [])


@transaction.atomic
def orders_hold(*, holds: Sequence[tuple[Order, Sequence[Cause]]]) -> None:
    """Hold orders: one hold and one exception occurrence per new cause; stale ones go.

    A batch at a time, in one transaction: the rows are locked and the open holds read in one
    query each, new holds inserted together. Nothing here waits on another system, so the
    transaction stays short.
    """
    ids = [order.pk for order, _ in holds]
    # Locked in primary-key order: two workers holding overlapping batches queue behind each
    # other instead of each locking part and waiting for the rest (a deadlock).
    status = dict(
        Order.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "erp_status")
    )
    open_holds: dict[int, dict[CauseKey, OrderHold]] = defaultdict(dict)
    for hold in OrderHold.objects.filter(order_id__in=ids, released_at__isnull=True):
        open_holds[hold.order_id][(hold.kind, hold.subject)] = hold
    new_holds: list[OrderHold] = []
    to_raise: list[tuple[Order, Cause]] = []
    stale: list[OrderHold] = []
    held: list[int] = []
    for order, causes in holds:
        if order.pk not in status:
            raise Order.DoesNotExist(f"order {order.increment_id} (pk {order.pk}) is gone")
        if status[order.pk] == OrderErpStatus.POSTED:
            continue
        current = open_holds.get(order.pk, {})
        wanted = {(c.kind, c.subject): c for c in causes}
        stale += [h for key, h in current.items() if key not in wanted]
        for key, cause in wanted.items():
            if key not in current:
                new_holds.append(
                    OrderHold(
                        order=order,
                        kind=cause.kind,
                        subject=cause.subject,
                        field=cause.field,
                        message=cause.message,
                    )
                )
                to_raise.append((order, cause))
        held.append(order.pk)
    # Settled before this batch's new holds exist, as each order's release always was.
    resolved = _holds_close(
        stale,
        {order.pk: f"Order {order.increment_id} no longer has this problem." for order, _ in holds},
    )
    OrderHold.objects.bulk_create(new_holds)
    _exceptions_settle(resolved, to_raise)
    Order.objects.filter(pk__in=held).update(erp_status=OrderErpStatus.HELD)
    for order, _ in holds:
        if order.pk in held:
            order.erp_status = OrderErpStatus.HELD
