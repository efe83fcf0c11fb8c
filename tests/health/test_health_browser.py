"""The health page in a real browser: it renders, refreshes its figures in place (no full
reload), logs no console error (a CSP violation would be one), and gives the guide its
screenshots."""

import pytest

from integration.models import Flow, RunStatus, SyncRun
from tests.factories import PASSWORD, UserFactory
from tests.health.scenario import seed_morning

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_health_page_renders_and_refreshes_without_a_reload(
    live_server, page, screenshot, settings, docs_screenshot
):
    settings.HEALTH_REFRESH_SECONDS = 2
    UserFactory(username="manager-browser", roles=["ops"])
    seed_morning()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/accounts/login/?next=/health/")
    page.fill("#id_username", "manager-browser")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    verdict = page.locator("[data-testid=overall-verdict]")
    verdict.wait_for()
    assert "Unhealthy" in verdict.inner_text()
    assert "Orders out: 14 paid orders waiting over 30 min" in verdict.inner_text()
    orders_out = page.locator("[data-testid=flow-orders_out]")
    assert "14 paid orders waiting over 30 min" in orders_out.inner_text()
    assert "the ERP answered 503 for" in orders_out.inner_text()
    assert page.locator("[data-testid=chart-exceptions] svg rect").count() >= 60
    assert page.locator("[data-testid=chart-orders] svg rect").count() == 48
    screenshot(page, "health-page")
    shots = [
        docs_screenshot(verdict, "health-verdict"),
        docs_screenshot(page.locator("[data-testid=health-flows]"), "health-flows"),
        docs_screenshot(page.locator("[data-testid=health-where]"), "health-where"),
        docs_screenshot(page.locator("[data-testid=health-trends]"), "health-trends"),
    ]
    for shot in shots:
        assert shot.stat().st_size < 200_000, shot.name

    page.evaluate("window.__sameDocument = true")
    before = page.locator("[data-testid=as-of]").inner_text()
    SyncRun.objects.create(flow=Flow.ORDERS_OUT, status=RunStatus.SUCCEEDED, seen=14, posted=14)
    with page.expect_response(lambda r: r.url.endswith("/health/panel/")) as polled:
        pass
    assert polled.value.status == 200
    page.wait_for_function(
        "before => document.querySelector('[data-testid=as-of]').innerText !== before", arg=before
    )
    assert page.evaluate("window.__sameDocument") is True
    assert "the ERP answered 503" not in page.locator("[data-testid=flow-orders_out]").inner_text()
    screenshot(page, "health-page-refreshed")
    assert errors == []
