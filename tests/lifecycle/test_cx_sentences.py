"""What customer service reads for each lifecycle case: the order page's headline and steps,
and the lookup's "where is it" phrase. Orders are left in the mirror as the flows leave them."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from cx.order_path import order_path
from cx.selectors import order_rows_annotate
from cx.tables import where_it_is
from exceptions_app.services import exception_raise
from integration.models import Order
from tests.cx.builders import dispatch, make_order, post

pytestmark = pytest.mark.django_db

SHIPPED = datetime(2026, 10, 12, 9, 30, tzinfo=UTC)
UPDATED = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
TRACKS = [{"number": "TT123456785GB", "title": "Royal Mail Tracked 24"}]


def page(number: str):
    return order_path(increment_id=number)


def phrase(number: str) -> str:
    order = Order.objects.get(increment_id=number)
    order_rows_annotate([order])
    return where_it_is(order)[0]


def steps(path) -> dict:
    return {s.key: (s.state, s.summary) for s in path.steps}


def test_history_says_when_magento_shipped_it_and_with_which_tracking():
    make_order(
        "000000201",
        state="complete",
        status="complete",
        fulfilled_outside=True,
        magento_shipped_at=SHIPPED,
        magento_tracks=TRACKS,
    )
    post(Order.objects.get(increment_id="000000201"), sale_id="77")
    path = page("000000201")
    assert path.headline == (
        "Shipped by Magento on 12 Oct 2026, tracking TT123456785GB (Royal Mail Tracked 24)."
    )
    assert path.tone == "success"
    assert steps(path)["warehouse"] == ("done", path.headline)
    assert steps(path)["erp"][1] == (
        "In the ERP for the books only as sale 77: invoiced, and never shipped by the warehouse."
    )
    assert [t.number for t in path.tracking] == ["TT123456785GB"]
    assert "Royal Mail" in path.tracking[0].site
    assert phrase("000000201") == "Shipped by Magento on 12 Oct 2026"
    # Shipped by Magento itself: its time and source are Magento's, and no warehouse or
    # "tell Magento" time limit of the desk applies (so nothing can read as late).
    timing = {t.step.key: t.timing for t in path.timed_steps}
    for key in ("warehouse", "told"):
        assert (timing[key].at, timing[key].source, timing[key].sla) == (SHIPPED, "Magento", "")
        assert not timing[key].late


def test_history_not_posted_and_history_refunded_before_shipping():
    make_order(
        "000000202", state="complete", status="complete", fulfilled_outside=True,
        erp_status="history", magento_shipped_at=SHIPPED, magento_tracks=[],
    )  # fmt: skip
    assert page("000000202").headline == (
        "Shipped by Magento on 12 Oct 2026, no tracking number recorded."
    )
    assert steps(page("000000202"))["erp"] == (
        "skipped",
        "Not in the ERP: orders Magento fulfilled before go-live are recorded here only.",
    )
    make_order(
        "000000203", state="closed", status="closed", fulfilled_outside=True,
        magento_tracks=[], magento_updated_at=UPDATED,
    )  # fmt: skip
    assert page("000000203").headline == (
        "Refunded and closed in Magento (last update 3 Nov 2026); nothing was shipped."
    )


def test_cancelled_before_posting_says_nothing_was_sent():
    make_order(
        "000000211", state="canceled", status="canceled", erp_status="skipped",
        magento_updated_at=UPDATED,
    )  # fmt: skip
    path = page("000000211")
    assert path.headline == (
        "Cancelled in Magento on 3 Nov 2026 before it reached the warehouse: nothing was sent."
    )
    assert phrase("000000211") == "Cancelled in Magento before it was sent"


def test_cancelled_after_posting_says_the_erp_sale_was_cancelled():
    order = post(
        make_order("000000212", state="canceled", status="canceled", magento_updated_at=UPDATED)
    )
    Order.objects.filter(pk=order.pk).update(erp_status="cancelled", erp_cancelled_at=UPDATED)
    path = page("000000212")
    assert path.headline == (
        "Cancelled in Magento on 3 Nov 2026; the warehouse had not picked it, so its ERP sale "
        "was cancelled and nothing will be sent."
    )
    assert steps(path)["erp"] == (
        "skipped",
        "Sale SO-0042 was cancelled in the ERP on 3 Nov 2026: its shipment and invoice were "
        "cancelled.",
    )
    assert steps(path)["warehouse"][0] == "skipped"
    assert phrase("000000212") == "Cancelled; its ERP sale cancelled too"


def test_cancelled_after_packing_says_the_warehouse_was_asked_to_stop_it():
    post(make_order("000000213", state="canceled", status="canceled", magento_updated_at=UPDATED))
    exception = exception_raise(
        kind="cancel_after_dispatch",
        subject="000000213",
        message="Order 000000213 was cancelled in Magento after the warehouse had started on "
        "it: shipment WH/OUT/9 is packed.",
        system="erp",
        order_increment_id="000000213",
        evidence={"shipments": [{"shipment": "WH/OUT/9", "state": "packed", "tracking": ""}]},
    )
    path = page("000000213")
    assert path.headline == (
        "Cancelled in Magento on 3 Nov 2026 after the warehouse had packed it: the warehouse "
        "has been asked to stop the parcel (the operations team is on it)."
    )
    assert path.tone == "warning"
    warehouse = path.steps[3]
    assert warehouse.state == "blocked" and warehouse.exceptions == (exception,)
    assert phrase("000000213") == "Cancelled after packing: parcel being stopped"


def test_cancelled_after_dispatch_names_the_tracking_to_intercept():
    post(make_order("000000214", state="canceled", status="canceled", magento_updated_at=UPDATED))
    exception_raise(
        kind="cancel_after_dispatch", subject="000000214", message="Dispatched.", system="erp",
        order_increment_id="000000214",
        evidence={"shipments": [{"shipment": "9", "state": "done", "tracking": "H01234"}]},
    )  # fmt: skip
    assert page("000000214").headline == (
        "Cancelled in Magento on 3 Nov 2026 after it was dispatched (tracking H01234): the "
        "operations team is asking the courier to intercept it, or it comes back as a return."
    )


def test_an_edited_order_and_its_replacement_link_to_each_other():
    original = make_order(
        "000000221", state="canceled", status="canceled", erp_status="cancelled",
        entity_id=9221, relation_child_id=9222, magento_updated_at=UPDATED,
    )  # fmt: skip
    make_order("000000221-1", entity_id=9222, relation_parent_id=original.entity_id)
    path = page("000000221")
    assert path.headline == (
        "Edited in Magento on 3 Nov 2026: replaced by order #000000221-1; this order's ERP sale "
        "was cancelled, so only the new one is sent."
    )
    assert "Edited in Magento: replaced by order #000000221-1." in path.steps[0].details
    assert [r.url for r in path.relatives] == [reverse("cx:order_detail", args=["000000221-1"])]
    child = page("000000221-1")
    assert "Replaces order #000000221, edited in Magento." in child.steps[0].details
    assert [r.increment_id for r in child.relatives] == ["000000221"]
    assert phrase("000000221") == "Edited in Magento: replaced by a new order"


def test_a_replacement_held_for_a_person_says_why():
    from tests.factories import OrderHoldFactory

    make_order("000000231", state="canceled", status="canceled", entity_id=9231,
               relation_child_id=9232, erp_status="posted")  # fmt: skip
    child = make_order("000000231-1", entity_id=9232, relation_parent_id=9231, erp_status="held")
    OrderHoldFactory(order=child, kind="edit_after_dispatch", subject="000000231-1", field="")
    exception_raise(
        kind="edit_after_dispatch", subject="000000231-1", message="Held.", system="erp",
        order_increment_id="000000231-1",
    )  # fmt: skip
    assert page("000000231-1").headline == (
        "Waiting: it replaces an order the warehouse had already packed or dispatched, so nobody "
        "sends both — the operations team is fixing it."
    )
    assert page("000000231").headline.endswith(
        "this one had already been packed or dispatched, so the operations team is checking "
        "which parcel the customer gets."
    )


def test_orders_waiting_in_magento_say_what_they_wait_for():
    make_order("000000241", state="holded", status="holded", erp_status="skipped")
    make_order("000000242", state="payment_review", status="payment_review", erp_status="skipped")
    assert page("000000241").headline == (
        "On hold in Magento: the order waits here and goes to the warehouse as soon as Magento "
        "releases it."
    )
    assert page("000000242").headline == (
        "Payment under review in Magento: the order waits here and goes to the warehouse once "
        "the payment is accepted."
    )
    assert phrase("000000241") == "On hold in Magento"
    assert phrase("000000242") == "Payment being reviewed"


def test_a_hold_after_posting_says_the_parcel_is_held():
    post(make_order("000000251", state="holded", status="holded", magento_updated_at=UPDATED))
    exception = exception_raise(
        kind="hold_after_posting", subject="000000251", message="Hold the parcel.",
        system="magento", order_increment_id="000000251",
    )  # fmt: skip
    path = page("000000251")
    assert path.headline == (
        "Put on hold in Magento on 3 Nov 2026 after it reached the warehouse: the warehouse has "
        "been asked to hold the parcel (the operations team is on it)."
    )
    assert path.steps[3].exceptions == (exception,)
    assert phrase("000000251") == "On hold in Magento: parcel held in the warehouse"
    dispatched = make_order("000000252", state="holded", status="holded",
                            magento_updated_at=UPDATED)  # fmt: skip
    dispatch(dispatched, told=False)
    assert page("000000252").headline.startswith(
        "Put on hold in Magento on 3 Nov 2026, but it had already been dispatched on"
    )


def test_the_order_page_shows_the_history_sentence_to_cx(client_as):
    make_order(
        "000000261", state="complete", status="complete", fulfilled_outside=True,
        magento_shipped_at=SHIPPED, magento_tracks=[{"number": "<b>TT9</b>", "title": "RM"}],
    )  # fmt: skip
    response = client_as("cx").get(reverse("cx:order_detail", args=["000000261"]))
    assert response.status_code == 200
    body = response.content.decode()
    # The tracking number is a link to the courier's page, escaped like all Magento data.
    assert "Shipped by Magento on 12 Oct 2026, tracking <a href=" in body
    assert 'data-testid="tracking-link"' in body and "&lt;b&gt;TT9&lt;/b&gt;</a> (RM)." in body
    assert "<b>TT9</b>" not in body


def test_the_order_page_links_an_edited_order_and_its_replacement_both_ways(client):
    from tests.factories import UserFactory

    original = make_order(
        "000000231", state="canceled", status="canceled", erp_status="cancelled",
        entity_id=9231, relation_child_id=9232, magento_updated_at=UPDATED,
    )  # fmt: skip
    make_order("000000231-1", entity_id=9232, relation_parent_id=original.entity_id)
    client.force_login(UserFactory(username="cx-relatives", roles=["cx"]))
    html = client.get(reverse("cx:order_detail", args=["000000231"])).content.decode()
    child_url = reverse("cx:order_detail", args=["000000231-1"])
    assert f'<a href="{child_url}">Replaced by #000000231-1' in html
    html = client.get(child_url).content.decode()
    parent_url = reverse("cx:order_detail", args=["000000231"])
    assert f'<a href="{parent_url}">This order replaces #000000231' in html
