"""What the CX screens read: the order lookup, one order's records, the CX exceptions panel.

Reads only (DESIGN §7): integration's mirror models and the exception core's selectors. Every
lookup key compares an expression an index is built on (integration.models: the order number
without prefix or zeros, the email in lower case, the squashed postcode, the name key), so a
search reads a handful of index entries, not every order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import (
    Lookup,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Trim

from cx import words
from exceptions_app.models import WORKING_STATUSES, DeskException, Team
from exceptions_app.selectors import exceptions_visible
from integration.models import (
    ORDER_NUMBER_PREFIX,
    CarrierMapping,
    Invoice,
    Order,
    OrderAddress,
    OrderHold,
    OrderLine,
    Shipment,
    email_key,
    name_key,
    order_number_key,
    postcode_key,
)

# A search is one detail read out by a customer: anything longer is a paste gone wrong, and
# bounding it bounds the query built from it.
QUERY_MAX_CHARS = 100
QUERY_MAX_WORDS = 5
# A name word shorter than this matches where a word starts (" jo…"), longer ones anywhere:
# a trigram index cannot narrow "%jo%", and "jo" means the start of a name anyway.
NAME_ANYWHERE_FROM = 3
# The most orders a search lists, the newest ones: nobody pages past this on the phone, and the
# cap keeps a common surname's thousands of matches from being joined back to every order.
MATCHES_SHOWN = 200
SHIPMENT_CANCELLED = "cancelled"  # Tryton's state for a shipment the warehouse will not send


class SearchKey(models.TextChoices):
    """What a lookup query was read as; the label is how the page names it."""

    ORDER_NUMBER = "order_number", "order number"
    EMAIL = "email", "email address"
    POSTCODE = "postcode", "postcode"
    NAME = "name", "customer name"


# Something that could be a whole UK-style postcode once spaces are dropped: letters then digits,
# 5 to 7 characters (the full check lives in integration.postcode; a lookup should also find an
# order whose postcode the warehouse rejected).
_POSTCODE_LIKE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$", re.ASCII)
# An order number as printed, with or without a store prefix: 42, 000000042, EU-000000042,
# #42, 000000013-1 (an edited order). A prefixed one needs 3 digits, so "M1" is no order.
_ORDER_NUMBER = re.compile(r"^(?:\d+|[A-Z]{1,6}[-_/. ]?\d{3,})(?:-\d+)?$", re.ASCII)


@dataclass(frozen=True)
class OrderSearch:
    query: str
    key: str  # a SearchKey, or "" when nothing was searched
    orders: QuerySet  # newest first, unevaluated; empty when nothing was searched
    problem: str = ""  # why the query was not run, in plain words

    @property
    def key_words(self) -> str:
        return SearchKey(self.key).label if self.key else ""


class FoldedLike(Lookup):
    """`lhs LIKE pattern` ignoring case: ILIKE on PostgreSQL, which its trigram index serves;
    LIKE on SQLite, which ignores ASCII case already."""

    lookup_name = "folded_like"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":  # backslash is its default escape
            return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]


def number_key(text: str) -> str:
    """What `integration.models.order_number_key` makes of an increment id, in Python."""
    return text.strip().upper().lstrip(ORDER_NUMBER_PREFIX).lstrip("0")


def name_words(text: str) -> list[str]:
    """The words of a typed name as `integration.models.name_key` stores them."""
    return text.replace("'", "").replace("\u2019", "").replace("-", " ").split()


def _like_escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_pattern(word: str) -> str:
    escaped = _like_escaped(word)
    return f"%{escaped}%" if len(word) >= NAME_ANYWHERE_FROM else f"% {escaped}%"


def _numbered(text: str) -> QuerySet:
    """Ids of the orders whose number is `text` with or without its prefix and leading zeros;
    when one carries exactly the number as typed ("EU-000000042"), that one alone."""
    key = number_key(text)
    if not key:
        return Order.objects.none().values("pk")
    orders = Order.objects.alias(number=order_number_key()).filter(number=key)
    exact = orders.filter(increment_id__in={text, text.upper()})
    return (exact if exact.exists() else orders).values("pk").order_by("-pk")


def _with_postcode(compact: str) -> QuerySet:
    """Ids of the orders whose shipping or billing postcode is `compact` however stored."""
    addresses = OrderAddress.objects.alias(key=postcode_key()).filter(key=compact)
    return addresses.values("order_id").distinct().order_by("-order_id")


def _named(words: list[str]) -> QuerySet:
    """Ids of the orders whose customer, or one address on them, has every word in its name.

    Two indexed reads joined by UNION, not an OR across the tables (which would read every
    order to test it): the guest orders Magento sends without customer names are found by
    their addresses, and so are parcels sent to someone else.
    """
    patterns = [_name_pattern(word) for word in words]
    customer = name_key("customer_firstname", "customer_lastname")
    recipient = name_key("firstname", "lastname")
    by_customer = Order.objects.filter(*[FoldedLike(customer, p) for p in patterns])
    by_address = OrderAddress.objects.filter(*[FoldedLike(recipient, p) for p in patterns])
    return by_customer.values("pk").union(by_address.values("order_id")).order_by("-pk")


def _newest(ids: QuerySet) -> QuerySet:
    """The orders of `ids` (order ids, last seen by the desk first; at most MATCHES_SHOWN),
    newest first, without Magento's payload. Capped inside the subquery, so the join back to
    the orders reads a few hundred rows by primary key, never the whole table."""
    return (
        Order.objects.filter(pk__in=ids[:MATCHES_SHOWN])
        .defer("payload")
        .order_by("-magento_created_at", "-pk")
    )


def _refused(query: str, key: str, problem: str) -> OrderSearch:
    return OrderSearch(query=query, key=key, orders=Order.objects.none(), problem=problem)


def order_search(*, query: str) -> OrderSearch:
    """Orders matching an order number, email, postcode or customer name (DESIGN §5).

    Which key is meant is read off the query: an "@" is an email, a number (with or without a
    store prefix) an order number (or, when no order has that number, a numeric postcode), a
    whole postcode a postcode, anything else a name (each word matching a first or last name,
    partially). The orders come newest first (at most MATCHES_SHOWN), unevaluated and without
    their payload; `order_rows_annotate` adds the table's columns to a page of them.
    """
    query = (query or "").strip()
    if not query:
        return OrderSearch(query="", key="", orders=Order.objects.none())
    words = query.split()
    if len(query) > QUERY_MAX_CHARS or len(words) > QUERY_MAX_WORDS:
        return _refused(
            query[:QUERY_MAX_CHARS] + "…",
            "",
            f"That is too long to search ({len(words):,} words, {len(query):,} characters). "
            "Type one detail the customer reads out: an order number, an email address, a "
            f"postcode or a name (at most {QUERY_MAX_WORDS} words, {QUERY_MAX_CHARS} "
            "characters).",
        )
    text = query.lstrip("#").strip()
    compact = re.sub(r"\s+", "", text).upper()
    if "@" in text:
        key = SearchKey.EMAIL
        by_email = Order.objects.alias(email=email_key()).filter(email=text.lower())
        ids = by_email.values("pk").order_by("-pk")
    elif _ORDER_NUMBER.match(text.upper()):
        key = SearchKey.ORDER_NUMBER
        ids = _numbered(text)
        if compact.isascii() and compact.isdigit() and not ids.exists():
            ids = _with_postcode(compact)  # 75001: a French postcode, no order number
    elif _POSTCODE_LIKE.match(compact):
        key = SearchKey.POSTCODE
        ids = _with_postcode(compact)
    else:
        key = SearchKey.NAME
        name = name_words(text)
        if not any(len(word) >= 2 for word in name):
            return _refused(query, key, "Type at least two letters of the customer's name.")
        ids = _named(name)
    return OrderSearch(query=query, key=key, orders=_newest(ids))


def order_rows_annotate(orders: Sequence[Order]) -> None:
    """Add what the result table shows to a page of orders: four small indexed reads for the
    page, whatever its size (each simpler to plan and compile than one query of subqueries).

    Done per page rather than on the search queryset so a name matching thousands of orders
    does not compute these for every match before the first 25 are cut.
    """
    if not orders:
        return
    pks = [o.pk for o in orders]
    postcodes: dict[int, dict[str, str]] = {}
    for order_id, kind, postcode in OrderAddress.objects.filter(order_id__in=pks).values_list(
        "order_id", "address_type", "postcode"
    ):
        postcodes.setdefault(order_id, {})[kind] = postcode
    shipments: dict[int, list[tuple]] = {}
    for row in (
        Shipment.objects.filter(order_id__in=pks)
        .order_by("pk")
        .values_list("order_id", "dispatched_at", "courier", "magento_shipment_id", "erp_state")
    ):
        shipments.setdefault(row[0], []).append(row[1:])
    holds: dict[int, list[str]] = {}
    fingerprints: dict[str, set[int]] = {}
    for order_id, kind, subject in (
        OrderHold.objects.filter(order_id__in=pks, released_at__isnull=True)
        .order_by("pk")
        .values_list("order_id", "kind", "subject")
    ):
        holds.setdefault(order_id, []).append(kind)
        # SKU and carrier exceptions name one order but hold many; the open holds say which.
        fingerprints.setdefault(f"{kind}:{subject}", set()).add(order_id)
    by_number = {o.increment_id: o.pk for o in orders}
    counted: dict[int, set[int]] = {}
    for pk, number, fingerprint in DeskException.objects.filter(
        Q(order_increment_id__in=list(by_number)) | Q(fingerprint__in=list(fingerprints)),
        status__in=WORKING_STATUSES,
    ).values_list("pk", "order_increment_id", "fingerprint"):
        for order_id in {by_number.get(number), *fingerprints.get(fingerprint, ())} - {None}:
            counted.setdefault(order_id, set()).add(pk)
    for order in orders:
        mine = postcodes.get(order.pk, {})
        order.postcode = mine.get("shipping") or mine.get("billing") or ""
        parcels = shipments.get(order.pk, [])
        sent = sorted((p for p in parcels if p[0] is not None), key=lambda p: p[0])
        order.dispatched_at = sent[-1][0] if sent else None
        order.dispatched_with = sent[-1][1] if sent else ""
        order.magento_untold = any(not p[2] for p in sent)
        preparing = [p[3] for p in parcels if p[0] is None and p[3] != SHIPMENT_CANCELLED]
        order.preparing_state = preparing[-1] if preparing else ""
        order.parcels_waiting = bool(preparing)
        order.hold_kind = holds.get(order.pk, [""])[0]
        order.open_exceptions = len(counted.get(order.pk, ()))


def order_find(*, increment_id: str) -> Order | None:
    """The order with this number, or the one order it means without prefix or zeros (without
    Magento's payload, which no CX page shows)."""
    orders = Order.objects.defer("payload")
    exact = orders.filter(increment_id=increment_id).first()
    if exact is not None:
        return exact
    key = number_key(increment_id)
    if not key:
        return None
    matches = list(orders.alias(number=order_number_key()).filter(number=key)[:2])
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
        courier_service=words.courier_words(carrier.courier, carrier.service) if carrier else "",
    )
