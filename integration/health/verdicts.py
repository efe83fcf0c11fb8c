"""Green / amber / red per flow, with the reason in words a manager reads in five seconds.

Pure functions of the figures (`runs`, `lag`): no queries, so each rule is tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum

from django.conf import settings

from exceptions_app.models import System
from integration.health.lag import Lag, Signals
from integration.health.policy import RED_FACTOR, FlowPolicy, policy_for
from integration.health.runs import FlowRuns, RunResult, run_result
from integration.models import Flow, RunErrorKind, SyncRun


class Level(IntEnum):
    GREEN = 0
    AMBER = 1
    RED = 2

    @property
    def label(self) -> str:
        return {0: "Healthy", 1: "Needs a look", 2: "Unhealthy"}[self.value]

    @property
    def css(self) -> str:
        return {0: "green", 1: "amber", 2: "red"}[self.value]


# A system as the subject of a sentence.
SYSTEM_WORDS = {
    System.MAGENTO: "Magento",
    System.ERP: "the ERP",
    System.INTEGRATION: "the integration",
    System.PAYMENT: "the payment provider",
}


@dataclass(frozen=True)
class Reason:
    level: Level
    text: str
    system: str


@dataclass(frozen=True)
class FlowVerdict:
    flow: str
    label: str
    reasons: list[Reason] = field(default_factory=list)
    # Records waiting within the flow's limit, in words ("" when none wait): green, but said.
    waiting: str = ""

    @property
    def level(self) -> Level:
        return max((r.level for r in self.reasons), default=Level.GREEN)

    @property
    def sentence(self) -> str:
        if not self.reasons:
            if self.waiting:
                return f"{self.label}: running on time; {self.waiting}."
            return f"{self.label}: running on time, nothing waiting."
        return f"{self.label}: " + "; ".join(r.text for r in self.reasons) + "."

    @property
    def systems(self) -> list[str]:
        """Where the problems sit (system labels), worst reason first, each once."""
        ordered = sorted(self.reasons, key=lambda r: -r.level)
        seen: dict[str, None] = {}
        for reason in ordered:
            seen.setdefault(System(reason.system).label, None)
        return list(seen)


def duration_words(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def counted(n: int, thing: str) -> str:
    """ "1 paid order", "14 paid orders"."""
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _level(age: float, threshold: timedelta) -> Level:
    if age <= threshold.total_seconds():
        return Level.GREEN
    return Level.RED if age > RED_FACTOR * threshold.total_seconds() else Level.AMBER


def failure_words(run: SyncRun) -> str:
    """How the run failed, as "the ERP answered 503" / "Magento did not answer"."""
    who = SYSTEM_WORDS.get(run.error_system, "the integration")
    if run.error_kind == RunErrorKind.REFUSED and run.error_status:
        return f"{who} answered {run.error_status}"
    if run.error_kind == RunErrorKind.UNREACHABLE:
        return f"{who} did not answer"
    if run.error_kind == RunErrorKind.CIRCUIT_OPEN:
        return f"{who} is refused by its circuit breaker after repeated failures"
    error = " ".join(run.error.split())
    if len(error) > 140:
        error = error[:139] + "…"
    return f"runs fail ({error})" if error else "runs fail"


def _run_reasons(runs: FlowRuns, policy: FlowPolicy, now: datetime) -> list[Reason]:
    last = runs.last
    if last is None:
        return [Reason(Level.AMBER, "has never run", System.INTEGRATION)]
    every = duration_words(policy.every.total_seconds())
    since_success = (
        (now - runs.last_success.started_at).total_seconds() if runs.last_success else None
    )
    stale = _level(since_success, policy.stale_after) if since_success is not None else None
    result = run_result(last)
    if result == RunResult.FAILED:
        started = runs.failing_since or last.started_at
        text = f"{failure_words(last)} for {duration_words((now - started).total_seconds())}"
        if runs.failing_runs > 1:
            text += f" ({runs.failing_runs} failed runs)"
        if since_success is None:
            text += "; it has never succeeded"
            level = Level.RED
        else:
            level = max(Level.AMBER, stale)
            if stale:
                text += f"; no successful run for {duration_words(since_success)}"
        return [Reason(level, text, last.error_system or System.INTEGRATION)]
    reasons = []
    if result == RunResult.RUNNING and now - last.started_at > policy.stale_after:
        age = duration_words((now - last.started_at).total_seconds())
        reasons.append(
            Reason(Level.AMBER, f"a run started {age} ago has not finished", System.INTEGRATION)
        )
    if stale:
        text = f"no successful run for {duration_words(since_success)} (it runs every {every})"
        reasons.append(Reason(stale, text, System.INTEGRATION))
    if result == RunResult.PARTIAL:
        reasons.append(
            Reason(
                Level.AMBER,
                f"last run: {last.error or f'{last.failed} of {last.seen} failed'}",
                last.error_system or System.INTEGRATION,
            )
        )
    return reasons


LAG_WORDS = {
    Flow.ORDERS_OUT: ("{n} waiting over {sla} (oldest {age}{detail})", System.ERP),
    Flow.STOCK: ("{n} waiting over {sla} (oldest {age})", System.MAGENTO),
    Flow.SHIPMENTS: ("{n} not in Magento after {sla} (oldest {age})", System.MAGENTO),
    Flow.FINANCE: ("{detail}: payments due {age} ago are not posted", System.ERP),
}


LAG_THINGS = {
    Flow.ORDERS_OUT: "paid order",
    Flow.STOCK: "stock change",
    Flow.SHIPMENTS: "dispatched shipment",
}


def _lag_reason(flow: str, lag: Lag, policy: FlowPolicy, failing: str) -> Reason | None:
    if flow not in LAG_WORDS or lag.seconds is None or not lag.over_sla:
        return None
    level = _level(lag.seconds, policy.lag_sla)
    if not level:
        return None
    words, system = LAG_WORDS[flow]
    if flow == Flow.ORDERS_OUT and lag.detail and not failing:
        system = System.INTEGRATION  # held or refused orders wait on exceptions, not an outage
    text = words.format(
        n=counted(lag.over_sla, LAG_THINGS.get(flow, "")),
        sla=duration_words(policy.lag_sla.total_seconds()),
        age=duration_words(lag.seconds),
        detail=(f"; {lag.detail}" if flow == Flow.ORDERS_OUT and lag.detail else lag.detail),
    )
    return Reason(level, text, failing or system)


def _signal_reasons(flow: str, signals: Signals, now: datetime) -> list[Reason]:
    reasons = []
    if signals.quarantined_windows:
        reasons.append(
            Reason(
                Level.AMBER,
                f"{counted(signals.quarantined_windows, 'Magento time window')} quarantined "
                "(their order list keeps failing; retried every run)",
                System.MAGENTO,
            )
        )
    if signals.dead_letters:
        reasons.append(
            Reason(
                Level.AMBER,
                f"{counted(signals.dead_letters, 'stock update')} dead-lettered (replay them)",
                System.MAGENTO,
            )
        )
    sla = timedelta(hours=settings.SYNC_DISPATCH_SLA_HOURS)
    if signals.undispatched and (signals.last_told is None or now - signals.last_told > sla):
        told = (
            "no shipment has ever been told to Magento"
            if signals.last_told is None
            else f"no shipment told to Magento for "
            f"{duration_words((now - signals.last_told).total_seconds())}"
        )
        reasons.append(
            Reason(
                Level.AMBER,
                f"{told}; {counted(signals.undispatched, 'order')} in the ERP over "
                f"{settings.SYNC_DISPATCH_SLA_HOURS} h without dispatch",
                System.ERP,
            )
        )
    if signals.failed_payments:
        reasons.append(
            Reason(
                Level.AMBER,
                f"{counted(signals.failed_payments, 'payment')} failed in the last week's batches",
                System.ERP,
            )
        )
    return reasons


def flow_verdict(
    *, flow: str, label: str, runs: FlowRuns, lag: Lag, signals: Signals, now: datetime
) -> FlowVerdict:
    policy = policy_for(flow)
    reasons = _run_reasons(runs, policy, now)
    last = runs.last
    failing = last.error_system if last and run_result(last) == RunResult.FAILED else ""
    lag_reason = _lag_reason(flow, lag, policy, failing)
    if lag_reason is not None:
        reasons.insert(0, lag_reason)
    reasons += _signal_reasons(flow, signals, now)
    waiting = ""
    if lag_reason is None and flow in LAG_THINGS and lag.waiting and lag.seconds is not None:
        limit = duration_words(policy.lag_sla.total_seconds())
        waiting = (
            f"{counted(lag.waiting, LAG_THINGS[flow])} waiting, the oldest "
            f"{duration_words(lag.seconds)}, within its {limit} limit"
        )
    return FlowVerdict(flow=flow, label=label, reasons=reasons, waiting=waiting)


@dataclass(frozen=True)
class Overall:
    level: Level
    sentence: str
    attention: list[FlowVerdict]  # the flows not green, worst first


def overall_verdict(verdicts: list[FlowVerdict], unreachable: list[str]) -> Overall:
    level = max((v.level for v in verdicts), default=Level.GREEN)
    if unreachable:
        level = max(level, Level.AMBER)
    attention = sorted((v for v in verdicts if v.level), key=lambda v: -v.level)
    parts = []
    if attention:
        parts.append(f"{len(attention)} of {len(verdicts)} flows need attention")
    if unreachable:
        parts.append(f"not answering now: {', '.join(unreachable)}")
    if not parts:
        if any(v.waiting for v in verdicts):
            return Overall(
                level, "Every flow is running on time; nothing waits beyond its limit.", []
            )
        return Overall(level, "Every flow is running on time and nothing is waiting.", [])
    return Overall(level, "; ".join(parts).capitalize() + ".", attention)
