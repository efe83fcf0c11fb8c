"""What "healthy" means per flow: how often it runs, when silence is a problem, its lag SLA.

The schedules are in `config/schedules.py`; these thresholds give each a margin for a late
scheduler (up to ~30 s) and a slow run. Red is three times amber, for staleness and lag alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from integration.models import Flow

RED_FACTOR = 3


@dataclass(frozen=True)
class FlowPolicy:
    flow: str
    every: timedelta  # how often its schedule fires
    stale_after: timedelta  # no successful run for this long: amber (×3: red)
    lag_sla: timedelta  # the oldest record waiting longer than this: amber (×3: red)
    lag_what: str  # what the lag measures, in words
    # Which run counts mean something for this flow, and what they are called.
    counts: tuple[tuple[str, str], ...]


POLICIES: dict[str, FlowPolicy] = {
    p.flow: p
    for p in (
        FlowPolicy(
            Flow.ORDERS_IN,
            every=timedelta(minutes=1),
            stale_after=timedelta(minutes=10),
            lag_sla=timedelta(minutes=10),
            lag_what="Magento read up to",
            counts=(("seen", "read"), ("posted", "new or changed"), ("failed", "failed")),
        ),
        FlowPolicy(
            Flow.ORDERS_OUT,
            every=timedelta(minutes=1),
            stale_after=timedelta(minutes=10),
            lag_sla=timedelta(minutes=30),
            lag_what="oldest paid order not yet in the ERP",
            counts=(
                ("seen", "validated"),
                ("posted", "in the ERP"),
                ("held", "held"),
                ("failed", "failed"),
            ),
        ),
        FlowPolicy(
            Flow.STOCK,
            every=timedelta(minutes=5),
            stale_after=timedelta(minutes=20),
            lag_sla=timedelta(minutes=15),
            lag_what="oldest stock change not yet applied in Magento",
            counts=(("seen", "SKUs read"), ("posted", "updates sent"), ("failed", "dead-lettered")),
        ),
        FlowPolicy(
            Flow.SHIPMENTS,
            every=timedelta(minutes=5),
            stale_after=timedelta(minutes=20),
            lag_sla=timedelta(hours=1),
            lag_what="oldest dispatched shipment not yet in Magento",
            counts=(
                ("seen", "dispatched in the ERP"),
                ("posted", "told to Magento"),
                ("failed", "failed"),
            ),
        ),
        FlowPolicy(
            Flow.FINANCE,
            every=timedelta(days=1),
            stale_after=timedelta(hours=26),
            lag_sla=timedelta(hours=6),
            lag_what="oldest day of payments not yet posted",
            counts=(("seen", "payments due"), ("posted", "posted"), ("failed", "failed")),
        ),
        FlowPolicy(
            Flow.CHECKS,
            every=timedelta(minutes=15),
            stale_after=timedelta(minutes=45),
            lag_sla=timedelta(minutes=45),
            lag_what="last complete check",
            counts=(("found", "findings"),),
        ),
    )
}


def policy_for(flow: str) -> FlowPolicy:
    """The flow's policy; a flow added without one is judged by a cautious default."""
    policy = POLICIES.get(flow)
    if policy is not None:
        return policy
    return FlowPolicy(
        flow,
        every=timedelta(minutes=5),
        stale_after=timedelta(minutes=30),
        lag_sla=timedelta(minutes=30),
        lag_what="time since the last successful run",
        counts=(("seen", "seen"), ("posted", "done"), ("failed", "failed")),
    )
