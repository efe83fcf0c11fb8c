"""Prometheus figures for /metrics, read from the database at scrape time.

A custom collector rather than process-global counters: every web worker reports the same
numbers (a counter kept in one process's memory would be split across workers and lost on
restart). Counters are counts of rows that only grow (runs, records, exceptions raised);
everything else is a gauge. One prefix, `desk_`; labels are flows, statuses, kinds, teams,
systems, currencies and cluster names, never an order number, a SKU or an email.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Abs
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from exceptions_app.models import WORKING_STATUSES, DeskException
from integration.connectors.backoff import CircuitBreaker, breakers
from integration.health.lag import flow_lags
from integration.health.policy import policy_for
from integration.health.runs import RESULT, RunResult, flow_runs, run_result
from integration.health.systems import probe_results, queue_depths
from integration.health.verdicts import flow_verdict
from integration.models import Flow, PushStatus, RunErrorKind, StockPush, SyncRun

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "desk_"
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
RECORD_OUTCOMES = ("seen", "posted", "held", "failed", "found")


def _name(name: str) -> str:
    return PREFIX + name


def _run_counters() -> Iterator[Metric]:
    runs = CounterMetricFamily(
        _name("sync_runs"),
        "Flow runs by result (failed: stopped, or every record failed; partial: some failed).",
        labels=["flow", "result"],
    )
    records = CounterMetricFamily(
        _name("sync_records"),
        "Records handled by flow runs, by outcome (found: drift-check findings).",
        labels=["flow", "outcome"],
    )
    totals: dict[str, dict[str, int]] = {}
    for row in (
        SyncRun.objects.annotate(result=RESULT)
        .values("flow", "result")
        .annotate(n=Count("id"), **{o: Sum(o) for o in RECORD_OUTCOMES})
        .order_by()
    ):
        runs.add_metric([row["flow"], row["result"]], row["n"])
        flow = totals.setdefault(row["flow"], dict.fromkeys(RECORD_OUTCOMES, 0))
        for outcome in RECORD_OUTCOMES:
            flow[outcome] += row[outcome] or 0
    for flow, outcomes in sorted(totals.items()):
        for outcome, value in outcomes.items():
            records.add_metric([flow, outcome], value)
    yield runs
    yield records


def _duration_histogram() -> Metric:
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    buckets = {
        f"le_{b}": Count("id", filter=Q(duration__lte=timedelta(seconds=b)))
        for b in DURATION_BUCKETS
    }
    family = HistogramMetricFamily(
        _name("sync_run_duration_seconds"),
        "How long finished flow runs took (skipped runs excluded).",
        labels=["flow"],
    )
    for row in (
        SyncRun.objects.filter(finished_at__isnull=False)
        .exclude(status="skipped")
        .annotate(duration=duration)
        .values("flow")
        .annotate(n=Count("id"), total=Sum("duration"), **buckets)
        .order_by("flow")
    ):
        cumulative = [(str(float(b)), row[f"le_{b}"]) for b in DURATION_BUCKETS]
        cumulative.append(("+Inf", row["n"]))
        total = row["total"]
        seconds = total.total_seconds() if isinstance(total, timedelta) else (total or 0) / 1e6
        family.add_metric([row["flow"]], cumulative, sum_value=seconds)
    return family


def _flow_gauges(now: datetime) -> Iterator[Metric]:
    runs = flow_runs(now=now)
    lags = flow_lags(now=now, runs=runs)
    last_success = GaugeMetricFamily(
        _name("sync_last_success_timestamp_seconds"),
        "Start time (Unix seconds) of each flow's last successful run.",
        labels=["flow"],
    )
    stale_after = GaugeMetricFamily(
        _name("sync_stale_after_seconds"),
        "A flow with no successful run for this long is amber on /health/ (3x: red).",
        labels=["flow"],
    )
    lag = GaugeMetricFamily(
        _name("sync_lag_seconds"),
        "Age of the oldest record waiting for the flow (0: nothing waiting).",
        labels=["flow"],
    )
    lag_sla = GaugeMetricFamily(
        _name("sync_lag_sla_seconds"), "The lag a flow is allowed before amber.", labels=["flow"]
    )
    waiting = GaugeMetricFamily(
        _name("sync_waiting_records"), "Records waiting for the flow.", labels=["flow"]
    )
    verdict = GaugeMetricFamily(
        _name("sync_flow_verdict"),
        "The /health/ verdict: 0 green, 1 amber, 2 red.",
        labels=["flow"],
    )
    refused = GaugeMetricFamily(
        _name("sync_flow_circuit_open"),
        "1 if the flow's last run stopped because a system's circuit breaker was open.",
        labels=["flow", "system"],
    )
    for flow in Flow:
        flow_runs_ = runs[flow.value]
        policy = policy_for(flow)
        if flow_runs_.last_success is not None:
            last_success.add_metric([flow.value], flow_runs_.last_success.started_at.timestamp())
        stale_after.add_metric([flow.value], policy.stale_after.total_seconds())
        flow_lag, signals = lags[flow]
        if flow_lag.seconds is not None:
            lag.add_metric([flow.value], flow_lag.seconds)
        lag_sla.add_metric([flow.value], policy.lag_sla.total_seconds())
        waiting.add_metric([flow.value], flow_lag.waiting)
        level = flow_verdict(
            flow=flow.value,
            label=flow.label,
            runs=flow_runs_,
            lag=flow_lag,
            signals=signals,
            now=now,
        ).level
        verdict.add_metric([flow.value], int(level))
        last = flow_runs_.last
        if last is not None and last.error_kind == RunErrorKind.CIRCUIT_OPEN:
            is_open = run_result(last) == RunResult.FAILED
            refused.add_metric([flow.value, last.error_system], 1 if is_open else 0)
    yield from (last_success, stale_after, lag, lag_sla, waiting, verdict, refused)


def _exception_figures(now: datetime) -> Iterator[Metric]:
    open_ = GaugeMetricFamily(
        _name("exceptions_open"),
        "Exceptions being worked (open, in progress, regressed).",
        labels=["kind", "team", "system"],
    )
    overdue = GaugeMetricFamily(
        _name("exceptions_overdue"),
        "Working exceptions past their SLA.",
        labels=["kind", "team", "system"],
    )
    money = GaugeMetricFamily(
        _name("exceptions_open_amount"),
        "Money at stake in working exceptions (sum of magnitudes), per currency.",
        labels=["currency", "team", "system"],
    )
    units = GaugeMetricFamily(
        _name("exceptions_open_units"),
        "Units of stock at stake in working exceptions.",
        labels=["team", "system"],
    )
    working = DeskException.objects.filter(status__in=WORKING_STATUSES)
    for row in (
        working.values("kind", "team", "system")
        .annotate(n=Count("id"), late=Count("id", filter=Q(sla_due_at__lt=now)))
        .order_by("kind", "team", "system")
    ):
        labels = [row["kind"], row["team"], row["system"]]
        open_.add_metric(labels, row["n"])
        overdue.add_metric(labels, row["late"])
    stake_units: dict[tuple[str, str], float] = {}
    for row in (
        working.values("currency", "team", "system")
        .annotate(amount=Sum(Abs("amount")), qty=Sum(Abs("units")))
        .order_by("currency", "team", "system")
    ):
        if row["currency"] and row["amount"] is not None:
            money.add_metric([row["currency"], row["team"], row["system"]], float(row["amount"]))
        key = (row["team"], row["system"])
        stake_units[key] = stake_units.get(key, 0.0) + float(row["qty"] or 0)
    for (team, system), qty in sorted(stake_units.items()):
        units.add_metric([team, system], qty)
    raised = CounterMetricFamily(
        _name("exceptions_raised"),
        "Exceptions ever raised (one per episode of a fingerprint), by kind.",
        labels=["kind"],
    )
    occurrences = CounterMetricFamily(
        _name("exception_occurrences"),
        "Occurrences counted on exceptions (a cause seen again bumps its exception), by kind.",
        labels=["kind"],
    )
    for row in (
        DeskException.objects.values("kind")
        .annotate(n=Count("id"), seen=Sum("occurrences"))
        .order_by("kind")
    ):
        raised.add_metric([row["kind"]], row["n"])
        occurrences.add_metric([row["kind"]], row["seen"] or 0)
    yield from (open_, overdue, money, units, raised, occurrences)


def _system_figures(now: datetime) -> Iterator[Metric]:
    queue = GaugeMetricFamily(
        _name("queue_tasks"),
        "django-q2 tasks per cluster: queued (waiting for a worker) or in_flight (ORM broker).",
        labels=["cluster", "state"],
    )
    for depth in queue_depths(now=now):
        if depth.queued is not None:
            queue.add_metric([depth.cluster, "queued"], depth.queued)
        if depth.in_flight is not None:
            queue.add_metric([depth.cluster, "in_flight"], depth.in_flight)
    up = GaugeMetricFamily(
        _name("system_up"), "1 if the system answered the last (cached) probe.", labels=["system"]
    )
    probe = GaugeMetricFamily(
        _name("system_probe_seconds"), "How long the last probe took.", labels=["system"]
    )
    breaker = GaugeMetricFamily(
        _name("circuit_breaker_state"),
        "This web process's circuit breaker per system: 1 for its current state.",
        labels=["system", "state"],
    )
    for system, (result, _at) in sorted(probe_results().items()):
        if result.configured:
            up.add_metric([system], 1 if result.up else 0)
            if result.seconds is not None:
                probe.add_metric([system], result.seconds)
        state = breakers.get(system).state
        for name in (CircuitBreaker.CLOSED, CircuitBreaker.OPEN, CircuitBreaker.HALF_OPEN):
            breaker.add_metric([system, name], 1 if state == name else 0)
    outbox = GaugeMetricFamily(
        _name("stock_outbox"), "Stock outbox rows by status.", labels=["status"]
    )
    counts = dict(StockPush.objects.values_list("status").annotate(n=Count("id")).order_by())
    for status in PushStatus:
        outbox.add_metric([status.value], counts.get(status.value, 0))
    yield from (queue, up, probe, breaker, outbox)


class DeskCollector:
    """Reads every figure from the database (and the cached probes) at collect time."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now or timezone.now()
        yield from _run_counters()
        yield _duration_histogram()
        yield from _flow_gauges(now)
        yield from _exception_figures(now)
        yield from _system_figures(now)


def metrics_text(now: datetime | None = None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeskCollector(now))
    return generate_latest(registry)
