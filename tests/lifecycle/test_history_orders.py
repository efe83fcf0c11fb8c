"""History at go-live, against the sandbox and a real Tryton: orders Magento had already shipped
are never in a warehouse shipment; they are posted for the books only (invoiced on the day
Magento took them) or, by the setting, not at all; their Magento tracking is on record.

Go-live means books no invoice has been numbered in yet: Tryton numbers invoices in date order
and refuses one dated before the last it numbered, so this module runs its own Tryton rather
than the session's (whose other tests number invoices dated today).
"""

from datetime import datetime, timedelta

import pytest

from integration.connectors.backoff import CircuitBreaker, RetryPolicy
from integration.connectors.tryton.client import TrytonAdapter
from integration.models import Order, OrderErpStatus
from sandbox.erp.inprocess import FakeErp
from sandbox.erp.testing import running_tryton
from sandbox.magento.app import sandbox_state
from sandbox.magento.testing import seed_app
from tests.lifecycle.scenario import sales, sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def go_live_erp():
    with running_tryton() as server:
        yield server


@pytest.fixture
def books(go_live_erp):
    adapter = TrytonAdapter(
        base_url=go_live_erp.base_url,
        database=go_live_erp.database,
        api_key=go_live_erp.api_key,
        breaker=CircuitBreaker("erp-go-live", threshold=1000),
        policy=RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.2, max_total=60),
    )
    yield adapter
    adapter.close()


def shipment_origins(tryton_server) -> str:
    """Every customer shipment Tryton has (its origins name the sales), as one text."""
    with tryton_server.rest() as rest:
        return " ".join(
            s["origins"] or "" for s in rest.search("stock.shipment.out", [], ["origins"])
        )


def test_history_is_posted_for_the_books_and_never_reaches_a_warehouse_shipment(
    magento_today, books, go_live_erp, carrier_mappings
):
    tryton, tryton_server = books, go_live_erp
    seed_app(magento_today, orders=24, days=20, seed=31, first_entity_id=730001)
    store = sandbox_state(magento_today).store
    magento_shipments = {s["order_id"]: s for s in store.all_docs("shipments")}
    sync(magento_today, tryton)
    sync(magento_today, tryton)  # the next run posts the books invoices Tryton made meanwhile

    history = list(Order.objects.filter(state="complete"))
    assert len(history) >= 8, "seed 31 over 20 days has complete orders"
    assert all(o.fulfilled_outside for o in history)
    posted = [o for o in history if o.erp_status == OrderErpStatus.POSTED]
    assert posted, "history orders reach the ERP for the books"
    origins = shipment_origins(tryton_server)
    for order in posted:
        assert f"[{order.increment_id}]" not in origins, order.increment_id
        (sale,) = sales(tryton_server, order.increment_id)
        assert sale["shipment_method"] == "manual" and sale["shipments"] == []
        assert [i["state"] for i in sale["invoices"]] == ["posted"], order.increment_id
        assert order.erp_books_closed_at is not None
        # What CX reads: when Magento shipped it, with Magento's own tracking number.
        shipment = magento_shipments[order.entity_id]
        assert order.magento_tracks == [
            {"number": t["track_number"], "title": t["title"]} for t in shipment["tracks"]
        ]
        assert abs(order.magento_shipped_at.replace(tzinfo=None) - _at(shipment)) < timedelta(
            seconds=1
        )
    with tryton_server.rest() as rest:
        invoice = rest.search(
            "account.invoice",
            [["id", "=", sales(tryton_server, posted[0].increment_id)[0]["invoices"][0]["id"]]],
            ["invoice_date"],
        )[0]
    assert invoice["invoice_date"] == posted[0].magento_created_at.date()
    # Paid orders Magento has not shipped go to the warehouse as before.
    fresh = Order.objects.filter(state="processing", erp_status=OrderErpStatus.POSTED).first()
    assert fresh is not None and not fresh.fulfilled_outside
    assert f"[{fresh.increment_id}]" in origins


def _at(shipment):
    return datetime.strptime(shipment["created_at"], "%Y-%m-%d %H:%M:%S")


def test_with_history_posting_off_history_is_recorded_and_nothing_reaches_the_erp(
    magento_today, books, go_live_erp, carrier_mappings, settings
):
    tryton, tryton_server = books, go_live_erp
    settings.SYNC_HISTORY_POSTING = "none"
    seed_app(magento_today, orders=12, days=20, seed=32, first_entity_id=731001)
    sync(magento_today, tryton)
    history = list(Order.objects.filter(state="complete"))
    assert history
    for order in history:
        assert order.erp_status == OrderErpStatus.HISTORY and order.fulfilled_outside
        assert sales(tryton_server, order.increment_id) == []
        assert order.magento_tracks  # still read, for CX


def test_orders_for_the_warehouse_go_before_the_history_backlog(magento_today, carrier_mappings):
    seed_app(magento_today, orders=40, days=20, seed=33)
    erp = FakeErp()
    sync(magento_today, erp)
    books_only = [request.books_only for request in erp.requests.values()]
    # Every sale for the warehouse was created before the first sale for the books.
    assert False in books_only and True in books_only
    assert books_only == sorted(books_only)
    history = set(
        Order.objects.filter(fulfilled_outside=True).values_list("increment_id", flat=True)
    )
    assert {ref for ref, request in erp.requests.items() if request.books_only} <= history
