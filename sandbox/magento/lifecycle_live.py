"""The live process's lifecycle events: what the store's staff and customers do to orders the
desk has already posted (cancel, edit, hold), planned by `seed_lifecycle`.

Each event waits until it is due and, for an order the desk must have posted first, until the
ERP has its sale (and, for an event after picking, until the warehouse stand-in has packed its
parcel), so `make run` shows the after-posting cases rather than racing the desk. An event the
desk never got to within `patience` happens anyway; its outcome says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sandbox.erp.rest import TrytonRestError
from sandbox.erp.warehouse import order_shipments, pick_and_pack
from sandbox.magento.clock import utcnow
from sandbox.magento.orders.document import save_order
from sandbox.magento.orders.edit import edit_order
from sandbox.magento.orders.pricing import TaxBasis
from sandbox.magento.orders.state import (
    can_cancel,
    can_hold,
    cancel_order,
    hold_order,
    unhold_order,
)
from sandbox.magento.seed_lifecycle import (
    NEEDS_PACKED,
    NEEDS_SALE,
    LiveEvent,
    edited_spec,
    plan_load,
    plan_save,
)
from sandbox.magento.store import Store


class ErpSide(Protocol):
    """What the events ask of the ERP sandbox."""

    def has_sale(self, reference: str) -> bool: ...

    def packed(self, reference: str) -> bool:
        """Pick and pack the order's parcel (not dispatched); True once it is packed."""
        ...


class TrytonSide:
    """The Tryton sandbox, read with the desk's key and worked with the warehouse's."""

    def __init__(self, desk, warehouse) -> None:  # two sandbox.erp.rest.TrytonRest
        self.desk, self.warehouse = desk, warehouse

    def has_sale(self, reference: str) -> bool:
        return bool(self.desk.search("sale.sale", [["reference", "=", reference]], ["state"]))

    def packed(self, reference: str) -> bool:
        shipments = order_shipments(self.desk, reference)
        if not shipments:
            return False  # Tryton makes the shipment when it processes the sale
        return all(pick_and_pack(self.warehouse, s) == "packed" for s in shipments)


def _apply(store: Store, event: LiveEvent, *, now: datetime, basis: TaxBasis) -> str:
    order = store.get_doc("orders", event.entity_id)
    if order is None:
        return "the order is gone"
    if event.event in ("cancel", "cancel_after_pick"):
        if not can_cancel(order):
            return f"Magento cannot cancel it ({order['state']})"
        cancel_order(store, order, now=now)
        save_order(store, order)
        return "cancelled in Magento"
    if event.event in ("edit", "edit_after_pick"):
        spec = edited_spec(store, event.spec_seed, now=now)
        replacement = edit_order(store, order, spec, now=now, basis=basis)
        return f"edited in Magento: replaced by {replacement['increment_id']}"
    if event.event == "hold":
        if not can_hold(order):
            return f"Magento cannot hold it ({order['state']})"
        hold_order(order, now=now)
        save_order(store, order)
        return "put on hold in Magento"
    if event.event == "unhold":
        if order["state"] != "holded":
            return f"not on hold ({order['state']})"
        unhold_order(order, now=now)
        save_order(store, order)
        return "released from hold in Magento"
    raise ValueError(f"unknown lifecycle event {event.event!r}")


class Director:
    """Runs the planned events as they fall due; `tick` is called on every live loop."""

    def __init__(
        self,
        store: Store,
        erp: ErpSide | None,
        *,
        basis: TaxBasis = TaxBasis.TOTAL_BASE,
        patience: float = 900.0,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = print,
    ) -> None:
        self.store, self.erp, self.basis, self.patience = store, erp, basis, patience
        self.clock, self.monotonic, self.log = clock, monotonic, log
        self.started = monotonic()

    def _ready(self, event: LiveEvent, waited: float) -> tuple[bool, str]:
        """Whether the event may happen now, and a note when it happens without the desk."""
        if self.erp is None or event.event not in NEEDS_SALE:
            return True, ""
        late = waited >= self.patience
        try:
            if not self.erp.has_sale(event.increment_id):
                return late, " (the desk had not posted it)"
            if event.event in NEEDS_PACKED and not self.erp.packed(event.increment_id):
                return late, " (its parcel could not be packed)"
        except (TrytonRestError, ValueError) as exc:
            return late, f" (the ERP sandbox refused: {exc})"
        return True, ""

    def tick(self) -> list[LiveEvent]:
        """Run every event that is due and ready; returns those done now."""
        elapsed = self.monotonic() - self.started
        plan = plan_load(self.store)
        done = []
        for event in plan:
            if event.done or elapsed < event.due_after:
                continue
            ready, note = self._ready(event, elapsed - event.due_after)
            if not ready:
                continue
            with self.store.transaction():
                event.outcome = _apply(self.store, event, now=self.clock(), basis=self.basis) + note
            event.done = True
            done.append(event)
            self.log(f"lifecycle: order {event.increment_id} {event.event}: {event.outcome}")
        if done:
            plan_save(self.store, plan)
        return done
