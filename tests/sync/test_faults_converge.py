"""Under injected faults (Magento: 5xx, 429 with Retry-After, hangs, dropped connections; ERP:
lost answers, a crashing worker) the flows converge to the clean run's state: every order
once, nothing posted twice."""

import random

import pytest

from integration.connectors.backoff import TransientError
from integration.flows.orders_in import orders_in_run
from integration.flows.orders_out import orders_out_run
from integration.models import (
    Flow,
    FlowLock,
    Order,
    OrderErpStatus,
    QuarantinedWindow,
    QuarantineStatus,
    RunStatus,
)
from sandbox.erp.inprocess import FakeErp
from tests.sync.conftest import NOW, magento_for

pytestmark = pytest.mark.django_db


class FlakyErp(FakeErp):
    """Fails 20% of calls; half of the failed creates happen in the ERP but lose the answer."""

    def __init__(self, seed=3):
        super().__init__()
        self.rng = random.Random(seed)
        self.lost_answers = 0

    def _flake(self):
        if self.rng.random() < 0.2:
            raise TransientError("ERP timed out", system="erp")

    def sale_find(self, reference):
        self._flake()
        return super().sale_find(reference)

    def items_by_codes(self, codes):
        self._flake()
        return super().items_by_codes(codes)

    def sale_create(self, request):
        if self.rng.random() < 0.2:
            if self.rng.random() < 0.5:
                super().sale_create(request)
                self.lost_answers += 1
            raise TransientError("connection reset after the request was sent", system="erp")
        return super().sale_create(request)


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: not an Exception, nothing in the flow may swallow it."""


def final_state():
    return dict(Order.objects.values_list("increment_id", "erp_status"))


def clean_run(app):
    erp = FakeErp()
    with magento_for(app) as magento:
        orders_in_run(magento=magento, now=NOW)
    orders_out_run(erp=erp)
    return final_state(), erp


def test_faulty_run_converges_to_the_clean_state(seeded, carrier_mappings):
    app, _ = seeded
    clean, clean_erp = clean_run(app)
    Order.objects.all().delete()
    from integration.models import OrderHold, Watermark

    OrderHold.objects.all().delete()
    Watermark.objects.all().delete()

    state = app.extensions["magento_sandbox"]
    state.faults.reset(
        error_rate=0.2, rate_limit=0.1, retry_after_s=7, hang_rate=0.05, drop_rate=0.05, seed=11
    )
    assert state.faults.active
    sleeps = []
    for _ in range(4):
        # Small pages: many calls, so every kind of fault is met along the way.
        with magento_for(app, attempts=4, sleeps=sleeps, page_size=10) as magento:
            orders_in_run(magento=magento, now=NOW)
        if not QuarantinedWindow.objects.filter(status=QuarantineStatus.OPEN).exists() and (
            Order.objects.count() == 200
        ):
            break
    assert Order.objects.count() == 200
    assert 7.0 in sleeps  # Retry-After honoured as a floor

    erp = FlakyErp()
    for _ in range(8):
        orders_out_run(erp=erp)
        if not Order.objects.filter(erp_status=OrderErpStatus.NEW).exists():
            break
    assert final_state() == clean
    assert set(erp.sales) == set(clean_erp.sales)
    assert erp.create_calls == len(erp.sales)  # a lost answer never became a second sale
    assert erp.lost_answers > 0


def test_a_worker_killed_after_the_erp_post_converges_on_restart(seeded, carrier_mappings):
    app, _ = seeded
    with magento_for(app) as magento:
        orders_in_run(magento=magento, now=NOW)

    class DyingErp(FakeErp):
        killed = False

        def sale_create(self, request):
            sale = super().sale_create(request)
            if not self.killed and len(self.sales) == 5:
                self.killed = True
                raise WorkerKilled()
            return sale

    erp = DyingErp()
    with pytest.raises(WorkerKilled):
        orders_out_run(erp=erp)
    # A real SIGKILL leaves the lease behind; it expires instead of blocking forever.
    FlowLock.objects.filter(flow=Flow.ORDERS_OUT).update(
        owner="dead-worker", locked_until="2000-01-01T00:00:00Z"
    )
    run = orders_out_run(erp=erp)
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    assert erp.create_calls == len(erp.sales)
    posted = set(
        Order.objects.filter(erp_status=OrderErpStatus.POSTED).values_list(
            "increment_id", flat=True
        )
    )
    assert posted == set(erp.sales)
