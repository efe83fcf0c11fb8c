"""Reachability now: a short, single-try probe per system, cached, with its own breaker."""

import httpx
import pytest
from django_q.models import OrmQ

from integration.connectors import probes
from integration.connectors.backoff import breakers
from integration.health import systems

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(settings):
    settings.MAGENTO_BASE_URL = "http://magento.test"
    settings.MAGENTO_TOKEN = "token"
    settings.ERP_BASE_URL = "http://erp.test"
    settings.ERP_DATABASE = "desk"
    settings.ERP_API_KEY = "key"


def _transport(status: int, calls: list):
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(status, json=[{"id": 1}] if status == 200 else {"message": "down"})

    return httpx.MockTransport(answer)


def test_a_system_answering_is_up_and_one_refusing_says_its_status(configured):
    calls: list = []
    up = probes.erp_probe(transport=_transport(200, calls))
    assert (up.configured, up.up, up.status) == (True, True, None)
    assert calls == ["/desk/rest/model/company.company"]
    down = probes.magento_probe(transport=_transport(503, calls))
    assert (down.up, down.status) == (False, 503)
    assert calls[-1] == "/rest/default/V1/inventory/sources"
    assert len(calls) == 2  # one try each: no retries


def test_a_network_failure_is_not_answering_and_leaves_the_flows_breaker_alone(configured):
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    for _ in range(10):
        result = probes.erp_probe(transport=httpx.MockTransport(refuse))
    assert (result.up, result.status) == (False, None)
    assert breakers.get("erp").state == "closed"


def test_an_unconfigured_system_is_said_so_without_a_call(settings):
    settings.MAGENTO_BASE_URL = ""
    result = probes.magento_probe()
    assert (result.configured, result.up) == (False, False)


def test_probes_are_cached_not_made_on_every_poll(monkeypatch):
    made: list = []

    def fake(system):
        def probe():
            made.append(system)
            return probes.ProbeResult(True, True, 0.01)

        return probe

    monkeypatch.setattr(probes, "PROBES", {"magento": fake("magento"), "erp": fake("erp")})
    for _ in range(5):
        results = systems.probe_results()
    assert sorted(made) == ["erp", "magento"]
    assert all(result.up for result, _at in results.values())


def test_queue_depth_counts_each_clusters_waiting_and_locked_tasks(settings):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for key, lock in (
        ("desk", now - timedelta(seconds=5)),
        ("desk", now - timedelta(seconds=1)),
        ("desk", now + timedelta(minutes=5)),
        (settings.Q_STOCK_CLUSTER, now - timedelta(seconds=1)),
        ("another-app", now),
    ):
        OrmQ.objects.create(key=key, payload="x", lock=lock)
    depths = {d.cluster: d for d in systems.queue_depths(now=now)}
    assert (depths["desk"].queued, depths["desk"].in_flight) == (2, 1)
    assert (
        depths[settings.Q_STOCK_CLUSTER].queued,
        depths[settings.Q_STOCK_CLUSTER].in_flight,
    ) == (
        1,
        0,
    )
    assert set(depths) == {"desk", settings.Q_STOCK_CLUSTER}
