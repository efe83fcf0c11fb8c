"""Refresh from the systems: re-read an order from Magento (the sandbox, in process) and the ERP
(the sandbox's in-process ERP) now, update the mirror, and say which system did not answer."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from integration.connections import connections_override
from integration.connectors.backoff import CircuitBreaker, RetryPolicy
from integration.connectors.erp import ErpSale, ErpShipment
from integration.connectors.magento.client import BearerAuth, MagentoClient
from integration.models import Order, Shipment
from integration.order_refresh import order_refresh
from integration.orders.upsert import orders_upsert
from sandbox.erp.inprocess import FakeErp
from sandbox.magento.auth import Credentials
from sandbox.magento.faults import Faults
from sandbox.magento.testing import make_app, sandbox_transport, seed_app
from tests.cx.conftest import erp_answering, magento_answering, unavailable

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def magento_app(tmp_path):
    app = make_app(tmp_path, clock=lambda: NOW.replace(tzinfo=None))
    seed_app(app, orders=12, days=3, seed=5)
    return app


def sandbox_magento(app, *, breaker=None) -> MagentoClient:
    return MagentoClient(
        base_url="http://magento.test",
        auth=BearerAuth(Credentials().access_token),
        transport=sandbox_transport(app),
        policy=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0, max_total=1),
        breaker=breaker or CircuitBreaker("magento-refresh-test", threshold=1000),
        sleep=lambda seconds: None,
    )


@pytest.fixture
def store_order(magento_app):
    """One paid order of the sandbox, mirrored as the pull left it yesterday."""
    with sandbox_magento(magento_app) as magento:
        payloads = list(magento.orders_updated_between(datetime(2000, 1, 1, tzinfo=UTC)))
    payload = next(p for p in payloads if p["state"] == "processing")
    # As pulled a day ago, before Magento invoiced it: an older snapshot, "pending" then.
    yesterday = timezone.now() - timedelta(days=1)
    updated = datetime.strptime(payload["updated_at"], "%Y-%m-%d %H:%M:%S") - timedelta(hours=1)
    earlier = f"{updated:%Y-%m-%d %H:%M:%S}"
    orders_upsert(payloads=[{**payload, "status": "pending", "updated_at": earlier}])
    Order.objects.filter(entity_id=payload["entity_id"]).update(last_pulled_at=yesterday)
    return payload


@pytest.fixture
def erp_with_parcel(store_order):
    erp = FakeErp()
    reference = store_order["increment_id"]
    erp.sales[reference] = ErpSale("7", reference, "processing", "SO-0007")
    erp.shipments = [
        ErpShipment("SH-1", reference, "packed", None, "", "Royal Mail Tracked 24"),
    ]
    return erp


def test_a_refresh_reads_both_systems_and_updates_the_mirror(
    db, magento_app, store_order, erp_with_parcel
):
    reference = store_order["increment_id"]
    with connections_override(
        magento=lambda: sandbox_magento(magento_app), erp=lambda: erp_with_parcel
    ):
        result = order_refresh(increment_id=reference)
    assert result.found and result.unanswered == ()
    order = Order.objects.get(increment_id=reference)
    assert order.status == store_order["status"]  # Magento's word, not the stale mirror's
    assert order.magento_read_at is not None and order.erp_read_at is not None
    assert Shipment.objects.get(erp_shipment_id="SH-1").erp_state == "packed"
    assert "SO-0007" in result.systems[1].detail


def test_the_page_after_a_refresh_shows_what_the_erp_said_and_the_times(
    client_as, db, magento_app, store_order, erp_with_parcel
):
    reference = store_order["increment_id"]
    url = reverse("cx:order_refresh", args=[reference])
    with connections_override(
        magento=lambda: sandbox_magento(magento_app), erp=lambda: erp_with_parcel
    ):
        response = client_as("cx").post(url, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="refresh-result"' in body and "Not answering" not in body
    assert "In the warehouse: packed, waiting for the courier" in body
    as_of = response.context["freshness"]
    assert [read.how for read in as_of] == ["refreshed from Magento", "refreshed from the ERP"]
    assert not any(read.stale for read in as_of)


def test_magento_down_is_named_and_the_erp_is_still_read(
    client_as, db, magento_app, store_order, erp_with_parcel
):
    reference = store_order["increment_id"]
    magento_app.extensions["magento_sandbox"].faults = Faults(error_rate=1.0, status=503)
    with connections_override(
        magento=lambda: sandbox_magento(magento_app), erp=lambda: erp_with_parcel
    ):
        result = order_refresh(increment_id=reference)
        response = client_as("cx").post(
            reverse("cx:order_refresh", args=[reference]), HTTP_HX_REQUEST="true"
        )
    assert [s.system for s in result.unanswered] == ["magento"]
    assert result.unanswered[0].detail.startswith("Magento did not answer")
    order = Order.objects.get(increment_id=reference)
    assert order.magento_read_at is None and order.status == "pending"  # mirror kept
    assert order.erp_read_at is not None
    body = response.content.decode()
    assert "Not answering: Magento." in body
    assert 'data-system="magento" data-answered="false"' in body
    assert 'data-system="erp" data-answered="true"' in body


def test_erp_down_is_named_and_magento_is_still_read(client_as, db, magento_app, store_order):
    reference = store_order["increment_id"]
    with connections_override(
        magento=lambda: sandbox_magento(magento_app), erp=lambda: erp_answering(unavailable)
    ):
        result = order_refresh(increment_id=reference)
        response = client_as("cx").post(reverse("cx:order_refresh", args=[reference]))
    assert [s.system for s in result.unanswered] == ["erp"]
    assert "HTTP 503" in result.unanswered[0].detail
    order = Order.objects.get(increment_id=reference)
    assert order.magento_read_at is not None and order.erp_read_at is None
    # A plain form post: back to the page, the outcome as messages.
    assert response.status_code == 302
    page = client_as("cx").get(response["Location"]).content.decode()
    assert "The ERP did not answer" in page
    assert "Magento says" in page


def test_an_open_circuit_is_said_without_calling_magento(db, store_order):
    calls = []

    def handler(request):
        calls.append(request)
        return unavailable(request)

    breaker = CircuitBreaker("magento-open", threshold=1, reset_after=600)
    breaker.record_failure()

    def magento():
        client = magento_answering(handler)
        client.breaker = breaker
        return client

    with connections_override(magento=magento, erp=lambda: FakeErp()):
        result = order_refresh(increment_id=store_order["increment_id"])
    assert "circuit open" in result.unanswered[0].detail
    assert calls == []


def test_an_order_the_pull_has_not_brought_yet_is_found_in_magento(db, magento_app):
    with sandbox_magento(magento_app) as magento:
        payload = next(iter(magento.orders_updated_between(datetime(2000, 1, 1, tzinfo=UTC))))
    reference = payload["increment_id"]
    assert not Order.objects.filter(increment_id=reference).exists()
    with connections_override(magento=lambda: sandbox_magento(magento_app), erp=FakeErp):
        result = order_refresh(increment_id=reference)
    assert result.found
    assert Order.objects.get(increment_id=reference).magento_read_at is not None


def test_an_order_magento_does_not_have_is_said_so(client_as, db, magento_app):
    with connections_override(magento=lambda: sandbox_magento(magento_app), erp=FakeErp):
        result = order_refresh(increment_id="999999999")
        response = client_as("cx").post(reverse("cx:order_refresh", args=["999999999"]))
    assert not result.found and result.unanswered == ()
    assert result.systems[0].detail == "Magento has no order 999999999."
    page = client_as("cx").get(response["Location"])
    assert page.status_code == 404
    assert "Magento has no order 999999999." in page.content.decode()


class WatchedErp(FakeErp):
    """Records, at every call, whether a database transaction was open."""

    def __init__(self):
        super().__init__()
        self.in_transaction = []

    def _call(self):
        self.in_transaction.append(connection.in_atomic_block)
        super()._call()


@pytest.mark.django_db(transaction=True)
def test_the_erp_is_called_outside_any_database_transaction(magento_app):
    with sandbox_magento(magento_app) as magento:
        payload = next(iter(magento.orders_updated_between(datetime(2000, 1, 1, tzinfo=UTC))))
    orders_upsert(payloads=[payload])
    erp = WatchedErp()
    with connections_override(magento=lambda: sandbox_magento(magento_app), erp=lambda: erp):
        order_refresh(increment_id=payload["increment_id"])
    assert erp.in_transaction == [False, False, False]


def test_a_refresh_gives_the_erp_one_quick_retry_not_the_flows_budget():
    import httpx

    from integration.connectors.backoff import INTERACTIVE_POLICY, CircuitBreaker, ConnectorError
    from integration.connectors.tryton.client import TrytonAdapter

    calls = []

    def down(request):
        calls.append(request.url.path)
        return httpx.Response(503, json={"error": "down"})

    adapter = TrytonAdapter(
        base_url="http://erp.test",
        database="db",
        api_key="k",
        transport=httpx.MockTransport(down),
        breaker=CircuitBreaker("erp-interactive-test", threshold=1000),
        sleep=lambda seconds: None,
    )
    with adapter.interactive() as erp:
        assert erp.policy == INTERACTIVE_POLICY
        with pytest.raises(ConnectorError):
            erp.sales_by_references(["000000001"])
    assert len(calls) == INTERACTIVE_POLICY.max_attempts
