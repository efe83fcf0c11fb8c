"""Running a flow: one at a time (a lease), and every run written down as a SyncRun.

What a run records must mean what the health page says it means: a run with failed records
always carries an error text and the system at fault; a connector failure records how the
system failed (answered with an error status, did not answer, or its circuit was open).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils import timezone

from exceptions_app.models import System
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.locks import FlowBusy, Lease, lease_acquire
from integration.models import RunErrorKind, RunStatus, SyncRun

logger = logging.getLogger(__name__)

Body = Callable[[SyncRun, Lease], None]

ERROR_MAX = 4000


def error_system(error: ConnectorError) -> str:
    return System.MAGENTO if error.system.startswith("magento") else System.ERP


def connector_error_kind(error: ConnectorError) -> str:
    if isinstance(error, CircuitOpenError):
        return RunErrorKind.CIRCUIT_OPEN
    if error.status:
        return RunErrorKind.REFUSED
    return RunErrorKind.UNREACHABLE


def run_record_failure(
    run: SyncRun, *, subject: str, error: ConnectorError | str, system: str | None = None
) -> None:
    """Count one failed record on `run` and keep why: the first reason, then a tally."""
    run.failed += 1
    if isinstance(error, ConnectorError):
        system = system or error_system(error)
        run.error_status = run.error_status or error.status
    text = f"{subject}: {error}"
    if not run.error:
        run.error = text[:ERROR_MAX]
    run.error_system = run.error_system or (system or System.INTEGRATION)
    run.error_kind = run.error_kind or RunErrorKind.RECORDS


def _explain_failures(run: SyncRun) -> None:
    """A run that failed records says so in words, even if its flow gave no reason."""
    if not run.failed:
        return
    tally = f"{run.failed} of {run.seen or run.failed} failed"
    if not run.error:
        logger.warning("%s run %s: %s records failed with no reason given", run.flow, run.pk, tally)
        run.error = f"{tally}; see the exceptions raised for them."
    elif not run.error.startswith(tally):
        run.error = f"{tally}; {run.error}"[:ERROR_MAX]
    run.error_system = run.error_system or System.INTEGRATION
    run.error_kind = run.error_kind or RunErrorKind.RECORDS


def flow_run(flow: str, body: Body) -> SyncRun:
    """Run `body` under the flow's lease and record it; a second concurrent run is skipped.

    A connector failure (an outage, retries spent) ends the run as failed naming the system;
    anything else is a bug: recorded on the run, then raised so the task shows it too.
    """
    try:
        lease = lease_acquire(flow)
    except FlowBusy as busy:
        now = timezone.now()
        return SyncRun.objects.create(
            flow=flow, status=RunStatus.SKIPPED, started_at=now, finished_at=now, error=str(busy)
        )
    run = SyncRun.objects.create(flow=flow)
    try:
        body(run, lease)
        if run.status == RunStatus.RUNNING:
            run.status = RunStatus.PARTIAL if run.failed else RunStatus.SUCCEEDED
        _explain_failures(run)
    except ConnectorError as exc:
        run.status = RunStatus.FAILED
        run.error = str(exc)[:ERROR_MAX]
        run.error_system = error_system(exc)
        run.error_kind = connector_error_kind(exc)
        run.error_status = exc.status
        logger.warning("%s run %s failed: %s", flow, run.pk, exc)
    except BaseException as exc:
        run.status = RunStatus.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
        run.error_system = System.INTEGRATION
        run.error_kind = RunErrorKind.BUG
        raise
    finally:
        run.finished_at = timezone.now()
        run.save()
        lease.release()
    return run
