"""Fault injection: in process (WSGI transport) and through a real waitress server."""

from __future__ import annotations

import contextlib
import threading
import time
from email.utils import parsedate_to_datetime

import httpx
import pytest
import waitress

from sandbox.magento.app import create_app, sandbox_state
from sandbox.magento.auth import Credentials
from sandbox.magento.faults import Faults
from sandbox.magento.testing import bearer_headers, make_app, sandbox_client

LIST = "/V1/orders?searchCriteria%5BpageSize%5D=1"


@pytest.fixture
def faulty(magento_app):
    state = sandbox_state(magento_app)
    with sandbox_client(magento_app) as client:
        client.headers.update(bearer_headers())
        yield state.faults, client


def test_scripted_500_503_and_429_with_both_retry_after_forms(faulty):
    faults, client = faulty
    faults.reset(script=["500", "503", "429"], retry_after_s=7)
    masked = client.get(LIST)
    assert masked.status_code == 500
    assert masked.json()["message"].startswith("Internal Error. Details are available")
    unavailable = client.get(LIST)
    assert unavailable.status_code == 503
    limited = client.get(LIST)
    assert limited.status_code == 429
    assert limited.json() == {"message": "Too Many Requests", "trace": None}
    assert limited.headers["Retry-After"] == "7"
    assert client.get(LIST).status_code == 200  # script exhausted

    faults.reset(script=["429"], retry_after="http-date", retry_after_s=60)
    dated = client.get(LIST)
    when = parsedate_to_datetime(dated.headers["Retry-After"])
    assert 50 <= when.timestamp() - time.time() <= 70


def test_hang_and_drop_surface_as_httpx_transport_errors(faulty):
    faults, client = faulty
    faults.reset(script=["hang", "drop"])
    with pytest.raises(httpx.ReadTimeout):
        client.get(LIST)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(LIST)


def test_rates_are_deterministic_by_seed(tmp_path):
    def outcomes(seed):
        app = make_app(tmp_path / str(seed) / str(time.monotonic_ns()),
                       faults=Faults(error_rate=0.3, rate_limit=0.2, seed=seed))  # fmt: skip
        with sandbox_client(app) as client:
            client.headers.update(bearer_headers())
            codes = [client.get(LIST).status_code for _ in range(30)]
        sandbox_state(app).store.close()
        return codes

    first, again, other = outcomes(1), outcomes(1), outcomes(2)
    assert first == again
    assert first != other
    assert {200, 429, 500} <= set(first)


def test_latency_and_path_filter(faulty):
    faults, client = faulty
    faults.reset(latency_ms=120, error_rate=1.0, paths="/V1/products")
    started = time.monotonic()
    assert client.get(LIST).status_code == 200  # /V1/orders is not targeted
    assert time.monotonic() - started < 0.1
    started = time.monotonic()
    assert client.get("/V1/products/24-MB01").status_code == 500
    assert time.monotonic() - started >= 0.12


def test_token_endpoint_is_spared_by_default(faulty):
    faults, client = faulty
    faults.reset(error_rate=1.0)
    token = client.post("/V1/integration/admin/token",
                        json={"username": "admin", "password": "sandbox123"})  # fmt: skip
    assert token.status_code == 200
    assert client.get(LIST).status_code == 500


def test_env_spec_parsing_and_errors(monkeypatch):
    monkeypatch.setenv(
        "MAGENTO_SANDBOX_FAULTS",
        "latency_ms=100,error_rate=0.2,status=503,rate_limit=0.1,retry_after=http-date,"
        "hang_rate=0.05,drop_rate=0.05,deadlock_rate=0.1,seed=7",
    )
    faults = Faults.from_env()
    assert (faults.latency_ms, faults.status, faults.retry_after, faults.seed) == (
        100, 503, "http-date", 7)  # fmt: skip
    for bad in ("bogus=1", "status=404", "error_rate=lots", "latency_ms"):
        with pytest.raises(ValueError):
            Faults.parse(bad)


@pytest.fixture
def waitress_sandbox(tmp_path):
    """The sandbox behind a real waitress server on an ephemeral loopback port."""
    app = create_app(str(tmp_path / "live.sqlite3"), faults=Faults(), credentials=Credentials(),
                     real_server=True)  # fmt: skip
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)

    def run():
        # closing the listening socket from the test thread can race the select loop
        with contextlib.suppress(OSError, ValueError):
            server.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    port = server.socket.getsockname()[1]
    yield sandbox_state(app), f"http://127.0.0.1:{port}/rest"
    server.close()
    thread.join(timeout=5)
    sandbox_state(app).store.close()


def test_real_server_drop_hang_and_normal_service(waitress_sandbox):
    state, base = waitress_sandbox
    with httpx.Client(base_url=base, headers=bearer_headers(), timeout=0.5) as client:
        assert client.get(LIST).status_code == 200
        state.faults.reset(script=["drop"])
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(LIST)
        state.faults.reset(script=["hang"], hang_s=1.5)
        with pytest.raises(httpx.ReadTimeout):
            client.get(LIST)
        assert client.get(LIST).status_code == 200
