"""Orders posted to a real Tryton: right lines, quantities and totals; once, even when racing.

One scenario per session server: the Magento sandbox numbers orders from 1 on every fresh
database, so the references would collide across tests sharing the Tryton.
"""

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from exceptions_app.models import DeskException
from exceptions_app.services import exception_replay
from integration.connections import connections_override
from integration.connectors.erp import SaleLineRequest, SaleRequest
from integration.connectors.tryton.client import TrytonAdapter
from integration.flows.orders_in import orders_in_run
from integration.flows.orders_out import orders_out_run
from integration.models import Order, OrderErpStatus, SkuMapping
from integration.skus import lines_expand
from sandbox.divergence import catalogue_divergence
from tests.sync.conftest import NOW, magento_for

pytestmark = pytest.mark.django_db(transaction=True)


def tryton_lines(tryton_server, sale_id):
    with tryton_server.rest() as rest:
        return rest.search(
            "sale.line",
            [["sale", "=", int(sale_id)]],
            ["product.code", "quantity", "unit_price", "amount"],
        )


def test_orders_reach_tryton_once_with_their_lines_and_replays_post_the_held(
    magento_app, carrier_mappings, tryton, tryton_server
):
    from sandbox.magento.testing import seed_app

    seed_app(magento_app, orders=60, days=10, seed=21)
    with magento_for(magento_app) as magento:
        orders_in_run(magento=magento, now=NOW)
    run = orders_out_run(erp=tryton)
    assert run.status == "succeeded", run.error
    posted = list(Order.objects.filter(erp_status=OrderErpStatus.POSTED).prefetch_related("lines"))
    assert len(posted) > 20 and run.held > 0
    sales = tryton.sales_by_references([o.increment_id for o in posted])
    assert set(sales) == {o.increment_id for o in posted}
    for order in posted:
        sale = sales[order.increment_id]
        assert sale.erp_id == order.erp_sale_id and sale.state in ("processing", "done")
        expanded = lines_expand(order.lines.all())
        lines = tryton_lines(tryton_server, sale.erp_id)
        goods = [(ln["product"]["code"], Decimal(str(ln["quantity"]))) for ln in lines]
        expected = [(e.sku, e.quantity) for e in expanded]
        assert sorted(goods[: len(expected)]) == sorted(expected), order.increment_id
        # Tryton computes tax itself (document rounding): totals agree within a penny a line.
        assert abs(sale.total_amount - order.grand_total) <= Decimal("0.01") * len(lines)

    # Run again: nothing new in the ERP.
    before = len(tryton.sales_by_references([o.increment_id for o in Order.objects.all()]))
    orders_out_run(erp=tryton)
    assert len(tryton.sales_by_references([o.increment_id for o in Order.objects.all()])) == before

    # Map the renamed SKUs and replay: those orders post, each once.
    divergence = catalogue_divergence()
    renamed = [e for e in DeskException.objects.filter(kind="sku_unknown")
               if e.sku in divergence.renamed]  # fmt: skip
    # The seed is deterministic: seed 21 holds renamed-SKU orders (a change that loses them
    # must fail here, not skip the replay half of the test).
    assert renamed, "seed 21 must produce an order with a renamed SKU"

    def fresh() -> TrytonAdapter:
        # A replay closes the adapter it opens: each gets its own, not the fixture's.
        return TrytonAdapter(
            base_url=tryton_server.base_url,
            database=tryton_server.database,
            api_key=tryton_server.api_key,
            breaker=tryton.breaker,
            policy=tryton.policy,
        )

    with connections_override(erp=fresh):
        for exception in renamed:
            SkuMapping.objects.create(magento_sku=exception.sku,
                                      erp_item_code=divergence.renamed[exception.sku])  # fmt: skip
            outcome = exception_replay(exception=exception, actor=None)
            assert outcome.ok, outcome.detail
    for exception in renamed:
        for order in Order.objects.filter(holds__subject=exception.sku).distinct():
            if order.erp_status == OrderErpStatus.POSTED:
                found = tryton.search("sale.sale", [["reference", "=", order.increment_id]], ["id"])
                assert len(found) == 1


def test_two_workers_posting_the_same_order_make_one_sale(tryton):
    """The ERP lookup by reference plus the order lock: racing posts end with one sale."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite's shared in-memory test database has no row locks across threads; "
            "this race runs in the PostgreSQL pass of `make test`"
        )
    reference = f"RACE-{uuid.uuid4().hex[:8]}"
    request = SaleRequest(
        reference=reference, currency="GBP", sale_date=date.today(), customer_name="Ann Lee",
        customer_email="ann.race@example.com", telephone="01234 567890", company="",
        street=("1 High Street",), city="Rugby", region="", postcode="CV21 1DZ", country="GB",
        carrier="RM-TPN24", shipping_amount=Decimal("3.29"),
        lines=(SaleLineRequest("24-MB01", Decimal(1), Decimal("28.3333"), "24-MB01"),),
    )  # fmt: skip
    from integration.models import Order as OrderModel
    from integration.orders import order_post

    order = OrderModel.objects.create(
        entity_id=987654, increment_id=reference, state="processing", status="processing",
        currency_code="GBP", subtotal=Decimal("28.33"), grand_total=Decimal("37.95"),
        magento_created_at=NOW, magento_updated_at=NOW, payload={},
    )  # fmt: skip
    outcomes, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            outcomes.append(order_post(order=order, request=request, erp=tryton).status)
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(outcomes) == ["already", "posted"]
    assert len(tryton.search("sale.sale", [["reference", "=", reference]], ["id"])) == 1
