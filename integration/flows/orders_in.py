"""Orders in: pull Magento orders updated since the watermark (minus an overlap) into the mirror.

A time window whose list call keeps failing (Magento has 500'd for one window's data) is
bisected down to an hour and quarantined, reported on the run, and retried on later runs,
while the rest of the range proceeds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.magento.client import MagentoClient
from integration.flows.runs import flow_run, run_record_failure
from integration.locks import Lease
from integration.models import (
    Flow,
    QuarantinedWindow,
    QuarantineStatus,
    SyncRun,
    Watermark,
)
from integration.orders.history import history_shipments_read
from integration.orders.payload import magento_time
from integration.orders.upsert import orders_upsert

PAGE_BATCH = 500
MIN_WINDOW = timedelta(hours=1)


class _Pull:
    def __init__(self, magento: MagentoClient, run: SyncRun, lease: Lease) -> None:
        self.magento, self.run, self.lease = magento, run, lease
        self.max_seen: datetime | None = None
        self.quarantined: list[QuarantinedWindow] = []

    def window(self, start: datetime, end: datetime | None) -> None:
        """Pull [start, end); raises ConnectorError if the window failed."""
        batch: list[dict] = []
        for payload in self.magento.orders_updated_between(start, end):
            batch.append(payload)
            if len(batch) >= PAGE_BATCH:
                self._flush(batch)
                batch = []
        self._flush(batch)

    def _flush(self, batch: list[dict]) -> None:
        if not batch:
            return
        counts = orders_upsert(payloads=batch)
        self.run.seen += counts.seen
        self.run.posted += counts.created + counts.updated
        seen = magento_time(max(p.get("updated_at") or "" for p in batch))
        if seen is not None:
            self.max_seen = seen if self.max_seen is None else max(self.max_seen, seen)
        self.lease.renew()

    def bisecting(self, start: datetime, end: datetime) -> None:
        """Pull [start, end), splitting a failing window until the failure is cornered."""
        try:
            self.window(start, end)
        except CircuitOpenError:
            raise
        except ConnectorError as exc:
            if not exc.retryable:
                raise
            if end - start <= MIN_WINDOW:
                self.quarantine(start, end, exc)
                return
            middle = start + (end - start) / 2
            self.bisecting(start, middle)
            self.bisecting(middle, end)

    def quarantine(self, start: datetime, end: datetime, error: ConnectorError) -> None:
        window, created = QuarantinedWindow.objects.get_or_create(
            flow=Flow.ORDERS_IN,
            window_start=start,
            window_end=end,
            defaults={"last_error": str(error)[:2000]},
        )
        if not created:
            window.attempts += 1
            window.status = QuarantineStatus.OPEN
            window.last_error = str(error)[:2000]
            window.last_failed_at = timezone.now()
            window.save()
        self.quarantined.append(window)
        self.run.failed += 1


def start_watermark() -> datetime:
    return datetime.strptime(settings.SYNC_ORDERS_START, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def orders_in_run(*, magento: MagentoClient, now: datetime | None = None) -> SyncRun:
    """One orders-in run (skipped if another is in progress)."""

    def body(run: SyncRun, lease: Lease) -> None:
        pull = _Pull(magento, run, lease)
        until = now or timezone.now()
        for window in QuarantinedWindow.objects.filter(
            flow=Flow.ORDERS_IN, status=QuarantineStatus.OPEN
        ).order_by("window_start"):
            try:
                pull.window(window.window_start, window.window_end)
            except CircuitOpenError:
                raise
            except ConnectorError as exc:
                if not exc.retryable:
                    raise
                pull.quarantine(window.window_start, window.window_end, exc)
            else:
                window.status = QuarantineStatus.CLEARED
                window.save(update_fields=["status"])
        mark = Watermark.objects.filter(flow=Flow.ORDERS_IN).first()
        since = (mark.value if mark else start_watermark()) - timedelta(
            seconds=settings.SYNC_ORDERS_OVERLAP_SECONDS
        )
        try:
            # One open-ended pull is the common case; bisect only when it fails.
            pull.window(since, None)
        except CircuitOpenError:
            raise
        except ConnectorError as exc:
            if not exc.retryable:
                raise
            pull.bisecting(since, until + timedelta(seconds=1))
        # Never past the pull's own start: an updated_at ahead of our clock (Magento's clock
        # skewed, or bad data) would otherwise make later pulls skip real updates.
        newest = min(pull.max_seen, until) if pull.max_seen is not None else None
        if newest is not None and (mark is None or newest > mark.value):
            Watermark.objects.update_or_create(flow=Flow.ORDERS_IN, defaults={"value": newest})
        if pull.quarantined:
            run.error = "Quarantined Magento windows (retried next run): " + ", ".join(
                str(w) for w in pull.quarantined
            )
        try:
            # History orders: when Magento shipped them and with which tracks, for CX.
            history_shipments_read(magento=magento)
        except CircuitOpenError:
            raise
        except ConnectorError as exc:
            run_record_failure(run, subject="Magento shipments of history orders", error=exc)

    return flow_run(Flow.ORDERS_IN, body)
