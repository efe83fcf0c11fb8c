"""Drift checks raise, bump and auto-resolve exceptions through the exception services."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus
from integration.flows.checks import check_catalogue, check_order_stuck, check_variances
from integration.flows.orders_in import orders_in_run
from integration.flows.orders_out import orders_out_run
from integration.flows.shipments import DISPATCHED
from integration.models import Order, OrderErpStatus, Shipment
from sandbox.divergence import catalogue_divergence
from sandbox.erp.inprocess import FakeErp
from tests.sync.conftest import NOW, magento_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(seeded, carrier_mappings):
    app, report = seeded
    erp = FakeErp()
    with magento_for(app) as magento:
        orders_in_run(magento=magento, now=NOW)
    orders_out_run(erp=erp)
    return app, erp


def test_orders_the_desk_has_only_just_seen_are_not_yet_stuck(synced):
    # The seeded orders are days old in Magento but were pulled a moment ago.
    held = Order.objects.filter(erp_status=OrderErpStatus.HELD).order_by("pk").first()
    assert held.magento_created_at < timezone.now() - timedelta(days=1)
    check_order_stuck(now=timezone.now())
    assert not DeskException.objects.filter(kind=ExceptionKind.ORDER_STUCK).exists()


def test_stuck_orders_are_raised_and_resolve_when_they_move(synced, settings):
    held = Order.objects.filter(erp_status=OrderErpStatus.HELD).order_by("pk").first()
    now = timezone.now() + timedelta(minutes=settings.SYNC_ORDER_STUCK_MINUTES + 1)
    check_order_stuck(now=now)
    exception = DeskException.objects.get(
        fingerprint=f"{ExceptionKind.ORDER_STUCK}:{held.increment_id}"
    )
    assert "paid but not in the ERP" in exception.message
    posted = Order.objects.filter(
        erp_status=OrderErpStatus.POSTED, state="processing", fulfilled_outside=False
    ).first()
    Order.objects.filter(pk=posted.pk).update(erp_posted_at=now - timedelta(days=3))
    check_order_stuck(now=now)
    late = DeskException.objects.get(
        fingerprint=f"{ExceptionKind.ORDER_STUCK}:{posted.increment_id}"
    )
    assert "not been dispatched" in late.message
    Shipment.objects.create(erp_shipment_id="9", order=posted, erp_state=DISPATCHED,
                            dispatched_at=now)  # fmt: skip
    Order.objects.filter(pk=held.pk).update(erp_status=OrderErpStatus.POSTED, erp_posted_at=now)
    check_order_stuck(now=now)
    late.refresh_from_db()
    exception.refresh_from_db()
    assert late.status == ExceptionStatus.RESOLVED
    assert exception.status == ExceptionStatus.RESOLVED


def test_an_order_fulfilled_outside_the_desk_is_never_stuck_waiting_for_dispatch(synced, settings):
    posted = Order.objects.filter(erp_status=OrderErpStatus.POSTED, state="processing").first()
    now = timezone.now()
    # Shipped by Magento before go-live (here: only in part, so Magento says "processing"),
    # posted to the ERP for the books days ago, and no ERP shipment will ever come.
    Order.objects.filter(pk=posted.pk).update(
        fulfilled_outside=True, erp_posted_at=now - timedelta(days=3)
    )
    check_order_stuck(now=now)
    assert not DeskException.objects.filter(
        kind=ExceptionKind.ORDER_STUCK, subject=posted.increment_id
    ).exists()


def test_a_penny_tax_gap_is_a_variance_named_as_rounding(synced):
    _, erp = synced
    order = Order.objects.filter(erp_status=OrderErpStatus.POSTED, discount_amount=0).first()
    sale = erp.sales[order.increment_id]
    erp.sales[order.increment_id] = replace(
        sale, tax_amount=order.tax_amount - Decimal("0.01"),
        total_amount=order.grand_total - Decimal("0.01"),
    )  # fmt: skip
    found = check_variances(erp=erp, since=timezone.now() - timedelta(days=1))
    assert found == 2
    tax = DeskException.objects.get(
        fingerprint=f"{ExceptionKind.TAX_VARIANCE}:{order.increment_id}"
    )
    assert "rounding" in tax.evidence["likely_cause"]
    assert tax.amount == Decimal("0.01") and tax.period == f"{order.magento_created_at:%Y-%m}"
    erp.sales[order.increment_id] = replace(
        sale, tax_amount=order.tax_amount, total_amount=order.grand_total
    )
    check_variances(erp=erp, since=timezone.now() - timedelta(days=1))
    tax.refresh_from_db()
    assert tax.status == ExceptionStatus.RESOLVED


def test_enabled_magento_products_without_an_active_erp_item_are_catalogue_drift(magento_app):
    erp = FakeErp()
    with magento_for(magento_app, page_size=300) as magento:
        found = check_catalogue(magento=magento, erp=erp)
    divergence = catalogue_divergence()
    raised = {e.sku: e.kind for e in DeskException.objects.all()}
    for sku in divergence.missing:
        assert raised.get(sku) == ExceptionKind.SKU_UNKNOWN
    for sku in divergence.inactive:
        assert raised.get(sku) == ExceptionKind.SKU_INACTIVE
    assert found == len(raised)


def test_the_catalogue_check_mirrors_the_whole_item_master_so_renamed_skus_get_their_fix(
    magento_app,
):
    """Seeded like `make run`: the ERP files 9 Luma SKUs under other codes that no order names;
    after a checks run each renamed SKU's exception suggests its ERP code first."""
    from exceptions_app.fixers import fixer_for_kind
    from integration.models import ErpItem

    erp = FakeErp()
    with magento_for(magento_app, page_size=300) as magento:
        check_catalogue(magento=magento, erp=erp)
    assert ErpItem.objects.count() == len(erp.items)
    renamed = catalogue_divergence().renamed
    fixer = fixer_for_kind(ExceptionKind.SKU_UNKNOWN)
    for sku, erp_code in renamed.items():
        exception = DeskException.objects.get(kind=ExceptionKind.SKU_UNKNOWN, sku=sku)
        suggestions = fixer.suggestions(exception)
        assert suggestions and suggestions[0].data == {"erp_item_code": erp_code}, sku
