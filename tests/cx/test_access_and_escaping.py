"""Who may open the CX screens, and that customer data is shown as text, never as markup."""

import pytest
from django.urls import reverse

from accounts.roles import ROUTES
from tests.cx.builders import hold_address, make_order

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "who,lookup,detail",
    [
        ("cx", 200, 200),
        ("admin", 200, 200),
        ("ops", 403, 200),  # ops reach the order page from their exceptions
        ("finance", 403, 403),
        ("outsider", 403, 403),
    ],
)
def test_each_role_opens_what_the_role_table_gives_it(client_as, orders, who, lookup, detail):
    client = client_as(who)
    assert client.get(reverse("cx:order_lookup"), {"q": "smith"}).status_code == lookup
    assert client.get(reverse("cx:order_detail", args=["000000102"])).status_code == detail


def test_the_role_table_classifies_both_cx_routes():
    assert ROUTES["cx:order_lookup"] == {"cx", "admin"}
    assert ROUTES["cx:order_detail"] == {"cx", "ops", "admin"}


@pytest.mark.parametrize(
    "url", [reverse("cx:order_lookup"), reverse("cx:order_detail", args=["000000102"])]
)
def test_anonymous_users_are_sent_to_login(client, orders, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.fixture
def hostile_order(db):
    order = make_order(
        "000000666",
        customer_firstname=HOSTILE,
        customer_lastname="O'Brien",
        customer_email="evil@example.test",
        shipping_description='<img src=x onerror="alert(2)">',
        postcode="ZZ9 9ZZ",
    )
    order.addresses.update(street=['1 "Quoted" <b>Lane</b>'], firstname=HOSTILE)
    order.lines.update(name="<i>Bag</i>")
    hold_address(order)
    return order


def test_the_order_page_escapes_customer_data(client_as, hostile_order):
    body = client_as("cx").get(reverse("cx:order_detail", args=["000000666"])).content.decode()
    assert HOSTILE not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "O&#x27;Brien" in body
    assert "<b>Lane</b>" not in body and "&lt;b&gt;Lane&lt;/b&gt;" in body
    assert "<i>Bag</i>" not in body
    assert 'onerror="alert(2)"' not in body


@pytest.mark.parametrize("query", ["o'brien", "evil@example.test", "zz99zz"])
def test_the_lookup_escapes_customer_data_and_the_query(client_as, hostile_order, query):
    body = client_as("cx").get(reverse("cx:order_lookup"), {"q": query}).content.decode()
    assert HOSTILE not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "000000666" in body


def test_a_hostile_query_is_shown_as_text(client_as, db):
    body = client_as("cx").get(reverse("cx:order_lookup"), {"q": HOSTILE}).content.decode()
    assert HOSTILE not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
