"""Replaying status_drift tells Magento of the ERP's parcels now, and resolves only once
Magento's own shipments (read back, with their tracks) show each parcel."""

from datetime import date, timedelta

import httpx
import pytest
from django.utils import timezone

from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus, SubStatus
from exceptions_app.services import exception_replay
from integration.connections import connections_override
from integration.connectors.erp import ErpShipment
from integration.flows.checks import check_status_drift
from integration.flows.shipments import DISPATCHED, shipment_record
from integration.models import Shipment
from integration.skus import lines_expand
from sandbox.erp.inprocess import FakeErp
from sandbox.magento.seed import Shares
from sandbox.magento.testing import seed_app
from tests.lifecycle.refund_scenarios import magento_via, store_to_erp
from tests.sync.conftest import magento_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def drifting(magento_app, carrier_mappings):
    """A dispatched ERP parcel Magento was never told of (its push failed an hour ago)."""
    seed_app(magento_app, orders=60, days=10, seed=7, shares=Shares(refunds=0))
    erp = FakeErp()
    order = store_to_erp(magento_app, erp)[0]
    lines = tuple((e.sku, e.quantity) for e in lines_expand(order.lines.all()) if e.ships)
    parcel = ErpShipment("777", order.increment_id, DISPATCHED, date(2026, 3, 2),
                         "TT777000777GB", "Royal Mail Tracked 24", lines=lines)  # fmt: skip
    erp.shipments.append(parcel)
    row = shipment_record(order=order, shipment=parcel)
    Shipment.objects.filter(pk=row.pk).update(dispatched_at=timezone.now() - timedelta(hours=3))
    assert check_status_drift(now=timezone.now()) == 1
    exception = DeskException.objects.get(kind=ExceptionKind.STATUS_DRIFT)
    return magento_app, erp, order, exception


def test_the_replay_tells_magento_and_resolves_once_magento_shows_the_parcel(drifting):
    app, erp, order, exception = drifting
    with connections_override(magento=lambda: magento_for(app), erp=lambda: erp):
        outcome = exception_replay(exception=exception, actor=None)
    assert outcome.ok, outcome.detail
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    with magento_for(app) as magento:
        (shipment,) = magento.shipments_for_order(order.entity_id)
    assert [t["track_number"] for t in shipment["tracks"]] == ["TT777000777GB"]
    assert Shipment.objects.get(erp_shipment_id="777").magento_shipment_id == str(
        shipment["entity_id"]
    )


def test_a_shipment_magento_accepts_without_effect_leaves_the_exception_open(drifting):
    app, erp, order, exception = drifting

    def accepts_and_drops(request: httpx.Request, sandbox) -> httpx.Response:
        # Magento answers with a shipment id, but no shipment is ever stored (lost in a
        # failing save after the answer): the read-back must not believe the answer.
        if request.method == "POST" and request.url.path.endswith("/ship"):
            return httpx.Response(200, json=424242)
        return sandbox.handle_request(request)

    magento = magento_via(app, accepts_and_drops)
    with connections_override(magento=magento, erp=lambda: erp):
        outcome = exception_replay(exception=exception, actor=None)
    assert not outcome.ok
    assert "Magento has no shipment for parcel 777" in outcome.detail
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN
    assert exception.sub_status == SubStatus.REPLAY_FAILED
    with magento_for(app) as client:
        assert client.shipments_for_order(order.entity_id) == []
