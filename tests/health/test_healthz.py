"""/healthz: for load balancers. No login, a status word and reason codes, nothing personal."""

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError
from django.urls import reverse

from integration.connectors.backoff import breakers
from integration.models import Flow, SyncRun
from tests.factories import DeskExceptionFactory, OrderFactory
from tests.health.factories import fresh_runs

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_without_login_when_every_flow_is_on_time(client):
    fresh_runs()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "reasons": []}


def test_healthz_is_degraded_with_reason_codes_and_no_data(client, django_assert_max_num_queries):
    fresh_runs()
    SyncRun.objects.filter(flow=Flow.STOCK).update(
        started_at=SyncRun.objects.get(flow=Flow.STOCK).started_at - timedelta(hours=1)
    )
    SyncRun.objects.filter(flow=Flow.FINANCE).delete()
    order = OrderFactory(customer_email="jane.doe@example.test", increment_id="000004127")
    DeskExceptionFactory(order_increment_id=order.increment_id, message="jane.doe@example.test")
    breaker = breakers.get("erp")
    for _ in range(breaker.threshold):
        breaker.record_failure()
    with django_assert_max_num_queries(3):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "degraded",
        "reasons": ["flow_stale:stock", "flow_never_succeeded:finance", "breaker_open:erp"],
    }
    text = response.content.decode()
    assert "000004127" not in text and "@" not in text and "jane" not in text
    assert set(json.loads(text)) == {"status", "reasons"}


def test_healthz_is_down_with_503_when_the_database_does_not_answer(client):
    with mock.patch(
        "integration.health.healthz.latest_runs", side_effect=DatabaseError("connection refused")
    ):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "down", "reasons": ["database_unreachable"]}
    assert "refused" not in response.content.decode()
