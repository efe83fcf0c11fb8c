"""Each fixer's suggestion is shown first on the detail page with why, and one click accepts
it: the fix is applied, the held orders replayed, and the timeline says it was a suggestion."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from exceptions_app import replay as replay_registry
from exceptions_app.replay import ReplayOutcome, register_replayer
from exceptions_app.services import exception_raise
from integration.connections import connections_override
from integration.models import CarrierMapping, OrderAddress, SkuMapping
from tests.builders.erp import ErpWithCarriers
from tests.factories import (
    PASSWORD,
    ErpItemFactory,
    OrderFactory,
    OrderHoldFactory,
    OrderLineFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fake_replayers():
    saved = dict(replay_registry._REPLAYERS)
    for kind in ("sku_unknown", "carrier_unmapped", "address_invalid"):
        register_replayer(kind, lambda e: ReplayOutcome(True, "1 order posted to the ERP"))
    yield
    replay_registry._REPLAYERS.clear()
    replay_registry._REPLAYERS.update(saved)


@pytest.fixture
def watched(page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def _open(page, live_server, username: str, pk: int) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/ops/exceptions/{pk}/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=suggestion]")


def _accept(page) -> str:
    page.click("[data-testid=suggestion] [data-testid=accept-suggestion]")
    page.wait_for_selector("[data-testid=fix-result], [data-testid=error]")
    assert page.locator("[data-testid=error]").count() == 0, page.inner_text("[data-testid=error]")
    return page.inner_text("[data-testid=timeline]")


def _held(kind: str, subject: str, **order) -> None:
    held = OrderFactory(**order)
    OrderHoldFactory(order=held, kind=kind, subject=subject)
    return held


def test_ops_accepts_the_suggested_erp_item_for_a_renamed_sku(
    live_server, page, screenshot, watched
):
    UserFactory(username="ops-browser", roles=["ops"])
    ErpItemFactory(code="LU-MH01XSBLACK", name="Chaz Kangeroo Hoodie-XS-Black")
    ErpItemFactory(code="MH01-XS-Blue", name="Chaz Kangeroo Hoodie-XS-Blue")
    for n in range(3):
        order = _held("sku_unknown", "MH01-XS-Black", increment_id=f"00000150{n}")
        OrderLineFactory(order=order, sku="MH01-XS-Black", name="Chaz Kangeroo Hoodie-XS-Black")
    exception = exception_raise(
        kind="sku_unknown",
        subject="MH01-XS-Black",
        sku="MH01-XS-Black",
        order_increment_id="000001500",
        system="integration",
        message="Order #000001500: SKU MH01-XS-Black is not in the ERP item master",
        amount=Decimal("54.00"),
        currency="GBP",
    )
    _open(page, live_server, "ops-browser", exception.pk)
    card = page.inner_text("[data-testid=suggestion]")
    assert "LU-MH01XSBLACK" in card and "contains the whole SKU" in card
    assert "releases 3 held orders" in card
    # At stake: the three held orders together, each linked.
    assert "162.00 GBP in 3 held orders" in page.inner_text("[data-testid=at-stake]")
    assert page.locator("[data-testid=held-orders] li").count() == 3
    # Evidence: the order line as Magento sent it beside what the ERP has.
    compared = page.inner_text("[data-testid=compared]")
    assert "Chaz Kangeroo Hoodie-XS-Black" in compared and "no item MH01-XS-Black" in compared
    screenshot(page, "suggestion-sku")

    timeline = _accept(page)
    assert "Accepted the desk's suggestion: Mapped Magento SKU MH01-XS-Black" in timeline
    assert SkuMapping.objects.get(magento_sku="MH01-XS-Black").erp_item_code == "LU-MH01XSBLACK"
    exception.refresh_from_db()
    assert (exception.status, exception.resolution) == ("resolved", "fixed")
    assert exception.timeline.get(verb="fixed").data["suggestion_accepted"] is True
    screenshot(page, "suggestion-sku-accepted")
    assert watched == []


def test_ops_accepts_the_suggested_courier_service_for_an_unmapped_method(
    live_server, page, screenshot, watched
):
    cache.clear()
    UserFactory(username="ops-browser", roles=["ops"])
    _held(
        "carrier_unmapped",
        "matrixrate_matrixrate_12",
        increment_id="000001600",
        shipping_method="matrixrate_matrixrate_12",
        shipping_description="Select Shipping Method - Next Day Courier",
    )
    exception = exception_raise(
        kind="carrier_unmapped",
        subject="matrixrate_matrixrate_12",
        order_increment_id="000001600",
        system="integration",
        message="Shipping method matrixrate_matrixrate_12 has no courier mapping",
    )
    with connections_override(erp=ErpWithCarriers):
        _open(page, live_server, "ops-browser", exception.pk)
        card = page.inner_text("[data-testid=suggestion]")
        assert "DPD Next Day" in card and "Next Day Courier" in card
        screenshot(page, "suggestion-carrier")
        timeline = _accept(page)
    assert "Accepted the desk's suggestion" in timeline
    mapping = CarrierMapping.objects.get(magento_method="matrixrate_matrixrate_12")
    assert (mapping.courier, mapping.service, mapping.erp_carrier_id) == (
        "DPD",
        "Next Day",
        "DPD-1^12",
    )
    exception.refresh_from_db()
    assert exception.resolution == "fixed"
    assert watched == []


def test_cx_accepts_the_suggested_postcode_shown_as_a_diff(live_server, page, screenshot, watched):
    UserFactory(username="cx-browser", roles=["cx"])
    order = _held("address_invalid", "000001700", increment_id="000001700")
    base = {
        "firstname": "Jane",
        "lastname": "Smith",
        "street": ["10 Downing Street"],
        "city": "London",
        "country_id": "GB",
        "telephone": "020 7946 0000",
    }
    OrderAddress.objects.create(order=order, address_type="billing", postcode="SW1A 2AA", **base)
    OrderAddress.objects.create(order=order, address_type="shipping", postcode="SW1A 2A", **base)
    exception = exception_raise(
        kind="address_invalid",
        subject="000001700",
        order_increment_id="000001700",
        system="integration",
        message="Order #000001700: “SW1A 2A” is not a valid UK postcode.",
    )
    _open(page, live_server, "cx-browser", exception.pk)
    diff = page.inner_text("[data-testid=suggestion-diff]")
    assert "SW1A 2A" in diff and "SW1A 2AA" in diff
    screenshot(page, "suggestion-address")
    timeline = _accept(page)
    assert "Accepted the desk's suggestion: Corrected the shipping address" in timeline
    shipping = OrderAddress.objects.get(order=order, address_type="shipping")
    assert shipping.postcode == "SW1A 2AA" and shipping.original["postcode"] == "SW1A 2A"
    assert watched == []
