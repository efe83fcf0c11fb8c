"""Is each connected system answering right now? One cheap, short-timeout call per system.

A probe makes one attempt (no retries), with a connect and read timeout of
`HEALTH_PROBE_TIMEOUT` seconds, through the system's own client, and its own circuit breaker:
a failing probe never trips the breaker the flows share. Callers cache the answer
(`integration.health.systems`): a probe is never made on every page poll.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from django.conf import settings

from integration.connectors.backoff import CircuitBreaker, ConnectorError, RetryPolicy
from integration.connectors.magento.client import SYSTEM as MAGENTO
from integration.connectors.magento.client import MagentoClient, Timeouts
from integration.connectors.tryton import codec
from integration.connectors.tryton.client import SYSTEM as ERP
from integration.connectors.tryton.client import TrytonAdapter

ONE_TRY = RetryPolicy(max_attempts=1, max_total=0)


@dataclass(frozen=True)
class ProbeResult:
    configured: bool
    up: bool
    seconds: float | None = None
    status: int | None = None  # the HTTP status of a refusal
    error: str = ""


def _timed(call: Callable[[], object]) -> ProbeResult:
    started = time.monotonic()
    try:
        call()
    except ConnectorError as exc:
        # An answer with a status is the system up and refusing (auth, not found): reachable
        # but not usable; no status is no answer at all.
        return ProbeResult(
            True, False, time.monotonic() - started, status=exc.status, error=str(exc)[:300]
        )
    return ProbeResult(True, True, time.monotonic() - started)


def magento_probe(*, transport: httpx.BaseTransport | None = None) -> ProbeResult:
    if not settings.MAGENTO_BASE_URL:
        return ProbeResult(False, False, error="MAGENTO_BASE_URL is not set")
    timeout = settings.HEALTH_PROBE_TIMEOUT
    try:
        client = MagentoClient.from_settings(transport=transport)
    except ConnectorError as exc:
        return ProbeResult(False, False, error=str(exc))
    # A client of its own: one try, short timeouts, its own breaker.
    probe = MagentoClient(
        base_url=client.base_url,
        auth=client.auth,
        store_code=client.store_code,
        transport=transport,
        timeouts=Timeouts(connect=timeout, read=timeout, write=timeout, pool=timeout),
        policy=ONE_TRY,
        breaker=CircuitBreaker(f"{MAGENTO} probe"),
        max_connections=1,
    )
    client.close()
    with probe:
        return _timed(
            lambda: probe.request(
                "GET", "inventory/sources", params={"searchCriteria[pageSize]": "1"}
            )
        )


def erp_probe(*, transport: httpx.BaseTransport | None = None) -> ProbeResult:
    if not (settings.ERP_BASE_URL and settings.ERP_DATABASE and settings.ERP_API_KEY):
        return ProbeResult(False, False, error="ERP_BASE_URL, ERP_DATABASE, ERP_API_KEY not set")
    timeout = settings.HEALTH_PROBE_TIMEOUT
    probe = TrytonAdapter(
        base_url=settings.ERP_BASE_URL,
        database=settings.ERP_DATABASE,
        api_key=settings.ERP_API_KEY,
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=timeout),
        policy=ONE_TRY,
        breaker=CircuitBreaker(f"{ERP} probe"),
    )
    with probe:
        return _timed(
            lambda: probe.request(
                "GET",
                "model/company.company",
                params=[("d", codec.b64([])), ("s", "1"), ("f", "id")],
            )
        )


PROBES: dict[str, Callable[[], ProbeResult]] = {MAGENTO: magento_probe, ERP: erp_probe}
