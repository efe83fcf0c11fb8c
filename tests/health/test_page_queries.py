"""The health page reads a fixed number of queries, however many runs and exceptions exist."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integration.models import Flow, RunStatus
from tests.factories import DeskExceptionFactory, OrderFactory, ShipmentFactory
from tests.health.factories import StockPushFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

PINNED = 25


def _grow(n: int, rng: random.Random) -> None:
    for i in range(n):
        SyncRunFactory(
            flow=rng.choice(list(Flow)),
            status=rng.choice(list(RunStatus)),
            ago=timedelta(minutes=rng.randint(1, 3000)),
            seen=5,
            failed=rng.randint(0, 5),
        )
        DeskExceptionFactory(
            subject=f"grow-{n}-{i}", kind=rng.choice(["sku_unknown", "stock_drift"])
        )
    for _ in range(n // 10):
        StockPushFactory()
        ShipmentFactory(order=OrderFactory(), magento_shipment_id="")


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("health:dashboard")).status_code == 200
    return len(captured)


def test_the_health_page_query_count_is_pinned_and_flat(client_as, django_assert_max_num_queries):
    client = client_as("ops")
    rng = random.Random(3)
    _grow(20, rng)
    with django_assert_max_num_queries(PINNED):
        client.get(reverse("health:dashboard"))
    small = _queries(client)
    _grow(400, rng)
    assert _queries(client) == small
    with django_assert_max_num_queries(PINNED):
        client.get(reverse("health:panel"))
