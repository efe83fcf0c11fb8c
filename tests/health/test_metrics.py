"""/metrics: Prometheus text, behind a bearer token, named by the rules, figures from the DB."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from integration.models import Flow, RunStatus
from tests.factories import DeskExceptionFactory, OrderFactory
from tests.health.factories import StockPushFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

TOKEN = "scrape-" + "t" * 32


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def _scrape(client, token=TOKEN):
    return client.get(reverse("metrics"), HTTP_AUTHORIZATION=f"Bearer {token}")


def _families(response) -> dict:
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def _value(families, name, **labels) -> float:
    for family in families.values():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"no sample {name} {labels}")


def _seed():
    email_order = OrderFactory(customer_email="jane.doe@example.test", increment_id="000004127")
    DeskExceptionFactory(
        kind="address_invalid",
        team="cx",
        system="magento",
        subject=email_order.increment_id,
        order_increment_id=email_order.increment_id,
        message="Address of jane.doe@example.test breaks the rules",
        amount=Decimal("87.40"),
        currency="GBP",
    )
    DeskExceptionFactory(
        kind="tax_variance", team="finance", amount=Decimal("-0.01"), currency="GBP"
    )
    DeskExceptionFactory(
        kind="tax_variance", team="finance", amount=Decimal("2.00"), currency="EUR"
    )
    DeskExceptionFactory(
        kind="stock_drift",
        sku="24-MB01",
        units=Decimal("4"),
        sla_due_at=timezone.now() - timedelta(hours=1),
    )
    DeskExceptionFactory(kind="sku_unknown", status="resolved")
    for minutes in (5, 4, 3):
        SyncRunFactory(flow=Flow.ORDERS_IN, ago=timedelta(minutes=minutes), seen=10, posted=4)
    SyncRunFactory(flow=Flow.FINANCE, status=RunStatus.PARTIAL, seen=10, failed=10, error="x")
    SyncRunFactory(flow=Flow.ORDERS_OUT, status=RunStatus.PARTIAL, seen=10, posted=8, failed=2)
    SyncRunFactory(flow=Flow.CHECKS, found=7)
    SyncRunFactory(flow=Flow.STOCK, status=RunStatus.SKIPPED)
    StockPushFactory()
    StockPushFactory(status="dead")


def test_metrics_are_prometheus_text_with_one_prefix_and_the_naming_rules(client, metrics_token):
    _seed()
    response = _scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = _families(response)
    assert families, "nothing exposed"
    for family in families.values():
        assert family.name.startswith("desk_"), family.name
        for sample in family.samples:
            assert sample.name.startswith("desk_")
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), family
        else:
            assert not family.name.endswith("_total"), family.name
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
        if "duration" in family.name:
            assert family.type == "histogram"


def test_no_order_number_sku_or_email_is_a_label(client, metrics_token):
    _seed()
    text = _scrape(client).content.decode()
    label_values = {
        value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        for value in sample.labels.values()
    }
    assert label_values, "no labels at all"
    for value in label_values:
        assert "@" not in value
        assert not re.fullmatch(r"\d{6,}", value), value
    assert "000004127" not in text and "example.test" not in text and "24-MB01" not in text


def test_metric_values_are_the_database_counts(client, metrics_token):
    _seed()
    families = _families(_scrape(client))
    assert _value(families, "desk_sync_runs_total", flow="orders_in", result="succeeded") == 3
    assert _value(families, "desk_sync_runs_total", flow="finance", result="failed") == 1
    assert _value(families, "desk_sync_runs_total", flow="orders_out", result="partial") == 1
    assert _value(families, "desk_sync_runs_total", flow="stock", result="skipped") == 1
    assert _value(families, "desk_sync_records_total", flow="orders_in", outcome="seen") == 30
    assert _value(families, "desk_sync_records_total", flow="orders_in", outcome="posted") == 12
    assert _value(families, "desk_sync_records_total", flow="checks", outcome="found") == 7
    assert _value(families, "desk_sync_records_total", flow="checks", outcome="held") == 0
    assert (
        _value(families, "desk_exceptions_open", kind="tax_variance", team="finance", system="erp")
        == 2
    )
    assert _value(families, "desk_exceptions_overdue", kind="stock_drift") == 1
    assert _value(families, "desk_exceptions_open_amount", currency="GBP", team="cx") == 87.4
    assert _value(families, "desk_exceptions_open_amount", currency="GBP", team="finance") == 0.01
    assert _value(families, "desk_exceptions_open_amount", currency="EUR", team="finance") == 2
    assert _value(families, "desk_exceptions_open_units", team="ops") == 4
    assert _value(families, "desk_exceptions_raised_total", kind="sku_unknown") == 1
    assert _value(families, "desk_stock_outbox", status="pending") == 1
    assert _value(families, "desk_stock_outbox", status="dead") == 1
    assert _value(families, "desk_queue_tasks", cluster="desk", state="queued") == 0
    assert _value(families, "desk_circuit_breaker_state", system="erp", state="closed") == 1
    assert _value(families, "desk_sync_run_duration_seconds_count", flow="orders_in") == 3
    assert (
        _value(families, "desk_sync_run_duration_seconds_bucket", flow="orders_in", le="1.0") == 0
    )
    assert (
        _value(families, "desk_sync_run_duration_seconds_bucket", flow="orders_in", le="5.0") == 3
    )
    assert _value(families, "desk_sync_run_duration_seconds_sum", flow="orders_in") == 9
    last = _value(families, "desk_sync_last_success_timestamp_seconds", flow="orders_in")
    assert abs(last - (timezone.now() - timedelta(minutes=3)).timestamp()) < 5
    assert _value(families, "desk_sync_flow_verdict", flow="finance") == 2
    assert _value(families, "desk_sync_lag_sla_seconds", flow="orders_out") == 1800


def test_metrics_without_the_token_are_refused(client, metrics_token):
    assert client.get(reverse("metrics")).status_code == 401
    assert client.get(reverse("metrics"))["WWW-Authenticate"].startswith("Bearer")
    assert _scrape(client, token="wrong").status_code == 403
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403


def test_a_signed_in_session_does_not_open_metrics(client_as, metrics_token):
    assert client_as("admin").get(reverse("metrics")).status_code == 401


def test_metrics_do_not_exist_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert _scrape(client, token="").status_code == 404
    assert client.get(reverse("metrics")).status_code == 404
