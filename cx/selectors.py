"""What the CX screens read: the order lookup, one order's records, the CX exceptions panel.

Reads only (DESIGN §7): integration's mirror models and the exception core's selectors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import (
    CharField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Replace, Trim, Upper

from exceptions_app.models import WORKING_STATUSES, DeskException, Team
from exceptions_app.selectors import exceptions_visible
from integration.models import (
    CarrierMapping,
    Invoice,
    Order,
    OrderAddress,
    OrderHold,
    OrderLine,
    Shipment,
)

ORDER_NUMBER_MAX_LENGTH = 32  # longest zero-padded form tried for "42" → "000000042"


class SearchKey(models.TextChoices):
    """What a lookup query was read as; the label is how the page names it."""

    ORDER_NUMBER = "order_number", "order number"
    EMAIL = "email", "email address"
    POSTCODE = "postcode", "postcode"
    NAME = "name", "customer name"


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
        return SearchKey(self.key).label if self.key else ""


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
            Q(order_increment_id=OuterRef("increment_id")) | Q(fingerprint__in=Subquery(held_by))
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


def _orders_named(text: str) -> QuerySet:
    """Orders whose customer (or an address on them) matches every word, partially."""
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
    return Order.objects.filter(Q(increment_id=text) | by_name)


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
        orders = _orders_named(text)
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
    """The customer-service exceptions still being worked (soonest SLA first), and how many.

    Each row carries `customer_name`: the name on the order it names, "" when there is none.
    """
    working = exceptions_visible(user=user).filter(team=Team.CX, status__in=WORKING_STATUSES)
    customer_name = Order.objects.filter(increment_id=OuterRef("order_increment_id")).values(
        name=Trim(Concat("customer_firstname", Value(" "), "customer_lastname"))
    )[:1]
    rows = list(
        working.select_related("assignee")
        .annotate(customer_name=Coalesce(Subquery(customer_name), Value("")))
        .order_by("sla_due_at", "pk")[:limit]
    )
    total = len(rows) if len(rows) < limit else working.count()
    return rows, total


@dataclass(frozen=True)
class OrderRecords:
    """Everything on record about one order that its CX page shows."""

    order: Order
    lines: list[OrderLine]
    addresses: list[OrderAddress]  # shipping first
    holds: list[OrderHold]
    shipments: list[Shipment]
    invoices: list[Invoice]
    exceptions: list[DeskException]  # newest first: named by the order or by one of its holds
    courier_service: str  # what the order's delivery option maps to, "" when unmapped


def order_records(*, increment_id: str) -> OrderRecords | None:
    """The order and its rows, in a handful of small queries; None when it is not mirrored."""
    order = order_find(increment_id=increment_id)
    if order is None:
        return None
    holds = list(order.holds.order_by("created_at", "pk"))
    fingerprints = {f"{h.kind}:{h.subject}" for h in holds}
    exceptions = list(
        DeskException.objects.filter(
            Q(order_increment_id=order.increment_id) | Q(fingerprint__in=fingerprints)
        )
        .select_related("assignee")
        .order_by("-first_seen_at", "-pk")
    )
    carrier = CarrierMapping.objects.filter(magento_method=order.shipping_method).first()
    return OrderRecords(
        order=order,
        lines=list(order.lines.order_by("item_id")),
        addresses=list(order.addresses.select_related("corrected_by").order_by("-address_type")),
        holds=holds,
        shipments=list(order.shipments.order_by("dispatched_at", "pk")),
        invoices=list(order.invoices.order_by("invoice_date", "pk")),
        exceptions=exceptions,
        courier_service=f"{carrier.courier} {carrier.service}".strip() if carrier else "",
    )
