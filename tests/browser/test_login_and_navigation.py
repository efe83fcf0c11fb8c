"""Each role signs in through a real browser and sees only its own navigation."""

import pytest

from tests.factories import PASSWORD, UserFactory

# DESIGN §5, written out: what each role's navigation offers.
NAVIGATION_OF = {
    "ops": ["Exceptions", "Health"],
    "finance": ["Reconciliation", "Health"],
    "cx": ["Order lookup", "Health"],
    "admin": ["Exceptions", "Reconciliation", "Order lookup", "Health", "Admin"],
}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("role", sorted(NAVIGATION_OF))
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
    assert labels == NAVIGATION_OF[role]
    # Every link the role is offered opens for it: no navigation item answers 403.
    hrefs = page.locator("[data-testid=role-nav] a.nav-link").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    for href in hrefs:
        response = page.request.get(f"{live_server.url}{href}")
        assert response.status == 200, (role, href, response.status)
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
    assert "/ops/exceptions/" in page.url  # refused where it was asked, not redirected away
    response = page.request.get(f"{live_server.url}/ops/exceptions/")
    assert response.status == 403
    assert "Exceptions" not in page.locator("[data-testid=role-nav]").all_inner_texts()
    screenshot(page, "forbidden-cx-on-ops")
