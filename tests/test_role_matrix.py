"""Every URL is classified in the role table, and each role opens exactly what the table says."""

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from accounts.roles import NAMESPACES, NAVIGATION, PUBLIC, ROLES, ROUTES, SIGNED_IN, rule_for


def _walk(patterns, namespaces=()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else None
            yield name, namespaces, entry


def test_every_url_pattern_is_classified_in_the_role_table():
    unclassified = []
    for name, namespaces, entry in _walk(get_resolver().url_patterns):
        if rule_for(name, namespaces) is None:
            unclassified.append(name or str(entry.pattern))
    assert unclassified == [], f"add these routes to accounts.roles.ROUTES: {unclassified}"


def test_role_table_names_only_existing_routes():
    for name in ROUTES:
        assert any(n == name for n, _, _ in _walk(get_resolver().url_patterns)), name
    assert set(NAMESPACES) <= {ns for _, nss, _ in _walk(get_resolver().url_patterns) for ns in nss}


def _takes_no_arguments(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def _screen_routes():
    # Screens without URL arguments, reachable by GET: the role matrix drives these. Routes
    # with arguments (one record's page) are checked by their own app's tests.
    return [
        name
        for name in ROUTES
        if name not in {"accounts:logout"}
        and not name.startswith("accounts:password_change")
        and _takes_no_arguments(name)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("who", [*ROLES, "outsider"])
@pytest.mark.parametrize("route", _screen_routes())
def test_each_role_opens_exactly_the_screens_the_table_gives_it(client, personas, who, route):
    client.force_login(personas[who])
    response = client.get(reverse(route))
    rule = ROUTES[route]
    if rule == PUBLIC:
        assert response.status_code in (200, 302)
        return
    if route == "home":
        expected = 302 if who in ROLES else 403
        assert response.status_code == expected
        return
    allowed = rule == SIGNED_IN or who in rule
    assert response.status_code == (200 if allowed else 403), (who, route, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route", [n for n in ROUTES if ROUTES[n] != PUBLIC and _takes_no_arguments(n)]
)
def test_anonymous_users_are_sent_to_login(client, route):
    if route == "accounts:logout":
        response = client.post(reverse(route))
    else:
        response = client.get(reverse(route))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
@pytest.mark.parametrize("who", [*ROLES, "outsider"])
def test_navigation_shows_only_the_users_own_screens(client, personas, who):
    client.force_login(personas[who])
    response = client.get(reverse("accounts:password_change"))
    shown = {item["route"] for item in response.context["nav_items"]}
    expected = {
        item.route
        for item in NAVIGATION
        if who in ROUTES[item.route] or ROUTES[item.route] == SIGNED_IN
    }
    assert shown == expected
    for item in NAVIGATION:
        assert (reverse(item.route) in response.content.decode()) == (item.route in expected)


@pytest.mark.django_db
def test_forbidden_page_explains_what_to_do(client_as):
    response = client_as("cx").get(reverse("ops:exception_list"))
    assert response.status_code == 403
    assert "have access to this page" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who,allowed", [("admin", True), ("ops", False), ("outsider", False)])
def test_django_admin_is_for_admins_only(client, personas, who, allowed):
    user = personas[who]
    if who == "admin":
        user.is_staff = True
        user.save()
    client.force_login(user)
    response = client.get("/admin/")
    assert (response.status_code == 200) == allowed


@pytest.mark.django_db
def test_logout_refuses_get_and_accepts_post(client_as):
    client = client_as("ops")
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("ops:exception_list")).status_code == 302
