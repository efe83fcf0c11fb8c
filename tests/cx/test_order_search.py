"""Order lookup: each search key, its normalisation, the result table and its query count."""

import pytest
from django.urls import reverse

from cx.selectors import (
    SearchKey,
    order_number_candidates,
    order_rows_annotate,
    order_search,
)
from tests.cx.builders import dispatch, hold_address, make_order

pytestmark = pytest.mark.django_db

LOOKUP = reverse("cx:order_lookup")


def found(query: str) -> list[str]:
    return list(order_search(query=query).orders.values_list("increment_id", flat=True))


def test_order_number_matches_exactly_with_or_without_leading_zeros(orders):
    assert found("000000102") == ["000000102"]
    assert found("102") == ["000000102"]
    assert found("#102") == ["000000102"]
    assert found("0102") == ["000000102"]
    assert found("10") == []  # exact, not a prefix: 000000101..105 do not match
    assert order_search(query="102").key == SearchKey.ORDER_NUMBER


def test_order_number_candidates_cover_padding_and_the_bare_number():
    candidates = order_number_candidates("000042")
    assert {"000042", "42", "000000042", "0042"} <= set(candidates)
    assert order_number_candidates("ABC-1") == ["ABC-1"]


def test_email_is_case_insensitive_and_exact(orders):
    assert found("siobhan.obrien@example.TEST") == ["000000102"]
    assert found("obrien@example.test") == []
    assert order_search(query="a@b.test").key == SearchKey.EMAIL


@pytest.mark.parametrize("typed", ["ZZ1 1ZZ", "zz11zz", " Zz1  1zZ ", "ZZ11ZZ"])
def test_postcode_ignores_case_and_spaces(orders, typed):
    assert found(typed) == ["000000102"]
    assert order_search(query=typed).key == SearchKey.POSTCODE


def test_postcode_matches_the_billing_address_too(db):
    order = make_order("000000201", postcode="SW1A 1AA")
    order.addresses.filter(address_type="shipping").update(postcode="EC1A 1BB")
    assert found("sw1a1aa") == ["000000201"]
    assert found("ec1a 1bb") == ["000000201"]


def test_name_is_partial_and_case_insensitive_on_first_or_last_name(orders):
    assert found("o'bri") == ["000000102"]
    assert found("SIOBHAN") == ["000000102"]
    assert found("siobhan o'brien") == ["000000102"]
    assert found("siobhan smith") == []  # every word must match
    assert set(found("smith")) == {"000000101", "000000103", "000000104", "000000105"}


def test_name_on_the_address_finds_a_guest_order_without_customer_names(db):
    order = make_order("000000301", customer_firstname="", customer_lastname="")
    order.addresses.update(firstname="Aoife", lastname="Byrne")
    assert found("byrne") == ["000000301"]


def test_a_one_letter_name_is_refused_with_a_reason(client_as, orders):
    search = order_search(query="s")
    assert search.problem and not search.orders.exists()
    response = client_as("cx").get(LOOKUP, {"q": "s"})
    assert "at least two letters" in response.content.decode()


def test_empty_query_shows_what_to_ask_the_customer(client_as, orders):
    response = client_as("cx").get(LOOKUP)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="lookup-help"' in body
    assert "order-results" not in body


def test_several_matches_are_listed_in_the_table(client_as, orders):
    response = client_as("cx").get(LOOKUP, {"q": "smith"})
    body = response.content.decode()
    assert response.status_code == 200
    listed = [row.record.increment_id for row in response.context["table"].page.object_list]
    assert listed == ["000000105", "000000104", "000000103", "000000101"]  # newest first
    for number in listed:
        assert reverse("cx:order_detail", args=[number]) in body
    assert "Searched by customer name" in body


def test_one_order_number_match_opens_the_order(client_as, orders):
    response = client_as("cx").get(LOOKUP, {"q": "104"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cx:order_detail", args=["000000104"])


def test_one_postcode_match_lists_rather_than_redirects(client_as, orders):
    response = client_as("cx").get(LOOKUP, {"q": "zz11zz"})
    assert response.status_code == 200
    assert reverse("cx:order_detail", args=["000000102"]) in response.content.decode()


def test_no_match_says_so_and_suggests_another_detail(client_as, orders):
    response = client_as("cx").get(LOOKUP, {"q": "nobody-here"})
    body = response.content.decode()
    assert 'data-testid="no-results"' in body
    assert "try another detail" in body


def test_result_rows_show_status_in_plain_words(client_as, orders):
    response = client_as("cx").get(LOOKUP, {"q": "jane.smith@example.test"})
    table = response.context["table"]
    rows = {row.record.increment_id: row for row in table.page.object_list}
    assert rows["000000101"].get_cell("erp_status").count("Received, not checked yet") == 1
    assert "With the warehouse" in rows["000000103"].get_cell("erp_status")
    assert "Dispatched" in rows["000000105"].get_cell("erp_status")
    assert "Yes, " in rows["000000105"].get_cell("dispatched_at")
    assert rows["000000103"].get_cell("dispatched_at") == "Not yet"
    assert rows["000000104"].record.open_exceptions == 1  # the status drift
    assert rows["000000103"].get_cell("postcode") == "EH1 1YZ"
    assert rows["000000103"].get_cell("status") == "Processing"


def test_open_exception_count_includes_causes_that_hold_many_orders(db):
    from exceptions_app.services import exception_raise
    from tests.factories import OrderHoldFactory

    first = make_order("000000401")
    second = make_order("000000402")
    exception_raise(
        kind="sku_unknown",
        subject="MH01-XS-Black",
        sku="MH01-XS-Black",
        message="SKU unknown",
        system="erp",
        order_increment_id=first.increment_id,
    )
    for order in (first, second):
        OrderHoldFactory(order=order, kind="sku_unknown", subject="MH01-XS-Black", field="sku")
    hold_address(second)
    orders = list(order_search(query="smith").orders)
    order_rows_annotate(orders)
    assert {o.increment_id: o.open_exceptions for o in orders} == {"000000401": 1, "000000402": 2}


def test_the_result_page_reads_a_fixed_number_of_queries(client_as, django_assert_max_num_queries):
    client = client_as("cx")
    for n in range(30):
        order = make_order(f"{500 + n:09d}", customer_lastname="Patel")
        if n % 3 == 0:
            hold_address(order)
        if n % 3 == 1:
            dispatch(order, told=n % 2 == 0, tracking=f"TT{n:09d}GB")
    # Session read, user, roles, session save (3: savepoint + update); the page of orders and
    # its columns (one query each, however many rows); the CX exceptions panel.
    with django_assert_max_num_queries(9):
        response = client.get(LOOKUP, {"q": "patel"})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 25
    assert len(response.context["cx_exceptions"]) == 10


def test_the_lazy_paginator_does_not_count_all_matches(client_as):
    for n in range(30):
        make_order(f"{600 + n:09d}", customer_lastname="Jones")
    client = client_as("cx")
    client.get(LOOKUP)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(LOOKUP, {"q": "jones", "page": 2})
    assert len(response.context["table"].page.object_list) == 5
    assert not any(
        "COUNT(*)" in q["sql"].upper() and "integration_order" in q["sql"]
        for q in captured.captured_queries
    )


def test_a_postcode_stored_in_an_unusual_form_is_still_found(db):
    make_order("000000701", postcode="Sw1A  1aa")
    make_order("000000702", postcode="EC1A 1BB")
    assert found("SW1A 1AA") == ["000000701"]
    assert found("sw1a1aa") == ["000000701"]


def test_digits_that_are_no_order_number_are_tried_as_a_postcode(db):
    make_order("000000801", postcode="75001")  # Paris
    make_order("000000802", postcode="SW1A 1AA")
    assert found("75001") == ["000000801"]
    assert found("801") == ["000000801"]  # an order number wins over a postcode


def test_the_cx_panel_names_each_exceptions_order_and_customer(client_as, orders):
    body = client_as("cx").get(LOOKUP).content.decode()
    named = [(orders["held_exception"], "Siobhan O&#x27;Brien"), (orders["drift"], "Jane Smith")]
    for exception, customer in named:
        start = body.index(f'data-exception="{exception.pk}"')
        row = body[start : body.index("</li>", start)]
        assert reverse("cx:order_detail", args=[exception.order_increment_id]) in row
        assert f"· {customer}" in row
