"""The /health/ page shows each flow's last run and where a failure sat, for any staff role."""

import re

import pytest
from django.urls import reverse

from integration.models import RunErrorKind, RunStatus, SyncRun, System

pytestmark = pytest.mark.django_db


def test_health_shows_the_failing_flow_its_reason_and_the_system(client_as):
    SyncRun.objects.create(flow="orders_in", status=RunStatus.SUCCEEDED, seen=12, posted=12)
    SyncRun.objects.create(flow="orders_out", status=RunStatus.FAILED, error="ERP HTTP 503: down",
                           error_system=System.ERP, error_kind=RunErrorKind.REFUSED,
                           error_status=503)  # fmt: skip
    response = client_as("cx").get(reverse("health:dashboard"))
    body = response.content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
    assert response.status_code == 200
    assert "read 12 · new or changed 12 · failed 0" in text
    assert "the ERP answered 503 for" in text
    assert 'hx-get="/health/panel/"' in body


def test_the_panel_alone_is_served_for_the_page_to_poll(client_as):
    response = client_as("finance").get(reverse("health:panel"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="health-panel"' in body and "<html" not in body
