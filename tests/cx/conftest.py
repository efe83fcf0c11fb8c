"""One order at each point of DESIGN §3's path."""

from decimal import Decimal

import httpx
import pytest

from exceptions_app.services import exception_raise
from integration.connections import connections_override
from integration.connectors.backoff import CircuitBreaker, RetryPolicy
from integration.connectors.magento.client import BearerAuth, MagentoClient
from integration.connectors.tryton.client import TrytonAdapter
from tests.cx.builders import dispatch, hold_address, make_order, post


@pytest.fixture
def orders(db):
    """One order in each state of DESIGN §3's path."""
    new = make_order("000000101", postcode="M1 1AE")
    held = make_order(
        "000000102",
        customer_firstname="Siobhan",
        customer_lastname="O'Brien",
        customer_email="Siobhan.OBrien@Example.test",
        postcode="zz1 1zz",
    )
    held_exception = hold_address(held)
    posted = post(make_order("000000103", postcode="EH1 1YZ"))
    dispatched = make_order("000000104", postcode="B1 1AA", grand_total=Decimal("120.50"))
    dispatch(dispatched, told=False)
    drift = exception_raise(
        kind="status_drift",
        subject=dispatched.increment_id,
        message="Dispatched in the ERP but Magento has no shipment.",
        system="magento",
        order_increment_id=dispatched.increment_id,
    )
    shipped = make_order("000000105", postcode="CF10 1AA")
    dispatch(shipped, told=True)
    return {
        "new": new,
        "held": held,
        "held_exception": held_exception,
        "posted": posted,
        "dispatched": dispatched,
        "drift": drift,
        "shipped": shipped,
    }


def magento_answering(handler) -> MagentoClient:
    """A Magento client whose every call is answered by `handler` (an httpx MockTransport)."""
    return MagentoClient(
        base_url="http://magento.test",
        auth=BearerAuth("test-token"),
        transport=httpx.MockTransport(handler),
        policy=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0, max_total=1),
        breaker=CircuitBreaker("magento-cx-test", threshold=1000),
        sleep=lambda seconds: None,
    )


def erp_answering(handler) -> TrytonAdapter:
    """A Tryton adapter whose every call is answered by `handler` (an httpx MockTransport)."""
    return TrytonAdapter(
        base_url="http://erp.test",
        database="desk",
        api_key="test-key",
        transport=httpx.MockTransport(handler),
        policy=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0, max_total=1),
        breaker=CircuitBreaker("erp-cx-test", threshold=1000),
        sleep=lambda seconds: None,
    )


def unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, json={"message": "Service Unavailable"})


@pytest.fixture
def systems_down():
    """Magento and the ERP both answering 503 to every call, counted per system."""
    calls = {"magento": 0, "erp": 0}

    def counted(system):
        def handler(request):
            calls[system] += 1
            return unavailable(request)

        return handler

    with connections_override(
        magento=lambda: magento_answering(counted("magento")),
        erp=lambda: erp_answering(counted("erp")),
    ):
        yield calls
