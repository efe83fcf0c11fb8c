"""The order page's presenter: one order's records as sentences an agent can read out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from cx import words
from cx.couriers import TrackingLink, tracking_link
from cx.lifecycle import Relative, lifecycle_for, lifecycle_headline, lifecycle_steps
from cx.path_steps import (
    HoldView,
    PathFacts,
    PathStep,
    StepState,
    Tone,
    path_headline,
    path_steps,
)
from cx.refunds import credit_memos_for, refund_headline, refund_steps
from cx.selectors import OrderRecords, order_records
from cx.step_timing import TimedStep, steps_timed
from exceptions_app.models import DeskException, ExceptionKind, Team
from integration.models import AddressType, Order, OrderAddress, OrderHold, OrderLine, Shipment

DONE = "done"  # OrderPath.current once every step is done


@dataclass(frozen=True)
class ExceptionView:
    exception: DeskException
    reason: str  # one sentence


@dataclass(frozen=True)
class LineView:
    line: OrderLine
    is_child: bool


@dataclass(frozen=True)
class AddressChange:
    label: str
    original: str
    corrected: str


@dataclass(frozen=True)
class AddressLine:
    text: str
    flagged: bool  # the field an open address_invalid hold names


@dataclass(frozen=True)
class AddressView:
    label: str
    address: OrderAddress
    lines: tuple[AddressLine, ...]
    changes: tuple[AddressChange, ...]
    problem: str = ""  # what the warehouse cannot use, while the order is held for it


@dataclass(frozen=True)
class OrderPath:
    order: Order
    headline: str  # the current step, as one sentence
    tone: Tone  # how the headline is shown
    current: str  # key of the step the order is at (or DONE)
    steps: tuple[PathStep, ...]
    lines: tuple[LineView, ...]
    addresses: tuple[AddressView, ...]
    shipments: tuple[Shipment, ...]
    holds_open: tuple[HoldView, ...]
    holds_released: tuple[HoldView, ...]
    exceptions_open: tuple[ExceptionView, ...]  # due soonest first
    exceptions_closed: tuple[ExceptionView, ...]
    timed_steps: tuple[TimedStep, ...] = ()  # the steps with their time, source and SLA
    tracking: tuple[TrackingLink, ...] = ()  # one per dispatched parcel with a number
    relatives: tuple[Relative, ...] = ()  # an edited order's original, or its replacement

    @property
    def magento_status(self) -> str:
        return words.magento_status_words(self.order.status)


ADDRESS_LABELS = {
    "name": "Name",
    "firstname": "First name",
    "lastname": "Last name",
    "company": "Company",
    "street": "Street",
    "city": "Town / city",
    "region": "County / region",
    "postcode": "Postcode",
    "country_id": "Country",
    "telephone": "Phone",
    "email": "Email",
}

# Who fixes a hold whose exception record is gone (purged): the DESIGN §4 owners.
_KIND_TEAM = {ExceptionKind.ADDRESS_INVALID: Team.CX, ExceptionKind.STATUS_DRIFT: Team.CX}

# Kinds whose meaning for the order is the reason they hold it.
_HOLDING_KINDS = frozenset(
    {
        ExceptionKind.SKU_UNKNOWN,
        ExceptionKind.SKU_INACTIVE,
        ExceptionKind.CARRIER_UNMAPPED,
        ExceptionKind.ORDER_POST_FAILED,
        ExceptionKind.EDIT_AFTER_DISPATCH,
    }
)


def _address_value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if v)
    return "" if value is None else str(value)


def _address_view(address: OrderAddress, *, flagged: frozenset[str] = frozenset()) -> AddressView:
    rows = [
        (f"{address.firstname} {address.lastname}".strip(), "name"),
        (address.company, "company"),
        *[(str(s), "street") for s in (address.street or []) if s],
        (address.city, "city"),
        (address.region, "region"),
        (address.postcode, "postcode"),
        (words.country_words(address.country_id), "country_id"),
        (f"Phone: {address.telephone}" if address.telephone else "", "telephone"),
    ]
    lines = [AddressLine(text, field in flagged) for text, field in rows if text]
    shown = {field for text, field in rows if text}
    for field in sorted(flagged - shown):  # an empty field the warehouse needs: say so
        lines.append(AddressLine(f"({ADDRESS_LABELS.get(field, field)} missing)", True))
    changes = []
    if isinstance(address.original, dict):
        for field, label in ADDRESS_LABELS.items():
            if field not in address.original:
                continue
            before = _address_value(address.original.get(field))
            after = _address_value(getattr(address, field))
            if before != after:
                changes.append(AddressChange(label, before or "(empty)", after or "(empty)"))
    return AddressView(
        label=address.get_address_type_display(),
        address=address,
        lines=tuple(lines),
        changes=tuple(changes),
        problem=words.sentence(words.address_problem(sorted(flagged))) if flagged else "",
    )


def _line_views(lines: list[OrderLine]) -> tuple[LineView, ...]:
    """Parents in Magento's order, each followed by its children (configurable / bundle)."""
    children: dict[int, list[OrderLine]] = {}
    parents_present = {line.item_id for line in lines}
    top = []
    for line in lines:
        if line.parent_item_id is not None and line.parent_item_id in parents_present:
            children.setdefault(line.parent_item_id, []).append(line)
        else:
            top.append(line)
    ordered: list[LineView] = []
    for line in top:
        ordered.append(LineView(line, is_child=False))
        ordered.extend(LineView(child, is_child=True) for child in children.get(line.item_id, []))
    return tuple(ordered)


def _exception_reason(exception: DeskException, order: Order) -> str:
    """One sentence on what an exception means for this order."""
    kind = exception.kind
    evidence = exception.evidence if isinstance(exception.evidence, dict) else None
    if kind == ExceptionKind.ADDRESS_INVALID:
        fields = evidence.get("fields") if evidence else None
        if not fields and evidence:
            fields = [f for f in str(evidence.get("field", "")).split(",") if f.strip()]
        return words.sentence(words.address_problem(fields or []))
    if kind in _HOLDING_KINDS:
        return words.sentence(
            words.hold_reason(
                kind=kind,
                field="",
                subject=exception.sku or exception.subject,
                shipping_description=order.shipping_description,
            )
        )
    return words.sentence(words.EXCEPTION_MEANS.get(kind, exception.get_kind_display()))


def _hold_views(records: OrderRecords) -> tuple[tuple[HoldView, ...], tuple[HoldView, ...]]:
    """The order's open and released holds, each with the exception reporting its cause."""
    by_fingerprint: dict[str, DeskException] = {}
    for exception in records.exceptions:  # newest first: keep the live one, else the latest
        current = by_fingerprint.get(exception.fingerprint)
        if current is None or (exception.is_working and not current.is_working):
            by_fingerprint[exception.fingerprint] = exception

    def view(hold: OrderHold) -> HoldView:
        exception = by_fingerprint.get(f"{hold.kind}:{hold.subject}")
        reason = words.hold_reason(
            kind=hold.kind,
            field=hold.field,
            subject=hold.subject,
            shipping_description=records.order.shipping_description,
        )
        team = exception.team if exception is not None else _KIND_TEAM.get(hold.kind, Team.OPS)
        return HoldView(hold, words.sentence(reason), exception, words.team_fixing(team))

    holds = records.holds
    return (
        tuple(view(h) for h in holds if h.released_at is None),
        tuple(view(h) for h in holds if h.released_at is not None),
    )


def _working(exceptions: list[DeskException], kind: ExceptionKind) -> tuple[DeskException, ...]:
    return tuple(e for e in exceptions if e.kind == kind and e.is_working)


def _tracking(records: OrderRecords) -> tuple[TrackingLink, ...]:
    links = [
        tracking_link(number=s.tracking_number, courier=s.courier or records.courier_service)
        for s in records.shipments
        if s.dispatched_at is not None
    ]
    # History: the tracks Magento's own shipments carried.
    links += [
        tracking_link(number=t.get("number", ""), courier=t.get("title", ""))
        for t in records.order.magento_tracks or []
        if records.order.fulfilled_outside
    ]
    return tuple(link for link in links if link is not None)


def _due_soonest(exception: DeskException) -> tuple:
    due = exception.sla_due_at
    return (due is None, due or exception.first_seen_at, exception.pk)


def order_path(*, increment_id: str, now: datetime | None = None) -> OrderPath | None:
    """The order's path through Magento, the desk, the ERP, the warehouse and back (DESIGN §5).

    None when the order is not mirrored. Reads a handful of small queries, whatever the order.
    `now` is the clock the steps' SLAs are read against.
    """
    records = order_records(increment_id=increment_id)
    if records is None:
        return None
    order, exceptions = records.order, records.exceptions
    holds_open, holds_released = _hold_views(records)
    facts = PathFacts(
        order=order,
        holds_open=holds_open,
        holds_released=holds_released,
        shipments=records.shipments,
        invoices=records.invoices,
        failed=_working(exceptions, ExceptionKind.ORDER_POST_FAILED),
        drift=next(iter(_working(exceptions, ExceptionKind.STATUS_DRIFT)), None),
        courier_service=records.courier_service,
        line_names={line.sku: line.name for line in records.lines if line.name},
    )
    life = lifecycle_for(order, exceptions)
    memos = credit_memos_for(order)
    steps = refund_steps(
        order, memos, records.lines, exceptions, lifecycle_steps(facts, life, path_steps(facts))
    )
    headline, tone = refund_headline(
        order, memos, *(lifecycle_headline(facts, life) or path_headline(facts, steps))
    )
    current = next((s.key for s in steps if s.state in (StepState.CURRENT, StepState.BLOCKED)), "")
    if not current:
        current = DONE if steps[-1].state == StepState.DONE else steps[0].key
    flagged = frozenset(
        field.strip()
        for h in holds_open
        if h.hold.kind == ExceptionKind.ADDRESS_INVALID
        for field in h.hold.field.split(",")
        if field.strip()
    )
    return OrderPath(
        order=order,
        headline=headline,
        tone=tone,
        current=current,
        steps=steps,
        lines=_line_views(records.lines),
        addresses=tuple(
            _address_view(
                a, flagged=flagged if a.address_type == AddressType.SHIPPING else frozenset()
            )
            for a in records.addresses
        ),
        shipments=tuple(records.shipments),
        holds_open=holds_open,
        holds_released=holds_released,
        exceptions_open=tuple(
            ExceptionView(e, _exception_reason(e, order))
            for e in sorted((e for e in exceptions if e.is_working), key=_due_soonest)
        ),
        exceptions_closed=tuple(
            ExceptionView(e, _exception_reason(e, order)) for e in exceptions if not e.is_working
        ),
        timed_steps=steps_timed(steps, facts, now=now or timezone.now()),
        tracking=_tracking(records),
        relatives=life.relatives,
    )
