"""Running a flow: one at a time (a lease), and every run written down as a SyncRun."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils import timezone

from exceptions_app.models import System
from integration.connectors.backoff import ConnectorError
from integration.locks import FlowBusy, Lease, lease_acquire
from integration.models import RunStatus, SyncRun

logger = logging.getLogger(__name__)

Body = Callable[[SyncRun, Lease], None]


def error_system(error: ConnectorError) -> str:
    return System.MAGENTO if error.system.startswith("magento") else System.ERP


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
    except ConnectorError as exc:
        run.status = RunStatus.FAILED
        run.error = str(exc)[:4000]
        run.error_system = error_system(exc)
        logger.warning("%s run %s failed: %s", flow, run.pk, exc)
    except BaseException as exc:
        run.status = RunStatus.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
        run.error_system = System.INTEGRATION
        raise
    finally:
        run.finished_at = timezone.now()
        run.save()
        lease.release()
    return run
