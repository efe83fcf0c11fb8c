"""The orders-in watermark never runs ahead of the desk's clock."""

from datetime import timedelta

import pytest

from integration.flows.orders_in import orders_in_run
from integration.models import Flow, Order, Watermark
from sandbox.magento.testing import sandbox_state
from tests.sync.conftest import NOW, magento_for


@pytest.mark.django_db
def test_an_updated_at_in_the_future_does_not_push_the_watermark_past_now(seeded):
    app, _report = seeded
    store = sandbox_state(app).store
    order = store.all_docs("orders")[0]
    order["updated_at"] = (NOW + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    store.put_doc("orders", order)

    orders_in_run(magento=magento_for(app), now=NOW)

    assert Order.objects.filter(entity_id=order["entity_id"]).exists()
    assert Watermark.objects.get(flow=Flow.ORDERS_IN).value == NOW
