"""Fix in place: one core service applies the registered fixer, writes the timeline, and
replays what the fix unblocked; the mapping and address writes are audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from exceptions_app import services
from exceptions_app.fixers import FixNotAvailable
from exceptions_app.replay import ReplayOutcome, register_replayer
from integration.models import CarrierMapping, MappingChange, OrderAddress, SkuMapping
from tests.factories import DeskExceptionFactory, ErpItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_user():
    return UserFactory(username="olivia", roles=["ops"])


def test_fixing_a_sku_maps_it_and_replays_every_exception_it_blocked(ops_user):
    ErpItemFactory(code="MH01-XS-BLK")
    replayed = []
    register_replayer(
        "sku_unknown", lambda e: replayed.append(e.sku) or ReplayOutcome(True, "posted")
    )
    register_replayer("sku_inactive", lambda e: ReplayOutcome(False, "still inactive"))
    target = DeskExceptionFactory(subject="MH01-XS-Black", sku="MH01-XS-Black")
    other_kind = DeskExceptionFactory(
        kind="sku_inactive", subject="MH01-XS-Black", sku="MH01-XS-Black"
    )
    unrelated = DeskExceptionFactory(subject="24-MB01", sku="24-MB01")

    result = services.exception_fix(
        exception=target,
        actor=ops_user,
        action="map-sku",
        data={"erp_item_code": "MH01-XS-BLK", "note": "renamed in ERP"},
        note="renamed in ERP",
    )

    mapping = SkuMapping.objects.get(magento_sku="MH01-XS-Black")
    assert (mapping.erp_item_code, mapping.created_by) == ("MH01-XS-BLK", ops_user)
    assert {(r.exception_id, r.ok) for r in result.outcomes} == {
        (target.pk, True),
        (other_kind.pk, False),
    }
    assert replayed == ["MH01-XS-Black"]
    target.refresh_from_db()
    other_kind.refresh_from_db()
    unrelated.refresh_from_db()
    # A person fixed it: recorded as fixed by them, not "cause gone (seen by a later check)".
    assert (target.status, target.resolution) == ("resolved", "fixed")
    assert target.timeline.filter(verb="replayed").latest("id").actor == ops_user
    assert other_kind.status == "open"
    assert unrelated.status == "open"
    fixed = target.timeline.get(verb="fixed")
    assert fixed.actor == ops_user and fixed.data["suggestion_accepted"] is False


def test_a_sku_cannot_be_mapped_to_an_unknown_or_inactive_erp_item(ops_user):
    ErpItemFactory(code="OLD-1", active=False)
    exception = DeskExceptionFactory()
    with pytest.raises(ValidationError, match="no item"):
        services.exception_fix(
            exception=exception, actor=ops_user, action="map-sku", data={"erp_item_code": "NOPE"}
        )
    with pytest.raises(ValidationError, match="inactive"):
        services.exception_fix(
            exception=exception, actor=ops_user, action="map-sku", data={"erp_item_code": "OLD-1"}
        )
    assert not SkuMapping.objects.exists()
    assert not exception.timeline.exists()


def test_a_fix_for_another_kind_or_by_another_team_is_refused(ops_user):
    ErpItemFactory(code="MH01-XS-BLK")
    carrier = DeskExceptionFactory(kind="carrier_unmapped", subject="tablerate_bestway", sku="")
    with pytest.raises(FixNotAvailable):
        services.exception_fix(
            exception=carrier, actor=ops_user, action="map-sku", data={"erp_item_code": "X"}
        )
    finance = UserFactory(username="fiona", roles=["finance"])
    sku = DeskExceptionFactory()
    with pytest.raises(PermissionDenied):
        services.exception_fix(
            exception=sku, actor=finance, action="map-sku", data={"erp_item_code": "MH01-XS-BLK"}
        )
    assert not SkuMapping.objects.exists()


def test_mapping_a_carrier_replays_the_orders_it_held(ops_user):
    register_replayer("carrier_unmapped", lambda e: ReplayOutcome(True, "3 orders posted"))
    exception = DeskExceptionFactory(
        kind="carrier_unmapped", subject="tablerate_bestway", sku="", system="integration"
    )
    result = services.exception_fix(
        exception=exception,
        actor=ops_user,
        action="map-carrier",
        data={"courier": "Royal Mail", "service": "Tracked 48", "erp_carrier_id": "RM-TPS48"},
    )
    mapping = CarrierMapping.objects.get(magento_method="tablerate_bestway")
    assert (mapping.service, mapping.erp_carrier_id) == ("Tracked 48", "RM-TPS48")
    assert [r.ok for r in result.outcomes] == [True]
    exception.refresh_from_db()
    assert (exception.status, exception.resolution) == ("resolved", "fixed")


def test_correcting_an_address_keeps_magentos_original_and_replays_the_order():
    cx_user = UserFactory(username="cara", roles=["cx"])
    order = OrderFactory(increment_id="000000123")
    address = OrderAddress.objects.create(
        order=order,
        address_type="shipping",
        street=["Flat 4, The Very Long Building Name That Breaks Lines, 12 High Street"],
        city="London",
        postcode="sw1a1aa",
        country_id="GB",
        telephone="",
    )
    register_replayer("address_invalid", lambda e: ReplayOutcome(True, "posted"))
    exception = DeskExceptionFactory(
        kind="address_invalid",
        subject="000000123:telephone",
        sku="",
        team="cx",
        order_increment_id="000000123",
    )
    services.exception_fix(
        exception=exception,
        actor=cx_user,
        action="correct-address",
        data={
            "street_1": "Flat 4, The Very Long Building",
            "street_2": "12 High Street",
            "city": "London",
            "postcode": "sw1a1aa",
            "country_id": "GB",
            "telephone": "020 7946 0000",
        },
    )
    address.refresh_from_db()
    assert address.original["street"][0].startswith("Flat 4, The Very Long")
    assert address.original["telephone"] == ""
    assert address.postcode == "SW1A 1AA"
    assert address.corrected_by == cx_user
    exception.refresh_from_db()
    assert exception.status == "resolved"
    fixed = exception.timeline.get(verb="fixed")
    assert fixed.data["telephone"] == {"before": "", "after": "020 7946 0000"}


def test_an_invalid_uk_postcode_is_refused(ops_user):
    from integration.services import order_address_correct

    address = OrderAddress.objects.create(
        order=OrderFactory(), address_type="shipping", postcode="SW1A 1AA", country_id="GB"
    )
    with pytest.raises(ValidationError, match="not a valid UK postcode"):
        order_address_correct(address=address, actor=ops_user, changes={"postcode": "NOT IT"})
    address.refresh_from_db()
    assert address.original is None


def test_every_mapping_change_is_audited_with_before_and_after(ops_user):
    from integration.services import sku_mapping_save

    ErpItemFactory(code="A-1")
    ErpItemFactory(code="B-2")
    sku_mapping_save(magento_sku="MH01", erp_item_code="A-1", actor=ops_user, note="first")
    sku_mapping_save(magento_sku="MH01", erp_item_code="A-1", actor=ops_user, note="again")
    sku_mapping_save(magento_sku="MH01", erp_item_code="B-2", actor=None, note="renamed")
    changes = list(MappingChange.objects.filter(key="MH01").order_by("pk"))
    assert [(c.before, c.after, c.actor, c.note) for c in changes] == [
        (None, {"erp_item_code": "A-1"}, ops_user, "first"),
        ({"erp_item_code": "A-1"}, {"erp_item_code": "B-2"}, None, "renamed"),
    ]
