"""The five steps of an order's path and the headline an agent reads out first (DESIGN §3, §5)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from cx import parcels, words
from cx.parcels import dispatch_words
from exceptions_app.models import DeskException
from integration.models import Invoice, Order, OrderErpStatus, OrderHold, Shipment

# Magento order states the path treats specially (Magento's own codes, not the desk's).
UNPAID_STATES = frozenset({"new", "pending_payment"})
CANCELED_STATE = "canceled"
# Tryton's customer shipment state for a shipment the warehouse will not send.
SHIPMENT_CANCELLED = "cancelled"


class StepState(models.TextChoices):
    DONE = "done", "done"
    CURRENT = "current", "in progress, nothing wrong"
    BLOCKED = "blocked", "stopped by an exception"
    PENDING = "pending", "not reached yet"
    SKIPPED = "skipped", "will not happen (unpaid, cancelled)"


class Tone(models.TextChoices):
    """How the headline is shown (a Bootstrap alert colour)."""

    SUCCESS = "success", "all done"
    INFO = "info", "on its way"
    WARNING = "warning", "on its way, but something needs fixing"
    DANGER = "danger", "stopped"
    SECONDARY = "secondary", "not going anywhere (unpaid or cancelled)"


@dataclass(frozen=True)
class StepLink:
    exception: DeskException
    label: str  # what the button does, in the owner's words


@dataclass(frozen=True)
class PathStep:
    key: str
    title: str
    state: StepState
    summary: str  # one plain sentence an agent can read out
    details: tuple[str, ...] = ()
    exceptions: tuple[DeskException, ...] = ()  # the exceptions behind a blocked step

    @property
    def links(self) -> tuple[StepLink, ...]:
        return tuple(StepLink(e, words.exception_action(e.kind)) for e in self.exceptions)


@dataclass(frozen=True)
class HoldView:
    hold: OrderHold
    reason: str  # one sentence
    exception: DeskException | None  # the exception reporting the cause, if still on record
    fixing: str  # who is fixing it, in words


@dataclass(frozen=True)
class PathFacts:
    """What the steps and the headline are worked out from."""

    order: Order
    holds_open: tuple[HoldView, ...]
    holds_released: tuple[HoldView, ...]
    shipments: list[Shipment]
    invoices: list[Invoice]
    failed: tuple[DeskException, ...]  # working order_post_failed exceptions
    drift: DeskException | None  # the working status_drift exception, if any
    courier_service: str
    line_names: dict[str, str] = field(default_factory=dict)  # SKU -> item name, for parcels

    @property
    def erp(self) -> str:
        return self.order.erp_status

    @property
    def dispatched(self) -> list[Shipment]:
        return [s for s in self.shipments if s.dispatched_at is not None]

    @property
    def in_progress(self) -> list[Shipment]:
        return [
            s
            for s in self.shipments
            if s.dispatched_at is None and s.erp_state != SHIPMENT_CANCELLED
        ]

    @property
    def untold(self) -> list[Shipment]:
        return [s for s in self.dispatched if not s.magento_shipment_id]

    @property
    def not_reached(self) -> StepState:
        """The state of a later step the order has not got to."""
        return StepState.SKIPPED if self.erp == OrderErpStatus.SKIPPED else StepState.PENDING


def parcel_items(shipment: Shipment, facts: PathFacts) -> str:
    return parcels.parcel_items(shipment, facts.line_names)


def parcel_words(shipment: Shipment, facts: PathFacts) -> str:
    return parcels.parcel_words(shipment, facts.line_names, facts.courier_service)


def _magento_step(facts: PathFacts) -> PathStep:
    order = facts.order
    total = words.money(order.grand_total, order.currency_code)
    placed = (
        f"Placed on {words.day_and_time(order.magento_created_at)}, "
        f"paid by {words.payment_words(order.payment_method)}, total {total}."
    )
    if facts.erp == OrderErpStatus.SKIPPED and order.state in UNPAID_STATES:
        placed = (
            f"Placed on {words.day_and_time(order.magento_created_at)}, "
            f"to be paid by {words.payment_words(order.payment_method)}, total {total}; "
            "not paid yet."
        )
    delivery_option = order.shipping_description or order.shipping_method or "—"
    return PathStep(
        key="magento",
        title="Placed in Magento",
        state=StepState.DONE,
        summary=placed,
        details=(
            f"Magento status: {words.magento_status_words(order.status)}"
            + (f" (state “{order.state}”)." if order.state != order.status else "."),
            f"Delivery option chosen: {delivery_option}.",
        ),
    )


def _desk_step(facts: PathFacts) -> PathStep:
    title = "Checked by the desk"
    released = tuple(
        f"Was held: {h.reason} Released {words.day_and_time(h.hold.released_at)}."
        for h in facts.holds_released
    )
    if facts.erp == OrderErpStatus.NEW:
        return PathStep(
            "desk",
            title,
            StepState.CURRENT,
            "Not checked yet: the desk checks new paid orders every few minutes.",
        )
    if facts.erp == OrderErpStatus.SKIPPED:
        state = facts.order.state
        because = words.SKIPPED_BECAUSE.get(state, f"its Magento state is “{state}”")
        return PathStep(
            "desk",
            title,
            StepState.SKIPPED,
            words.sentence(f"Not sent to the warehouse because {because}"),
        )
    if facts.erp == OrderErpStatus.HELD or facts.holds_open:
        return PathStep(
            "desk",
            title,
            StepState.BLOCKED,
            "On hold: the desk found a problem that stops the order going to the warehouse.",
            details=tuple(f"{h.reason} ({h.fixing})" for h in facts.holds_open) + released,
            exceptions=tuple(h.exception for h in facts.holds_open if h.exception is not None),
        )
    return PathStep(
        "desk",
        title,
        StepState.DONE,
        "Checked: items, delivery option and address are all fine for the warehouse.",
        details=released,
    )


def _erp_step(facts: PathFacts) -> PathStep:
    order = facts.order
    title = "In the ERP"
    if facts.erp == OrderErpStatus.POSTED:
        sale = order.erp_sale_id or "(number not recorded)"
        return PathStep(
            "erp",
            title,
            StepState.DONE,
            f"In the ERP as sale {sale} since {words.day_and_time(order.erp_posted_at)}."
            if order.erp_posted_at
            else f"In the ERP as sale {sale}.",
            details=tuple(
                f"Invoice {inv.number or inv.erp_invoice_id}: "
                f"{words.money(inv.total_amount, inv.currency_code)} ({inv.state})."
                for inv in facts.invoices
            ),
        )
    if facts.erp == OrderErpStatus.FAILED:
        return PathStep(
            "erp",
            title,
            StepState.BLOCKED,
            "Not yet: the ERP refused the order; the operations team is fixing it.",
            details=tuple(e.message for e in facts.failed),
            exceptions=facts.failed,
        )
    if facts.erp == OrderErpStatus.SKIPPED:
        return PathStep("erp", title, StepState.SKIPPED, "Not sent: see the desk's check above.")
    if facts.erp == OrderErpStatus.HELD or facts.holds_open:
        return PathStep(
            "erp",
            title,
            StepState.PENDING,
            "Not yet: it goes to the ERP as soon as the hold above is cleared.",
        )
    return PathStep(
        "erp", title, StepState.PENDING, "Not yet: it is sent right after the desk's check."
    )


def _warehouse_step(facts: PathFacts) -> PathStep:
    title = "Picked and dispatched by the warehouse"
    dispatched, in_progress = facts.dispatched, facts.in_progress
    if dispatched and in_progress:
        parcels = len(dispatched) + len(in_progress)
        return PathStep(
            "warehouse",
            title,
            StepState.CURRENT,
            words.sentence(
                f"Partly dispatched: {len(dispatched)} of {parcels} parcels have left, the rest "
                f"is {words.shipment_state_words(in_progress[0].erp_state)}"
            ),
            details=tuple(parcel_words(s, facts) for s in [*dispatched, *in_progress]),
        )
    if len(dispatched) > 1:
        return PathStep(
            "warehouse",
            title,
            StepState.DONE,
            words.sentence(
                f"Dispatched in {len(dispatched)} parcels, the last "
                + dispatch_words(dispatched[-1], facts.courier_service)
            ),
            details=tuple(parcel_words(s, facts) for s in dispatched),
        )
    if dispatched:
        return PathStep(
            "warehouse",
            title,
            StepState.DONE,
            words.sentence(dispatch_words(dispatched[-1], facts.courier_service)),
            details=tuple(
                words.sentence(
                    f"Parcel {s.erp_shipment_id}: {dispatch_words(s, facts.courier_service)}"
                )
                for s in dispatched[:-1]
            )
            + tuple(
                f"Parcel {s.erp_shipment_id}: {words.shipment_state_words(s.erp_state)}."
                for s in in_progress
            ),
        )
    if in_progress:
        return PathStep(
            "warehouse",
            title,
            StepState.CURRENT,
            words.sentence(
                f"In the warehouse: {words.shipment_state_words(in_progress[0].erp_state)}"
            ),
        )
    if facts.erp == OrderErpStatus.POSTED:
        courier = facts.courier_service
        return PathStep(
            "warehouse",
            title,
            StepState.CURRENT,
            "Waiting for the warehouse to pick, pack and dispatch it.",
            details=(f"Delivery with {courier}.",) if courier else (),
        )
    return PathStep(
        "warehouse",
        title,
        facts.not_reached,
        "Not yet: the warehouse picks it once it is in the ERP.",
    )


def _told_step(facts: PathFacts) -> PathStep:
    title = "Magento told of the shipment"
    dispatched, untold = facts.dispatched, facts.untold
    if dispatched and not untold:
        last = dispatched[-1]
        when = f" on {words.day_and_time(last.pushed_at)}" if last.pushed_at else ""
        return PathStep(
            "told",
            title,
            StepState.DONE,
            f"Magento was told{when}: the customer can see the tracking number in their account.",
        )
    if untold and facts.drift is not None:
        return PathStep(
            "told",
            title,
            StepState.BLOCKED,
            "Not yet: Magento has not been told about the shipment, so the customer has no "
            "tracking details; customer service is fixing it.",
            exceptions=(facts.drift,),
        )
    if untold:
        return PathStep(
            "told",
            title,
            StepState.CURRENT,
            "Not yet: the desk tells Magento within a few minutes of dispatch.",
        )
    return PathStep(
        "told",
        title,
        facts.not_reached,
        "Not yet: Magento is told once the warehouse has dispatched it.",
    )


def path_steps(facts: PathFacts) -> tuple[PathStep, ...]:
    """Placed in Magento, checked by the desk, in the ERP, dispatched, Magento told."""
    return (
        _magento_step(facts),
        _desk_step(facts),
        _erp_step(facts),
        _warehouse_step(facts),
        _told_step(facts),
    )


def path_headline(facts: PathFacts, steps: tuple[PathStep, ...]) -> tuple[str, Tone]:
    """Where the order is and, if stopped, what stops it: what an agent says first."""
    order = facts.order
    desk, warehouse = steps[1], steps[3]
    if order.state == CANCELED_STATE:
        return (
            f"Cancelled in Magento (last update {words.day(order.magento_updated_at)}).",
            Tone.SECONDARY,
        )
    if facts.dispatched:
        text = words.sentence(dispatch_words(facts.dispatched[-1], facts.courier_service))
        if facts.in_progress:
            rest = ", ".join(filter(None, (parcel_items(s, facts) for s in facts.in_progress)))
            text = words.sentence(
                "Partly dispatched: one parcel "
                + dispatch_words(facts.dispatched[-1], facts.courier_service)
                + "; the rest"
                + (f" ({rest})" if rest else "")
                + f" is {words.shipment_state_words(facts.in_progress[0].erp_state)}"
            )
        elif len(facts.dispatched) > 1:
            text = words.sentence(
                f"Dispatched in {len(facts.dispatched)} parcels: "
                + "; ".join(dispatch_words(s, facts.courier_service) for s in facts.dispatched)
            )
        if facts.untold and facts.drift is not None:
            return (
                text[:-1]
                + (
                    " — but Magento has not been told, so the customer has no tracking email yet: "
                    "customer service is fixing it."
                ),
                Tone.WARNING,
            )
        return text, Tone.INFO if facts.in_progress else Tone.SUCCESS
    holds_open = facts.holds_open
    if holds_open:
        first = holds_open[0]
        more = f" (and {len(holds_open) - 1} more problem{'s' if len(holds_open) > 2 else ''})"
        reason = first.reason[0].lower() + first.reason[1:-1]
        text = f"Waiting: {reason} — {first.fixing}{more if len(holds_open) > 1 else ''}."
        return text, Tone.DANGER
    if facts.erp == OrderErpStatus.FAILED:
        return "Waiting: the ERP refused the order — the operations team is fixing it.", Tone.DANGER
    if facts.erp == OrderErpStatus.SKIPPED:
        return desk.summary, Tone.SECONDARY
    if facts.in_progress:
        return warehouse.summary, Tone.INFO
    if facts.erp == OrderErpStatus.POSTED:
        since = words.day(order.erp_posted_at)
        where = f"With the warehouse since {since}" if since else "With the warehouse"
        return f"{where}, waiting to be picked and dispatched.", Tone.INFO
    return "Received: the desk will check it and send it to the warehouse shortly.", Tone.INFO
