"""The load balancer's check: ok / degraded / down with reason codes, and nothing else.

Cheap on purpose (a `SELECT 1` and one indexed statement for each flow's last success), with
no figures, names or errors in the answer: it is open to anyone who can reach the host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, connection

from integration.connectors.backoff import CircuitBreaker, breakers
from integration.connectors.probes import PROBES
from integration.health.policy import policy_for
from integration.health.runs import RUN_SUCCEEDED, latest_runs
from integration.models import Flow


class Status:
    OK = "ok"
    DEGRADED = "degraded"  # serving, but a flow is behind or a system's breaker is open
    DOWN = "down"  # cannot serve: the database does not answer


@dataclass(frozen=True)
class Healthz:
    status: str
    reasons: list[str] = field(default_factory=list)

    @property
    def http_status(self) -> int:
        return 503 if self.status == Status.DOWN else 200


def healthz(*, now: datetime) -> Healthz:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        succeeded = latest_runs(RUN_SUCCEEDED)
    except DatabaseError:
        return Healthz(Status.DOWN, ["database_unreachable"])
    reasons = []
    for flow in Flow:
        run = succeeded.get(flow.value)
        if run is None:
            reasons.append(f"flow_never_succeeded:{flow.value}")
        elif now - run.started_at > policy_for(flow).stale_after:
            reasons.append(f"flow_stale:{flow.value}")
    for system in PROBES:
        if breakers.get(system).state == CircuitBreaker.OPEN:
            reasons.append(f"breaker_open:{system}")
    return Healthz(Status.DEGRADED if reasons else Status.OK, reasons)
