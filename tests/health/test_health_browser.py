"""The health page in a real browser: it renders, refreshes its figures in place (no full
reload), logs no console error (a CSP violation would be one), and gives the guide its
screenshots."""

from pathlib import Path

import pytest

from integration.models import Flow, RunStatus, SyncRun
from tests.factories import PASSWORD, UserFactory
from tests.health.scenario import seed_morning

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _shot(locator, name: str) -> Path:
    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"{name}.png"
    locator.screenshot(path=str(path))
    return path


def test_the_health_page_renders_and_refreshes_without_a_reload(
    live_server, page, screenshot, settings
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
    _shot(verdict, "health-verdict")
    _shot(page.locator("[data-testid=health-flows]"), "health-flows")
    _shot(page.locator("[data-testid=health-where]"), "health-where")
    _shot(page.locator("[data-testid=health-trends]"), "health-trends")
    for name in ("health-verdict", "health-flows", "health-where", "health-trends"):
        assert (DOCS / f"{name}.png").stat().st_size < 200_000, name

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
