"""Building blocks of the refund, split-shipment and replay scenarios: a seeded store whose orders
reach an ERP, parcels the warehouse dispatched, refunds made in Magento's admin."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

from integration.connectors.erp import ErpAdapter
from integration.flows.orders_in import orders_in_run
from integration.flows.orders_out import orders_out_run
from integration.models import Order, OrderErpStatus
from sandbox.magento.app import sandbox_state
from sandbox.magento.testing import bearer_headers, sandbox_client
from tests.sync.conftest import magento_for


def pull(app) -> None:
    """Orders in, up to a little after the sandbox's clock (its refunds happen at its now)."""
    later = sandbox_state(app).now().replace(tzinfo=UTC) + timedelta(minutes=5)
    with magento_for(app) as magento:
        orders_in_run(magento=magento, now=later)


def store_to_erp(app, erp: ErpAdapter) -> list[Order]:
    """Pull the seeded store and post what can be posted; the posted paid orders."""
    pull(app)
    orders_out_run(erp=erp)
    return list(
        Order.objects.filter(erp_status=OrderErpStatus.POSTED, state="processing").order_by("pk")
    )


def magento_order(app, order: Order) -> dict:
    with magento_for(app) as magento:
        return magento.order(order.entity_id)


def magento_refund(app, order: Order, body: dict) -> dict:
    """Refund in Magento's admin (POST /V1/order/{id}/refund); the credit memo it made."""
    with sandbox_client(app) as client:
        client.headers.update(bearer_headers())
        answer = client.post(f"/V1/order/{order.entity_id}/refund", json=body)
        assert answer.status_code == 200, answer.text
        return client.get(f"/V1/creditmemo/{answer.json()}").json()


def goods_lines(payload: dict) -> list[dict]:
    """Top-level order items with stock of their own (simple or configurable)."""
    return [
        item
        for item in payload["items"]
        if not item.get("parent_item_id") and item["product_type"] in ("simple", "configurable")
    ]


def one_unit_back(payload: dict) -> dict:
    """A refund of one unit of the order's first goods line, returned to stock, no shipping."""
    first = goods_lines(payload)[0]
    return {
        "items": [{"order_item_id": first["item_id"], "qty": 1}],
        "arguments": {
            "shipping_amount": 0,
            "extension_attributes": {"return_to_stock_items": [first["item_id"]]},
        },
    }


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def adapter_for(running) -> ErpAdapter:
    """A desk adapter on a test Tryton (a new one per call: replays close what they open)."""
    from integration.connectors.backoff import CircuitBreaker, RetryPolicy
    from integration.connectors.tryton.client import TrytonAdapter

    return TrytonAdapter(
        base_url=running.base_url,
        database=running.database,
        api_key=running.api_key,
        breaker=CircuitBreaker("erp-lifecycle-test", threshold=1000),
        policy=RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.2, max_total=60),
    )


def own_tryton():
    """A Tryton of the module's own (the sandbox numbers orders from 1 in every test, so two
    modules' scenarios would share references on one server)."""
    from sandbox.erp.testing import running_tryton

    with running_tryton("document") as running:
        yield running


def magento_via(app, handler):
    """A Magento client factory whose requests `handler` may answer itself (a precise fault)
    before they reach the sandbox; `handler(request, sandbox)` gets the sandbox transport."""
    import httpx

    from integration.connectors.backoff import CircuitBreaker, RetryPolicy
    from integration.connectors.magento.client import BearerAuth, MagentoClient
    from sandbox.magento.auth import Credentials
    from sandbox.magento.testing import sandbox_transport

    inner = sandbox_transport(app)

    def client() -> MagentoClient:
        return MagentoClient(
            base_url="http://magento.test",
            auth=BearerAuth(Credentials().access_token),
            transport=httpx.MockTransport(lambda request: handler(request, inner)),
            policy=RetryPolicy(max_attempts=1),
            breaker=CircuitBreaker("magento-fault-test", threshold=100),
            sleep=lambda s: None,
        )

    return client
