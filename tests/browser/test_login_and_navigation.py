"""Each role signs in through a real browser and sees only its own navigation."""

import pytest

from accounts.roles import NAVIGATION, ROLES, ROUTES
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("role", ROLES)
def test_role_signs_in_and_sees_only_its_navigation(live_server, page, screenshot, role):
    UserFactory(username=f"{role}-browser", roles=[role])
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", f"{role}-browser")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=role-nav]")

    labels = page.locator("[data-testid=role-nav] a.nav-link").all_inner_texts()
    expected = [item.label for item in NAVIGATION if role in ROUTES[item.route]]
    if role == "admin":
        expected.append("Admin")
    assert labels == expected
    assert f"{role}-browser" in page.inner_text("[data-testid=whoami]")
    shot = screenshot(page, f"home-{role}")
    assert shot.stat().st_size > 5_000
    # Styles and scripts load from our own origin under the CSP: no console errors.
    assert console_errors == []
    assert page.evaluate("typeof window.htmx") == "object"


def test_wrong_password_shows_an_error_and_keeps_the_user_out(live_server, page):
    UserFactory(username="ops-browser", roles=["ops"])
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ops-browser")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator(".alert-danger").is_visible()
    assert "/accounts/login/" in page.url


def test_other_teams_screen_shows_the_403_page(live_server, page, screenshot):
    UserFactory(username="cx-browser", roles=["cx"])
    page.goto(f"{live_server.url}/accounts/login/?next=/ops/exceptions/")
    page.fill("#id_username", "cx-browser")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=forbidden]")
    screenshot(page, "forbidden-cx-on-ops")
