"""Customer service, in a real browser at 1280×800: answers "where is my order?" by number and by
surname in under ten seconds, reads a held order and follows it to the address fix, refreshes an
order from the systems with the ERP down, tells Magento of a shipment and comments on an ops
exception. The screenshots of docs/cx.md are taken here (published by `make docs-screenshots`)."""

import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from exceptions_app import replay as replay_registry
from exceptions_app.models import DeskException, ExceptionStatus
from exceptions_app.replay import ReplayOutcome
from exceptions_app.services import exception_raise
from integration.connections import connections_override
from integration.models import CarrierMapping, Order, OrderLine
from tests.cx.builders import dispatch, hold_address, make_order, post
from tests.cx.conftest import erp_answering, magento_answering, unavailable
from tests.factories import PASSWORD, OrderLineFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_SHOT_MAX_BYTES = 200_000  # the guide's pictures stay small
ANSWER_WITHIN_SECONDS = 10
WIDTH = 1280


@pytest.fixture(autouse=True)
def saved_replayers():
    saved = dict(replay_registry._REPLAYERS)
    yield
    replay_registry._REPLAYERS.clear()
    replay_registry._REPLAYERS.update(saved)


def sign_in(page, live_server, next_url: str = "/cx/orders/") -> None:
    UserFactory(username="cx-browser", first_name="Amira", last_name="Khan", roles=["cx"])
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", "cx-browser")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def fits_the_screen(page) -> dict:
    return page.evaluate(
        """() => {
          const table = document.querySelector('.order-results');
          const box = table ? table.parentElement : null;
          return {
            page: document.documentElement.scrollWidth,
            table: table ? table.scrollWidth : 0,
            room: box ? box.clientWidth : 0,
          };
        }"""
    )


def _seed() -> None:
    """A morning's worth of orders: one held by its postcode, others along the path."""
    CarrierMapping.objects.create(
        magento_method="flatrate_flatrate", courier="Royal Mail", service="Tracked 24"
    )
    held = make_order(
        "000004127",
        customer_firstname="Siobhan",
        customer_lastname="O'Brien",
        customer_email="siobhan.obrien@example.test",
        postcode="LS1 4AP",
        grand_total=Decimal("87.40"),
    )
    held.addresses.filter(address_type="shipping").update(postcode="LS14 AP")
    OrderLine.objects.filter(order=held).delete()
    OrderLineFactory(
        order=held,
        item_id=1,
        sku="MH01-XS-Black",
        name="Chaz Kangeroo Hoodie",
        product_type="configurable",
        price=Decimal("43.33"),
        row_total_incl_tax=Decimal("52.00"),
    )
    OrderLineFactory(
        order=held,
        item_id=2,
        parent_item_id=1,
        sku="MH01-XS-Black",
        name="Chaz Kangeroo Hoodie-XS-Black",
        price=Decimal("0"),
        row_total_incl_tax=Decimal("0"),
    )
    OrderLineFactory(order=held, item_id=3, sku="24-MB01", name="Joust Duffle Bag")
    hold_address(held)
    other = make_order("000004090", customer_firstname="Tom", customer_lastname="Reid")
    other.addresses.filter(address_type="billing").update(postcode="ls14ap")
    dispatch(other, told=True)
    post(make_order("000004131", customer_firstname="Priya", customer_lastname="Shah"))
    drifted = make_order(
        "EU-000004102",
        customer_firstname="Liam",
        customer_lastname="Walsh",
        customer_email="liam.walsh.with.a.rather.long.address@example-company.test",
    )
    parcel = dispatch(drifted, told=False, tracking="TT987654321GB")
    parcel.dispatched_at = timezone.now() - timedelta(hours=3)
    parcel.save(update_fields=["dispatched_at"])
    exception_raise(
        kind="status_drift",
        subject=drifted.increment_id,
        message="Dispatched in the ERP but Magento has no shipment.",
        system="magento",
        order_increment_id=drifted.increment_id,
    )
    for n, first in enumerate(["Aoife", "Bartholomew-James", "Chidimma", "Dmitri", "Eleanor"]):
        order = make_order(
            f"00000{4200 + n}",
            customer_firstname=first,
            customer_lastname="Walsh-Fitzgerald" if n % 2 else "Walsh",
            customer_email=f"{first.lower()}.walsh.fitzgerald.household@example-longdomain.test",
            postcode="BT48 6DQ",
        )
        if n == 1:
            hold_address(order)
        elif n == 2:
            post(order)
        elif n == 3:
            dispatch(order, told=True, tracking=f"JD00002230{n}GB")
    failed = make_order("000004150", customer_firstname="Noor", customer_lastname="Hassan")
    failed.erp_status = "failed"
    failed.save(update_fields=["erp_status"])
    exception_raise(
        kind="order_post_failed",
        subject=failed.increment_id,
        message="ERP: party address is required",
        system="erp",
        order_increment_id=failed.increment_id,
    )


def test_cx_answers_where_is_my_order_in_under_ten_seconds(
    live_server, page, screenshot, docs_screenshot
):
    _seed()
    shots = []
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server)
    page.wait_for_selector("[data-testid=lookup-help]")
    shots.append(docs_screenshot(page, "cx-lookup-empty", animations="disabled"))

    # By order number, without the store prefix or zeros: straight to the order.
    started = time.monotonic()
    page.goto(f"{live_server.url}/cx/orders/")
    page.fill("#q", "4102")
    page.click("form[role=search] button[type=submit]")
    headline = page.inner_text("[data-testid=headline]")
    elapsed = time.monotonic() - started
    assert "Dispatched on" in headline and "Royal Mail Tracked 24" in headline
    assert "Magento has not been told" in headline
    assert elapsed < ANSWER_WITHIN_SECONDS, elapsed

    # By surname: a list, each row saying where the order is; the right one opened.
    started = time.monotonic()
    page.goto(f"{live_server.url}/cx/orders/")
    page.fill("#q", "walsh")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("[data-testid=order-results]")
    row = page.locator("tr[data-order='000004202']")
    where = row.locator("[data-testid=where]").inner_text()
    elapsed = time.monotonic() - started
    assert where.startswith("With the warehouse since ")
    assert elapsed < ANSWER_WITHIN_SECONDS, elapsed
    assert page.locator("[data-testid=order-results] tbody tr").count() == 6
    width = fits_the_screen(page)
    assert width["page"] <= WIDTH, width
    assert width["table"] <= width["room"], width  # no column cut off or scrolled away
    assert str(timezone.localdate().year) in row.inner_text()  # dates carry the year
    shots.append(docs_screenshot(page, "cx-lookup-results", animations="disabled"))
    screenshot(page, "cx-lookup-results")

    # By postcode however it is read out: the held order and a billing match.
    page.fill("#q", "ls1 4ap")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("[data-testid=order-results]")
    held_row = page.locator("tr[data-order='000004127']")
    assert "On hold: address to correct (customer service)" in held_row.inner_text()
    assert page.locator("[data-testid=order-results] tbody tr").count() == 2
    held_row.get_by_role("link", name="#000004127").click()
    page.wait_for_selector("[data-testid=headline]")
    assert "the shipping address has a postcode the warehouse cannot use" in page.inner_text(
        "[data-testid=headline]"
    )
    assert page.get_attribute("[data-step=desk]", "data-state") == "blocked"
    assert "Unit price (ex VAT)" in page.inner_text(".order-lines thead")
    assert "Row total (inc VAT)" in page.inner_text(".order-lines thead")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    shots.append(docs_screenshot(page, "cx-order-held", animations="disabled"))
    screenshot(page, "cx-order-held")

    page.click("[data-testid=fix-address]")
    page.wait_for_selector("[data-testid=address-form]")
    assert "/ops/exceptions/" in page.url
    shots.append(docs_screenshot(page, "cx-address-fix", animations="disabled"))
    assert errors == []
    assert all(shot.stat().st_size < DOCS_SHOT_MAX_BYTES for shot in shots), shots


def test_cx_refreshes_an_order_with_the_erp_down_and_tells_magento(
    live_server, page, screenshot, docs_screenshot
):
    _seed()
    shots = []
    told = []

    def tell(exception):
        told.append(exception.pk)
        return ReplayOutcome(
            ok=True, detail="Magento shipment 88 created with track TT987654321GB."
        )

    replay_registry._REPLAYERS["status_drift"] = tell
    # What Magento answers for the order: the snapshot the mirror already holds.
    order = Order.objects.get(increment_id="EU-000004102")
    snapshot = {
        "entity_id": order.entity_id,
        "increment_id": order.increment_id,
        "state": "processing",
        "status": "processing",
        "created_at": f"{order.magento_created_at:%Y-%m-%d %H:%M:%S}",
        "updated_at": f"{order.magento_updated_at:%Y-%m-%d %H:%M:%S}",
    }
    Order.objects.filter(pk=order.pk).update(payload=snapshot)

    def magento(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=snapshot)

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, "/cx/orders/EU-000004102/")
    page.wait_for_selector("[data-testid=as-of]")
    assert page.get_attribute("[data-step=told]", "data-late") == "true"
    assert page.locator("[data-step=told] [data-testid=late]").count() == 1
    link = page.locator("[data-testid=headline] a[data-testid=tracking-link]")
    assert link.inner_text() == "TT987654321GB"
    assert link.get_attribute("href").endswith("/tracking-results/TT987654321GB")
    assert link.get_attribute("rel") == "noopener noreferrer"
    shots.append(docs_screenshot(page, "cx-order-drift", animations="disabled"))
    screenshot(page, "cx-order-drift")

    with connections_override(
        magento=lambda: magento_answering(magento), erp=lambda: erp_answering(unavailable)
    ):
        page.click("[data-testid=refresh]")
        page.wait_for_selector("[data-testid=refresh-result]")
    result = page.inner_text("[data-testid=refresh-result]")
    assert "Not answering: ERP." in result
    assert "Magento says “processing”." in result
    assert "The ERP did not answer" in result
    assert "refreshed from Magento" in page.inner_text(".as-of[data-system=magento]")
    shots.append(docs_screenshot(page, "cx-order-refresh-erp-down", animations="disabled"))
    screenshot(page, "cx-order-refresh-erp-down")

    page.click("[data-testid=tell-magento]")
    page.wait_for_selector("[data-testid=flash]")
    assert "Magento has been told" in page.inner_text("[data-testid=flash]")
    assert len(told) == 1

    # A comment on the ops exception of another order the customer rang about.
    page.goto(f"{live_server.url}/cx/orders/000004150/")
    page.fill("[data-testid=comment-note]", "Customer rang: please call back on 07700 900123.")
    page.click("[data-testid=comment-submit]")
    page.wait_for_selector("[data-testid=comments]")
    assert "please call back" in page.inner_text("[data-testid=comments]")
    failed = DeskException.objects.get(order_increment_id="000004150")
    assert failed.status == ExceptionStatus.OPEN
    assert failed.timeline.filter(verb="commented", actor__username="cx-browser").exists()
    exceptions = page.locator("[data-testid=order-exceptions]")
    shots.append(docs_screenshot(exceptions, "cx-order-comment"))
    assert errors == []
    assert all(shot.stat().st_size < DOCS_SHOT_MAX_BYTES for shot in shots), shots
