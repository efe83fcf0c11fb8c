"""The order mirror's write path (set-based upsert) and the batch read validation uses.

The flow tests pull whole seeded scenarios once; these pin what a re-read must and must not
change: newer snapshots replace lines, older or identical ones write nothing, a status the
desk set survives, a corrected address is kept, and payloads are stored exactly.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus
from integration.models import (
    AddressType,
    CarrierMapping,
    Order,
    OrderAddress,
    OrderErpStatus,
    OrderHold,
    SkuMapping,
)
from integration.orders.holds import orders_hold
from integration.orders.upsert import orders_upsert
from integration.orders.validation import (
    Cause,
    context_build,
    order_validate,
    orders_for_validation,
)
from sandbox.erp.inprocess import FakeErp
from tests.builders.orders import magento_order, sellable_sku

pytestmark = pytest.mark.django_db


def test_a_page_is_mirrored_with_its_lines_addresses_money_and_exact_payload():
    paid = magento_order(1, extra={"big_number": 2**70, "note": "Crème brûlée"})
    counts = orders_upsert(payloads=[paid, magento_order(2, state="pending_payment")])
    assert (counts.seen, counts.created, counts.updated) == (2, 2, 0)

    order = Order.objects.get(entity_id=1)
    assert order.erp_status == OrderErpStatus.NEW
    assert Order.objects.get(entity_id=2).erp_status == OrderErpStatus.SKIPPED
    assert order.grand_total == Decimal("75.0000")
    assert order.shipping_method == "flatrate_flatrate"
    assert order.magento_updated_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    # Stored exactly: an integer beyond 64 bits and non-ASCII text survive the fast encoder.
    assert order.payload == paid
    assert order.payload["big_number"] == 2**70
    (line,) = order.lines.all()
    assert (line.sku, line.qty_ordered, line.row_total_incl_tax) == (
        "24-MB01",
        Decimal("1.0000"),
        Decimal("70.0000"),
    )
    assert line.parent_item_id is None
    addresses = {a.address_type: a for a in order.addresses.all()}
    assert set(addresses) == {AddressType.BILLING, AddressType.SHIPPING}
    assert addresses[AddressType.SHIPPING].street == ["12 High Street"]
    assert addresses[AddressType.SHIPPING].original is None


def test_an_identical_or_older_snapshot_writes_nothing():
    orders_upsert(payloads=[magento_order(1)])
    before = Order.objects.get(entity_id=1)

    again = orders_upsert(payloads=[magento_order(1)])
    assert (again.unchanged, again.updated) == (1, 0)
    older = orders_upsert(payloads=[magento_order(1, updated_at="2026-02-01 10:00:00", qty=3)])
    assert (older.unchanged, older.updated) == (1, 0)

    after = Order.objects.get(entity_id=1)
    assert after.last_pulled_at == before.last_pulled_at
    assert after.grand_total == Decimal("75.0000")
    assert after.lines.get().qty_ordered == Decimal("1.0000")


def test_a_newer_snapshot_replaces_lines_and_only_moves_new_or_skipped_orders():
    orders_upsert(
        payloads=[magento_order(1, state="pending_payment"), magento_order(2), magento_order(3)]
    )
    Order.objects.filter(entity_id=2).update(erp_status=OrderErpStatus.HELD)
    Order.objects.filter(entity_id=3).update(erp_status=OrderErpStatus.POSTED, erp_sale_id="S9")

    later = "2026-03-01 11:00:00"
    counts = orders_upsert(
        payloads=[
            magento_order(1, updated_at=later, qty=2),  # paid now: ready for the ERP
            magento_order(2, updated_at=later, state="canceled"),  # held by the desk: stays held
            magento_order(3, updated_at=later, state="complete"),  # already posted: stays posted
        ]
    )
    assert (counts.created, counts.updated) == (0, 3)
    one, two, three = (Order.objects.get(entity_id=n) for n in (1, 2, 3))
    assert one.erp_status == OrderErpStatus.NEW
    assert one.grand_total == Decimal("150.0000")
    assert [line.qty_ordered for line in one.lines.all()] == [Decimal("2.0000")]
    assert one.first_seen_at < one.last_pulled_at
    assert (two.state, two.erp_status) == ("canceled", OrderErpStatus.HELD)
    assert (three.erp_status, three.erp_sale_id) == (OrderErpStatus.POSTED, "S9")

    # And a paid order cancelled before it was posted leaves the queue.
    orders_upsert(payloads=[magento_order(1, updated_at="2026-03-01 12:00:00", state="canceled")])
    assert Order.objects.get(entity_id=1).erp_status == OrderErpStatus.SKIPPED


def test_an_address_the_desk_corrected_survives_a_newer_snapshot():
    orders_upsert(payloads=[magento_order(1, street=["Flat 3"])])
    OrderAddress.objects.filter(order__entity_id=1, address_type=AddressType.SHIPPING).update(
        street=["Flat 3", "12 High Street"], corrected_at=timezone.now()
    )

    orders_upsert(
        payloads=[magento_order(1, updated_at="2026-03-01 11:00:00", street=["Flat 3, again"])]
    )
    addresses = {a.address_type: a for a in Order.objects.get(entity_id=1).addresses.all()}
    assert addresses[AddressType.SHIPPING].street == ["Flat 3", "12 High Street"]
    assert addresses[AddressType.BILLING].street == ["Flat 3, again"]


def test_a_batch_loaded_for_validation_carries_lines_addresses_and_the_shipping_discount():
    sku = sellable_sku()
    CarrierMapping.objects.create(
        magento_method="flatrate_flatrate", courier="Royal Mail", service="Tracked 24"
    )
    orders_upsert(payloads=[magento_order(1, sku=sku, qty=2), magento_order(2, sku=sku)])
    orders = orders_for_validation(Order.objects.order_by("pk"))
    ctx = context_build(erp=FakeErp(), orders=orders)
    request, causes = order_validate(orders[0], ctx)
    assert causes == []
    # Shipping 5.00 less Magento's shipping discount 1.50, read without decoding the payload.
    assert request.shipping_amount == Decimal("3.5")
    assert [(line.item_code, line.quantity) for line in request.lines] == [(sku, Decimal("2"))]
    assert request.street == ("12 High Street",)


def test_holds_follow_the_causes_across_batches_and_their_exceptions_resolve():
    orders_upsert(payloads=[magento_order(1, sku="NOPE-1"), magento_order(2, sku="NOPE-1")])
    orders = orders_for_validation(Order.objects.order_by("pk"))
    ctx = context_build(erp=FakeErp(), orders=orders)
    holds = [(order, order_validate(order, ctx)[1]) for order in orders]
    assert all(causes and causes[0].kind == ExceptionKind.SKU_UNKNOWN for _, causes in holds)
    orders_hold(holds=holds)

    exception = DeskException.objects.get(fingerprint=f"{ExceptionKind.SKU_UNKNOWN}:NOPE-1")
    assert exception.occurrences == 2  # one occurrence per held order, as before batching
    assert OrderHold.objects.filter(subject="NOPE-1", released_at__isnull=True).count() == 2
    assert set(Order.objects.values_list("erp_status", flat=True)) == {OrderErpStatus.HELD}

    # Re-held for another cause only: the SKU hold is released, and once no order is held by
    # it any more its exception resolves itself.
    SkuMapping.objects.create(magento_sku="NOPE-1", erp_item_code=sellable_sku())
    carrier = Cause(ExceptionKind.CARRIER_UNMAPPED, "flatrate_flatrate", "No courier.", field="x")
    orders_hold(holds=[(order, [carrier]) for order in orders_for_validation(Order.objects)])
    assert not OrderHold.objects.filter(subject="NOPE-1", released_at__isnull=True).exists()
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert (
        OrderHold.objects.filter(
            kind=ExceptionKind.CARRIER_UNMAPPED, released_at__isnull=True
        ).count()
        == 2
    )
