"""Drift checks: each finding raises (or bumps) an exception; a cause gone resolves it.

Set-based: every check is a handful of queries over the mirror plus batched reads of the
systems, never a call per order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from exceptions_app.models import LIVE_STATUSES, DeskException, ExceptionKind, System
from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.connectors.erp import ErpAdapter, ErpSale
from integration.connectors.magento.client import MagentoClient, SearchCriteria
from integration.flows.runs import flow_run
from integration.locks import Lease
from integration.models import (
    Flow,
    Order,
    OrderErpStatus,
    Shipment,
    SkuMapping,
    StockLevel,
    SyncRun,
)
from integration.orders.items import erp_items_record
from integration.orders.payload import DEAD_STATES

PENNY = Decimal("0.01")


def _open_subjects(kind: str) -> set[str]:
    return set(
        DeskException.objects.filter(kind=kind, status__in=LIVE_STATUSES).values_list(
            "subject", flat=True
        )
    )


def check_order_stuck(*, now: datetime) -> int:
    """Paid and not in the ERP after N minutes; in the ERP and not dispatched after the SLA."""
    unposted_before = now - timedelta(minutes=settings.SYNC_ORDER_STUCK_MINUTES)
    undispatched_before = now - timedelta(hours=settings.SYNC_DISPATCH_SLA_HOURS)
    dispatched = Shipment.objects.filter(order=OuterRef("pk"), dispatched_at__isnull=False)
    unposted = [OrderErpStatus.NEW, OrderErpStatus.HELD, OrderErpStatus.FAILED]
    stuck = list(
        Order.objects.annotate(
            shipped=Exists(dispatched), since=Greatest("magento_created_at", "first_seen_at")
        )
        .filter(
            # Counted from when the desk first saw the order (or its creation, if later): the
            # first pull of a store's history is not thousands of stuck orders.
            Q(erp_status__in=unposted, since__lt=unposted_before)
            | Q(
                erp_status=OrderErpStatus.POSTED,
                erp_posted_at__lt=undispatched_before,
                shipped=False,
                # Fulfilled outside the desk (history): in the ERP for the books, not to ship.
                fulfilled_outside=False,
            )
        )
        # Complete in Magento means shipped there already; cancelled orders never ship.
        .exclude(Q(state__in=DEAD_STATES) | Q(erp_status=OrderErpStatus.POSTED, state="complete"))
    )
    stuck_ids = set()
    for order in stuck:
        stuck_ids.add(order.increment_id)
        if order.erp_status == OrderErpStatus.POSTED:
            message = (
                f"Order {order.increment_id} reached the ERP at "
                f"{order.erp_posted_at:%Y-%m-%d %H:%M} but has not been dispatched within "
                f"{settings.SYNC_DISPATCH_SLA_HOURS} h."
            )
            system = System.ERP
        else:
            message = (
                f"Order {order.increment_id} is paid but not in the ERP "
                f"({order.get_erp_status_display().lower()}) since "
                f"{order.magento_created_at:%Y-%m-%d %H:%M}."
            )
            system = System.INTEGRATION
        exception_raise(
            kind=ExceptionKind.ORDER_STUCK,
            subject=order.increment_id,
            message=message,
            system=system,
            order_increment_id=order.increment_id,
            amount=order.grand_total,
            currency=order.currency_code,
        )
    for subject in _open_subjects(ExceptionKind.ORDER_STUCK) - stuck_ids:
        exception_auto_resolve(
            kind=ExceptionKind.ORDER_STUCK, subject=subject, note="The order has moved on."
        )
    return len(stuck_ids)


def check_status_drift(*, now: datetime) -> int:
    """Dispatched in the ERP but Magento not told (after SYNC_STATUS_DRIFT_GRACE_MINUTES)."""
    late = list(
        Shipment.objects.filter(
            dispatched_at__lt=now - timedelta(minutes=settings.SYNC_STATUS_DRIFT_GRACE_MINUTES),
            magento_shipment_id="",
        ).select_related("order")
    )
    drifting = set()
    for shipment in late:
        drifting.add(shipment.order.increment_id)
        exception_raise(
            kind=ExceptionKind.STATUS_DRIFT,
            subject=shipment.order.increment_id,
            message=(
                f"Order {shipment.order.increment_id} was dispatched in the ERP "
                f"(shipment {shipment.erp_shipment_id}, "
                f"tracking {shipment.tracking_number or '—'}) "
                "but Magento has no shipment."
            ),
            system=System.MAGENTO,
            order_increment_id=shipment.order.increment_id,
            erp_document=shipment.erp_shipment_id,
        )
    for subject in _open_subjects(ExceptionKind.STATUS_DRIFT) - drifting:
        exception_auto_resolve(
            kind=ExceptionKind.STATUS_DRIFT, subject=subject, note="Magento has the shipment now."
        )
    return len(drifting)


def check_stock_drift() -> int:
    """Settled pushes whose read-back differs from ERP availability beyond the tolerance."""
    tolerance = Decimal(settings.SYNC_STOCK_TOLERANCE)
    drifting = set()
    for level in StockLevel.objects.filter(
        magento_reported__isnull=False, erp_available__isnull=False
    ).exclude(magento_reported=F("erp_available")):
        if abs(level.magento_reported - level.erp_available) <= tolerance:
            continue
        drifting.add(level.sku)
        exception_raise(
            kind=ExceptionKind.STOCK_DRIFT,
            subject=level.sku,
            message=(
                f"Magento shows {level.magento_reported} for {level.sku}, the ERP has "
                f"{level.erp_available} available."
            ),
            system=System.MAGENTO,
            sku=level.sku,
            units=abs(level.magento_reported - level.erp_available),
        )
    for subject in _open_subjects(ExceptionKind.STOCK_DRIFT) - drifting:
        if StockLevel.objects.filter(sku=subject, magento_reported__isnull=False).exists():
            exception_auto_resolve(
                kind=ExceptionKind.STOCK_DRIFT,
                subject=subject,
                note="Magento's quantity equals the ERP's again.",
            )
    return len(drifting)


def variance_cause(order: Order, sale: ErpSale, tax_gap: Decimal, total_gap: Decimal) -> str:
    """The likeliest reason Magento and the ERP disagree, in words finance uses."""
    lines = max(1, order.lines.filter(parent_item_id__isnull=True).count())
    if abs(tax_gap) <= PENNY * lines and abs(total_gap) <= PENNY * lines:
        return (
            "rounding: Magento rounds VAT per line/unit, the ERP per document "
            f"({lines} line(s), gap within a penny per line)"
        )
    if order.shipping_tax_amount and abs(abs(tax_gap) - order.shipping_tax_amount) <= PENNY:
        return "shipping tax: one side taxes the shipping charge, the other does not"
    if order.discount_amount and abs(abs(total_gap) - abs(order.discount_amount)) <= PENNY * lines:
        return "discount allocation: the discount is applied on one side only or split differently"
    if order.discount_amount:
        return "discount allocation: the discount is spread over lines differently"
    return "amounts differ beyond rounding: compare the lines"


def check_variances(*, erp: ErpAdapter, since: datetime) -> int:
    """Magento order vs ERP sale: tax and total, with the likely cause named."""
    tolerance = Decimal(settings.SYNC_VARIANCE_TOLERANCE)
    orders = list(
        Order.objects.filter(erp_status=OrderErpStatus.POSTED, erp_posted_at__gte=since).order_by(
            "pk"
        )
    )
    found = 0
    for start in range(0, len(orders), 200):
        chunk = orders[start : start + 200]
        sales = erp.sales_by_references([o.increment_id for o in chunk])
        for order in chunk:
            sale = sales.get(order.increment_id)
            if sale is None or sale.total_amount is None or sale.tax_amount is None:
                continue
            tax_gap = order.tax_amount - sale.tax_amount
            total_gap = order.grand_total - sale.total_amount
            period = f"{order.magento_created_at:%Y-%m}"
            evidence = {
                "magento": {"tax": str(order.tax_amount), "total": str(order.grand_total)},
                "erp": {
                    "tax": str(sale.tax_amount),
                    "total": str(sale.total_amount),
                    "sale": sale.number or sale.erp_id,
                },
            }
            for kind, gap in (
                (ExceptionKind.TAX_VARIANCE, tax_gap),
                (ExceptionKind.TOTAL_VARIANCE, total_gap),
            ):
                is_tax = kind == ExceptionKind.TAX_VARIANCE
                if abs(gap) > tolerance:
                    found += 1
                    cause = variance_cause(order, sale, tax_gap, total_gap)
                    exception_raise(
                        kind=kind,
                        subject=order.increment_id,
                        message=(
                            f"{'Tax' if is_tax else 'Total'} of order "
                            f"{order.increment_id}: Magento "
                            f"{order.tax_amount if is_tax else order.grand_total}"
                            f", ERP "
                            f"{sale.tax_amount if is_tax else sale.total_amount}"
                            f" (gap {gap}). Likely cause: {cause}."
                        ),
                        system=System.ERP,
                        order_increment_id=order.increment_id,
                        erp_document=sale.number or sale.erp_id,
                        period=period,
                        evidence={**evidence, "likely_cause": cause},
                        amount=gap,
                        currency=order.currency_code,
                    )
                else:
                    exception_auto_resolve(
                        kind=kind, subject=order.increment_id, note="Magento and the ERP agree now."
                    )
    return found


def check_catalogue(*, magento: MagentoClient, erp: ErpAdapter) -> int:
    """Enabled simple Magento products with no active ERP item (through the SKU mapping)."""
    criteria = SearchCriteria().where("status", 1).where("type_id", "simple,downloadable", "in")
    enabled = {p["sku"] for p in magento.products(criteria) if p.get("sku")}
    mappings = dict(SkuMapping.objects.values_list("magento_sku", "erp_item_code"))
    # The whole item master, read once: it also refreshes the desk's item mirror, which the
    # SKU fix searches and ranks (an item no order named yet is still one to map to).
    master = erp.items_all()
    erp_items_record(master)
    items = {item.code: item for item in master}
    found = 0
    for sku in sorted(enabled):
        code = mappings.get(sku, sku)
        item = items.get(code)
        if item is not None and item.active:
            continue
        found += 1
        kind = ExceptionKind.SKU_UNKNOWN if item is None else ExceptionKind.SKU_INACTIVE
        exception_raise(
            kind=kind,
            subject=sku,
            message=(
                f"Magento sells {sku} (enabled), but the ERP "
                + ("has no item " if item is None else "has only an inactive item ")
                + f"{code}; its orders will be held."
            ),
            system=System.ERP,
            sku=sku,
            evidence={"source": "catalogue check", "erp_code": code},
        )
    return found


def checks_run(
    *,
    magento: MagentoClient,
    erp: ErpAdapter,
    now: datetime | None = None,
    catalogue: bool = True,
) -> SyncRun:
    """One run of every drift check (skipped if another is in progress)."""

    def body(run: SyncRun, lease: Lease) -> None:
        moment = now or timezone.now()
        found = check_order_stuck(now=moment)
        found += check_status_drift(now=moment)
        found += check_stock_drift()
        found += check_variances(erp=erp, since=moment - timedelta(days=35))
        if catalogue:
            found += check_catalogue(magento=magento, erp=erp)
        # Findings are neither held nor failed records: they are what the checks found.
        run.found = found

    return flow_run(Flow.CHECKS, body)
