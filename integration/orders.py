"""Orders: the mirror upsert, validation before posting, holds, and the post to the ERP.

An order reaches the ERP at most once: the post runs under a lock on the order row and asks the
ERP for the Magento increment id (the sale's reference) before creating anything, so a replay,
a redelivered task or two racing workers all find the first sale instead of making a second.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from exceptions_app.models import LIVE_STATUSES, DeskException
from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.address import address_check
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.erp import (
    ErpAdapter,
    ErpRejected,
    ErpSale,
    SaleLineRequest,
    SaleRequest,
)
from integration.models import (
    AddressType,
    CarrierMapping,
    ErpItem,
    Order,
    OrderAddress,
    OrderErpStatus,
    OrderHold,
    OrderLine,
    SkuMapping,
    System,
)
from integration.services import ADDRESS_FIELDS
from integration.skus import ItemState, LineSource, lines_expand, skus_resolve

logger = logging.getLogger(__name__)

MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"
PAID_STATES = frozenset({"processing", "complete"})
DEAD_STATES = frozenset({"canceled", "closed"})
ZERO = Decimal("0")


def magento_time(value: str | None) -> datetime | None:
    """Magento timestamps are UTC without a zone marker."""
    if not value:
        return None
    return datetime.strptime(value[:19], MAGENTO_TIME).replace(tzinfo=UTC)


def _dec(value: object) -> Decimal:
    if value in (None, ""):
        return ZERO
    return Decimal(str(value))


# --- the mirror ----------------------------------------------------------------------------


def _shipping_block(payload: dict) -> dict:
    for assignment in (payload.get("extension_attributes") or {}).get("shipping_assignments") or []:
        shipping = assignment.get("shipping") or {}
        if shipping:
            return shipping
    return {}


def order_fields(payload: dict) -> dict:
    """Order columns from a sales-data-order-interface payload."""
    shipping = _shipping_block(payload)
    return {
        "increment_id": str(payload["increment_id"]),
        "store_id": int(payload.get("store_id") or 1),
        "state": payload.get("state") or "",
        "status": payload.get("status") or "",
        "customer_email": payload.get("customer_email") or "",
        "customer_firstname": payload.get("customer_firstname") or "",
        "customer_lastname": payload.get("customer_lastname") or "",
        "currency_code": payload.get("order_currency_code")
        or payload.get("base_currency_code")
        or "GBP",
        "subtotal": _dec(payload.get("subtotal")),
        "discount_amount": _dec(payload.get("discount_amount")),
        "shipping_amount": _dec(payload.get("shipping_amount")),
        "shipping_tax_amount": _dec(payload.get("shipping_tax_amount")),
        "tax_amount": _dec(payload.get("tax_amount")),
        "grand_total": _dec(payload.get("grand_total")),
        "total_paid": _dec(payload["total_paid"])
        if payload.get("total_paid") is not None
        else None,
        "payment_method": ((payload.get("payment") or {}).get("method") or "")[:64],
        "shipping_method": shipping.get("method") or payload.get("shipping_method") or "",
        "shipping_description": (payload.get("shipping_description") or "")[:255],
        "magento_created_at": magento_time(payload.get("created_at")),
        "magento_updated_at": magento_time(payload.get("updated_at")),
        "payload": payload,
    }


def order_is_paid(fields: dict) -> bool:
    """Paid and released: Magento moves an invoiced order to processing; on hold or under
    payment review it is paid but must not reach the warehouse yet."""
    return fields["state"] in PAID_STATES


def _erp_status(fields: dict, current: str | None) -> str:
    if current in (OrderErpStatus.POSTED, OrderErpStatus.HELD, OrderErpStatus.FAILED):
        return current
    if fields["state"] in DEAD_STATES or not order_is_paid(fields):
        return OrderErpStatus.SKIPPED
    return OrderErpStatus.NEW


def _line_rows(order_id: int, payload: dict) -> list[dict]:
    rows = []
    for item in payload.get("items") or []:
        rows.append(
            {
                "order": order_id,
                "item_id": int(item["item_id"]),
                "parent_item_id": int(item["parent_item_id"])
                if item.get("parent_item_id")
                else None,
                "sku": item.get("sku") or "",
                "name": (item.get("name") or "")[:255],
                "product_type": item.get("product_type") or "simple",
                "qty_ordered": _dec(item.get("qty_ordered")),
                "qty_shipped": _dec(item.get("qty_shipped")),
                "price": _dec(item.get("price")),
                "row_total": _dec(item.get("row_total")),
                "tax_amount": _dec(item.get("tax_amount")),
                "tax_percent": _dec(item.get("tax_percent")),
                "discount_amount": _dec(item.get("discount_amount")),
                "row_total_incl_tax": _dec(item.get("row_total_incl_tax")),
            }
        )
    return rows


def _address_row(order_id: int, kind: str, data: dict) -> dict:
    street = data.get("street") or []
    if isinstance(street, str):
        street = street.split("\n")
    return {
        "order": order_id,
        "address_type": kind,
        "firstname": data.get("firstname") or "",
        "lastname": data.get("lastname") or "",
        "company": data.get("company") or "",
        "street": list(street),
        "city": data.get("city") or "",
        "region": data.get("region") or "",
        "postcode": data.get("postcode") or "",
        "country_id": data.get("country_id") or "",
        "telephone": data.get("telephone") or "",
        "email": data.get("email") or "",
    }


def _address_rows(order_id: int, payload: dict) -> list[dict]:
    rows = []
    if payload.get("billing_address"):
        rows.append(_address_row(order_id, AddressType.BILLING, payload["billing_address"]))
    shipping = _shipping_block(payload).get("address")
    if shipping:
        rows.append(_address_row(order_id, AddressType.SHIPPING, shipping))
    return rows


class _FastJSONEncoder(json.JSONEncoder):
    """Equivalent JSON to the standard encoder's (compact, UTF-8 rather than escaped), from
    orjson: encoding each 10-30 kB order payload for storage was a tenth of a pull. Anything
    orjson refuses (an integer beyond 64 bits, a Decimal) goes through the standard encoder.
    orjson would write a non-finite float as null; the payloads it encodes were decoded by
    orjson, which refuses NaN and infinities, so none can reach it."""

    def encode(self, o: Any) -> str:
        try:
            return orjson.dumps(o).decode()
        except TypeError:
            return super().encode(o)


def _value_preparer(field: models.Field) -> Callable[[Any], Any]:
    """`field.get_db_prep_save` for this connection, short-cut where it is the identity.

    Django walks ~8 calls per value to return a finite Decimal or a str unchanged; with ~60
    decimals an order that was a quarter of a pull. The short cuts apply only where Django's
    own answer is that same object (base decimal adaptation, text fields); everything else,
    and any other type of value, takes the field's own path.
    """
    prepare = field.get_db_prep_save
    if isinstance(field, models.JSONField) and field.encoder is None:
        encode = connection.ops.adapt_json_value
        return lambda v: None if v is None else encode(v, _FastJSONEncoder)
    if isinstance(field, models.DecimalField) and (
        type(connection.ops).adapt_decimalfield_value
        is BaseDatabaseOperations.adapt_decimalfield_value
    ):
        return lambda v: v if type(v) is Decimal and v.is_finite() else prepare(v, connection)
    if isinstance(field, models.CharField | models.TextField):
        return lambda v: v if type(v) is str else prepare(v, connection)
    return lambda v: prepare(v, connection)


def _rows_insert(model: type[models.Model], rows: Sequence[dict]) -> None:
    """INSERT `rows` (field name -> value; absent fields take their default) as one prepared
    statement run for every row.

    The mirror writes ~100 values per order. `bulk_create` builds a model instance per row and
    compiles each value through several layers, which cost more than the database work itself;
    here each value goes through its field's own `get_db_prep_save` (or `_value_preparer`'s
    identical short cut), so it is stored as the ORM would store it, on every backend.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.name: f.get_default() for f in fields if f.name not in rows[0]}
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model's meta
        qn(model._meta.db_table),
        ", ".join(qn(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    prepare = [(f.name, _value_preparer(f)) for f in fields]
    params = [
        [prep(row[name] if name in row else defaults[name]) for name, prep in prepare]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


@dataclass
class UpsertCounts:
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


# Columns an upsert rewrites on an order already mirrored (everything Magento owns; not our
# erp_* bookkeeping, not first_seen_at).
_UPSERT_FIELDS = [*order_fields({"increment_id": ""}).keys(), "last_pulled_at"]


@transaction.atomic
def orders_upsert(*, payloads: Sequence[dict]) -> UpsertCounts:
    """Upsert a page of Magento orders by entity_id, set-based (a handful of queries a page).

    An older snapshot never overwrites a newer one; an address the desk corrected is kept; an
    order the desk already held, posted or failed keeps that status.
    """
    counts = UpsertCounts(seen=len(payloads))
    latest: dict[int, dict] = {}
    for payload in payloads:
        entity_id = int(payload["entity_id"])
        previous = latest.get(entity_id)
        if previous is None or (payload.get("updated_at") or "") >= (
            previous.get("updated_at") or ""
        ):
            latest[entity_id] = payload
    # Existing rows without their payloads: decoding a stored payload costs as much as the
    # pull itself, and only a row whose timestamp did not move needs it (the overlap window
    # re-reads those; an identical payload is skipped without a write).
    existing = {
        entity_id: (pk, updated_at)
        for entity_id, pk, updated_at in Order.objects.filter(
            entity_id__in=list(latest)
        ).values_list("entity_id", "pk", "magento_updated_at")
    }
    now = timezone.now()
    rows: dict[int, tuple[dict, dict]] = {}
    same_time: dict[int, int] = {}
    for entity_id, payload in latest.items():
        fields = order_fields(payload)
        current = existing.get(entity_id)
        if current is not None:
            if fields["magento_updated_at"] < current[1]:
                counts.unchanged += 1
                continue
            if fields["magento_updated_at"] == current[1]:
                same_time[current[0]] = entity_id
        rows[entity_id] = (payload, fields)
    if same_time:
        for pk, stored in Order.objects.filter(pk__in=list(same_time)).values_list("pk", "payload"):
            if stored == rows[same_time[pk]][0]:
                del rows[same_time[pk]]
                counts.unchanged += 1

    created = [entity_id for entity_id in rows if entity_id not in existing]
    updated = [entity_id for entity_id in rows if entity_id in existing]
    if created:
        # A plain insert: a row another writer created meanwhile is an error, not overwritten.
        _rows_insert(
            Order,
            [
                {
                    **rows[entity_id][1],
                    "entity_id": entity_id,
                    "first_seen_at": now,
                    "last_pulled_at": now,
                    "erp_status": _erp_status(rows[entity_id][1], None),
                }
                for entity_id in created
            ],
        )
    if updated:
        # One INSERT .. ON CONFLICT DO UPDATE per 500 rows; bulk_update's CASE per column and
        # row costs far more. The rows exist, so this only ever takes the update branch.
        Order.objects.bulk_create(
            [
                Order(
                    pk=existing[entity_id][0],
                    entity_id=entity_id,
                    last_pulled_at=now,
                    **rows[entity_id][1],
                )
                for entity_id in updated
            ],
            update_conflicts=True,
            unique_fields=["entity_id"],
            update_fields=_UPSERT_FIELDS,
            batch_size=500,
        )
        # Only new/skipped move between each other (paid, or cancelled since); the filter on
        # the current status keeps a status orders-out set meanwhile (held, posted, failed).
        wants_new, wants_skip = [], []
        for entity_id in updated:
            status = _erp_status(rows[entity_id][1], None)
            (wants_new if status == OrderErpStatus.NEW else wants_skip).append(
                existing[entity_id][0]
            )
        Order.objects.filter(pk__in=wants_new, erp_status=OrderErpStatus.SKIPPED).update(
            erp_status=OrderErpStatus.NEW
        )
        Order.objects.filter(pk__in=wants_skip, erp_status=OrderErpStatus.NEW).update(
            erp_status=OrderErpStatus.SKIPPED
        )
    counts.created, counts.updated = len(created), len(updated)
    if not rows:
        return counts

    ids = {entity_id: existing[entity_id][0] for entity_id in updated}
    if created:
        ids.update(Order.objects.filter(entity_id__in=created).values_list("entity_id", "pk"))
    touched = list(ids.values())
    if updated:
        OrderLine.objects.filter(order_id__in=touched).delete()
    _rows_insert(
        OrderLine,
        [line for entity_id, pk in ids.items() for line in _line_rows(pk, rows[entity_id][0])],
    )
    corrected: set[tuple[int, str]] = set()
    if updated:
        corrected = set(
            OrderAddress.objects.filter(
                order_id__in=touched, corrected_at__isnull=False
            ).values_list("order_id", "address_type")
        )
        OrderAddress.objects.filter(order_id__in=touched, corrected_at__isnull=True).delete()
    _rows_insert(
        OrderAddress,
        [
            address
            for entity_id, pk in ids.items()
            for address in _address_rows(pk, rows[entity_id][0])
            if (pk, address["address_type"]) not in corrected
        ],
    )
    return counts


# --- validation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """One reason an order is held: becomes one hold row and one exception."""

    kind: str
    subject: str
    message: str
    field: str = ""
    sku: str = ""


@dataclass
class ValidationContext:
    """What validation reads, loaded once per batch of orders."""

    sku_mappings: dict[str, str]
    carrier_mappings: dict[str, CarrierMapping]
    items: dict[str, ItemState]
    street_width: int
    street_lines: int
    # Orders with a live order_post_failed exception (None: unknown, look each one up).
    open_post_failures: set[str] | None = None


# What validation reads of a line and of an address.
_LINE_COLUMNS = tuple(f.name for f in dataclass_fields(LineSource))
_ADDRESS_COLUMNS = ("order", "address_type", *ADDRESS_FIELDS, "email")


def orders_for_validation(queryset: QuerySet[Order]) -> list[Order]:
    """Orders as validation reads them, a batch in three queries: the orders without their
    raw payload (decoding 10-30 kB per order cost more than validating it; the one value
    validation needs from it is annotated), then every line and every address of the batch.

    Lines and addresses are attached as `validation_lines` / `validation_addresses`: read as
    plain rows they cost a fraction of a prefetch, which builds a queryset per order.
    """
    orders = list(
        queryset.defer("payload").annotate(
            magento_shipping_discount=KT("payload__shipping_discount_amount")
        )
    )
    if not orders:
        return orders
    ids = [order.pk for order in orders]
    lines: dict[int, list[LineSource]] = defaultdict(list)
    for order_id, *values in (
        OrderLine.objects.filter(order_id__in=ids)
        .order_by("order_id", "item_id")
        .values_list("order_id", *_LINE_COLUMNS)
    ):
        lines[order_id].append(LineSource(*values))
    addresses: dict[int, list[OrderAddress]] = defaultdict(list)
    for address in OrderAddress.objects.filter(order_id__in=ids).only(*_ADDRESS_COLUMNS):
        addresses[address.order_id].append(address)
    for order in orders:
        order.validation_lines = lines.get(order.pk, [])
        order.validation_addresses = addresses.get(order.pk, [])
    return orders


def _order_lines(order: Order) -> list[LineSource] | Iterable[OrderLine]:
    lines = getattr(order, "validation_lines", None)
    return lines if lines is not None else order.lines.order_by("item_id")


def _order_addresses(order: Order) -> Iterable[OrderAddress]:
    addresses = getattr(order, "validation_addresses", None)
    return addresses if addresses is not None else order.addresses.all()


def context_build(*, erp: ErpAdapter, orders: Sequence[Order]) -> ValidationContext:
    """Mappings, and the ERP items the orders' SKUs need, refreshed into the ErpItem mirror."""
    sku_mappings = dict(SkuMapping.objects.values_list("magento_sku", "erp_item_code"))
    skus = {line.sku for order in orders for line in lines_expand(_order_lines(order))}
    codes = {sku_mappings.get(sku, sku) for sku in skus}
    found = erp.items_by_codes(sorted(codes)) if codes else {}
    erp_items_record(found.values())
    return ValidationContext(
        sku_mappings=sku_mappings,
        carrier_mappings={m.magento_method: m for m in CarrierMapping.objects.all()},
        items={code: ItemState(code, info.active) for code, info in found.items()},
        street_width=settings.SYNC_STREET_LINE_MAX,
        street_lines=settings.SYNC_STREET_LINES,
        open_post_failures=set(
            DeskException.objects.filter(
                kind="order_post_failed",
                status__in=LIVE_STATUSES,
                order_increment_id__in=[o.increment_id for o in orders],
            ).values_list("subject", flat=True)
        ),
    )


# How stale an unchanged item's `last_seen_at` may get before a read refreshes it: every
# batch of orders reads the same items again, and rewriting them all each time was most of
# the cost of building a batch's context.
ITEM_SEEN_RESOLUTION = timedelta(minutes=1)


def erp_items_record(infos: Iterable) -> None:
    """Mirror ERP items as just read (code, id, name, active; `last_seen_at` to the minute).

    Only new or changed items are written as rows; unchanged ones just have a stale
    `last_seen_at` moved on, in one UPDATE.
    """
    infos = list(infos)
    if not infos:
        return
    now = timezone.now()
    known = {
        code: ((erp_id, name, active), seen)
        for code, erp_id, name, active, seen in ErpItem.objects.filter(
            code__in=[i.code for i in infos]
        ).values_list("code", "erp_id", "name", "active", "last_seen_at")
    }
    changed, stale = [], []
    for info in infos:
        current = known.get(info.code)
        if current is None or current[0] != (info.erp_id, info.name[:255], info.active):
            changed.append(info)
        elif current[1] < now - ITEM_SEEN_RESOLUTION:
            stale.append(info.code)
    if changed:
        ErpItem.objects.bulk_create(
            [
                ErpItem(
                    code=i.code,
                    erp_id=i.erp_id,
                    name=i.name[:255],
                    active=i.active,
                    last_seen_at=now,
                )
                for i in changed
            ],
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["erp_id", "name", "active", "last_seen_at"],
            batch_size=1000,
        )
    if stale:
        ErpItem.objects.filter(code__in=stale).update(last_seen_at=now)


def order_validate(order: Order, ctx: ValidationContext) -> tuple[SaleRequest | None, list[Cause]]:
    """The sale to create, or every cause that holds the order (one per SKU / method / address)."""
    causes: list[Cause] = []
    expanded = lines_expand(_order_lines(order))
    if not expanded:
        causes.append(
            Cause("order_post_failed", order.increment_id, "The order has no items to post.")
        )
    resolved, sku_problems = skus_resolve(
        [line.sku for line in expanded], mappings=ctx.sku_mappings, items=ctx.items
    )
    for problem in sku_problems:
        causes.append(
            Cause(problem.kind, problem.sku, problem.message, field="sku", sku=problem.sku)
        )

    carrier = ctx.carrier_mappings.get(order.shipping_method)
    ships = any(line.ships for line in expanded)
    if ships and carrier is None:
        method = order.shipping_method or "(none)"
        causes.append(
            Cause(
                "carrier_unmapped",
                method,
                f"Shipping method {method} ({order.shipping_description or 'no description'}) "
                "has no courier mapping.",
                field="shipping_method",
            )
        )

    addresses = {a.address_type: a for a in _order_addresses(order)}
    address = addresses.get(AddressType.SHIPPING) or addresses.get(AddressType.BILLING)
    shipping = None
    if ships:
        if address is None:
            causes.append(
                Cause(
                    "address_invalid",
                    order.increment_id,
                    "The order has no shipping address.",
                    field="street",
                )
            )
        else:
            shipping, problems = address_check(
                firstname=address.firstname,
                lastname=address.lastname,
                company=address.company,
                street=list(address.street or []),
                city=address.city,
                region=address.region,
                postcode=address.postcode,
                country_id=address.country_id,
                telephone=address.telephone,
                email=address.email or order.customer_email,
                width=ctx.street_width,
                max_lines=ctx.street_lines,
            )
            if problems:
                names = ", ".join(p.field for p in problems)
                causes.append(
                    Cause(
                        "address_invalid",
                        order.increment_id,
                        f"Order {order.increment_id} shipping address: "
                        + " ".join(p.message for p in problems),
                        field=names,
                    )
                )
    if causes:
        return None, causes

    billing = addresses.get(AddressType.BILLING) or address
    shipping_net = order.shipping_amount - _shipping_discount(order)
    return (
        SaleRequest(
            reference=order.increment_id,
            currency=order.currency_code,
            sale_date=order.magento_created_at.date(),
            customer_name=order.customer_name or (shipping.name if shipping else ""),
            customer_email=order.customer_email,
            telephone=shipping.telephone if shipping else (billing.telephone if billing else ""),
            company=shipping.company if shipping else "",
            street=shipping.street if shipping else tuple(billing.street if billing else ()),
            city=shipping.city if shipping else (billing.city if billing else ""),
            region=shipping.region if shipping else "",
            postcode=shipping.postcode if shipping else (billing.postcode if billing else ""),
            country=shipping.country if shipping else (billing.country_id if billing else "GB"),
            carrier=(carrier.erp_carrier_id or carrier.service) if carrier else "",
            shipping_amount=shipping_net,
            lines=tuple(
                SaleLineRequest(
                    item_code=resolved[line.sku],
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    description=f"{line.sku} {line.name}".strip()[:250],
                )
                for line in expanded
            ),
            comment=f"Magento order {order.increment_id} (entity {order.entity_id})",
        ),
        [],
    )


def _shipping_discount(order: Order) -> Decimal:
    if hasattr(order, "magento_shipping_discount"):  # annotated by orders_for_validation
        return _dec(order.magento_shipping_discount)
    return _dec((order.payload or {}).get("shipping_discount_amount"))


# --- holds and exceptions -------------------------------------------------------------------


def _raise_for(order: Order, cause: Cause) -> None:
    evidence = {"field": cause.field, "order": order.increment_id}
    if cause.kind == "address_invalid":
        evidence["fields"] = cause.field.split(", ")
    exception_raise(
        kind=cause.kind,
        subject=cause.subject,
        message=cause.message,
        system=System.INTEGRATION if cause.kind != "order_post_failed" else System.ERP,
        order_increment_id=order.increment_id,
        sku=cause.sku,
        evidence=evidence,
        amount=order.grand_total,
        currency=order.currency_code,
    )


def _holds_release(holds: Iterable[OrderHold], *, note: str) -> None:
    """Release holds; an exception whose last held order is released resolves itself."""
    now = timezone.now()
    causes = set()
    for hold in holds:
        hold.released_at = now
        hold.save(update_fields=["released_at"])
        causes.add((hold.kind, hold.subject))
    for kind, subject in causes:
        still = OrderHold.objects.filter(kind=kind, subject=subject, released_at__isnull=True)
        if not still.exists():
            exception_auto_resolve(kind=kind, subject=subject, note=note)


@transaction.atomic
def orders_hold(*, holds: Sequence[tuple[Order, Sequence[Cause]]]) -> None:
    """Hold orders: one hold and one exception occurrence per new cause; stale ones go.

    A batch at a time, in one transaction: the rows are locked and the open holds read in one
    query each, new holds inserted together. Nothing here waits on another system, so the
    transaction stays short.
    """
    ids = [order.pk for order, _ in holds]
    status = dict(
        Order.objects.select_for_update().filter(pk__in=ids).values_list("pk", "erp_status")
    )
    open_holds: dict[int, dict[tuple[str, str], OrderHold]] = defaultdict(dict)
    for hold in OrderHold.objects.filter(order_id__in=ids, released_at__isnull=True):
        open_holds[hold.order_id][(hold.kind, hold.subject)] = hold
    new_holds: list[OrderHold] = []
    to_raise: list[tuple[Order, Cause]] = []
    held: list[int] = []
    for order, causes in holds:
        if order.pk not in status:
            raise Order.DoesNotExist(f"order {order.increment_id} (pk {order.pk}) is gone")
        if status[order.pk] == OrderErpStatus.POSTED:
            continue
        current = open_holds.get(order.pk, {})
        wanted = {(c.kind, c.subject): c for c in causes}
        stale = [h for key, h in current.items() if key not in wanted]
        if stale:
            _holds_release(stale, note=f"Order {order.increment_id} no longer has this problem.")
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
    OrderHold.objects.bulk_create(new_holds)
    for order, cause in to_raise:
        _raise_for(order, cause)
    Order.objects.filter(pk__in=held).update(erp_status=OrderErpStatus.HELD)
    for order, _ in holds:
        if order.pk in held:
            order.erp_status = OrderErpStatus.HELD


def order_hold(*, order: Order, causes: Sequence[Cause]) -> None:
    """Hold one order (see `orders_hold`)."""
    orders_hold(holds=[(order, causes)])


# --- posting -------------------------------------------------------------------------------


@dataclass
class PostOutcome:
    status: str  # "posted" | "already" | "held" | "failed" | "retry" | "busy"
    detail: str = ""
    sale: ErpSale | None = None
    causes: list[Cause] = field(default_factory=list)


DRAFT_STATES = frozenset({"draft", "quotation"})


@cache
class PostSql:
    """The statements of a post, written once per backend from the model's meta."""

    def __init__(self) -> None:
        qn = connection.ops.quote_name
        meta = Order._meta

        def col(name: str) -> str:
            return qn(meta.get_field(name).column)

        table, pk = qn(meta.db_table), qn(meta.pk.column)
        status, sale, posted_at = col("erp_status"), col("erp_sale_id"), col("erp_posted_at")
        by, until = col("post_claimed_by"), col("post_claimed_until")
        # names below come from the model's meta, values are parameters
        self.claim = (
            f"UPDATE {table} SET {by} = %s, {until} = %s WHERE {pk} = %s "  # noqa: S608
            f"AND {status} <> %s AND ({until} IS NULL OR {until} < %s)"
        )
        self.read = f"SELECT {status}, {sale}, {until} FROM {table} WHERE {pk} = %s"  # noqa: S608
        self.record = (
            f"UPDATE {table} SET {status} = %s, {sale} = %s, {posted_at} = %s, "  # noqa: S608
            f"{by} = '', {until} = NULL WHERE {pk} = %s AND {by} = %s"
        )
        self.release = (
            f"UPDATE {table} SET {by} = '', {until} = NULL "  # noqa: S608
            f"WHERE {pk} = %s AND {by} = %s"
        )


@cache
def _post_sql(vendor: str) -> PostSql:
    return PostSql()


def _when(value: datetime):
    return Order._meta.get_field("post_claimed_until").get_db_prep_save(value, connection)


def _post_execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _post_read(pk: int) -> tuple[str, str, bool]:
    """(erp_status, erp_sale_id, claimed by a live worker) of the order."""
    with connection.cursor() as cursor:
        cursor.execute(_post_sql(connection.vendor).read, [pk])
        row = cursor.fetchone()
    if row is None:
        raise Order.DoesNotExist(f"order pk {pk} is gone")
    until = row[2]
    if isinstance(until, str):  # SQLite hands back text
        until = datetime.fromisoformat(until)
    if until is not None and timezone.is_naive(until):
        until = timezone.make_aware(until, UTC)
    return row[0], row[1], until is not None and until > timezone.now()


def _post_claim(pk: int, owner: str) -> bool:
    """Claim the order for this worker (one short statement); False if posted or claimed."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.SYNC_POST_CLAIM_SECONDS)
    sql = _post_sql(connection.vendor).claim
    return bool(
        _post_execute(sql, [owner, _when(lease), pk, OrderErpStatus.POSTED.value, _when(now)])
    )


def _post_claim_or_wait(pk: int, owner: str) -> tuple[bool, str, str]:
    """Claim the order, or wait for the worker that holds it to finish.

    Returns (claimed, erp_status, erp_sale_id); a post never waits on a database lock, so
    the web and the other flows keep writing while the ERP answers.
    """
    deadline = time.monotonic() + settings.SYNC_POST_CLAIM_WAIT_SECONDS
    while True:
        if _post_claim(pk, owner):
            status, sale_id, _live = _post_read(pk)
            return True, status, sale_id
        status, sale_id, live = _post_read(pk)
        if status == OrderErpStatus.POSTED or time.monotonic() >= deadline:
            return False, status, sale_id
        if live:
            time.sleep(0.1)  # another worker is posting it; a lapsed claim is retried at once


def order_post(
    *,
    order: Order,
    request: SaleRequest,
    erp: ErpAdapter,
    open_post_failures: set[str] | None = None,
) -> PostOutcome:
    """Post one validated order: claim it, find it in the ERP by reference, else create it.

    The claim (a lease on the order row) makes two racing posts one sale without holding a
    database transaction across the ERP's HTTP calls; the lookup by reference makes a post
    after a crash, or after a lapsed claim, find the sale instead of creating a second one.
    Raises `CircuitOpenError` (the ERP is down: stop the run) and `ConnectorError` for
    transient failures after retries; an ERP rejection marks the order failed with an exception.
    """
    owner = uuid.uuid4().hex
    claimed, status, sale_id = _post_claim_or_wait(order.pk, owner)
    if status == OrderErpStatus.POSTED:
        return PostOutcome("already", f"already in the ERP as {sale_id}")
    if not claimed:
        return PostOutcome("busy", "another worker is posting this order")
    sql = _post_sql(connection.vendor)
    try:
        sale = erp.sale_find(request.reference)
        created = sale is None
        if sale is None:
            sale = erp.sale_create(request)
        elif sale.state in DRAFT_STATES:
            # A previous post died between create and confirm; finish it, don't duplicate.
            sale = erp.sale_confirm(sale)
        posted_at = timezone.now()
        with transaction.atomic():
            recorded = _post_execute(
                sql.record,
                [OrderErpStatus.POSTED.value, sale.erp_id, _when(posted_at), order.pk, owner],
            )
            if not recorded:
                # Our claim lapsed and another worker took over; it finds this same sale.
                return PostOutcome("already", f"sale {sale.number or sale.erp_id}", sale=sale)
            order.erp_status, order.erp_sale_id, order.erp_posted_at = (
                OrderErpStatus.POSTED,
                sale.erp_id,
                posted_at,
            )
            if status in (OrderErpStatus.HELD, OrderErpStatus.FAILED):
                # Only held or failed orders have holds to release.
                _holds_release(
                    OrderHold.objects.filter(order_id=order.pk, released_at__isnull=True),
                    note=f"Order {order.increment_id} reached the ERP.",
                )
            if open_post_failures is None or order.increment_id in open_post_failures:
                exception_auto_resolve(
                    kind="order_post_failed",
                    subject=order.increment_id,
                    note=f"Order {order.increment_id} reached the ERP as sale "
                    f"{sale.number or sale.erp_id}.",
                )
        return PostOutcome(
            "posted" if created else "already", f"sale {sale.number or sale.erp_id}", sale=sale
        )
    except ErpRejected as exc:
        _post_execute(sql.release, [order.pk, owner])
        cause = Cause(
            "order_post_failed",
            order.increment_id,
            f"The ERP rejected order {order.increment_id}: {exc}",
        )
        order_fail(order=order, cause=cause)
        return PostOutcome("failed", str(exc), causes=[cause])
    except BaseException:
        _post_execute(sql.release, [order.pk, owner])
        raise


@transaction.atomic
def order_fail(*, order: Order, cause: Cause) -> None:
    locked = (
        Order.objects.select_for_update()
        .only("erp_status", "increment_id", "grand_total", "currency_code")
        .get(pk=order.pk)
    )
    if locked.erp_status == OrderErpStatus.POSTED:
        return
    locked.erp_status = OrderErpStatus.FAILED
    locked.save(update_fields=["erp_status"])
    hold, created = OrderHold.objects.get_or_create(
        order=locked,
        kind=cause.kind,
        subject=cause.subject,
        released_at=None,
        defaults={"message": cause.message},
    )
    _raise_for(locked, cause)


def orders_process(
    *, orders: Sequence[Order], erp: ErpAdapter, ctx: ValidationContext | None = None
) -> Iterator[tuple[Order, PostOutcome]]:
    """Validate a batch, then hold or post each order. The one path used by the flow and by
    every replay; yields each order's outcome as it is settled.

    Validation and holds are done for the whole batch first (holds in one transaction); valid
    orders are then posted one at a time, each under its own row lock, because each is a
    separate sale in the ERP and a lock must not be held across another order's ERP calls.
    `CircuitOpenError` propagates (the ERP is down: the caller stops); what was settled before
    it was yielded.
    """
    pending = [o for o in orders if o.erp_status != OrderErpStatus.POSTED]
    for order in orders:
        if order.erp_status == OrderErpStatus.POSTED:
            yield order, PostOutcome("already", f"already in the ERP as {order.erp_sale_id}")
    if not pending:
        return
    if ctx is None:
        ctx = context_build(erp=erp, orders=pending)
    to_hold: list[tuple[Order, list[Cause]]] = []
    to_post: list[tuple[Order, SaleRequest]] = []
    for order in pending:
        request, causes = order_validate(order, ctx)
        if causes:
            to_hold.append((order, causes))
        else:
            to_post.append((order, request))
    if to_hold:
        orders_hold(holds=to_hold)
        for order, causes in to_hold:
            yield (
                order,
                PostOutcome("held", "; ".join(c.message for c in causes), causes=causes),
            )
    for order, request in to_post:
        yield order, _order_post_reporting(order, request, erp, ctx)


def order_process(
    *, order: Order, erp: ErpAdapter, ctx: ValidationContext | None = None
) -> PostOutcome:
    """Validate, then hold or post one order (see `orders_process`)."""
    return [outcome for _, outcome in orders_process(orders=[order], erp=erp, ctx=ctx)][0]


def _order_post_reporting(
    order: Order, request: SaleRequest, erp: ErpAdapter, ctx: ValidationContext
) -> PostOutcome:
    """Post one order; a refusal or spent retries become an `order_post_failed` exception."""
    try:
        return order_post(
            order=order, request=request, erp=erp, open_post_failures=ctx.open_post_failures
        )
    except CircuitOpenError:
        raise
    except ConnectorError as exc:
        if not exc.retryable:
            cause = Cause(
                "order_post_failed",
                order.increment_id,
                f"The ERP refused order {order.increment_id}: {exc}",
            )
            order_fail(order=order, cause=cause)
            return PostOutcome("failed", str(exc), causes=[cause])
        # Retries ran out: reported, and the order stays new so the next run tries again.
        exception_raise(
            kind="order_post_failed",
            subject=order.increment_id,
            message=f"Posting order {order.increment_id} failed after retries: {exc}",
            system=System.ERP,
            order_increment_id=order.increment_id,
            evidence={"error": str(exc), "retryable": True},
            amount=order.grand_total,
            currency=order.currency_code,
        )
        return PostOutcome("retry", str(exc))
