"""The desk proposes the fix: each fixer's best guess, with why, never applied by itself."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from exceptions_app.fixers import fixer_for_kind
from integration.connections import connections_override
from integration.models import CarrierMapping, ErpItem, OrderAddress, SkuMapping
from sandbox.divergence import STOCKED_TYPES, catalogue_divergence, catalogue_rows
from tests.builders.erp import ErpWithCarriers
from tests.factories import DeskExceptionFactory, OrderFactory, OrderHoldFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def _item_master_as_the_erp_files_it() -> None:
    """The ERP item master the sandbox's Tryton builds from the Luma catalogue."""
    divergence = catalogue_divergence()
    ErpItem.objects.bulk_create(
        ErpItem(
            code=divergence.erp_code(r["sku"]),
            name=r["name"],
            active=r["sku"] not in divergence.inactive,
        )
        for r in catalogue_rows()
        if r["type_id"] in STOCKED_TYPES and r["sku"] not in divergence.missing
    )


def _sku_exception(sku: str, *, kind: str = "sku_unknown", orders: int = 1):
    names = {r["sku"]: r["name"] for r in catalogue_rows()}
    exception = DeskExceptionFactory(kind=kind, subject=sku, sku=sku)
    for _ in range(orders):
        order = OrderFactory()
        OrderLineFactory(order=order, sku=sku, name=names.get(sku, sku))
        OrderHoldFactory(order=order, kind=kind, subject=sku, field="sku")
    return exception


def test_each_renamed_sku_has_its_erp_code_suggested_first():
    _item_master_as_the_erp_files_it()
    renamed = catalogue_divergence().renamed
    assert len(renamed) == 9
    fixer = fixer_for_kind("sku_unknown")
    for sku, erp_code in renamed.items():
        suggestions = fixer.suggestions(_sku_exception(sku))
        assert suggestions, f"no suggestion for renamed SKU {sku}"
        assert suggestions[0].data == {"erp_item_code": erp_code}, sku
        assert erp_code in suggestions[0].why


def test_a_missing_sku_gets_no_suggestion_only_a_list_to_pick_from():
    _item_master_as_the_erp_files_it()
    fixer = fixer_for_kind("sku_unknown")
    for sku in sorted(catalogue_divergence().missing)[:10]:
        exception = _sku_exception(sku)
        # A sibling variant is not "most likely meant": no suggestion, only the ranked list.
        assert fixer.suggestions(exception) == [], sku
        assert all(r.item.code != sku for r in fixer.context(exception)["erp_items"])


def test_the_suggestion_says_how_many_held_orders_accepting_it_would_release():
    ErpItem.objects.create(code="LU-MH01XSBLACK", name="Chaz Kangeroo Hoodie-XS-Black")
    exception = _sku_exception("MH01-XS-Black", orders=3)
    also_held = OrderHoldFactory(kind="address_invalid", subject="x:postcode", field="postcode")
    OrderLineFactory(order=also_held.order, sku="MH01-XS-Black")
    OrderHoldFactory(order=also_held.order, kind="sku_unknown", subject="MH01-XS-Black")
    (suggestion,) = fixer_for_kind("sku_unknown").suggestions(exception)[:1]
    assert suggestion.releases == 3  # the fourth order waits for its address too
    held = fixer_for_kind("sku_unknown").held_orders(exception)
    assert len(held) == 4 and sum(h.amount for h in held) == 4 * Decimal("54.00")


def test_an_unmapped_next_day_method_is_suggested_the_erps_next_day_service():
    cache.clear()
    CarrierMapping.objects.create(
        magento_method="flatrate_flatrate", courier="Royal Mail", service="Tracked 24"
    )
    exception = DeskExceptionFactory(
        kind="carrier_unmapped", subject="matrixrate_matrixrate_12", sku="", system="integration"
    )
    order = OrderFactory(
        shipping_method="matrixrate_matrixrate_12",
        shipping_description="Select Shipping Method - Next Day Courier",
    )
    OrderHoldFactory(order=order, kind="carrier_unmapped", subject="matrixrate_matrixrate_12")
    with connections_override(erp=ErpWithCarriers):
        suggestions = fixer_for_kind("carrier_unmapped").suggestions(exception)
    best = suggestions[0]
    assert best.data == {"courier": "DPD", "service": "Next Day", "erp_carrier_id": "DPD-1^12"}
    assert "Next Day Courier" in best.why and best.releases == 1


def test_an_in_store_pickup_gets_no_courier_suggested():
    cache.clear()
    exception = DeskExceptionFactory(
        kind="carrier_unmapped", subject="instore_pickup", sku="", system="integration"
    )
    order = OrderFactory(shipping_description="In-Store Pickup Delivery - Pick in Store")
    OrderHoldFactory(order=order, kind="carrier_unmapped", subject="instore_pickup")
    with connections_override(erp=ErpWithCarriers):
        assert fixer_for_kind("carrier_unmapped").suggestions(exception) == []


def _address_exception(**shipping) -> tuple:
    order = OrderFactory(increment_id="000000777")
    values = {
        "firstname": "Jane",
        "lastname": "Smith",
        "street": ["10 Downing Street"],
        "city": "London",
        "postcode": "SW1A 2AA",
        "country_id": "GB",
        "telephone": "020 7946 0000",
    }
    OrderAddress.objects.create(order=order, address_type="billing", **values)
    address = OrderAddress.objects.create(
        order=order, address_type="shipping", **{**values, **shipping}
    )
    exception = DeskExceptionFactory(
        kind="address_invalid",
        subject="000000777",
        sku="",
        team="cx",
        order_increment_id="000000777",
    )
    OrderHoldFactory(order=order, kind="address_invalid", subject="000000777")
    return exception, address


def test_a_mistyped_postcode_is_suggested_as_the_billing_postcode_with_a_diff():
    exception, _ = _address_exception(postcode="SW1A 2A")
    (suggestion,) = fixer_for_kind("address_invalid").suggestions(exception)
    assert [(d.field, d.before, d.after) for d in suggestion.diff] == [
        ("Postcode", "SW1A 2A", "SW1A 2AA")
    ]
    assert "billing address" in suggestion.why


def test_a_street_too_long_for_the_labels_is_reflowed_with_standard_abbreviations():
    long = (
        "Flat 12, The Old Granary Building, 145-147 Upper Richmond Road West, "
        "Riverside Industrial Estate Access Road (deliveries via the rear service gate)"
    )
    exception, _ = _address_exception(street=[long])
    (suggestion,) = fixer_for_kind("address_invalid").suggestions(exception)
    lines = [suggestion.data[f"street_{n}"] for n in (1, 2, 3) if suggestion.data[f"street_{n}"]]
    assert all(len(line) <= 35 for line in lines) and len(lines) <= 3
    joined = " ".join(lines)
    for kept in ("Flat 12", "Old Granary", "145-147", "Upper Richmond", "Riverside"):
        assert kept in joined
    assert "Rd" in joined and "deliveries via the rear service gate" in suggestion.why
    assert {d.field for d in suggestion.diff} >= {"Street line 1", "Street line 2"}


def test_no_suggestion_is_ever_applied_by_itself():
    _item_master_as_the_erp_files_it()
    sku, _ = next(iter(catalogue_divergence().renamed.items()))
    exception = _sku_exception(sku)
    fixer_for_kind("sku_unknown").suggestions(exception)
    exception.refresh_from_db()
    assert not SkuMapping.objects.exists() and exception.status == "open"
    assert not exception.timeline.exists()
