"""Reads for the integration screens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Replace, Upper
from django.utils import timezone

from integration import cx_words
from integration.models import (
    CarrierMapping,
    Flow,
    Invoice,
    Order,
    OrderAddress,
    OrderErpStatus,
    OrderHold,
    OrderLine,
    PushStatus,
    QuarantinedWindow,
    QuarantineStatus,
    RunStatus,
    Shipment,
    StockPush,
    SyncRun,
    Watermark,
)


@dataclass(frozen=True)
class FlowHealth:
    flow: str
    label: str
    last: SyncRun | None
    runs_24h: int
    failed_24h: int
    seen_24h: int
    posted_24h: int
    lag_seconds: float | None


def flow_health() -> list[FlowHealth]:
    """One row per flow: its last run, 24-hour counts and, for pull flows, watermark lag."""
    now = timezone.now()
    since = now - timedelta(hours=24)
    stats = {
        row["flow"]: row
        for row in SyncRun.objects.filter(started_at__gte=since)
        .values("flow")
        .annotate(
            runs=Count("id"),
            failed=Count("id", filter=Q(status=RunStatus.FAILED)),
            seen=Sum("seen"),
            posted=Sum("posted"),
        )
    }
    marks = dict(Watermark.objects.values_list("flow", "value"))
    rows = []
    for flow in Flow:
        last = SyncRun.objects.filter(flow=flow).exclude(status=RunStatus.SKIPPED)
        last = last.order_by("-started_at").first()
        stat = stats.get(flow.value, {})
        mark = marks.get(flow.value)
        rows.append(
            FlowHealth(
                flow=flow.value,
                label=flow.label,
                last=last,
                runs_24h=stat.get("runs", 0),
                failed_24h=stat.get("failed", 0),
                seen_24h=stat.get("seen") or 0,
                posted_24h=stat.get("posted") or 0,
                lag_seconds=(now - mark).total_seconds() if mark else None,
            )
        )
    return rows


def outbox_counts() -> dict[str, int]:
    counts = dict(
        StockPush.objects.filter(status__in=[PushStatus.PENDING, PushStatus.SENT, PushStatus.DEAD])
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {status: counts.get(status, 0) for status in ("pending", "sent", "dead")}


def quarantined_windows():
    return QuarantinedWindow.objects.filter(status=QuarantineStatus.OPEN).order_by("window_start")[
        :50
    ]


# --- customer service: order lookup and the order's path (DESIGN §5) ----------------------

ORDER_NUMBER_MAX_LENGTH = 32  # longest zero-padded form tried for "42" → "000000042"


class SearchKey:
    ORDER_NUMBER = "order_number"
    EMAIL = "email"
    POSTCODE = "postcode"
    NAME = "name"


SEARCH_KEY_WORDS = {
    SearchKey.ORDER_NUMBER: "order number",
    SearchKey.EMAIL: "email address",
    SearchKey.POSTCODE: "postcode",
    SearchKey.NAME: "customer name",
}

# Something that could be a whole UK-style postcode once spaces are dropped: letters then digits,
# 5 to 7 characters (the full check lives in integration.postcode; a lookup should also find an
# order whose postcode the warehouse rejected).
_POSTCODE_LIKE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


@dataclass(frozen=True)
class OrderSearch:
    query: str
    key: str  # a SearchKey, or "" when nothing was searched
    orders: QuerySet  # annotated for the result table; empty when nothing was searched
    problem: str = ""  # why the query was not run, in plain words

    @property
    def key_words(self) -> str:
        return SEARCH_KEY_WORDS.get(self.key, "")


def _compact_postcode(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def order_number_candidates(text: str) -> list[str]:
    """The increment ids "42" may mean: as typed, without leading zeros, and zero-padded."""
    text = text.strip().lstrip("#").strip()
    if not text.isdigit():
        return [text] if text else []
    bare = text.lstrip("0") or "0"
    padded = [bare.zfill(n) for n in range(len(bare), ORDER_NUMBER_MAX_LENGTH + 1)]
    return list(dict.fromkeys([text, *padded]))


def _postcode_forms(compact: str) -> list[str]:
    """How a postcode is usually stored: Royal Mail's form, squashed, in either case."""
    spaced = f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact
    return list(dict.fromkeys([spaced, compact, spaced.lower(), compact.lower()]))


def _orders_with_postcode(compact: str) -> QuerySet:
    """Orders whose shipping or billing postcode is `compact`, ignoring case and spaces.

    The usual stored forms are looked up on the postcode index first; only when none matches
    is every address compared with spaces dropped and case folded ("Sw1A  1aa"), which reads
    the whole address table.
    """
    usual = OrderAddress.objects.filter(postcode__in=_postcode_forms(compact))
    if usual.exists():
        return Order.objects.filter(pk__in=usual.values("order_id"))
    unusual = OrderAddress.objects.annotate(
        compact=Upper(Replace("postcode", Value(" "), Value("")))
    ).filter(compact=compact)
    return Order.objects.filter(pk__in=unusual.values("order_id"))


def order_rows_annotate(orders: Sequence[Order]) -> None:
    """Add what the result table shows to a page of orders, in one query for the page.

    Done per page rather than on the search queryset so a name matching thousands of orders
    does not compute these for every match before the first 25 are cut.
    """
    from exceptions_app.models import WORKING_STATUSES, DeskException

    if not orders:
        return
    postcode = (
        OrderAddress.objects.filter(order=OuterRef("pk"))
        .order_by("-address_type")  # "shipping" before "billing"
        .values("postcode")[:1]
    )
    dispatched = (
        Shipment.objects.filter(order=OuterRef("pk"), dispatched_at__isnull=False)
        .order_by("dispatched_at")
        .values("dispatched_at")[:1]
    )
    # SKU and carrier exceptions name one order but hold many; the open holds say which.
    held_by = (
        OrderHold.objects.filter(order_id=OuterRef(OuterRef("pk")), released_at__isnull=True)
        .annotate(fp=Concat("kind", Value(":"), "subject", output_field=CharField()))
        .values("fp")
    )
    open_exceptions = (
        DeskException.objects.filter(status__in=WORKING_STATUSES)
        .filter(
            Q(order_increment_id=OuterRef("increment_id"))
            | Q(fingerprint__in=Subquery(held_by))
        )
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    rows = Order.objects.filter(pk__in=[o.pk for o in orders]).values_list(
        "pk",
        Subquery(postcode),
        Subquery(dispatched),
        Coalesce(Subquery(open_exceptions, output_field=IntegerField()), 0),
    )
    found = {pk: rest for pk, *rest in rows}
    for order in orders:
        order.postcode, order.dispatched_at, order.open_exceptions = found.get(
            order.pk, ("", None, 0)
        )


def order_search(*, query: str, limit: int | None = None) -> OrderSearch:
    """Orders matching an order number, email, postcode or customer name (DESIGN §5).

    Which key is meant is read off the query: an "@" is an email, digits an order number (or,
    when no order has that number, a numeric postcode), a whole postcode a postcode, anything
    else a name (each word matching a first or last name, partially). The orders come newest
    first, unevaluated; `order_rows_annotate` adds the table's columns to a page of them.
    """
    query = (query or "").strip()
    none = Order.objects.none()
    if not query:
        return OrderSearch(query="", key="", orders=none)
    text = query.lstrip("#").strip()
    compact = _compact_postcode(text)
    if "@" in text:
        key = SearchKey.EMAIL
        orders = Order.objects.filter(customer_email__iexact=text)
    elif compact.isdigit():
        key = SearchKey.ORDER_NUMBER
        orders = Order.objects.filter(increment_id__in=order_number_candidates(compact))
        if not orders.exists():
            orders = _orders_with_postcode(compact)
    elif _POSTCODE_LIKE.match(compact):
        key = SearchKey.POSTCODE
        orders = _orders_with_postcode(compact)
    else:
        key = SearchKey.NAME
        if len(text) < 2:
            return OrderSearch(
                query=query,
                key=key,
                orders=none,
                problem="Type at least two letters of the customer's name.",
            )
        by_name = Q()
        for word in text.split():
            by_name &= (
                Q(customer_firstname__icontains=word)
                | Q(customer_lastname__icontains=word)
                # Guest orders may carry the name on their addresses only.
                | Exists(
                    OrderAddress.objects.filter(order=OuterRef("pk")).filter(
                        Q(firstname__icontains=word) | Q(lastname__icontains=word)
                    )
                )
            )
        orders = Order.objects.filter(Q(increment_id=text) | by_name)
    orders = orders.order_by("-magento_created_at", "-pk")
    if limit is not None:
        orders = orders[:limit]
    return OrderSearch(query=query, key=key, orders=orders)


def order_find(*, increment_id: str) -> Order | None:
    """The order with this number, tolerating missing or extra leading zeros."""
    exact = Order.objects.filter(increment_id=increment_id).first()
    if exact is not None:
        return exact
    matches = list(Order.objects.filter(increment_id__in=order_number_candidates(increment_id))[:2])
    return matches[0] if len(matches) == 1 else None


def cx_exceptions_open(*, user: AbstractBaseUser, limit: int = 50) -> tuple[list, int]:
    """The customer-service exceptions still being worked (soonest SLA first), and how many."""
    from exceptions_app.models import WORKING_STATUSES, Team
    from exceptions_app.selectors import exceptions_visible

    working = exceptions_visible(user=user).filter(team=Team.CX, status__in=WORKING_STATUSES)
    rows = list(working.select_related("assignee").order_by("sla_due_at", "pk")[:limit])
    total = len(rows) if len(rows) < limit else working.count()
    return rows, total


class StepState:
    DONE = "done"
    CURRENT = "current"  # in progress, nothing wrong
    BLOCKED = "blocked"  # stopped by an exception
    PENDING = "pending"  # not reached yet
    SKIPPED = "skipped"  # will not happen (unpaid, cancelled)


@dataclass(frozen=True)
class PathStep:
    key: str
    title: str
    state: str
    summary: str  # one plain sentence an agent can read out
    details: tuple[str, ...] = ()
    exceptions: tuple = ()  # the DeskExceptions behind a blocked step, for links


@dataclass(frozen=True)
class HoldView:
    hold: OrderHold
    reason: str  # one sentence
    exception: object | None  # the DeskException reporting the cause, if still on record
    fixing: str  # who is fixing it, in words


@dataclass(frozen=True)
class ExceptionView:
    exception: object  # DeskException
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
    tone: str  # "success", "info", "warning" or "danger": how the headline is shown
    current: str  # key of the step the order is at (or "done")
    steps: tuple[PathStep, ...]
    lines: tuple[LineView, ...]
    addresses: tuple[AddressView, ...]
    shipments: tuple[Shipment, ...]
    holds_open: tuple[HoldView, ...]
    holds_released: tuple[HoldView, ...]
    exceptions_open: tuple[ExceptionView, ...]
    exceptions_closed: tuple[ExceptionView, ...]

    @property
    def magento_status(self) -> str:
        return cx_words.magento_status_words(self.order.status)


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


def _address_value(value) -> str:
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
        (cx_words.country_words(address.country_id), "country_id"),
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
        problem=cx_words.sentence(cx_words.address_problem(sorted(flagged))) if flagged else "",
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


def _exception_reason(exception, order: Order) -> str:
    """One sentence on what an exception means for this order."""
    kind = exception.kind
    if kind == "address_invalid":
        fields = exception.evidence.get("fields") if isinstance(exception.evidence, dict) else None
        if not fields and isinstance(exception.evidence, dict):
            fields = [f for f in str(exception.evidence.get("field", "")).split(",") if f.strip()]
        return cx_words.sentence(cx_words.address_problem(fields or []))
    if kind in ("sku_unknown", "sku_inactive", "carrier_unmapped", "order_post_failed"):
        return cx_words.sentence(
            cx_words.hold_reason(
                kind=kind,
                field="",
                subject=exception.sku or exception.subject,
                shipping_description=order.shipping_description,
            )
        )
    return cx_words.sentence(CX_KIND_REASON.get(kind, exception.get_kind_display()))


CX_KIND_REASON = {
    "status_drift": (
        "the warehouse dispatched the order but Magento has not been told, so the customer "
        "has no tracking details yet"
    ),
    "order_stuck": "the order has not moved on within its time limit",
    "tax_variance": (
        "the tax differs between Magento and the ERP (a finance matter; it does not delay delivery)"
    ),
    "total_variance": (
        "the total differs between Magento and the ERP (a finance matter; it does not delay "
        "delivery)"
    ),
    "settlement_mismatch": (
        "the payment provider's settlement differs from what was charged (a finance matter)"
    ),
}


def _dispatch_words(shipment: Shipment, courier_service: str) -> str:
    """ "Dispatched on 24 Nov 2025 with Royal Mail Tracked 24, tracking TT123456785GB"."""
    courier = shipment.courier or courier_service or "the courier"
    text = f"dispatched on {cx_words.day(shipment.dispatched_at)} with {courier}"
    if shipment.tracking_number:
        text += f", tracking {shipment.tracking_number}"
    return text


def order_path(*, increment_id: str) -> OrderPath | None:
    """The order's path through Magento, the desk, the ERP, the warehouse and back (DESIGN §5).

    None when the order is not mirrored. Reads a handful of small queries, whatever the order.
    """
    from exceptions_app.models import DeskException

    order = order_find(increment_id=increment_id)
    if order is None:
        return None
    lines = list(order.lines.order_by("item_id"))
    addresses = list(order.addresses.select_related("corrected_by").order_by("-address_type"))
    holds = list(order.holds.order_by("created_at", "pk"))
    shipments = list(order.shipments.order_by("dispatched_at", "pk"))
    invoices = list(order.invoices.order_by("invoice_date", "pk"))
    fingerprints = {f"{h.kind}:{h.subject}" for h in holds}
    exceptions = list(
        DeskException.objects.filter(
            Q(order_increment_id=order.increment_id)
            | Q(fingerprint__in=fingerprints)
        )
        .select_related("assignee")
        .order_by("-first_seen_at", "-pk")
    )
    carrier = CarrierMapping.objects.filter(magento_method=order.shipping_method).first()
    courier_service = f"{carrier.courier} {carrier.service}".strip() if carrier else ""

    by_fingerprint: dict[str, object] = {}
    for exception in exceptions:  # newest first: keep the live one, else the latest
        current = by_fingerprint.get(exception.fingerprint)
        if current is None or (exception.is_working and not current.is_working):
            by_fingerprint[exception.fingerprint] = exception

    def hold_view(hold: OrderHold) -> HoldView:
        exception = by_fingerprint.get(f"{hold.kind}:{hold.subject}")
        reason = cx_words.hold_reason(
            kind=hold.kind,
            field=hold.field,
            subject=hold.subject,
            shipping_description=order.shipping_description,
        )
        team = exception.team if exception is not None else _KIND_TEAM.get(hold.kind, "ops")
        return HoldView(hold, cx_words.sentence(reason), exception, cx_words.team_fixing(team))

    holds_open = tuple(hold_view(h) for h in holds if h.released_at is None)
    holds_released = tuple(hold_view(h) for h in holds if h.released_at is not None)
    open_exc = tuple(
        ExceptionView(e, _exception_reason(e, order)) for e in exceptions if e.is_working
    )
    closed_exc = tuple(
        ExceptionView(e, _exception_reason(e, order)) for e in exceptions if not e.is_working
    )
    drift = next((e for e in exceptions if e.kind == "status_drift" and e.is_working), None)
    flagged = frozenset(
        field.strip()
        for h in holds_open
        if h.hold.kind == "address_invalid"
        for field in h.hold.field.split(",")
        if field.strip()
    )

    steps, headline, tone = _path_steps(
        order=order,
        holds_open=holds_open,
        holds_released=holds_released,
        shipments=shipments,
        invoices=invoices,
        exceptions=exceptions,
        drift=drift,
        courier_service=courier_service,
    )
    current = next((s.key for s in steps if s.state in (StepState.CURRENT, StepState.BLOCKED)), "")
    if not current:
        current = "done" if steps[-1].state == StepState.DONE else steps[0].key
    return OrderPath(
        order=order,
        headline=headline,
        tone=tone,
        current=current,
        steps=steps,
        lines=_line_views(lines),
        addresses=tuple(
            _address_view(a, flagged=flagged if a.address_type == "shipping" else frozenset())
            for a in addresses
        ),
        shipments=tuple(shipments),
        holds_open=holds_open,
        holds_released=holds_released,
        exceptions_open=open_exc,
        exceptions_closed=closed_exc,
    )


# Who fixes a hold whose exception record is gone (purged): the DESIGN §4 owners.
_KIND_TEAM = {"address_invalid": "cx", "status_drift": "cx"}


def _path_steps(
    *,
    order: Order,
    holds_open: tuple[HoldView, ...],
    holds_released: tuple[HoldView, ...],
    shipments: list[Shipment],
    invoices: list[Invoice],
    exceptions: list,
    drift,
    courier_service: str,
) -> tuple[tuple[PathStep, ...], str, str]:
    """The five steps and the headline: where the order is and, if stopped, what stops it."""
    words = cx_words
    erp = order.erp_status
    total = words.money(order.grand_total, order.currency_code)

    # 1. Magento
    delivery_option = order.shipping_description or order.shipping_method or "—"
    placed = (
        f"Placed on {words.day_and_time(order.magento_created_at)}, "
        f"paid by {words.payment_words(order.payment_method)}, total {total}."
    )
    if erp == OrderErpStatus.SKIPPED and order.state in ("new", "pending_payment"):
        placed = (
            f"Placed on {words.day_and_time(order.magento_created_at)}, "
            f"to be paid by {words.payment_words(order.payment_method)}, total {total}; "
            "not paid yet."
        )
    magento = PathStep(
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

    # 2. The desk's checks
    released = tuple(
        f"Was held: {h.reason} Released {words.day_and_time(h.hold.released_at)}."
        for h in holds_released
    )
    blocking = tuple(h.exception for h in holds_open if h.exception is not None)
    if erp == OrderErpStatus.NEW:
        desk = PathStep(
            "desk",
            "Checked by the desk",
            StepState.CURRENT,
            "Not checked yet: the desk checks new paid orders every few minutes.",
        )
    elif erp == OrderErpStatus.SKIPPED:
        because = words.SKIPPED_BECAUSE.get(order.state, f"its Magento state is “{order.state}”")
        desk = PathStep(
            "desk",
            "Checked by the desk",
            StepState.SKIPPED,
            words.sentence(f"Not sent to the warehouse because {because}"),
        )
    elif erp == OrderErpStatus.HELD or holds_open:
        reasons = tuple(f"{h.reason} ({h.fixing})" for h in holds_open)
        desk = PathStep(
            "desk",
            "Checked by the desk",
            StepState.BLOCKED,
            "On hold: the desk found a problem that stops the order going to the warehouse.",
            details=reasons + released,
            exceptions=blocking,
        )
    else:
        desk = PathStep(
            "desk",
            "Checked by the desk",
            StepState.DONE,
            "Checked: items, delivery option and address are all fine for the warehouse.",
            details=released,
        )

    # 3. The ERP
    failed_exc = tuple(e for e in exceptions if e.kind == "order_post_failed" and e.is_working)
    if erp == OrderErpStatus.POSTED:
        sale = order.erp_sale_id or "(number not recorded)"
        details = tuple(
            f"Invoice {inv.number or inv.erp_invoice_id}: "
            f"{words.money(inv.total_amount, inv.currency_code)} ({inv.state})."
            for inv in invoices
        )
        erp_step = PathStep(
            "erp",
            "In the ERP",
            StepState.DONE,
            f"In the ERP as sale {sale} since {words.day_and_time(order.erp_posted_at)}."
            if order.erp_posted_at
            else f"In the ERP as sale {sale}.",
            details=details,
        )
    elif erp == OrderErpStatus.FAILED:
        erp_step = PathStep(
            "erp",
            "In the ERP",
            StepState.BLOCKED,
            "Not yet: the ERP refused the order; the operations team is fixing it.",
            details=tuple(e.message for e in failed_exc),
            exceptions=failed_exc,
        )
    elif erp == OrderErpStatus.SKIPPED:
        erp_step = PathStep(
            "erp", "In the ERP", StepState.SKIPPED, "Not sent: see the desk's check above."
        )
    elif erp == OrderErpStatus.HELD or holds_open:
        erp_step = PathStep(
            "erp",
            "In the ERP",
            StepState.PENDING,
            "Not yet: it goes to the ERP as soon as the hold above is cleared.",
        )
    else:
        erp_step = PathStep(
            "erp",
            "In the ERP",
            StepState.PENDING,
            "Not yet: it is sent right after the desk's check.",
        )

    # 4. The warehouse
    dispatched = [s for s in shipments if s.dispatched_at is not None]
    in_progress = [s for s in shipments if s.dispatched_at is None and s.erp_state != "cancelled"]
    if dispatched:
        warehouse = PathStep(
            "warehouse",
            "Picked and dispatched by the warehouse",
            StepState.DONE,
            words.sentence(_dispatch_words(dispatched[-1], courier_service)),
            details=tuple(
                words.sentence(f"Parcel {s.erp_shipment_id}: {_dispatch_words(s, courier_service)}")
                for s in dispatched[:-1]
            )
            + tuple(
                f"Parcel {s.erp_shipment_id}: {words.shipment_state_words(s.erp_state)}."
                for s in in_progress
            ),
        )
    elif in_progress:
        warehouse = PathStep(
            "warehouse",
            "Picked and dispatched by the warehouse",
            StepState.CURRENT,
            words.sentence(
                f"In the warehouse: {words.shipment_state_words(in_progress[0].erp_state)}"
            ),
        )
    elif erp == OrderErpStatus.POSTED:
        warehouse = PathStep(
            "warehouse",
            "Picked and dispatched by the warehouse",
            StepState.CURRENT,
            "Waiting for the warehouse to pick, pack and dispatch it.",
            details=(f"Delivery with {courier_service}.",) if courier_service else (),
        )
    else:
        warehouse = PathStep(
            "warehouse",
            "Picked and dispatched by the warehouse",
            StepState.SKIPPED if erp == OrderErpStatus.SKIPPED else StepState.PENDING,
            "Not yet: the warehouse picks it once it is in the ERP.",
        )

    # 5. Magento told of the shipment
    told = [s for s in dispatched if s.magento_shipment_id]
    untold = [s for s in dispatched if not s.magento_shipment_id]
    if dispatched and not untold:
        last = told[-1]
        when = f" on {words.day_and_time(last.pushed_at)}" if last.pushed_at else ""
        back = PathStep(
            "told",
            "Magento told of the shipment",
            StepState.DONE,
            f"Magento was told{when}: the customer can see the tracking number in their account.",
        )
    elif untold and drift is not None:
        back = PathStep(
            "told",
            "Magento told of the shipment",
            StepState.BLOCKED,
            "Not yet: Magento has not been told about the shipment, so the customer has no "
            "tracking details; customer service is fixing it.",
            exceptions=(drift,),
        )
    elif untold:
        back = PathStep(
            "told",
            "Magento told of the shipment",
            StepState.CURRENT,
            "Not yet: the desk tells Magento within a few minutes of dispatch.",
        )
    else:
        back = PathStep(
            "told",
            "Magento told of the shipment",
            StepState.SKIPPED if erp == OrderErpStatus.SKIPPED else StepState.PENDING,
            "Not yet: Magento is told once the warehouse has dispatched it.",
        )

    steps = (magento, desk, erp_step, warehouse, back)

    # The headline: what an agent says first.
    if order.state == "canceled":
        return (
            steps,
            f"Cancelled in Magento (last update {words.day(order.magento_updated_at)}).",
            "secondary",
        )
    if dispatched:
        text = words.sentence(_dispatch_words(dispatched[-1], courier_service))
        if untold and drift is not None:
            return (
                steps,
                text[:-1]
                + (
                    " — but Magento has not been told, so the customer has no tracking email yet: "
                    "customer service is fixing it."
                ),
                "warning",
            )
        return steps, text, "success"
    if holds_open:
        first = holds_open[0]
        more = f" (and {len(holds_open) - 1} more problem{'s' if len(holds_open) > 2 else ''})"
        reason = first.reason[0].lower() + first.reason[1:-1]
        text = f"Waiting: {reason} — {first.fixing}{more if len(holds_open) > 1 else ''}."
        return steps, text, "danger"
    if erp == OrderErpStatus.FAILED:
        return (
            steps,
            "Waiting: the ERP refused the order — the operations team is fixing it.",
            "danger",
        )
    if erp == OrderErpStatus.SKIPPED:
        return steps, desk.summary, "secondary"
    if in_progress:
        return steps, warehouse.summary, "info"
    if erp == OrderErpStatus.POSTED:
        since = words.day(order.erp_posted_at)
        return (
            steps,
            (
                f"With the warehouse since {since}, waiting to be picked and dispatched."
                if since
                else "With the warehouse, waiting to be picked and dispatched."
            ),
            "info",
        )
    return steps, "Received: the desk will check it and send it to the warehouse shortly.", "info"
