"""When each step of an order's path happened, which system says so, its SLA, and whether it is
late (DESIGN §3, §4). The SLAs are the desk's own, never new ones:

- in the ERP within `SYNC_ORDER_STUCK_MINUTES` of the desk first seeing the paid order (the
  `order_stuck` check's limit), for both the desk's check and the ERP step;
- dispatched within `SYNC_DISPATCH_SLA_HOURS` of reaching the ERP (the same check's limit);
- Magento told within SYNC_STATUS_DRIFT_GRACE_MINUTES of dispatch (the `status_drift` check's
  grace);
- while an exception stops a step, that exception's own due time (`sla_due_at`, from the
  routing rules, whose defaults are `exceptions_app.kinds.KINDS[kind].sla_minutes`).

docs/cx.md lists them per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from cx import words
from cx.path_steps import PathFacts, PathStep, StepState
from exceptions_app.kinds import KINDS
from exceptions_app.models import DeskException
from integration.models import OrderErpStatus


# integration.flows.checks.check_status_drift raises a status drift this long after dispatch.
def _tell_magento_grace() -> timedelta:
    return timedelta(minutes=settings.SYNC_STATUS_DRIFT_GRACE_MINUTES)


SOURCES = {
    "magento": "Magento",
    "desk": "Exception desk",
    "erp": "ERP",
    "warehouse": "Warehouse (ERP)",
    "told": "Magento",
}


@dataclass(frozen=True)
class StepTiming:
    at: datetime | None  # when the step was done, or when it was stopped
    source: str  # the system that time comes from
    sla: str  # the step's SLA in words, "" when it has none
    due_at: datetime | None = None
    late: bool = False
    late_by: str = ""  # how late, in words, when late

    @property
    def at_words(self) -> str:
        return words.day_and_time(self.at)

    @property
    def due_words(self) -> str:
        return words.day_and_time(self.due_at)


@dataclass(frozen=True)
class TimedStep:
    step: PathStep
    timing: StepTiming


def duration_words(span: timedelta) -> str:
    """ "45 min", "2 h 10 min", "3 days"."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def _kind_sla(exception: DeskException) -> str:
    """ "fixed within 8 h (the “Address breaks warehouse rules” time limit)"."""
    info = KINDS.get(exception.kind)
    limit = f" within {duration_words(timedelta(minutes=info.sla_minutes))}" if info else ""
    return f"fixed{limit} (the “{exception.get_kind_display()}” time limit)"


def _timing(
    key: str,
    *,
    at: datetime | None = None,
    sla: str = "",
    due_at: datetime | None = None,
    now: datetime | None = None,
    done_at: datetime | None = None,
) -> StepTiming:
    """A step's timing: late when its due time passed before it was done (or, not done yet,
    before `now`)."""
    if due_at is None or now is None:
        return StepTiming(at, SOURCES.get(key, ""), sla)
    finished = done_at or now
    late = finished > due_at
    return StepTiming(
        at,
        SOURCES.get(key, ""),
        sla,
        due_at,
        late,
        duration_words(finished - due_at) if late else "",
    )


def _soonest(exceptions) -> DeskException | None:
    due = [e for e in exceptions if e is not None and e.sla_due_at is not None]
    return min(due, key=lambda e: e.sla_due_at) if due else None


def _in_erp_timing(key: str, step: PathStep, facts: PathFacts, now: datetime) -> StepTiming:
    """The desk's check and the ERP step share the order_stuck limit; an exception stopping
    either brings its own due time instead."""
    order = facts.order
    stuck = timedelta(minutes=settings.SYNC_ORDER_STUCK_MINUTES)
    due = max(order.magento_created_at, order.first_seen_at) + stuck
    sla = f"in the ERP within {duration_words(stuck)} of reaching the desk"
    if step.state == StepState.BLOCKED:
        exception = _soonest(step.exceptions)
        held = [h.hold.created_at for h in facts.holds_open]
        at = exception.first_seen_at if exception else None
        if key == "desk" and held:
            at = min(held)
        if exception is None:
            return _timing(key, at=at, sla=sla, due_at=due, now=now)
        return _timing(key, at=at, sla=_kind_sla(exception), due_at=exception.sla_due_at, now=now)
    if step.state == StepState.SKIPPED:
        return _timing(key)
    posted = order.erp_posted_at if facts.erp == OrderErpStatus.POSTED else None
    if step.state == StepState.DONE:
        if posted is None:  # checked, then refused by the ERP: the ERP step carries it
            return _timing(key, sla=sla)
        return _timing(key, at=posted, sla=sla, due_at=due, now=now, done_at=posted)
    return _timing(key, sla=sla, due_at=due, now=now)


def _warehouse_timing(step: PathStep, facts: PathFacts, now: datetime) -> StepTiming:
    limit = timedelta(hours=settings.SYNC_DISPATCH_SLA_HOURS)
    sla = f"dispatched within {duration_words(limit)} of reaching the ERP"
    posted = facts.order.erp_posted_at
    dispatched = facts.dispatched[-1].dispatched_at if facts.dispatched else None
    if step.state == StepState.SKIPPED:
        return _timing("warehouse")
    if step.state == StepState.PENDING or posted is None:
        return _timing("warehouse", at=dispatched, sla=sla)
    return _timing(
        "warehouse", at=dispatched, sla=sla, due_at=posted + limit, now=now, done_at=dispatched
    )


def _told_timing(step: PathStep, facts: PathFacts, now: datetime) -> StepTiming:
    sla = f"Magento told within {duration_words(_tell_magento_grace())} of dispatch"
    if step.state == StepState.SKIPPED:
        return _timing("told")
    if not facts.dispatched:
        return _timing("told", sla=sla)
    last = facts.dispatched[-1]
    pushed = last.pushed_at if not facts.untold else None
    if facts.drift is not None and facts.drift.sla_due_at is not None:
        sla += f"; the status drift is to be {_kind_sla(facts.drift)}"
    return _timing(
        "told",
        at=pushed,
        sla=sla,
        due_at=last.dispatched_at + _tell_magento_grace(),
        now=now,
        done_at=pushed,
    )


def _shipped_by_magento(step: PathStep, facts: PathFacts) -> StepTiming:
    """History: Magento shipped it before the desk went live; no desk time limit applies."""
    return StepTiming(facts.order.magento_shipped_at, "Magento", "")


def step_timing(step: PathStep, facts: PathFacts, *, now: datetime) -> StepTiming:
    """The timing of one step; a step this module does not know gets its source only."""
    if step.key in ("warehouse", "told") and facts.order.fulfilled_outside:
        return _shipped_by_magento(step, facts)
    if step.key == "magento":
        return _timing("magento", at=facts.order.magento_created_at)
    if step.key in ("desk", "erp"):
        return _in_erp_timing(step.key, step, facts, now)
    if step.key == "warehouse":
        return _warehouse_timing(step, facts, now)
    if step.key == "told":
        return _told_timing(step, facts, now)
    return _timing(step.key)


def steps_timed(
    steps: tuple[PathStep, ...], facts: PathFacts, *, now: datetime
) -> tuple[TimedStep, ...]:
    return tuple(TimedStep(step, step_timing(step, facts, now=now)) for step in steps)
