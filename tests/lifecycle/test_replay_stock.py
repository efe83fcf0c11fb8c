"""Replaying stock_drift and stock_push_failed pushes the ERP's figure now and reads Magento
back: resolved only when Magento shows it; a push Magento accepts without effect stays open."""

import json
from decimal import Decimal

import httpx
import pytest

from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus
from exceptions_app.services import exception_replay
from integration.connections import connections_override
from integration.flows.stock import stock_drift_check, stock_run
from integration.models import PushStatus, StockLevel, StockPush
from sandbox.erp.inprocess import FakeErp
from tests.lifecycle.refund_scenarios import magento_via
from tests.sync.conftest import magento_for

pytestmark = pytest.mark.django_db

SKU = "24-MB01"


def magento_shows(app, sku):
    with magento_for(app) as magento:
        (item,) = magento.source_items([sku])
    return Decimal(str(item["quantity"]))


@pytest.fixture
def drift(magento_app):
    """Magento shows 3 of a SKU the ERP has 17 of (someone edited it in Magento's admin)."""
    erp = FakeErp()
    erp.stock[SKU] = Decimal(17)
    StockLevel.objects.create(sku=SKU, erp_code=SKU, erp_available=17, magento_told=17)
    with magento_for(magento_app) as magento:
        magento.source_items_save([{"sku": SKU, "source_code": "default", "quantity": 3,
                                    "status": 1}])  # fmt: skip
    assert stock_drift_check(skus=[SKU], reported={SKU: magento_shows(magento_app, SKU)}) == 1
    return magento_app, erp, DeskException.objects.get(kind=ExceptionKind.STOCK_DRIFT)


def test_replaying_stock_drift_pushes_the_erp_figure_and_resolves_on_the_read_back(drift):
    app, erp, exception = drift
    with connections_override(magento=lambda: magento_for(app), erp=lambda: erp):
        outcome = exception_replay(exception=exception, actor=None)
    assert outcome.ok, outcome.detail
    assert magento_shows(app, SKU) == 17
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    level = StockLevel.objects.get(sku=SKU)
    assert (level.magento_told, level.magento_reported) == (17, 17)


def test_a_push_that_succeeds_without_effect_leaves_stock_drift_open(drift):
    app, erp, exception = drift

    def swallow(request: httpx.Request, sandbox) -> httpx.Response:
        # Magento answers [] to the save, but the quantity never lands (an indexer lost it).
        if request.method == "POST" and request.url.path.endswith("/V1/inventory/source-items"):
            body = json.loads(request.content)
            assert body["sourceItems"][0]["quantity"] == 17
            return httpx.Response(200, json=[])
        return sandbox.handle_request(request)

    magento = magento_via(app, swallow)
    with connections_override(magento=magento, erp=lambda: erp):
        outcome = exception_replay(exception=exception, actor=None)
    assert not outcome.ok
    assert "told 17, Magento shows 3" in outcome.detail
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN and exception.occurrences == 2
    assert magento_shows(app, SKU) == 3


def test_replaying_a_dead_lettered_push_re_sends_it_and_settles_the_dead_letter(
    magento_app, settings
):
    erp = FakeErp()
    skus = ["24-MB01", "24-MB04"]
    for sku in skus:
        StockLevel.objects.create(sku=sku, erp_code=sku, erp_available=erp.stock[sku],
                                  magento_told=erp.stock[sku])  # fmt: skip
        erp.stock[sku] += 2
    erp.stock = {sku: erp.stock[sku] for sku in skus}
    settings.SYNC_STOCK_MAX_ATTEMPTS = 2
    faults = magento_app.extensions["magento_sandbox"].faults
    faults.reset(deadlock_rate=1.0, paths="/V1/inventory/source-items")
    with magento_for(magento_app) as magento:
        stock_run(magento=magento, erp=erp, sleep=lambda s: None, rng=lambda: 0.0)
    (exception,) = DeskException.objects.filter(kind=ExceptionKind.STOCK_PUSH_FAILED)
    assert StockPush.objects.filter(status=PushStatus.DEAD).count() == 2

    with connections_override(magento=lambda: magento_for(magento_app), erp=lambda: erp):
        refused = exception_replay(exception=exception, actor=None)
        assert not refused.ok  # Magento still deadlocks: nothing confirmed, still open
        faults.reset()
        outcome = exception_replay(exception=exception, actor=None)
    assert outcome.ok, outcome.detail
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert {sku: magento_shows(magento_app, sku) for sku in skus} == erp.stock
    assert not StockPush.objects.filter(status=PushStatus.DEAD).exists()
