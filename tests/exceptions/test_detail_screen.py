"""The detail page explains the exception and offers the fix for its kind; actions are POSTs
that answer htmx with the panel and plain forms with a redirect; only the owning team acts."""

import pytest
from django.urls import reverse

from exceptions_app.models import DeskException
from exceptions_app.replay import ReplayOutcome, register_replayer
from integration.models import OrderAddress, SkuMapping
from tests.factories import DeskExceptionFactory, ErpItemFactory, OrderFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "exception-panel"}


def detail(pk):
    return reverse("ops:exception_detail", args=[pk])


def action(pk, name):
    return reverse("ops:exception_action", args=[pk, name])


def test_detail_explains_what_happened_why_and_how_to_fix_it(client_as):
    exception = DeskExceptionFactory(
        subject="MH01-XS-Black",
        evidence={"field_path": "items[0].sku", "payload": {"sku": "MH01-XS-Black", "qty": 1}},
    )
    html = client_as("ops").get(detail(exception.pk)).content.decode()
    assert "An order contains the SKU MH01-XS-Black, which the ERP" in html
    assert "will not be picked, packed or invoiced" in html
    assert "Map SKU" in html and 'data-testid="map-sku-form"' in html
    assert "items[0].sku" in html
    assert "&quot;qty&quot;: 1" in html  # pretty-printed JSON, escaped


def test_evidence_is_escaped(client_as):
    exception = DeskExceptionFactory(
        message="<script>alert(1)</script>",
        evidence={"payload": {"name": "<img src=x onerror=alert(1)>"}},
    )
    html = client_as("ops").get(detail(exception.pk)).content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_compared_values_are_shown_side_by_side(client_as):
    exception = DeskExceptionFactory(
        kind="tax_variance",
        subject="000000011",
        team="finance",
        order_increment_id="000000011",
        evidence={"compared": {"tax_amount": {"magento": "9.99", "erp": "10.00"}}},
    )
    response = client_as("finance").get(detail(exception.pk))
    assert response.context["systems"] == ["Magento", "ERP"]
    assert response.context["compared"] == [
        {"field": "tax_amount", "values": ["9.99", "10.00"], "differs": True}
    ]
    assert "The tax on order #000000011 differs" in response.content.decode()


def test_the_order_link_is_shown_only_to_roles_that_open_the_order_page(client_as):
    url = reverse("cx:order_detail", args=["000000042"])
    ops_exception = DeskExceptionFactory(order_increment_id="000000042")
    response = client_as("ops").get(detail(ops_exception.pk))
    assert response.context["order_url"] == url
    assert url in response.content.decode()

    finance_exception = DeskExceptionFactory(
        kind="tax_variance",
        subject="000000042",
        team="finance",
        order_increment_id="000000042",
    )
    response = client_as("finance").get(detail(finance_exception.pk))
    assert response.status_code == 200
    assert response.context["order_url"] == ""
    assert url not in response.content.decode()


@pytest.mark.parametrize(
    "who,team,status",
    [
        ("ops", "ops", 200),
        ("admin", "ops", 200),
        ("finance", "ops", 403),
        ("cx", "ops", 403),
        ("cx", "cx", 200),
        ("ops", "finance", 403),
        ("outsider", "ops", 403),
    ],
)
def test_only_the_owning_team_and_admins_read_an_exception(client_as, who, team, status):
    exception = DeskExceptionFactory(team=team)
    assert client_as(who).get(detail(exception.pk)).status_code == status


def test_a_missing_exception_is_404(client_as):
    assert client_as("ops").get(detail(999999)).status_code == 404


@pytest.mark.parametrize("who", ["finance", "cx"])
@pytest.mark.parametrize("name", ["start", "resolve", "ignore", "comment", "replay", "map-sku"])
def test_finance_and_cx_cannot_act_on_an_ops_exception(client_as, who, name):
    exception = DeskExceptionFactory()
    response = client_as(who).post(
        action(exception.pk, name), {"note": "x", "reason": "x", "resolution": "fixed"}
    )
    assert response.status_code == 403
    exception.refresh_from_db()
    assert exception.status == "open" and not exception.timeline.exists()


def test_actions_refuse_get(client_as):
    exception = DeskExceptionFactory()
    assert client_as("ops").get(action(exception.pk, "start")).status_code == 405


def test_unknown_action_is_404(client_as):
    exception = DeskExceptionFactory()
    assert client_as("ops").post(action(exception.pk, "explode")).status_code == 404


def test_plain_form_actions_redirect_back_with_a_message(client_as):
    exception = DeskExceptionFactory()
    response = client_as("ops").post(action(exception.pk, "start"))
    assert response.status_code == 302 and response["Location"] == detail(exception.pk)
    exception.refresh_from_db()
    assert exception.status == "in_progress"


def test_htmx_actions_answer_with_the_panel(client_as):
    exception = DeskExceptionFactory()
    response = client_as("ops").post(
        action(exception.pk, "resolve"), {"resolution": "fixed", "note": "created item"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="exception-panel"') and "<html" not in html
    assert 'data-status="resolved"' in html and "created item" in html


def test_a_refused_transition_is_explained_and_changes_nothing(client_as):
    exception = DeskExceptionFactory(status="resolved", resolution="fixed")
    response = client_as("ops").post(action(exception.pk, "start"), **HTMX)
    assert "Cannot start an exception that is resolved" in response.content.decode()
    exception.refresh_from_db()
    assert exception.status == "resolved"


def test_an_invalid_form_shows_its_errors(client_as):
    exception = DeskExceptionFactory()
    response = client_as("ops").post(action(exception.pk, "ignore"), {"reason": ""}, **HTMX)
    assert "This field is required" in response.content.decode()
    exception.refresh_from_db()
    assert exception.status == "open"


def test_assign_comment_escalate_and_unassign_through_the_screen(client_as, personas):
    exception = DeskExceptionFactory()
    client = client_as("ops")
    client.post(action(exception.pk, "assign"), {"assignee": personas["ops"].pk})
    client.post(action(exception.pk, "comment"), {"note": "asked the buyer"})
    client.post(action(exception.pk, "escalate"), {"reason": "customer waiting"})
    client.post(action(exception.pk, "unassign"))
    verbs = list(exception.timeline.order_by("id").values_list("verb", flat=True))
    assert verbs == ["assigned", "commented", "escalated", "unassigned"]
    html = client.get(detail(exception.pk)).content.decode()
    assert "asked the buyer" in html


def test_a_failed_replay_is_shown_and_the_exception_stays_open(client_as):
    register_replayer("sku_unknown", lambda e: ReplayOutcome(False, "ERP timed out"))
    exception = DeskExceptionFactory()
    response = client_as("ops").post(action(exception.pk, "replay"), **HTMX)
    assert "Replay failed: ERP timed out" in response.content.decode()
    exception.refresh_from_db()
    assert exception.status == "open"


def test_map_sku_from_the_detail_page_replays_what_it_blocked(client_as):
    ErpItemFactory(code="MH01-XS-BLK", name="Chaz Kangeroo Hoodie XS Black")
    register_replayer("sku_unknown", lambda e: ReplayOutcome(True, "1 order posted"))
    exception = DeskExceptionFactory(subject="MH01-XS-Black", sku="MH01-XS-Black")
    response = client_as("ops").post(
        action(exception.pk, "map-sku"), {"erp_item_code": "MH01-XS-BLK"}, **HTMX
    )
    html = response.content.decode()
    assert "Mapped Magento SKU MH01-XS-Black to ERP item MH01-XS-BLK" in html
    assert "1 order posted" in html
    assert SkuMapping.objects.get(magento_sku="MH01-XS-Black").erp_item_code == "MH01-XS-BLK"
    exception.refresh_from_db()
    assert exception.status == "resolved"


def test_erp_item_search_returns_matching_items(client_as):
    ErpItemFactory(code="MH01-XS-BLK", name="Chaz Kangeroo Hoodie")
    ErpItemFactory(code="24-MB01", name="Joust Duffle Bag")
    response = client_as("ops").get(reverse("mappings:erp_item_search"), {"q": "hoodie"})
    html = response.content.decode()
    assert "MH01-XS-BLK" in html and "24-MB01" not in html
    kept = client_as("ops").get(
        reverse("mappings:erp_item_search"), {"q": "hoodie", "erp_item_code": "MH01-XS-BLK"}
    )
    assert 'value="MH01-XS-BLK" checked' in kept.content.decode()
    assert client_as("cx").get(reverse("mappings:erp_item_search")).status_code == 403


def test_cx_corrects_an_address_from_the_detail_page(client_as):
    register_replayer("address_invalid", lambda e: ReplayOutcome(True, "posted"))
    order = OrderFactory(increment_id="000000077")
    OrderAddress.objects.create(
        order=order,
        address_type="shipping",
        street=["1 Long Road"],
        city="Leeds",
        postcode="LS1 4AP",
        country_id="GB",
    )
    exception = DeskExceptionFactory(
        kind="address_invalid",
        subject="000000077:telephone",
        sku="",
        team="cx",
        order_increment_id="000000077",
        evidence={"field_path": "shipping_address.telephone"},
    )
    client = client_as("cx")
    page = client.get(detail(exception.pk)).content.decode()
    assert 'data-testid="address-form"' in page and "1 Long Road" in page
    client.post(
        action(exception.pk, "correct-address"),
        {
            "street_1": "1 Long Road",
            "city": "Leeds",
            "postcode": "LS1 4AP",
            "country_id": "GB",
            "telephone": "0113 496 0000",
        },
    )
    address = OrderAddress.objects.get(order=order)
    assert address.telephone == "0113 496 0000" and address.original["telephone"] == ""
    assert DeskException.objects.get(pk=exception.pk).status == "resolved"


def test_help_text_matches_the_ops_guide():
    from pathlib import Path

    from exceptions_app.kinds import kinds_markdown

    guide = (Path(__file__).resolve().parents[2] / "docs" / "ops.md").read_text()
    assert kinds_markdown() in guide, "run: python manage.py exception_kinds_doc --write"


def _sku_exception_holding(orders: int):
    from tests.factories import OrderHoldFactory, OrderLineFactory

    ErpItemFactory(code="LU-MH01XSBLACK", name="Chaz Kangeroo Hoodie-XS-Black")
    exception = DeskExceptionFactory(subject="MH01-XS-Black", sku="MH01-XS-Black")
    for _ in range(orders):
        order = OrderFactory()
        OrderLineFactory(order=order, sku="MH01-XS-Black", name="Chaz Kangeroo Hoodie-XS-Black")
        OrderHoldFactory(order=order, kind="sku_unknown", subject="MH01-XS-Black", field="sku")
    return exception


@pytest.mark.parametrize("orders", [1, 30])
def test_the_detail_page_reads_a_fixed_number_of_queries(
    client_as, django_assert_max_num_queries, orders
):
    exception = _sku_exception_holding(orders)
    client = client_as("ops")
    # Whatever the number of held orders: the fix panel, suggestion and stake are set reads.
    with django_assert_max_num_queries(20):
        response = client.get(detail(exception.pk))
    assert response.status_code == 200
    assert f"in {orders} held order" in response.content.decode()


def test_every_element_id_on_the_detail_page_is_unique(client_as):
    import re
    from collections import Counter

    exception = _sku_exception_holding(2)
    page = client_as("ops").get(detail(exception.pk)).content.decode()
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []
    # Every label points at an element that exists (a label's click reaches its field).
    for target in re.findall(r'<label[^>]*\sfor="([^"]+)"', page):
        assert target in ids, target
