"""`manage.py sync <flow|all> --once` runs flows with the configured connections."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integration.connections import connections_override
from integration.models import Flow, Order, OrderErpStatus, SyncRun
from sandbox.erp.inprocess import FakeErp
from tests.sync.conftest import magento_for

pytestmark = pytest.mark.django_db


def test_sync_orders_in_and_out_once(seeded, carrier_mappings, capsys):
    app, _ = seeded
    erp = FakeErp()
    with connections_override(magento=lambda: magento_for(app), erp=lambda: erp):
        call_command("sync", Flow.ORDERS_IN, "--once")
        call_command("sync", Flow.ORDERS_OUT, "--once")
    out = capsys.readouterr().out
    assert "orders_in succeeded: seen 200" in out
    assert Order.objects.filter(erp_status=OrderErpStatus.POSTED).count() == len(erp.sales) > 0
    assert set(SyncRun.objects.values_list("flow", flat=True)) == {Flow.ORDERS_IN, Flow.ORDERS_OUT}


def test_sync_without_once_is_refused():
    with pytest.raises(CommandError, match="--once"):
        call_command("sync", "all")


def test_a_failed_flow_fails_the_command(settings):
    settings.MAGENTO_BASE_URL = ""
    with pytest.raises(Exception, match="MAGENTO_BASE_URL"):
        call_command("sync", Flow.ORDERS_IN, "--once")
