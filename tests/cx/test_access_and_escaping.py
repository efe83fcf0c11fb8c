"""Who may open the CX screens, and that customer data is shown as text, never as markup."""

import pytest
from django.urls import get_resolver, reverse

from accounts.roles import ROLES, can_open
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


# Arguments for the CX routes that take some; a new CX route with arguments fails to reverse
# below until it is given an order to open. Exception 999999 does not exist: a role the table
# lets in reaches the view (404), the others are refused before it (403).
ROUTE_ARGS = {
    "cx:order_detail": ["000000102"],
    "cx:order_refresh": ["000000102"],
    "cx:exception_comment": ["000000102", 999999],
    "cx:exception_tell_magento": ["000000102", 999999],
}
SCREENS = {"cx:order_lookup", "cx:order_detail"}
# POST only, from the order page; what a role reaching the view gets back.
ACTIONS = {"cx:order_refresh": 302, "cx:exception_comment": 404, "cx:exception_tell_magento": 404}


def cx_routes() -> list[str]:
    """Every named route in the cx namespace, read off the URL map (not listed by hand)."""
    _, resolver = get_resolver().namespace_dict["cx"]
    return [f"cx:{pattern.name}" for pattern in resolver.url_patterns if pattern.name]


def test_the_cx_namespace_holds_the_screens_and_the_order_page_actions():
    assert set(cx_routes()) == SCREENS | set(ACTIONS)


@pytest.mark.parametrize("who", [*ROLES, "outsider"])
@pytest.mark.parametrize("route", sorted(SCREENS))
def test_each_role_gets_each_cx_screen_exactly_as_the_role_table_says(
    client_as, personas, orders, who, route
):
    response = client_as(who).get(reverse(route, args=ROUTE_ARGS.get(route, [])))
    expected = 200 if can_open(personas[who], route) else 403
    assert response.status_code == expected, (who, route, response.status_code)


@pytest.mark.parametrize("who", [*ROLES, "outsider"])
@pytest.mark.parametrize("route", sorted(ACTIONS))
def test_each_role_may_post_each_cx_action_exactly_as_the_role_table_says(
    client_as, personas, orders, systems_down, who, route
):
    client = client_as(who)
    url = reverse(route, args=ROUTE_ARGS[route])
    assert client.get(url).status_code == (405 if can_open(personas[who], route) else 403)
    response = client.post(url, {"note": "Customer rang."})
    expected = ACTIONS[route] if can_open(personas[who], route) else 403
    assert response.status_code == expected, (who, route, response.status_code)


@pytest.mark.parametrize("route", sorted(ACTIONS))
def test_the_actions_refuse_a_post_without_the_csrf_token(personas, orders, route):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["cx"])
    response = client.post(reverse(route, args=ROUTE_ARGS[route]), {"note": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize("who", [*ROLES, "outsider"])
def test_links_to_the_lookup_show_only_for_roles_that_may_open_it(client_as, personas, who):
    may_search = can_open(personas[who], "cx:order_lookup")
    client = client_as(who)
    pages = [reverse("health:dashboard")]  # every staff page carries the navigation
    if can_open(personas[who], "cx:order_detail"):
        pages += [reverse("cx:order_detail", args=["000000102"]), "/cx/orders/999999999/"]
    lookup = f'href="{reverse("cx:order_lookup")}'
    for page in pages:
        assert (lookup in client.get(page).content.decode()) == may_search, (who, page)


def test_ops_open_an_order_without_a_way_into_the_lookup(client_as, orders):
    """Ops reach the order page from their exceptions; the page links nowhere they get 403."""
    lookup = f'href="{reverse("cx:order_lookup")}'
    body = client_as("ops").get(reverse("cx:order_detail", args=["000000102"])).content.decode()
    assert "Order #000000102" in body
    assert lookup not in body
    missing = client_as("ops").get(reverse("cx:order_detail", args=["999999999"]))
    assert missing.status_code == 404
    assert lookup not in missing.content.decode()


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
