"""The order's life beyond "a new paid order goes to the warehouse", in words an agent reads out:
history Magento fulfilled before the desk went live, cancellations (before posting, with the
ERP sale cancelled, or with the parcel being stopped), edited orders (each linked to the
other) and holds (waiting in Magento, or a parcel held after posting).

`lifecycle_headline` says it first when it applies; `lifecycle_steps` corrects the steps that
would otherwise say "not yet"; `lifecycle_phrase` is the lookup's one phrase.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.urls import reverse

from cx import words
from cx.path_steps import PathFacts, PathStep, StepState, Tone
from exceptions_app.models import DeskException, ExceptionKind
from integration.models import Order, OrderErpStatus

CANCELED, HOLDED, REVIEW, CLOSED = "canceled", "holded", "payment_review", "closed"
DISPATCHED = frozenset({"shipped", "done"})


@dataclass(frozen=True)
class Relative:
    """The other order of an edit: the one this replaces, or the one replacing it."""

    increment_id: str
    replaces: bool  # True: this order replaces it; False: it replaces this order

    @property
    def url(self) -> str:
        return reverse("cx:order_detail", args=[self.increment_id])

    @property
    def sentence(self) -> str:
        if self.replaces:
            return f"Replaces order #{self.increment_id}, edited in Magento."
        return f"Edited in Magento: replaced by order #{self.increment_id}."


@dataclass(frozen=True)
class Lifecycle:
    relatives: tuple[Relative, ...]
    cancel: DeskException | None  # the working cancel_after_dispatch exception
    hold: DeskException | None  # the working hold_after_posting exception

    @property
    def replaced_by(self) -> Relative | None:
        return next((r for r in self.relatives if not r.replaces), None)


def order_relatives(order: Order) -> tuple[Relative, ...]:
    """The orders an edit links this one to (one small query, none when it was not edited)."""
    ids = [i for i in (order.relation_parent_id, order.relation_child_id) if i]
    if not ids:
        return ()
    found = dict(Order.objects.filter(entity_id__in=ids).values_list("entity_id", "increment_id"))
    relatives = []
    if order.relation_parent_id in found:
        relatives.append(Relative(found[order.relation_parent_id], replaces=True))
    if order.relation_child_id in found:
        relatives.append(Relative(found[order.relation_child_id], replaces=False))
    return tuple(relatives)


def lifecycle_for(order: Order, exceptions: list[DeskException]) -> Lifecycle:
    def working(kind: str) -> DeskException | None:
        return next((e for e in exceptions if e.kind == kind and e.is_working), None)

    return Lifecycle(
        relatives=order_relatives(order),
        cancel=working(ExceptionKind.CANCEL_AFTER_DISPATCH),
        hold=working(ExceptionKind.HOLD_AFTER_POSTING),
    )


def tracks_words(tracks: list[dict] | None) -> str:
    """ "tracking TT123456785GB (Royal Mail Tracked 24)", or "" with no tracks."""
    said = [
        f"{t['number']} ({t['title']})" if t.get("title") else t["number"]
        for t in tracks or []
        if t.get("number")
    ]
    if not said:
        return ""
    return "tracking " + (said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1])


def history_words(order: Order) -> str:
    """What Magento did with an order it fulfilled before the desk saw it, as a sentence."""
    if order.magento_tracks is None:
        return "Fulfilled by Magento before the desk went live; its shipment is being looked up."
    if order.magento_shipped_at:
        tracking = tracks_words(order.magento_tracks) or "no tracking number recorded"
        text = f"Shipped by Magento on {words.day(order.magento_shipped_at)}, {tracking}."
        if order.state == CLOSED:
            text += " It has since been refunded and closed in Magento."
        return text
    if order.state == CLOSED:
        return (
            f"Refunded and closed in Magento (last update {words.day(order.magento_updated_at)}); "
            "nothing was shipped."
        )
    return "Completed in Magento before the desk went live; there was nothing to ship."


def _cancel_words(order: Order, life: Lifecycle) -> tuple[str, Tone]:
    on = words.day(order.magento_updated_at)
    status = order.erp_status
    edited = life.replaced_by
    if edited is not None:
        lead = f"Edited in Magento on {on}: replaced by order #{edited.increment_id}"
        if status == OrderErpStatus.CANCELLED:
            return f"{lead}; this order's ERP sale was cancelled, so only the new one is sent.", (
                Tone.SECONDARY
            )
        if status == OrderErpStatus.POSTED:
            return (
                f"{lead}; this one had already been packed or dispatched, so the operations team "
                "is checking which parcel the customer gets."
            ), Tone.WARNING
        return f"{lead}; this one never went to the warehouse.", Tone.SECONDARY
    if status == OrderErpStatus.CANCELLED:
        return (
            f"Cancelled in Magento on {on}; the warehouse had not picked it, so its ERP sale was "
            "cancelled and nothing will be sent."
        ), Tone.SECONDARY
    if status == OrderErpStatus.POSTED and life.cancel is not None:
        shipments = (life.cancel.evidence or {}).get("shipments") or []
        gone = [s for s in shipments if s.get("state") in DISPATCHED]
        if gone:
            tracking = gone[0].get("tracking")
            return (
                f"Cancelled in Magento on {on} after it was dispatched"
                + (f" (tracking {tracking})" if tracking else "")
                + ": the operations team is asking the courier to intercept it, or it comes "
                "back as a return."
            ), Tone.WARNING
        return (
            f"Cancelled in Magento on {on} after the warehouse had packed it: the warehouse has "
            "been asked to stop the parcel (the operations team is on it)."
        ), Tone.WARNING
    if status == OrderErpStatus.POSTED:
        return (
            f"Cancelled in Magento on {on} after the warehouse had started on it; the "
            "operations team has dealt with the parcel."
        ), Tone.SECONDARY
    return f"Cancelled in Magento on {on} before it reached the warehouse: nothing was sent.", (
        Tone.SECONDARY
    )


def lifecycle_headline(facts: PathFacts, life: Lifecycle) -> tuple[str, Tone] | None:
    """The headline when the order's lifecycle is what the customer is asking about."""
    order = facts.order
    if order.fulfilled_outside:
        return history_words(order), Tone.SUCCESS
    if order.state == CANCELED:
        return _cancel_words(order, life)
    if order.state == HOLDED and facts.erp == OrderErpStatus.POSTED:
        on = words.day(order.magento_updated_at)
        if facts.dispatched:
            return (
                f"Put on hold in Magento on {on}, but it had already been dispatched on "
                f"{words.day(facts.dispatched[-1].dispatched_at)}: the operations team is asking "
                "the courier to hold it."
            ), Tone.WARNING
        return (
            f"Put on hold in Magento on {on} after it reached the warehouse: the warehouse has "
            "been asked to hold the parcel (the operations team is on it)."
        ), Tone.WARNING
    if order.state == HOLDED and facts.erp == OrderErpStatus.SKIPPED:
        return (
            "On hold in Magento: the order waits here and goes to the warehouse as soon as "
            "Magento releases it."
        ), Tone.SECONDARY
    if order.state == REVIEW and facts.erp == OrderErpStatus.SKIPPED:
        return (
            "Payment under review in Magento: the order waits here and goes to the warehouse "
            "once the payment is accepted."
        ), Tone.SECONDARY
    return None


def _history_steps(facts: PathFacts, steps: list[PathStep]) -> None:
    order = facts.order
    shipped = history_words(order)
    if not facts.holds_open:
        steps[1] = replace(
            steps[1],
            state=StepState.DONE,
            summary="Fulfilled by Magento before the desk went live: never sent to the warehouse.",
        )
    sale = order.erp_sale_id or "(number not recorded)"
    if facts.erp == OrderErpStatus.POSTED:
        steps[2] = replace(
            steps[2],
            summary=f"In the ERP for the books only as sale {sale}: invoiced, and never "
            "shipped by the warehouse.",
        )
    elif facts.erp == OrderErpStatus.HISTORY:
        steps[2] = replace(
            steps[2],
            state=StepState.SKIPPED,
            summary="Not in the ERP: orders Magento fulfilled before go-live are recorded here "
            "only.",
        )
    elif not facts.holds_open:
        steps[2] = replace(steps[2], summary="Not yet: it goes to the ERP for the books only.")
    done = bool(order.magento_shipped_at)
    steps[3] = replace(
        steps[3],
        title="Shipped by Magento",
        state=StepState.DONE if done else StepState.SKIPPED,
        summary=shipped,
    )
    steps[4] = replace(
        steps[4],
        state=StepState.DONE if done else StepState.SKIPPED,
        summary="Magento shipped it itself, so the customer has had the tracking from Magento."
        if done
        else "Nothing to tell Magento: it sent nothing.",
    )


def lifecycle_steps(facts: PathFacts, life: Lifecycle, steps: tuple[PathStep, ...]) -> tuple:
    """The steps, corrected for history, cancellations, edits and holds."""
    out = list(steps)
    if life.relatives:
        out[0] = replace(out[0], details=(*out[0].details, *(r.sentence for r in life.relatives)))
    order = facts.order
    if order.fulfilled_outside:
        _history_steps(facts, out)
    elif facts.erp == OrderErpStatus.CANCELLED:
        sale = order.erp_sale_id or "(number not recorded)"
        on = words.day(order.erp_cancelled_at)
        out[2] = replace(
            out[2],
            state=StepState.SKIPPED,
            summary=f"Sale {sale} was cancelled in the ERP on {on}: its shipment and invoice "
            "were cancelled.",
        )
        out[3] = replace(
            out[3],
            state=StepState.SKIPPED,
            summary="Nothing will be sent: the parcel was cancelled before it was picked.",
        )
        out[4] = replace(out[4], state=StepState.SKIPPED, summary="Nothing to tell Magento.")
    elif order.state == CANCELED and life.cancel is not None:
        out[3] = replace(
            out[3],
            state=StepState.BLOCKED,
            summary="Cancelled after the warehouse had started on it: the parcel is being stopped.",
            details=(life.cancel.message,),
            exceptions=(life.cancel,),
        )
    elif order.state == HOLDED and life.hold is not None:
        out[3] = replace(
            out[3],
            state=StepState.BLOCKED,
            summary="On hold: the warehouse has been asked to keep the parcel back until "
            "Magento releases the hold.",
            details=(life.hold.message,),
            exceptions=(life.hold,),
        )
    return tuple(out)


def lifecycle_phrase(order: Order) -> tuple[str, str] | None:
    """The lookup's phrase (and tone) when the lifecycle says where the order is, else None."""
    if order.fulfilled_outside:
        if order.magento_shipped_at:
            return f"Shipped by Magento on {words.day(order.magento_shipped_at)}", "success"
        if order.state == CLOSED:
            return "Refunded and closed in Magento", "secondary"
        return "Fulfilled by Magento before go-live", "success"
    if order.state == CANCELED:
        if order.relation_child_id:
            return "Edited in Magento: replaced by a new order", "secondary"
        if order.erp_status == OrderErpStatus.CANCELLED:
            return "Cancelled; its ERP sale cancelled too", "secondary"
        if order.erp_status == OrderErpStatus.POSTED:
            return "Cancelled after packing: parcel being stopped", "danger"
        return "Cancelled in Magento before it was sent", "secondary"
    if order.state == HOLDED and order.erp_status == OrderErpStatus.POSTED:
        return "On hold in Magento: parcel held in the warehouse", "danger"
    return None
