"""Replay: resolves only on success; failures are recorded and keep the exception open."""

import pytest
from django.core.exceptions import PermissionDenied

from exceptions_app import services
from exceptions_app.models import DeskException
from exceptions_app.replay import (
    ReplayNotAvailable,
    ReplayOutcome,
    register_replayer,
    replayer_for,
)
from tests.factories import DeskExceptionFactory, ErpItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_user():
    return UserFactory(username="olivia", roles=["ops"])


def test_register_replayer_works_as_a_decorator_and_refuses_unknown_kinds():
    @register_replayer("stock_drift")
    def push(exception):
        return ReplayOutcome(ok=True, detail="pushed")

    assert replayer_for("stock_drift") is push
    with pytest.raises(ValueError, match="unknown exception kind"):
        register_replayer("stock_drfit", push)


def test_a_successful_replay_resolves_the_exception(ops_user):
    calls = []
    register_replayer(
        "sku_unknown", lambda e: calls.append(e.pk) or ReplayOutcome(True, "2 orders posted")
    )
    exception = DeskExceptionFactory()
    outcome = services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert outcome.ok and calls == [exception.pk]
    assert (exception.status, exception.resolution) == ("resolved", "replayed")
    entry = exception.timeline.latest("id")
    assert (entry.verb, entry.note, entry.actor) == ("replayed", "2 orders posted", ops_user)


def test_a_failed_replay_is_recorded_and_keeps_the_exception_open(ops_user):
    register_replayer("sku_unknown", lambda e: ReplayOutcome(False, "ERP says: item missing"))
    exception = DeskExceptionFactory()
    outcome = services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert not outcome.ok
    assert (exception.status, exception.sub_status) == ("open", "replay_failed")
    entry = exception.timeline.latest("id")
    assert (entry.verb, entry.note) == ("replay_failed", "ERP says: item missing")


def test_a_crashing_replayer_is_a_failed_replay_and_its_writes_are_rolled_back(ops_user):
    def crash(exception):
        DeskException.objects.filter(pk=exception.pk).update(message="half-written")
        raise ConnectionError("ERP unreachable")

    register_replayer("sku_unknown", crash)
    exception = DeskExceptionFactory()
    outcome = services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert not outcome.ok and "ERP unreachable" in outcome.detail
    assert exception.status == "open"
    assert exception.message != "half-written"
    assert exception.timeline.latest("id").verb == "replay_failed"


def test_a_replayer_that_auto_resolves_itself_is_not_resolved_twice(ops_user):
    def flow(exception):
        services.exception_auto_resolve(kind=exception.kind, subject=exception.subject)
        return ReplayOutcome(True, "posted")

    register_replayer("sku_unknown", flow)
    exception = DeskExceptionFactory()
    services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert exception.status == "resolved"
    assert list(exception.timeline.values_list("verb", flat=True)) == [
        "auto_resolved",
        "replayed",
    ]


def test_replay_without_a_registered_replayer_says_so(ops_user):
    exception = DeskExceptionFactory()
    with pytest.raises(ReplayNotAvailable, match="no flow has registered"):
        services.exception_replay(exception=exception, actor=ops_user)
    exception.refresh_from_db()
    assert exception.status == "open"


def test_finance_cannot_replay_an_ops_exception():
    register_replayer("sku_unknown", lambda e: ReplayOutcome(True, "ok"))
    finance = UserFactory(username="fiona", roles=["finance"])
    exception = DeskExceptionFactory()
    with pytest.raises(PermissionDenied):
        services.exception_replay(exception=exception, actor=finance)


def test_fixing_a_sku_maps_it_and_replays_every_exception_it_blocked(ops_user):
    from integration.models import SkuMapping

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

    result = services.exception_fix_sku(
        exception=target, actor=ops_user, erp_item_code="MH01-XS-BLK", note="renamed in ERP"
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
    assert target.status == "resolved"
    assert other_kind.status == "open"
    assert unrelated.status == "open"
    assert "fixed" in target.timeline.values_list("verb", flat=True)


def test_a_sku_cannot_be_mapped_to_an_unknown_or_inactive_erp_item(ops_user):
    from django.core.exceptions import ValidationError

    from integration.models import SkuMapping

    ErpItemFactory(code="OLD-1", active=False)
    exception = DeskExceptionFactory()
    with pytest.raises(ValidationError, match="no item"):
        services.exception_fix_sku(exception=exception, actor=ops_user, erp_item_code="NOPE")
    with pytest.raises(ValidationError, match="inactive"):
        services.exception_fix_sku(exception=exception, actor=ops_user, erp_item_code="OLD-1")
    assert not SkuMapping.objects.exists()
    assert not exception.timeline.exists()


def test_mapping_a_carrier_replays_the_orders_it_held(ops_user):
    from integration.models import CarrierMapping

    register_replayer("carrier_unmapped", lambda e: ReplayOutcome(True, "3 orders posted"))
    exception = DeskExceptionFactory(
        kind="carrier_unmapped", subject="tablerate_bestway", sku="", system="integration"
    )
    result = services.exception_fix_carrier(
        exception=exception, actor=ops_user, courier="Royal Mail", service="Tracked 48"
    )
    assert CarrierMapping.objects.get(magento_method="tablerate_bestway").service == "Tracked 48"
    assert [r.ok for r in result.outcomes] == [True]
    exception.refresh_from_db()
    assert exception.status == "resolved"


def test_correcting_an_address_keeps_magentos_original_and_replays_the_order():
    from integration.models import OrderAddress

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
        order=order,
        order_increment_id="000000123",
    )
    services.exception_fix_address(
        exception=exception,
        actor=cx_user,
        changes={
            "street": ["Flat 4, The Very Long Building", "12 High Street"],
            "postcode": "sw1a1aa",
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
    from django.core.exceptions import ValidationError

    from integration.models import OrderAddress
    from integration.services import order_address_correct

    address = OrderAddress.objects.create(
        order=OrderFactory(), address_type="shipping", postcode="SW1A 1AA", country_id="GB"
    )
    with pytest.raises(ValidationError, match="not a valid UK postcode"):
        order_address_correct(address=address, actor=ops_user, changes={"postcode": "NOT IT"})
    address.refresh_from_db()
    assert address.original is None


def test_replay_blocked_needs_to_know_what_was_fixed():
    with pytest.raises(ValueError, match="say what was fixed"):
        services.exception_replay_blocked(actor=None)
