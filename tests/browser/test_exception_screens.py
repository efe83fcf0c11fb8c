"""Ops, in a real browser: finds the queue, fixes an unknown SKU through the mapping form, and
sees the exception resolve after the replay (a fake replayer stands in for the sync flow)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from exceptions_app import replay as replay_registry
from exceptions_app.models import DeskException
from exceptions_app.replay import ReplayOutcome, register_replayer
from exceptions_app.services import exception_assign, exception_raise, exception_start
from tests.factories import PASSWORD, ErpItemFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fake_replayers():
    saved = dict(replay_registry._REPLAYERS)
    yield
    replay_registry._REPLAYERS.clear()
    replay_registry._REPLAYERS.update(saved)


def _sign_in(page, live_server, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def _seed_varied(ops_user) -> list[DeskException]:
    """About thirty exceptions of every ops-visible kind, as the checks would raise them."""
    made = []
    skus = ["MH01-XS-Black", "MH02-M-Red", "WS03-L-Blue", "24-MB01", "24-WG085", "MJ12-S-Orange"]
    for n, sku in enumerate(skus):
        order = OrderFactory(increment_id=f"00000{1200 + n}")
        made.append(
            exception_raise(
                kind="sku_unknown" if n % 3 else "sku_inactive",
                subject=sku,
                sku=sku,
                order_increment_id=order.increment_id,
                system="erp",
                message=f"Order #{order.increment_id} line 1: SKU {sku} has no active ERP item",
                evidence={"field_path": "items[0].sku", "payload": {"sku": sku, "qty_ordered": 1}},
                amount=Decimal("54.00") + n,
                currency="GBP",
            )
        )
    for method in ("tablerate_bestway", "flatrate_flatrate", "dpd_nextday"):
        made.append(
            exception_raise(
                kind="carrier_unmapped",
                subject=method,
                system="integration",
                message=f"Shipping method {method} has no courier mapping",
            )
        )
    for n in range(8):
        increment = f"00000{1300 + n}"
        made.append(
            exception_raise(
                kind="order_post_failed" if n % 2 else "order_stuck",
                subject=increment,
                order_increment_id=increment,
                system="erp" if n % 2 else "integration",
                message="ERP: party address is required" if n % 2 else "Paid 26 h ago, not in ERP",
                amount=Decimal("120.50") + n,
                currency="GBP",
            )
        )
    for n, sku in enumerate(["24-MB02", "24-UB02", "MS04-XL-Green", "WJ06-M-Purple", "24-WB04"]):
        made.append(
            exception_raise(
                kind="stock_drift",
                subject=sku,
                sku=sku,
                system="magento",
                message=f"Magento says {12 - n}, ERP has {n}",
                units=Decimal(12 - 2 * n),
                evidence={"compared": {"qty": {"magento": 12 - n, "erp": n}}},
            )
        )
    for n in range(4):
        made.append(
            exception_raise(
                kind="stock_push_failed",
                subject=f"batch-{n}",
                sku=f"24-MG0{n}",
                system="magento",
                message="HTTP 503 from /V1/inventory/source-items after 5 attempts",
            )
        )
    # Some ageing, some overdue, some being worked.
    for n, exception in enumerate(made):
        age = timedelta(hours=3 * n)
        DeskException.objects.filter(pk=exception.pk).update(
            first_seen_at=timezone.now() - age,
            sla_due_at=exception.sla_due_at - age,
        )
    for exception in made[::5]:
        exception_start(exception=exception, actor=ops_user)
    for exception in made[1::7]:
        exception_assign(exception=exception, assignee=ops_user, actor=ops_user)
    return made


def test_ops_fixes_an_unknown_sku_through_the_mapping_form(live_server, page, screenshot):
    ops = UserFactory(username="ops-browser", roles=["ops"], first_name="Olivia")
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    ErpItemFactory(code="MH01-XS-BLK", name="Chaz Kangeroo Hoodie XS Black")
    ErpItemFactory(code="MH01-XS-GRY", name="Chaz Kangeroo Hoodie XS Grey")
    ErpItemFactory(code="MH01-OLD", name="Retired hoodie", active=False)
    replayed: list[str] = []

    def fake_post_held_orders(exception):
        replayed.append(exception.sku)
        return ReplayOutcome(ok=True, detail="Order #000001201 posted to the ERP as SO-1201")

    register_replayer("sku_unknown", fake_post_held_orders)
    order = OrderFactory(increment_id="000001201")
    exception = exception_raise(
        kind="sku_unknown",
        subject="MH01-XS-Black",
        sku="MH01-XS-Black",
        order_increment_id=order.increment_id,
        system="erp",
        message="Order #000001201 line 1: SKU MH01-XS-Black is not in the ERP item master",
        evidence={"field_path": "items[0].sku", "payload": {"sku": "MH01-XS-Black"}},
        amount=Decimal("54.00"),
        currency="GBP",
    )

    _sign_in(page, live_server, "ops-browser", "/ops/exceptions/")
    page.wait_for_selector("table.queue-table")
    page.click(f"a[href='/ops/exceptions/{exception.pk}/']")
    page.wait_for_selector("[data-testid=map-sku-form]")
    assert page.url.endswith(f"/ops/exceptions/{exception.pk}/")
    assert page.locator("nav[aria-label='Main navigation']").count() == 1  # a page, not nested
    assert "An order contains the SKU MH01-XS-Black" in page.inner_text("[data-testid=what]")

    # Search the ERP item master (htmx), pick the item, save: the replay runs in the same step.
    assert page.locator("input[value='MH01-OLD']").count() == 1  # first list: the style code
    page.fill("#erp-search", "kangeroo")
    page.wait_for_selector("input[value='MH01-OLD']", state="detached")
    page.check("input[name=erp_item_code][value='MH01-XS-BLK']")
    page.fill("#erp-search", "kangeroo hoodie")
    page.wait_for_timeout(600)  # the search redraws the list, keeping the item picked
    assert page.is_checked("input[name=erp_item_code][value='MH01-XS-BLK']")
    assert console_errors == [], console_errors  # e.g. an hx-include selector error
    screenshot(page, "exception-sku-mapping-form")
    page.click("[data-testid=map-sku-form] button[type=submit]")
    page.wait_for_selector("[data-testid=fix-result], [data-testid=error]")
    assert page.locator("[data-testid=error]").count() == 0, page.inner_text("[data-testid=error]")

    assert page.get_attribute("#exception-panel", "data-status") == "resolved"
    assert "Order #000001201 posted" in page.inner_text("[data-testid=fix-result]")
    assert "Replayed" in page.inner_text("[data-testid=timeline]")
    assert replayed == ["MH01-XS-Black"]
    exception.refresh_from_db()
    # Fixed by that person, not "cause gone (seen by a later check)".
    assert (exception.status, exception.resolution) == ("resolved", "fixed")
    assert ops.pk == exception.timeline.get(verb="fixed").actor_id
    shot = screenshot(page, "exception-sku-fixed")
    assert shot.stat().st_size > 10_000


def test_queue_filters_with_htmx_and_keeps_the_filter_in_the_url(live_server, page, screenshot):
    ops = UserFactory(username="ops-browser", roles=["ops"], first_name="Olivia")
    made = _seed_varied(ops)
    console_errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            console_errors.append(f"{m.text[:60]} @ {m.location}") if m.type == "error" else None
        ),
    )

    _sign_in(page, live_server, "ops-browser", "/ops/exceptions/")
    page.wait_for_selector("table.queue-table")
    screenshot(page, "exception-queue")
    assert page.locator("table.queue-table tbody tr").count() == 25

    assert console_errors == [], "queue"
    page.select_option("#id_kind", "stock_drift")
    page.wait_for_url("**kind=stock_drift**")
    page.wait_for_function("document.querySelectorAll('table.queue-table tbody tr').length === 5")
    assert console_errors == [], "filter"
    # Bulk: select all visible rows and start them.
    page.check("th input[data-select-all]")
    page.select_option("#bulk-form select[name=action]", "start")
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector("[data-testid=bulk-report]")
    assert console_errors == [], "bulk"
    report = page.inner_text("[data-testid=bulk-report]")
    assert "Cannot start an exception that is in progress" in report  # one was already started
    assert DeskException.objects.filter(kind="stock_drift", status="in_progress").count() == 5
    screenshot(page, "exception-queue-bulk")

    detail = next(e for e in made if e.kind == "stock_drift")
    page.goto(f"{live_server.url}/ops/exceptions/{detail.pk}/")
    page.wait_for_selector("[data-testid=compared]")
    screenshot(page, "exception-detail-stock-drift")
    assert console_errors == [], console_errors
