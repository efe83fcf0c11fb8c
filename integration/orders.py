"""Orders: the mirror upsert, validation before posting, holds, and the post to the ERP.

An order reaches the ERP at most once: the post runs under a lock on the order row and asks the
ERP for the Magento increment id (the sale's reference) before creating anything, so a replay,
a redelivered task or two racing workers all find the first sale instead of making a second.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
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
from integration.skus import ItemState, lines_expand, skus_resolve

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


def _line_rows(order: Order, payload: dict) -> list[OrderLine]:
    rows = []
    for item in payload.get("items") or []:
        rows.append(
            OrderLine(
                order=order,
                item_id=int(item["item_id"]),
                parent_item_id=int(item["parent_item_id"]) if item.get("parent_item_id") else None,
                sku=item.get("sku") or "",
                name=(item.get("name") or "")[:255],
                product_type=item.get("product_type") or "simple",
                qty_ordered=_dec(item.get("qty_ordered")),
                qty_shipped=_dec(item.get("qty_shipped")),
                price=_dec(item.get("price")),
                row_total=_dec(item.get("row_total")),
                tax_amount=_dec(item.get("tax_amount")),
                tax_percent=_dec(item.get("tax_percent")),
                discount_amount=_dec(item.get("discount_amount")),
                row_total_incl_tax=_dec(item.get("row_total_incl_tax")),
            )
        )
    return rows


def _address_row(order: Order, kind: str, data: dict) -> OrderAddress:
    street = data.get("street") or []
    if isinstance(street, str):
        street = street.split("\n")
    return OrderAddress(
        order=order,
        address_type=kind,
        firstname=data.get("firstname") or "",
        lastname=data.get("lastname") or "",
        company=data.get("company") or "",
        street=list(street),
        city=data.get("city") or "",
        region=data.get("region") or "",
        postcode=data.get("postcode") or "",
        country_id=data.get("country_id") or "",
        telephone=data.get("telephone") or "",
        email=data.get("email") or "",
    )


def _address_rows(order: Order, payload: dict) -> list[OrderAddress]:
    rows = []
    if payload.get("billing_address"):
        rows.append(_address_row(order, AddressType.BILLING, payload["billing_address"]))
    shipping = _shipping_block(payload).get("address")
    if shipping:
        rows.append(_address_row(order, AddressType.SHIPPING, shipping))
    return rows


@dataclass
class UpsertCounts:
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@transaction.atomic
def orders_upsert(*, payloads: Sequence[dict]) -> UpsertCounts:
    """Upsert a page of Magento orders by entity_id, set-based (a handful of queries a page).

    An older snapshot never overwrites a newer one; an address the desk corrected is kept.
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
    existing = {o.entity_id: o for o in Order.objects.filter(entity_id__in=list(latest))}
    now = timezone.now()
    to_create: list[Order] = []
    to_update: list[Order] = []
    for entity_id, payload in latest.items():
        fields = order_fields(payload)
        current = existing.get(entity_id)
        if current is None:
            fields["erp_status"] = _erp_status(fields, None)
            to_create.append(
                Order(entity_id=entity_id, first_seen_at=now, last_pulled_at=now, **fields)
            )
            continue
        if fields["magento_updated_at"] < current.magento_updated_at or (
            fields["magento_updated_at"] == current.magento_updated_at
            and current.payload == payload
        ):
            counts.unchanged += 1
            continue
        fields["erp_status"] = _erp_status(fields, current.erp_status)
        for name, value in fields.items():
            setattr(current, name, value)
        current.last_pulled_at = now
        to_update.append(current)
    Order.objects.bulk_create(to_create, batch_size=500)
    if not to_create or to_create[0].pk is None:
        # Backends without RETURNING on bulk insert: fetch the new keys.
        ids = dict(
            Order.objects.filter(entity_id__in=[o.entity_id for o in to_create]).values_list(
                "entity_id", "pk"
            )
        )
        for order in to_create:
            order.pk = ids[order.entity_id]
    update_fields = (
        [*order_fields(next(iter(latest.values()))).keys(), "erp_status", "last_pulled_at"]
        if latest
        else []
    )
    if to_update:
        Order.objects.bulk_update(to_update, update_fields, batch_size=500)
    counts.created, counts.updated = len(to_create), len(to_update)

    touched = to_create + to_update
    if touched:
        ids = [o.pk for o in touched]
        OrderLine.objects.filter(order_id__in=ids).delete()
        OrderLine.objects.bulk_create(
            [row for o in touched for row in _line_rows(o, o.payload)], batch_size=1000
        )
        corrected = set(
            OrderAddress.objects.filter(order_id__in=ids, corrected_at__isnull=False).values_list(
                "order_id", "address_type"
            )
        )
        OrderAddress.objects.filter(order_id__in=ids, corrected_at__isnull=True).delete()
        OrderAddress.objects.bulk_create(
            [
                row
                for o in touched
                for row in _address_rows(o, o.payload)
                if (o.pk, row.address_type) not in corrected
            ],
            batch_size=1000,
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


def context_build(*, erp: ErpAdapter, orders: Sequence[Order]) -> ValidationContext:
    """Mappings, and the ERP items the orders' SKUs need, refreshed into the ErpItem mirror."""
    sku_mappings = dict(SkuMapping.objects.values_list("magento_sku", "erp_item_code"))
    skus = {line.sku for order in orders for line in lines_expand(order.lines.all())}
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


def erp_items_record(infos: Iterable) -> None:
    """Mirror ERP items as just read (code, id, name, active)."""
    infos = list(infos)
    if not infos:
        return
    now = timezone.now()
    ErpItem.objects.bulk_create(
        [
            ErpItem(
                code=i.code, erp_id=i.erp_id, name=i.name[:255], active=i.active, last_seen_at=now
            )
            for i in infos
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["erp_id", "name", "active", "last_seen_at"],
        batch_size=1000,
    )


def order_validate(order: Order, ctx: ValidationContext) -> tuple[SaleRequest | None, list[Cause]]:
    """The sale to create, or every cause that holds the order (one per SKU / method / address)."""
    causes: list[Cause] = []
    expanded = lines_expand(order.lines.all())
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

    addresses = {a.address_type: a for a in order.addresses.all()}
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
    return _dec((order.payload or {}).get("shipping_discount_amount"))


# --- holds and exceptions -------------------------------------------------------------------


def _raise_for(order: Order, cause: Cause) -> None:
    per_order = cause.kind in ("address_invalid", "order_post_failed")
    evidence = {"field": cause.field, "order": order.increment_id}
    if cause.kind == "address_invalid":
        evidence["fields"] = cause.field.split(", ")
    exception_raise(
        kind=cause.kind,
        subject=cause.subject,
        message=cause.message,
        system=System.INTEGRATION if cause.kind != "order_post_failed" else System.ERP,
        order=order if per_order else None,
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
def order_hold(*, order: Order, causes: Sequence[Cause]) -> None:
    """Hold the order: one hold and one exception occurrence per new cause; stale ones go."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.erp_status == OrderErpStatus.POSTED:
        return
    open_holds = {(h.kind, h.subject): h for h in order.holds.filter(released_at__isnull=True)}
    wanted = {(c.kind, c.subject): c for c in causes}
    _holds_release(
        [h for key, h in open_holds.items() if key not in wanted],
        note=f"Order {order.increment_id} no longer has this problem.",
    )
    for key, cause in wanted.items():
        if key not in open_holds:
            OrderHold.objects.create(
                order=order,
                kind=cause.kind,
                subject=cause.subject,
                field=cause.field,
                message=cause.message,
            )
            _raise_for(order, cause)
    order.erp_status = OrderErpStatus.HELD
    order.save(update_fields=["erp_status"])


# --- posting -------------------------------------------------------------------------------


@dataclass
class PostOutcome:
    status: str  # "posted" | "already" | "held" | "failed" | "retry"
    detail: str = ""
    sale: ErpSale | None = None
    causes: list[Cause] = field(default_factory=list)


DRAFT_STATES = frozenset({"draft", "quotation"})


def order_post(
    *,
    order: Order,
    request: SaleRequest,
    erp: ErpAdapter,
    open_post_failures: set[str] | None = None,
) -> PostOutcome:
    """Post one validated order: under the order's row lock, find by reference, else create.

    Raises `CircuitOpenError` (the ERP is down: stop the run) and `ConnectorError` for
    transient failures after retries; an ERP rejection marks the order failed with an exception.
    """
    try:
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.erp_status == OrderErpStatus.POSTED:
                return PostOutcome("already", f"already in the ERP as {locked.erp_sale_id}")
            held_before = locked.erp_status
            sale = erp.sale_find(request.reference)
            created = sale is None
            if sale is None:
                sale = erp.sale_create(request)
            elif sale.state in DRAFT_STATES:
                # A previous post died between create and confirm; finish it, don't duplicate.
                sale = erp.sale_confirm(sale)
            locked.erp_status = OrderErpStatus.POSTED
            locked.erp_sale_id = sale.erp_id
            locked.erp_posted_at = timezone.now()
            locked.save(update_fields=["erp_status", "erp_sale_id", "erp_posted_at"])
            if held_before in (OrderErpStatus.HELD, OrderErpStatus.FAILED):
                # Only held or failed orders have holds to release.
                _holds_release(
                    locked.holds.filter(released_at__isnull=True),
                    note=f"Order {locked.increment_id} reached the ERP.",
                )
            if open_post_failures is None or locked.increment_id in open_post_failures:
                exception_auto_resolve(
                    kind="order_post_failed",
                    subject=locked.increment_id,
                    note=f"Order {locked.increment_id} reached the ERP as sale "
                    f"{sale.number or sale.erp_id}.",
                )
            return PostOutcome(
                "posted" if created else "already", f"sale {sale.number or sale.erp_id}", sale=sale
            )
    except ErpRejected as exc:
        cause = Cause(
            "order_post_failed",
            order.increment_id,
            f"The ERP rejected order {order.increment_id}: {exc}",
        )
        order_fail(order=order, cause=cause)
        return PostOutcome("failed", str(exc), causes=[cause])


@transaction.atomic
def order_fail(*, order: Order, cause: Cause) -> None:
    locked = Order.objects.select_for_update().get(pk=order.pk)
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


def order_process(
    *, order: Order, erp: ErpAdapter, ctx: ValidationContext | None = None
) -> PostOutcome:
    """Validate, then hold or post. The one path used by the flow and by every replay."""
    if order.erp_status == OrderErpStatus.POSTED:
        return PostOutcome("already", f"already in the ERP as {order.erp_sale_id}")
    if ctx is None:
        ctx = context_build(erp=erp, orders=[order])
    request, causes = order_validate(order, ctx)
    if causes:
        order_hold(order=order, causes=causes)
        return PostOutcome("held", "; ".join(c.message for c in causes), causes=causes)
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
            order=order,
            evidence={"error": str(exc), "retryable": True},
            amount=order.grand_total,
            currency=order.currency_code,
        )
        return PostOutcome("retry", str(exc))
