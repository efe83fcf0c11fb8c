"""Order lookup: each search key, its normalisation, the result table and its query count."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cx import words
from cx.selectors import (
    QUERY_MAX_CHARS,
    QUERY_MAX_WORDS,
    SearchKey,
    number_key,
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


def test_the_number_key_drops_the_store_prefix_and_the_leading_zeros():
    assert number_key("000042") == number_key("42") == number_key("EU-000000042") == "42"
    assert number_key("eu42") == number_key("#42") == "42"
    assert number_key("000000013-1") == "13-1"


def test_a_store_prefix_may_be_typed_or_left_out(db):
    make_order("EU-000000123")
    make_order("000000456")
    for typed in ("123", "000000123", "EU-000000123", "eu-000000123", "EU000000123", "EU 123"):
        assert found(typed) == ["EU-000000123"], typed
    # A number stored without a prefix is found when the customer reads one out.
    assert found("EU-000000456") == ["000000456"]
    assert order_search(query="EU-000000123").key == SearchKey.ORDER_NUMBER


def test_the_same_number_in_two_stores_lists_both_unless_the_prefix_says_which(db):
    make_order("EU-000000789", customer_lastname="Dupont")
    make_order("UK-000000789", customer_lastname="Evans")
    assert set(found("789")) == {"EU-000000789", "UK-000000789"}
    assert found("UK-000000789") == ["UK-000000789"]


def test_an_edited_order_is_found_by_its_own_number(db):
    make_order("000000013")
    make_order("000000013-1")
    assert found("13-1") == ["000000013-1"]
    assert found("13") == ["000000013"]


def test_email_is_case_insensitive_and_exact(orders):
    assert found("siobhan.obrien@example.TEST") == ["000000102"]
    assert found("obrien@example.test") == []
    assert order_search(query="a@b.test").key == SearchKey.EMAIL


@pytest.mark.parametrize("typed", ["ZZ1 1ZZ", "zz11zz", " Zz1  1zZ ", "ZZ11ZZ"])
def test_postcode_ignores_case_and_spaces(orders, typed):
    assert found(typed) == ["000000102"]
    assert order_search(query=typed).key == SearchKey.POSTCODE


@pytest.mark.parametrize("stored", ["sw1a1aa", "SW1A  1AA", "Sw1A 1aA", "SW1A1AA"])
@pytest.mark.parametrize("typed", ["SW1A 1AA", "sw1a1aa", "sw1a  1aa"])
def test_a_postcode_is_found_however_it_was_stored_and_typed(db, stored, typed):
    make_order("000000901", postcode=stored)
    make_order("000000902", postcode="SW1A 2AA")
    assert found(typed) == ["000000901"]


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


def test_a_name_is_found_without_its_apostrophe_or_hyphen(db):
    make_order("000000311", customer_firstname="Siobhan", customer_lastname="O'Brien")
    make_order("000000312", customer_firstname="Mary", customer_lastname="Smith-Jones")
    make_order("000000313", customer_firstname="Seán", customer_lastname="O\u2019Neill")
    assert found("obri") == ["000000311"]
    assert found("obrien") == ["000000311"]
    assert found("siobhan obrien") == ["000000311"]
    assert found("jones") == ["000000312"]
    assert found("smith-jones") == ["000000312"]
    assert found("oneill") == ["000000313"]


def test_a_short_word_matches_the_start_of_a_name_only(db):
    make_order("000000321", customer_firstname="Siobhan", customer_lastname="O'Brien")
    make_order("000000322", customer_firstname="Jo", customer_lastname="Hall")
    assert found("ob") == ["000000321"]  # OBrien starts so; "Siobhan" only contains it
    assert found("jo") == ["000000322"]
    assert found("jo h") == ["000000322"]  # a first name and an initial


def test_like_wildcards_typed_by_someone_match_only_themselves(db):
    make_order("000000331", customer_lastname="Patel")
    assert found("%%") == []
    assert found("__") == []
    assert found("pa%") == []


def test_name_on_the_address_finds_a_guest_order_without_customer_names(db):
    order = make_order("000000301", customer_firstname="", customer_lastname="")
    order.addresses.update(firstname="Aoife", lastname="Byrne")
    assert found("byrne") == ["000000301"]


def test_a_parcel_sent_to_someone_else_is_found_by_the_recipients_name(db):
    order = make_order("000000302", customer_firstname="Tom", customer_lastname="Reid")
    order.addresses.filter(address_type="shipping").update(firstname="Ana", lastname="Kowalski")
    assert found("kowalski") == ["000000302"]
    assert found("tom reid") == ["000000302"]
    assert found("tom kowalski") == []  # every word in the same name


def test_a_1200_word_search_is_refused_with_a_clear_message(client_as, orders):
    pasted = " ".join(["smith"] * 1200)
    response = client_as("cx").get(LOOKUP, {"q": pasted})
    assert response.status_code == 200
    problem = response.context["search"].problem
    assert "too long to search (1,200 words" in problem
    assert f"at most {QUERY_MAX_WORDS} words" in problem
    assert response.context["table"] is None
    body = response.content.decode()
    assert 'data-testid="lookup-problem"' in body
    assert pasted not in body  # the page does not echo the paste back


@pytest.mark.parametrize(
    "query",
    ["x" * (QUERY_MAX_CHARS + 1), "a b c d e f", "1" * (QUERY_MAX_CHARS + 1)],
)
def test_a_search_over_the_bounds_runs_no_query(query, django_assert_num_queries, db):
    with django_assert_num_queries(0):
        search = order_search(query=query)
    assert search.problem.startswith("That is too long to search")


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


def test_result_rows_say_in_one_phrase_where_each_order_is(client_as, orders):
    response = client_as("cx").get(LOOKUP, {"q": "jane.smith@example.test"})
    table = response.context["table"]
    rows = {row.record.increment_id: row for row in table.page.object_list}
    where = {number: row.get_cell("where") for number, row in rows.items()}
    assert "Received, not checked yet" in where["000000101"]
    assert "With the warehouse since " in where["000000103"]
    shipped = rows["000000105"].record.dispatched_at
    assert f"Dispatched {words.day(shipped)} with Royal Mail Tracked 24" in where["000000105"]
    assert "Magento: Processing" in where["000000103"]
    assert rows["000000104"].record.open_exceptions == 1  # the status drift
    assert rows["000000103"].get_cell("postcode") == "EH1 1YZ"


def test_result_rows_name_what_holds_an_order(client_as, orders):
    response = client_as("cx").get(LOOKUP, {"q": "o'brien"})
    (row,) = response.context["table"].page.object_list
    assert "On hold: address to correct (customer service)" in row.get_cell("where")


def test_result_dates_have_the_year(client_as, orders):
    response = client_as("cx").get(LOOKUP, {"q": "smith"})
    row = response.context["table"].page.object_list[0]
    placed = timezone.localtime(row.record.magento_created_at)
    assert row.get_cell("magento_created_at") == f"{placed.day} {placed:%b %Y}"


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
    # Session read, user, roles, session save (3: savepoint + update); the page of orders, its
    # columns (addresses, shipments, holds, exceptions: one query each, however many rows);
    # the CX exceptions panel.
    with django_assert_max_num_queries(12):
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


def test_a_common_name_lists_the_newest_orders_up_to_the_cap(client_as, monkeypatch):
    from cx import selectors

    monkeypatch.setattr(selectors, "MATCHES_SHOWN", 12)
    for n in range(15):
        make_order(f"{900 + n:09d}", customer_lastname="Smith")
    assert len(found("smith")) == 12
    assert set(found("smith")) == {f"{900 + n:09d}" for n in range(3, 15)}  # the newest 12
    body = client_as("cx").get(LOOKUP, {"q": "smith"}).content.decode()
    assert 'data-testid="matches-shown"' in body
