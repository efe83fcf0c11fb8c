"""The order page: the path through every system, for orders at each point of it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cx.order_path import order_path
from exceptions_app.models import DeskException
from exceptions_app.services import exception_resolve
from integration.models import Order, OrderAddress, OrderHold
from integration.services import order_address_correct
from tests.cx.builders import hold_address, make_order
from tests.factories import OrderLineFactory, ShipmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def states(path) -> dict[str, str]:
    return {step.key: step.state for step in path.steps}


def detail(number: str) -> str:
    return reverse("cx:order_detail", args=[number])


def test_a_new_order_waits_for_the_desks_check(orders):
    path = order_path(increment_id="000000101")
    assert states(path) == {
        "magento": "done",
        "desk": "current",
        "erp": "pending",
        "warehouse": "pending",
        "told": "pending",
    }
    assert path.current == "desk"
    assert path.headline.startswith("Received")
    magento = path.steps[0]
    assert "card (Braintree)" in magento.summary and "£54.00" in magento.summary
    assert "Processing" in magento.details[0]


def test_a_held_order_names_the_address_problem_and_who_fixes_it(orders):
    path = order_path(increment_id="000000102")
    assert states(path)["desk"] == "blocked"
    assert path.current == "desk"
    assert path.tone == "danger"
    assert path.headline == (
        "Waiting: the shipping address has a postcode the warehouse cannot use — "
        "customer service is fixing it."
    )
    desk = path.steps[1]
    assert desk.exceptions == (orders["held_exception"],)
    assert [h.reason for h in path.holds_open] == [
        "The shipping address has a postcode the warehouse cannot use."
    ]
    assert states(path)["erp"] == "pending"


def test_a_held_order_links_to_its_exception_page(client_as, orders):
    body = client_as("cx").get(detail("000000102")).content.decode()
    assert reverse("ops:exception_detail", args=[orders["held_exception"].pk]) in body
    assert "customer service is fixing it" in body


def test_an_order_held_by_an_ops_cause_is_explained_but_not_linked_for_cx(client_as, db):
    from exceptions_app.services import exception_raise
    from tests.factories import OrderHoldFactory

    order = make_order("000000120")
    exception = exception_raise(
        kind="sku_unknown",
        subject="MH01-XS-Black",
        sku="MH01-XS-Black",
        message="SKU unknown",
        system="erp",
        order_increment_id="000000999",  # first raised for another order: found by the hold
    )
    OrderHoldFactory(order=order, kind="sku_unknown", subject="MH01-XS-Black", field="sku")
    Order.objects.filter(pk=order.pk).update(erp_status="held")
    path = order_path(increment_id="000000120")
    assert path.headline == (
        "Waiting: the item MH01-XS-Black is not set up in the warehouse system yet — "
        "the operations team is fixing it."
    )
    assert [e.exception for e in path.exceptions_open] == [exception]
    exception_url = reverse("ops:exception_detail", args=[exception.pk])
    assert exception_url not in client_as("cx").get(detail("000000120")).content.decode()
    assert exception_url in client_as("ops").get(detail("000000120")).content.decode()


def test_a_posted_order_is_in_the_erp_and_waits_for_the_warehouse(orders):
    path = order_path(increment_id="000000103")
    assert states(path) == {
        "magento": "done",
        "desk": "done",
        "erp": "done",
        "warehouse": "current",
        "told": "pending",
    }
    assert "SO-0042" in path.steps[2].summary
    assert path.headline.startswith("With the warehouse since ")


def test_a_shipment_being_packed_says_so(orders):
    ShipmentFactory(order=orders["posted"], erp_state="packed", dispatched_at=None)
    path = order_path(increment_id="000000103")
    assert states(path)["warehouse"] == "current"
    assert path.headline == "In the warehouse: packed, waiting for the courier."


def test_dispatched_but_magento_not_told_shows_the_status_drift(orders):
    path = order_path(increment_id="000000104")
    assert states(path)["warehouse"] == "done"
    assert states(path)["told"] == "blocked"
    assert path.current == "told"
    assert path.steps[4].exceptions == (orders["drift"],)
    assert "with Royal Mail Tracked 24, tracking TT123456785GB" in path.headline
    assert "Magento has not been told" in path.headline
    assert path.tone == "warning"


def test_a_shipped_order_told_to_magento_is_complete(orders):
    path = order_path(increment_id="000000105")
    assert set(states(path).values()) == {"done"}
    assert path.current == "done"
    assert path.tone == "success"
    dispatched_on = timezone.localtime(orders["shipped"].shipments.get().dispatched_at)
    assert path.headline == (
        f"Dispatched on {dispatched_on.day} {dispatched_on:%b %Y} with Royal Mail Tracked 24, "
        "tracking TT123456785GB."
    )


def test_an_unpaid_order_is_not_sent_and_says_why(db):
    make_order("000000130", state="pending_payment", status="pending_payment")
    Order.objects.filter(increment_id="000000130").update(erp_status="skipped")
    path = order_path(increment_id="000000130")
    assert states(path)["desk"] == "skipped"
    assert path.headline == "Not sent to the warehouse because it has not been paid yet."


def test_an_order_the_erp_refused_is_blocked_at_the_erp_step(db):
    from exceptions_app.services import exception_raise

    order = make_order("000000140")
    Order.objects.filter(pk=order.pk).update(erp_status="failed")
    exception_raise(
        kind="order_post_failed",
        subject=order.increment_id,
        message="ERP: party address is required",
        system="erp",
        order_increment_id=order.increment_id,
    )
    path = order_path(increment_id="000000140")
    assert states(path)["erp"] == "blocked"
    assert path.steps[2].details == ("ERP: party address is required",)
    assert "the operations team is fixing it" in path.headline


def test_a_released_hold_and_its_closed_exception_stay_on_the_record(orders):
    cx = UserFactory(username="cx-agent", roles=["cx"])
    held = orders["held"]
    OrderHold.objects.filter(order=held).update(released_at=timezone.now())
    Order.objects.filter(pk=held.pk).update(
        erp_status="posted", erp_sale_id="SO-7", erp_posted_at=timezone.now()
    )
    exception_resolve(
        exception=orders["held_exception"], actor=cx, resolution="fixed", note="Postcode fixed."
    )
    path = order_path(increment_id=held.increment_id)
    assert states(path)["desk"] == "done"
    assert (
        path.steps[1]
        .details[0]
        .startswith(
            "Was held: The shipping address has a postcode the warehouse cannot use. Released "
        )
    )
    assert path.exceptions_open == ()
    assert [e.exception.pk for e in path.exceptions_closed] == [orders["held_exception"].pk]


def test_a_corrected_address_shows_original_and_correction(client_as, orders):
    cx = UserFactory(username="cx-fixer", roles=["cx"])
    address = OrderAddress.objects.get(order=orders["held"], address_type="shipping")
    order_address_correct(address=address, actor=cx, changes={"postcode": "sw1a1aa"})
    path = order_path(increment_id="000000102")
    shipping = next(a for a in path.addresses if a.address.address_type == "shipping")
    assert [(c.label, c.original, c.corrected) for c in shipping.changes] == [
        ("Postcode", "zz1 1zz", "SW1A 1AA")
    ]
    billing = next(a for a in path.addresses if a.address.address_type == "billing")
    assert billing.changes == ()
    body = client_as("cx").get(detail("000000102")).content.decode()
    assert "corrected by the desk" in body
    assert "Customer entered" in body and "zz1 1zz" in body and "SW1A 1AA" in body


def test_configurable_children_follow_their_parent_indented(client_as, db):
    order = make_order("000000150")
    order.lines.all().delete()
    parent = OrderLineFactory(
        order=order,
        item_id=10,
        sku="MH01-XS-Black",
        name="Chaz Hoodie",
        product_type="configurable",
    )
    OrderLineFactory(order=order, item_id=20, sku="24-MB01", name="Joust Duffle Bag")
    OrderLineFactory(
        order=order,
        item_id=11,
        parent_item_id=parent.item_id,
        sku="MH01-XS-Black",
        name="Chaz Hoodie-XS-Black",
        product_type="simple",
        price=Decimal("0"),
        row_total_incl_tax=Decimal("0"),
    )
    path = order_path(increment_id="000000150")
    assert [(row.line.item_id, row.is_child) for row in path.lines] == [
        (10, False),
        (11, True),
        (20, False),
    ]
    body = client_as("cx").get(detail("000000150")).content.decode()
    assert body.count('class="line-child"') == 1


def test_an_unknown_order_is_a_404_with_a_way_back(client_as, db):
    response = client_as("cx").get(detail("999999999"))
    assert response.status_code == 404
    body = response.content.decode()
    assert "No order #999999999" in body
    assert reverse("cx:order_lookup") in body


def test_a_number_without_leading_zeros_redirects_to_the_order(client_as, orders):
    response = client_as("cx").get(detail("103"))
    assert response.status_code == 302
    assert response["Location"] == detail("000000103")


def test_the_page_is_read_only(client_as, orders, django_assert_max_num_queries):
    client = client_as("cx")
    before = (
        list(Order.objects.values_list("pk", "erp_status", "last_pulled_at")),
        list(DeskException.objects.values_list("pk", "status", "last_seen_at", "occurrences")),
        list(OrderHold.objects.values_list("pk", "released_at")),
    )
    # A fixed handful of reads, whatever the order: session and roles (3), the order and its
    # rows (8), when the flows last read it (1-2), its exceptions' comments (1), session save (3).
    with django_assert_max_num_queries(17):
        assert client.get(detail("000000102")).status_code == 200
    assert client.post(detail("000000102")).status_code == 405
    assert client.post(reverse("cx:order_lookup"), {"q": "x"}).status_code == 405
    after = (
        list(Order.objects.values_list("pk", "erp_status", "last_pulled_at")),
        list(DeskException.objects.values_list("pk", "status", "last_seen_at", "occurrences")),
        list(OrderHold.objects.values_list("pk", "released_at")),
    )
    assert after == before


def test_the_exception_detail_links_to_the_order_page(client_as, orders):
    body = (
        client_as("cx")
        .get(reverse("ops:exception_detail", args=[orders["held_exception"].pk]))
        .content.decode()
    )
    assert detail("000000102") in body


def test_an_order_placed_long_ago_shows_its_date(db):
    when = timezone.now() - timedelta(days=40)
    make_order("000000160", magento_created_at=when)
    local = timezone.localtime(when)
    assert f"{local.day} {local:%b %Y}" in order_path(increment_id="160").steps[0].summary


def test_the_field_the_warehouse_cannot_use_is_marked_on_the_address(client_as, orders):
    path = order_path(increment_id="000000102")
    shipping = next(a for a in path.addresses if a.address.address_type == "shipping")
    assert [line.text for line in shipping.lines if line.flagged] == ["zz1 1zz"]
    assert shipping.problem == "The shipping address has a postcode the warehouse cannot use."
    billing = next(a for a in path.addresses if a.address.address_type == "billing")
    assert not any(line.flagged for line in billing.lines)
    body = client_as("cx").get(detail("000000102")).content.decode()
    assert body.count('class="address-flag"') == 1


def test_a_missing_phone_number_is_shown_as_missing(db):
    order = make_order("000000170")
    order.addresses.update(telephone="")
    hold_address(order, field="telephone")
    shipping = next(
        a for a in order_path(increment_id="000000170").addresses if a.label == "Shipping"
    )
    assert [line.text for line in shipping.lines if line.flagged] == ["(Phone missing)"]
    assert "no usable phone number" in shipping.problem


def test_the_exception_panel_lists_the_one_due_soonest_first(client_as, db):
    from exceptions_app.services import exception_raise

    order = make_order("000000180")
    raised = {}
    for kind in ("tax_variance", "order_post_failed", "address_invalid"):  # 5 days, 2 h, 8 h
        raised[kind] = exception_raise(
            kind=kind,
            subject=order.increment_id,
            message=kind,
            system="integration",
            order_increment_id=order.increment_id,
        )
    path = order_path(increment_id="000000180")
    listed = [view.exception.kind for view in path.exceptions_open]
    assert listed == ["order_post_failed", "address_invalid", "tax_variance"]
    body = client_as("cx").get(detail("000000180")).content.decode()
    positions = [body.index(f'data-exception="{raised[kind].pk}"') for kind in listed]
    assert positions == sorted(positions)
