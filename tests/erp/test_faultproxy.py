"""The fault proxy in front of a real trytond produces each fault the ERP client must survive."""

import time
from email.utils import parsedate_to_datetime

import httpx
import pytest

from sandbox.erp.faultproxy import FaultProxy, parse_faults
from sandbox.erp.rest import b64json


@pytest.fixture
def proxy(tryton_server):
    with FaultProxy(tryton_server.base_url) as running:
        yield running


@pytest.fixture
def get_warehouse(tryton_server, proxy):
    url = (
        f"{proxy.base_url}/{tryton_server.database}/rest/model/stock.location"
        f"?d={b64json([['code', '=', 'WH']])}&f=name"
    )
    headers = {"Authorization": f"Bearer {tryton_server.api_key}"}

    def get(timeout: float = 10.0) -> httpx.Response:
        return httpx.get(url, headers=headers, timeout=timeout)

    return get


def test_passes_requests_through_unchanged(get_warehouse, proxy):
    response = get_warehouse()
    assert response.status_code == 200
    assert response.json()[0]["name"] == "Luma DC Daventry"
    assert proxy.seen[-1].startswith("ok GET /luma_uk/rest/model/stock.location")


def test_latency(get_warehouse, proxy):
    proxy.inject("latency=0.6")
    started = time.monotonic()
    assert get_warehouse().status_code == 200
    assert time.monotonic() - started >= 0.6


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(get_warehouse, proxy, status):
    proxy.inject(str(status))
    assert get_warehouse().status_code == status
    assert get_warehouse().status_code == 200  # one request only


def test_429_with_retry_after_seconds(get_warehouse, proxy):
    proxy.inject("429=7")
    response = get_warehouse()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_429_with_retry_after_http_date(get_warehouse, proxy):
    proxy.inject("429date=30")
    response = get_warehouse()
    assert response.status_code == 429
    when = parsedate_to_datetime(response.headers["Retry-After"])
    assert 20 <= when.timestamp() - time.time() <= 31


def test_hang_past_the_client_timeout(get_warehouse, proxy):
    proxy.inject("hang=3")
    with pytest.raises(httpx.ReadTimeout):
        get_warehouse(timeout=0.5)


def test_dropped_connection(get_warehouse, proxy):
    proxy.inject("drop")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        get_warehouse()
    assert get_warehouse().status_code == 200


def test_random_faults_are_reproducible_by_seed(get_warehouse, proxy):
    outcomes = []
    for _ in range(2):
        proxy.set_rules("503@0.5", seed=42)
        outcomes.append([get_warehouse().status_code for _ in range(12)])
    assert outcomes[0] == outcomes[1]
    assert {200, 503} == set(outcomes[0])


def test_fault_specs_are_validated():
    assert parse_faults("latency=0.2@0.5, 429date=3") == [
        parse_faults("latency=0.2@0.5")[0],
        parse_faults("429date=3")[0],
    ]
    with pytest.raises(ValueError, match="unknown fault"):
        parse_faults("teapot")
    with pytest.raises(ValueError, match="probability"):
        parse_faults("503@2")
    with pytest.raises(ValueError, match="bad number"):
        parse_faults("latency=soon")


def test_faults_from_the_environment(monkeypatch, tryton_server):
    monkeypatch.setenv("ERP_SANDBOX_FAULTS", "429=3@0.5")
    monkeypatch.setenv("ERP_SANDBOX_FAULTS_SEED", "7")
    runs = []
    for _ in range(2):
        with FaultProxy.from_env(tryton_server.base_url) as proxy:
            runs.append([httpx.get(f"{proxy.base_url}/", timeout=5).status_code for _ in range(8)])
    assert runs[0] == runs[1]
    assert 429 in runs[0] and any(status != 429 for status in runs[0])
