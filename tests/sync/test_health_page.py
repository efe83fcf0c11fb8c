"""The /health/ page shows each flow's last run and where a failure sat."""

import pytest
from django.urls import reverse

from integration.models import RunStatus, SyncRun, System

pytestmark = pytest.mark.django_db


def test_health_shows_last_runs_and_the_failing_system(client_as, django_assert_max_num_queries):
    SyncRun.objects.create(flow="orders_in", status=RunStatus.SUCCEEDED, seen=12, posted=12)
    SyncRun.objects.create(flow="orders_out", status=RunStatus.FAILED, error="ERP HTTP 503: down",
                           error_system=System.ERP)  # fmt: skip
    client = client_as("cx")
    with django_assert_max_num_queries(20):
        response = client.get(reverse("health:dashboard"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "12 / 12 / 0 / 0" in body
    assert "ERP: ERP HTTP 503: down" in body
    assert "No flow has run yet" not in body
