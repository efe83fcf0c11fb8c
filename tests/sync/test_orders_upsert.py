"""The order mirror's write path (set-based upsert) and the batch read validation uses.

The flow tests pull whole seeded scenarios once; these pin what a re-read must and must not
change: newer snapshots replace lines, older or identical ones write nothing, a status the
desk set survives, a corrected address is kept, and payloads are stored exactly.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from exceptions_app.models import DeskException
from integration.models import (
    AddressType,
    CarrierMapping,
    Order,
    OrderAddress,
    OrderErpStatus,
    OrderHold,
    SkuMapping,
)
from integration.orders import (
    Cause,
    context_build,
    order_validate,
    orders_for_validation,
    orders_hold,
    orders_upsert,
)
from sandbox.divergence import catalogue_divergence
from tests.sync.fake_erp import FakeErp

pytestmark = pytest.mark.django_db


def sellable_sku() -> str:
    """A simple Luma SKU the ERP stand-in holds, active, under the same code."""
    divergence = catalogue_divergence()
    erp = FakeErp()
    unusual = divergence.missing | divergence.inactive | set(divergence.renamed)
    return next(
        code for code, item in sorted(erp.items.items()) if item.goods and code not in unusual
    )


def payload(
    entity_id: int,
    *,
    updated_at: str = "2026-03-01 10:00:00",
    state: str = "processing",
    qty: float = 1,
    sku: str = "24-MB01",
    street: list[str] | None = None,
    extra: dict | None = None,
) -> dict:
    address = {
        "firstname": "Priya",
        "lastname": "Taylor",
        "street": street or ["12 High Street"],
        "city": "London",
        "postcode": "SW1A 1AA",
        "country_id": "GB",
        "telephone": "020 7946 0000",
        "email": "priya@example.co.uk",
    }
    return {
        "entity_id": entity_id,
        "increment_id": f"0000{entity_id:05d}",
        "store_id": 1,
        "state": state,
        "status": state,
        "created_at": "2026-03-01 09:00:00",
        "updated_at": updated_at,
        "customer_email": "priya@example.co.uk",
        "customer_firstname": "Priya",
        "customer_lastname": "Taylor",
        "order_currency_code": "GBP",
        "subtotal": 58.33 * qty,
        "shipping_amount": 5.0,
        "shipping_discount_amount": 1.5,
        "tax_amount": 11.67 * qty,
        "grand_total": 75.0 * qty,
        "total_paid": 75.0 * qty,
        "payment": {"method": "checkmo"},
        "items": [
            {
                "item_id": entity_id * 10,
                "sku": sku,
                "name": "Joust Duffle Bag",
                "product_type": "simple",
                "qty_ordered": qty,
                "price": 58.33,
                "row_total": 58.33 * qty,
                "tax_amount": 11.67 * qty,
                "tax_percent": 20.0,
                "discount_amount": 0.0,
                "row_total_incl_tax": 70.0 * qty,
            }
        ],
        "billing_address": {**address, "address_type": "billing"},
        "extension_attributes": {
            "shipping_assignments": [
                {
                    "shipping": {
                        "method": "flatrate_flatrate",
                        "address": {**address, "address_type": "shipping"},
                    }
                }
            ]
        },
        **(extra or {}),
    }


def test_a_page_is_mirrored_with_its_lines_addresses_money_and_exact_payload():
    paid = payload(1, extra={"big_number": 2**70, "note": "Crème brûlée"})
    counts = orders_upsert(payloads=[paid, payload(2, state="pending_payment")])
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
    orders_upsert(payloads=[payload(1)])
    before = Order.objects.get(entity_id=1)

    again = orders_upsert(payloads=[payload(1)])
    assert (again.unchanged, again.updated) == (1, 0)
    older = orders_upsert(payloads=[payload(1, updated_at="2026-02-01 10:00:00", qty=3)])
    assert (older.unchanged, older.updated) == (1, 0)

    after = Order.objects.get(entity_id=1)
    assert after.last_pulled_at == before.last_pulled_at
    assert after.grand_total == Decimal("75.0000")
    assert after.lines.get().qty_ordered == Decimal("1.0000")


def test_a_newer_snapshot_replaces_lines_and_only_moves_new_or_skipped_orders():
    orders_upsert(payloads=[payload(1, state="pending_payment"), payload(2), payload(3)])
    Order.objects.filter(entity_id=2).update(erp_status=OrderErpStatus.HELD)
    Order.objects.filter(entity_id=3).update(erp_status=OrderErpStatus.POSTED, erp_sale_id="S9")

    later = "2026-03-01 11:00:00"
    counts = orders_upsert(
        payloads=[
            payload(1, updated_at=later, qty=2),  # paid now: ready for the ERP
            payload(2, updated_at=later, state="canceled"),  # held by the desk: stays held
            payload(3, updated_at=later, state="complete"),  # already posted: stays posted
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
    orders_upsert(payloads=[payload(1, updated_at="2026-03-01 12:00:00", state="canceled")])
    assert Order.objects.get(entity_id=1).erp_status == OrderErpStatus.SKIPPED


def test_an_address_the_desk_corrected_survives_a_newer_snapshot():
    orders_upsert(payloads=[payload(1, street=["Flat 3"])])
    OrderAddress.objects.filter(order__entity_id=1, address_type=AddressType.SHIPPING).update(
        street=["Flat 3", "12 High Street"], corrected_at=timezone.now()
    )

    orders_upsert(payloads=[payload(1, updated_at="2026-03-01 11:00:00", street=["Flat 3, again"])])
    addresses = {a.address_type: a for a in Order.objects.get(entity_id=1).addresses.all()}
    assert addresses[AddressType.SHIPPING].street == ["Flat 3", "12 High Street"]
    assert addresses[AddressType.BILLING].street == ["Flat 3, again"]


def test_a_batch_loaded_for_validation_carries_lines_addresses_and_the_shipping_discount():
    sku = sellable_sku()
    CarrierMapping.objects.create(
        magento_method="flatrate_flatrate", courier="Royal Mail", service="Tracked 24"
    )
    orders_upsert(payloads=[payload(1, sku=sku, qty=2), payload(2, sku=sku)])
    orders = orders_for_validation(Order.objects.order_by("pk"))
    ctx = context_build(erp=FakeErp(), orders=orders)
    request, causes = order_validate(orders[0], ctx)
    assert causes == []
    # Shipping 5.00 less Magento's shipping discount 1.50, read without decoding the payload.
    assert request.shipping_amount == Decimal("3.5")
    assert [(line.item_code, line.quantity) for line in request.lines] == [(sku, Decimal("2"))]
    assert request.street == ("12 High Street",)


def test_holds_follow_the_causes_across_batches_and_their_exceptions_resolve():
    orders_upsert(payloads=[payload(1, sku="NOPE-1"), payload(2, sku="NOPE-1")])
    orders = orders_for_validation(Order.objects.order_by("pk"))
    ctx = context_build(erp=FakeErp(), orders=orders)
    holds = [(order, order_validate(order, ctx)[1]) for order in orders]
    assert all(causes and causes[0].kind == "sku_unknown" for _, causes in holds)
    orders_hold(holds=holds)

    exception = DeskException.objects.get(fingerprint="sku_unknown:NOPE-1")
    assert exception.occurrences == 2  # one occurrence per held order, as before batching
    assert OrderHold.objects.filter(subject="NOPE-1", released_at__isnull=True).count() == 2
    assert set(Order.objects.values_list("erp_status", flat=True)) == {OrderErpStatus.HELD}

    # Re-held for another cause only: the SKU hold is released, and once no order is held by
    # it any more its exception resolves itself.
    SkuMapping.objects.create(magento_sku="NOPE-1", erp_item_code=sellable_sku())
    carrier = Cause("carrier_unmapped", "flatrate_flatrate", "No courier.", field="x")
    orders_hold(holds=[(order, [carrier]) for order in orders_for_validation(Order.objects)])
    assert not OrderHold.objects.filter(subject="NOPE-1", released_at__isnull=True).exists()
    exception.refresh_from_db()
    assert exception.status == "resolved"
    assert OrderHold.objects.filter(kind="carrier_unmapped", released_at__isnull=True).count() == 2
