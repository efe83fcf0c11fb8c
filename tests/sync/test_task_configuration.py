"""django-q2 configuration and schedules for the flows: safe redelivery, idempotent setup."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django_q.models import Schedule

from integration.connections import connections_override
from integration.models import Flow, RunStatus, SyncRun
from sandbox.erp.inprocess import FakeErp
from tests.sync.conftest import magento_for

pytestmark = pytest.mark.django_db


def cluster_confs():
    base = {k: v for k, v in settings.Q_CLUSTER.items() if k != "ALT_CLUSTERS"}
    yield "default", base
    for name, alt in settings.Q_CLUSTER.get("ALT_CLUSTERS", {}).items():
        yield name, {**base, **alt}


@pytest.mark.parametrize(("name", "conf"), list(cluster_confs()))
def test_retry_exceeds_timeout_plus_the_wait_in_the_prefetch_queue(name, conf):
    """A task still running when `retry` expires is delivered again and runs twice at once.

    The retry clock starts at dequeue, so it must cover the prefetched tasks ahead of it
    (queue_limit of them, each up to `timeout`, shared by the workers) plus the task itself.
    """
    rounds = -(-conf["queue_limit"] // conf["workers"])  # ceil: tasks ahead per worker
    queue_wait = conf["timeout"] * rounds
    assert conf["retry"] > conf["timeout"] + queue_wait, (
        f"{name}: retry {conf['retry']}s must exceed timeout {conf['timeout']}s plus queue wait "
        f"{queue_wait:.0f}s"
    )
    assert conf["catch_up"] is False


def test_the_stock_cluster_is_separate_from_order_traffic(db, settings):
    from django_q.models import Schedule

    assert settings.Q_STOCK_CLUSTER in settings.Q_CLUSTER["ALT_CLUSTERS"]
    # The cluster comes from the setting (Q_STOCK_CLUSTER), not a name written in the list.
    settings.Q_STOCK_CLUSTER = "stock-elsewhere"
    call_command("desk_schedules")
    assert Schedule.objects.get(func="integration.tasks.sync_stock").cluster == "stock-elsewhere"
    assert Schedule.objects.get(func="integration.tasks.sync_orders").cluster is None


def test_the_procfile_starts_the_stock_worker_on_the_configured_cluster():
    from pathlib import Path

    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    line = next(row for row in procfile.splitlines() if row.startswith("stock-worker:"))
    assert "Q_CLUSTER_NAME=${Q_STOCK_CLUSTER:-desk-stock}" in line


def test_schedules_are_created_once_however_often_the_command_runs():
    call_command("desk_schedules")
    call_command("desk_schedules")
    for func in ("sync_orders", "sync_stock", "sync_shipments", "sync_checks", "sync_finance"):
        assert Schedule.objects.filter(func=f"integration.tasks.{func}").count() == 1


def small_erp() -> FakeErp:
    """The ERP stand-in with a handful of stocked SKUs, so a stock run stays quick."""
    erp = FakeErp()
    erp.stock = dict(sorted(erp.stock.items())[:5])
    return erp


@pytest.mark.parametrize("flow", Flow.values)
def test_every_flow_can_be_run_by_name(flow, magento_app, capsys):
    """`manage.py sync <flow> --once` runs that flow: one run of it is recorded, no other."""
    with connections_override(magento=lambda: magento_for(magento_app), erp=small_erp):
        call_command("sync", flow, "--once")
    (run,) = SyncRun.objects.all()
    assert (run.flow, run.status) == (flow, RunStatus.SUCCEEDED), run.error
    assert run.finished_at is not None
    assert f"{flow} {RunStatus.SUCCEEDED}: seen {run.seen}" in capsys.readouterr().out
