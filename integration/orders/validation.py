"""Validation before posting: every cause that holds an order, or the sale to create.

Each cause names the exact SKU, shipping method or address field (DESIGN §2), and becomes one
hold on the order and one exception.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from dataclasses import fields as dataclass_fields
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.fields.json import KT

from exceptions_app.models import LIVE_STATUSES, DeskException, ExceptionKind
from integration.address import ShippingAddress, address_check
from integration.connectors.erp import ErpAdapter, SaleLineRequest, SaleRequest
from integration.models import (
    AddressType,
    CarrierMapping,
    Order,
    OrderAddress,
    OrderErpStatus,
    OrderLine,
    SkuMapping,
)
from integration.orders.items import erp_items_record
from integration.orders.payload import decimal_of
from integration.services import ADDRESS_FIELDS
from integration.skus import ExpandedLine, ItemState, LineSource, lines_expand, skus_resolve


@dataclass(frozen=True)
class Cause:
    """One reason an order is held: becomes one hold row and one exception."""

    kind: ExceptionKind
    subject: str
    message: str
    field: str = ""
    sku: str = ""
    # What the exception shows under Evidence, beyond the order and the field.
    evidence: Mapping | None = dataclass_field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class EditedFrom:
    """The order an edited order replaces, as the mirror has it."""

    increment_id: str
    erp_status: str


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
    # Edited orders: the original each replaces, by the original's entity id.
    originals: dict[int, EditedFrom] = dataclass_field(default_factory=dict)


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
    parents = [o.relation_parent_id for o in orders if o.relation_parent_id]
    return ValidationContext(
        sku_mappings=sku_mappings,
        carrier_mappings={m.magento_method: m for m in CarrierMapping.objects.all()},
        items={code: ItemState(code, info.active) for code, info in found.items()},
        street_width=settings.SYNC_STREET_LINE_MAX,
        street_lines=settings.SYNC_STREET_LINES,
        open_post_failures=set(
            DeskException.objects.filter(
                kind=ExceptionKind.ORDER_POST_FAILED,
                status__in=LIVE_STATUSES,
                order_increment_id__in=[o.increment_id for o in orders],
            ).values_list("subject", flat=True)
        ),
        originals={
            entity_id: EditedFrom(increment_id, status)
            for entity_id, increment_id, status in Order.objects.filter(
                entity_id__in=parents
            ).values_list("entity_id", "increment_id", "erp_status")
        }
        if parents
        else {},
    )


def _edit_causes(order: Order, ctx: ValidationContext) -> list[Cause]:
    """An edited order waits while the sale of the order it replaces is still live in the ERP."""
    original = ctx.originals.get(order.relation_parent_id) if order.relation_parent_id else None
    if original is None or original.erp_status != OrderErpStatus.POSTED:
        return []
    return [
        Cause(
            ExceptionKind.EDIT_AFTER_DISPATCH,
            order.increment_id,
            f"Order {order.increment_id} replaces order {original.increment_id} (edited in "
            "Magento), whose ERP sale is still live: it is held so the customer does not get "
            "both.",
            evidence={"original": original.increment_id},
        )
    ]


def _carrier_causes(order: Order, carrier: CarrierMapping | None, *, ships: bool) -> list[Cause]:
    if not ships or carrier is not None:
        return []
    method = order.shipping_method or "(none)"
    return [
        Cause(
            ExceptionKind.CARRIER_UNMAPPED,
            method,
            f"Shipping method {method} ({order.shipping_description or 'no description'}) "
            "has no courier mapping.",
            field="shipping_method",
        )
    ]


def _shipping_address(
    order: Order, address: OrderAddress | None, ctx: ValidationContext
) -> tuple[ShippingAddress | None, list[Cause]]:
    """The warehouse-ready address of an order that ships, or the one cause naming its fields."""
    if address is None:
        return None, [
            Cause(
                ExceptionKind.ADDRESS_INVALID,
                order.increment_id,
                "The order has no shipping address.",
                field="street",
            )
        ]
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
    if not problems:
        return shipping, []
    return None, [
        Cause(
            ExceptionKind.ADDRESS_INVALID,
            order.increment_id,
            f"Order {order.increment_id} shipping address: "
            + " ".join(p.message for p in problems),
            field=", ".join(p.field for p in problems),
        )
    ]


def order_validate(order: Order, ctx: ValidationContext) -> tuple[SaleRequest | None, list[Cause]]:
    """The sale to create, or every cause that holds the order (one per SKU / method / address)."""
    causes: list[Cause] = []
    expanded = lines_expand(_order_lines(order))
    if not expanded:
        causes.append(
            Cause(
                ExceptionKind.ORDER_POST_FAILED,
                order.increment_id,
                "The order has no items to post.",
            )
        )
    resolved, sku_problems = skus_resolve(
        [line.sku for line in expanded], mappings=ctx.sku_mappings, items=ctx.items
    )
    for problem in sku_problems:
        causes.append(
            Cause(problem.kind, problem.sku, problem.message, field="sku", sku=problem.sku)
        )
    causes += _edit_causes(order, ctx)
    carrier = ctx.carrier_mappings.get(order.shipping_method)
    ships = any(line.ships for line in expanded)
    # A books-only sale (history) never goes to the warehouse: its address need not fit a
    # label, and a courier service is needed only to book the shipping it charged.
    books = order.fulfilled_outside
    charged = order.shipping_amount - _shipping_discount(order) > 0
    causes += _carrier_causes(order, carrier, ships=ships and (charged or not books))
    addresses = {a.address_type: a for a in _order_addresses(order)}
    address = addresses.get(AddressType.SHIPPING) or addresses.get(AddressType.BILLING)
    shipping = None
    if ships and not books:
        shipping, address_causes = _shipping_address(order, address, ctx)
        causes += address_causes
    if causes:
        return None, causes
    billing = addresses.get(AddressType.BILLING) or address
    request = _sale_request(order, expanded, resolved, carrier, shipping, billing)
    return (replace(request, books_only=True) if books else request), []


def _sale_request(
    order: Order,
    expanded: list[ExpandedLine],
    resolved: dict[str, str],
    carrier: CarrierMapping | None,
    shipping: ShippingAddress | None,
    billing: OrderAddress | None,
) -> SaleRequest:
    """The ERP sale of a valid order; an order that does not ship takes the billing address."""
    shipping_net = order.shipping_amount - _shipping_discount(order)
    return SaleRequest(
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
    )


def _shipping_discount(order: Order) -> Decimal:
    if hasattr(order, "magento_shipping_discount"):  # annotated by orders_for_validation
        return decimal_of(order.magento_shipping_discount)
    return decimal_of((order.payload or {}).get("shipping_discount_amount"))
