"""The connected systems now: reachable or not (a cached probe), their circuit breakers, and
the depth of each django-q2 cluster's queue.

Probes and Redis reads are cached for `HEALTH_PROBE_CACHE_SECONDS`: a page poll or a scrape
reads the cache; at most one probe per system per interval per process touches the network,
and each is bounded by `HEALTH_PROBE_TIMEOUT`.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone
from django_q.models import OrmQ

from exceptions_app.models import System
from integration.connectors import probes
from integration.connectors.backoff import CircuitBreaker, breakers
from integration.health.runs import FlowRuns, RunResult, run_result
from integration.models import RunErrorKind

logger = logging.getLogger(__name__)

PROBE_KEY = "health:probe:{}"
QUEUE_KEY = "health:queue:{}"


@dataclass(frozen=True)
class SystemNow:
    system: str
    label: str
    probe: probes.ProbeResult
    checked_at: datetime
    breaker: str  # this web process's breaker: closed / open / half_open
    workers_refused_at: datetime | None  # a flow's last run stopped on an open breaker

    @property
    def state(self) -> str:
        if not self.probe.configured:
            return "not configured"
        if self.probe.up:
            return "answering"
        if self.probe.status:
            return f"answering with HTTP {self.probe.status}"
        return "not answering"

    @property
    def ok(self) -> bool:
        return self.probe.configured and self.probe.up

    @property
    def breaker_words(self) -> str:
        words = {
            CircuitBreaker.CLOSED: "closed",
            CircuitBreaker.OPEN: "open (calls refused)",
            CircuitBreaker.HALF_OPEN: "half-open (next call is a trial)",
        }[self.breaker]
        if self.workers_refused_at is not None:
            words += f"; open in the workers at {timezone.localtime(self.workers_refused_at):%H:%M}"
        return words


def _probe(system: str) -> tuple[probes.ProbeResult, datetime]:
    return probes.PROBES[system](), timezone.now()


def probe_results() -> dict[str, tuple[probes.ProbeResult, datetime]]:
    """Each system's last probe, probing (in parallel, bounded) only what the cache lacks."""
    keys = {system: PROBE_KEY.format(system) for system in probes.PROBES}
    found = cache.get_many(list(keys.values()))
    results = {s: found[k] for s, k in keys.items() if k in found}
    missing = [s for s in probes.PROBES if s not in results]
    if missing:
        with ThreadPoolExecutor(max_workers=len(missing)) as pool:
            for system, result in zip(missing, pool.map(_probe, missing), strict=True):
                results[system] = result
                cache.set(keys[system], result, settings.HEALTH_PROBE_CACHE_SECONDS)
    return results


def systems_now(*, runs: dict[str, FlowRuns]) -> list[SystemNow]:
    refused: dict[str, datetime] = {}
    for flow_runs in runs.values():
        last = flow_runs.last
        if (
            last is not None
            and run_result(last) == RunResult.FAILED
            and last.error_kind == RunErrorKind.CIRCUIT_OPEN
        ):
            seen = refused.get(last.error_system)
            refused[last.error_system] = max(last.started_at, seen or last.started_at)
    out = []
    for system, (result, checked_at) in probe_results().items():
        out.append(
            SystemNow(
                system=system,
                label=System(system).label,
                probe=result,
                checked_at=checked_at,
                breaker=breakers.get(system).state,
                workers_refused_at=refused.get(system),
            )
        )
    return out


@dataclass(frozen=True)
class QueueDepth:
    cluster: str
    purpose: str
    queued: int | None  # waiting for a worker (None: could not be read)
    in_flight: int | None  # handed to a worker, not yet acknowledged (ORM broker only)
    error: str = ""


def _clusters() -> list[tuple[str, str]]:
    return [
        (settings.Q_CLUSTER["name"], "orders, shipments, checks, finance, exceptions"),
        (settings.Q_STOCK_CLUSTER, "stock pushes"),
    ]


def _redis_depth(cluster: str) -> tuple[int | None, str]:
    import redis
    from django_q.brokers import get_broker

    try:
        return get_broker(list_key=cluster).queue_size(), ""
    except redis.RedisError as exc:
        logger.warning("queue depth of %s unreadable: %s", cluster, exc)
        return None, f"Redis did not answer: {exc}"


def queue_depths(*, now: datetime) -> list[QueueDepth]:
    """Tasks waiting per cluster: OrmQ rows (ORM broker) or the Redis list's length."""
    clusters = _clusters()
    if "orm" in settings.Q_CLUSTER:
        rows = {
            row["key"]: row
            for row in OrmQ.objects.filter(key__in=[name for name, _ in clusters])
            .values("key")
            .annotate(
                queued=Count("id", filter=Q(lock__lte=now) | Q(lock__isnull=True)),
                in_flight=Count("id", filter=Q(lock__gt=now)),
            )
            .order_by()
        }
        return [
            QueueDepth(
                name,
                purpose,
                rows.get(name, {}).get("queued", 0),
                rows.get(name, {}).get("in_flight", 0),
            )
            for name, purpose in clusters
        ]
    out = []
    for name, purpose in clusters:
        key = QUEUE_KEY.format(name)
        cached = cache.get(key)
        if cached is None:
            cached = _redis_depth(name)
            cache.set(key, cached, settings.HEALTH_PROBE_CACHE_SECONDS)
        out.append(QueueDepth(name, purpose, cached[0], None, cached[1]))
    return out
