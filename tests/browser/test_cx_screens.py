"""Customer service, in a real browser: finds an order by postcode, sees it is held by a bad
address, and follows the link to the exception where the address is corrected."""

from decimal import Decimal

import pytest

from integration.models import OrderLine
from tests.cx.builders import dispatch, hold_address, make_order, post
from tests.factories import PASSWORD, OrderLineFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed() -> None:
    """A morning's worth of orders: one held by its postcode, others along the path."""
    held = make_order(
        "000004127",
        customer_firstname="Siobhan",
        customer_lastname="O'Brien",
        customer_email="siobhan.obrien@example.test",
        postcode="LS1 4AP",
        grand_total=Decimal("87.40"),
        shipping_description="Flat Rate - Fixed",
    )
    held.addresses.filter(address_type="shipping").update(postcode="LS14 AP")
    OrderLine.objects.filter(order=held).delete()
    OrderLineFactory(
        order=held,
        item_id=1,
        sku="MH01-XS-Black",
        name="Chaz Kangeroo Hoodie",
        product_type="configurable",
        price=Decimal("52.00"),
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
    drifted = make_order("000004102", customer_firstname="Liam", customer_lastname="Walsh")
    dispatch(drifted, told=False, tracking="TT987654321GB")
    from exceptions_app.services import exception_raise

    exception_raise(
        kind="status_drift",
        subject=drifted.increment_id,
        message="Dispatched in the ERP but Magento has no shipment.",
        system="magento",
        order_increment_id=drifted.increment_id,
    )


def test_cx_finds_a_held_order_by_postcode_and_opens_its_exception(live_server, page, screenshot):
    UserFactory(username="cx-browser", roles=["cx"])
    _seed()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/accounts/login/?next=/cx/orders/")
    page.fill("#id_username", "cx-browser")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=lookup-help]")
    panel = page.locator("[data-testid=cx-exceptions]")
    assert "Address breaks warehouse rules" in panel.inner_text()
    assert "Status differs between systems" in panel.inner_text()
    screenshot(page, "cx-lookup-empty")

    # The customer reads out their postcode however they like.
    page.fill("#q", "ls1 4ap")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("[data-testid=order-results]")
    rows = page.locator("[data-testid=order-results] tbody tr")
    assert rows.count() == 2  # shipping postcode (held order) and billing postcode (other)
    held_row = page.locator("tr[data-order='000004127']")
    assert "On hold" in held_row.inner_text()
    screenshot(page, "cx-lookup-postcode")

    held_row.get_by_role("link", name="#000004127").click()
    page.wait_for_selector("[data-testid=headline]")
    headline = page.inner_text("[data-testid=headline]")
    assert "the shipping address has a postcode the warehouse cannot use" in headline
    assert "customer service is fixing it" in headline
    assert page.get_attribute("[data-step=desk]", "data-state") == "blocked"
    assert "Siobhan O'Brien" in page.inner_text("[data-testid=customer]")
    screenshot(page, "cx-order-held")

    page.click("[data-testid=step-exception]")
    page.wait_for_selector("[data-testid=address-form]")
    assert "/ops/exceptions/" in page.url
    assert "000004127" in page.inner_text("h1")
    screenshot(page, "cx-exception-from-order")

    page.goto(f"{live_server.url}/cx/orders/000004102/")
    page.wait_for_selector("[data-testid=headline]")
    assert "Magento has not been told" in page.inner_text("[data-testid=headline]")
    screenshot(page, "cx-order-status-drift")

    page.goto(f"{live_server.url}/cx/orders/000004090/")
    assert page.get_attribute("[data-step=told]", "data-state") == "done"
    screenshot(page, "cx-order-shipped")
    assert errors == []
