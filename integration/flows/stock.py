"""Stock out: ERP availability → Magento source items, pushing only what changed.

The delta is computed by the database (one upsert of the ERP figures, one query for rows whose
figure differs from what Magento was last told), written to an outbox (StockPush), pushed in
batches through Magento's async source-items endpoint, and settled by polling the bulk status.
A batch that keeps failing is dead-lettered as one `stock_push_failed` per SKU set. Once a push
settles, Magento's quantities are read back: a push that "succeeded" without effect is drift.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from exceptions_app.models import LIVE_STATUSES, DeskException, ExceptionKind, System
from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.bulk_sql import chunked, model_names, staging_table
from integration.connectors.backoff import CircuitOpenError, ConnectorError, full_jitter_delay
from integration.connectors.erp import ErpAdapter
from integration.connectors.magento.client import MagentoClient
from integration.flows.runs import flow_run
from integration.locks import Lease
from integration.models import Flow, PushStatus, SkuMapping, StockLevel, StockPush, SyncRun

# Magento bulk operation statuses (CONTRACT §7).
OP_COMPLETE, OP_RETRIABLE, OP_FAILED, OP_OPEN, OP_REJECTED = 1, 2, 3, 4, 5
# The ERP's figures as staged for the delta (one row per Magento SKU).
STAGING_COLUMNS = {
    "sku": "varchar(255) PRIMARY KEY",
    "erp_code": "varchar(255)",
    "qty": "numeric(14, 4)",
}


def _magento_skus_by_code() -> dict[str, list[str]]:
    """ERP code → the Magento SKUs it stands for (itself, unless a mapping says otherwise)."""
    by_code: dict[str, list[str]] = defaultdict(list)
    for sku, code in SkuMapping.objects.values_list("magento_sku", "erp_item_code"):
        by_code[code].append(sku)
    return by_code


@transaction.atomic
def stock_delta_record(*, availability: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    """Record the ERP's figures and return (Magento SKU, quantity) for every changed SKU.

    Set-based whatever the catalogue size: the ERP's figures go into a temporary staging
    table in one batched insert; the database then inserts SKUs it has never seen, updates
    only rows whose figure moved, and selects rows that differ from what Magento was told.
    """
    by_code = _magento_skus_by_code()
    now = timezone.now()
    rows = [
        (sku, code, str(quantity))
        for code, quantity in availability.items()
        for sku in by_code.get(code) or [code]
    ]
    table, _ = model_names(StockLevel)
    with (
        connection.cursor() as cursor,
        staging_table(cursor, "stock_staging", STAGING_COLUMNS, rows) as staging,
    ):
        # names come from the model's meta and the staging table's definition
        cursor.execute(
            f"INSERT INTO {table} (sku, erp_code, erp_available, erp_read_at) "  # noqa: S608
            f"SELECT s.sku, s.erp_code, s.qty, %s FROM {staging} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} l WHERE l.sku = s.sku)",
            [now],
        )
        cursor.execute(
            f"UPDATE {table} SET erp_available = s.qty, erp_code = s.erp_code, "  # noqa: S608
            f"erp_read_at = %s FROM {staging} s "
            f"WHERE {table}.sku = s.sku AND ({table}.erp_available IS NULL "
            f"OR {table}.erp_available <> s.qty OR {table}.erp_code <> s.erp_code)",
            [now],
        )
        cursor.execute(
            f"SELECT l.sku, l.erp_available FROM {table} l "  # noqa: S608
            f"JOIN {staging} s ON s.sku = l.sku "
            "WHERE l.magento_told IS NULL OR l.magento_told <> l.erp_available"
        )
        return [(sku, Decimal(str(qty))) for sku, qty in cursor.fetchall()]


@transaction.atomic
def stock_outbox_write(*, changes: list[tuple[str, Decimal]]) -> int:
    """Queue absolute quantities; a newer figure supersedes an unsent older one."""
    if not changes:
        return 0
    skus = [sku for sku, _ in changes]
    for chunk in chunked(skus):
        StockPush.objects.filter(sku__in=chunk, status=PushStatus.PENDING).update(
            status=PushStatus.SUPERSEDED, settled_at=timezone.now()
        )
    already_sent = set()
    for chunk in chunked(skus):
        already_sent |= set(
            StockPush.objects.filter(sku__in=chunk, status=PushStatus.SENT).values_list(
                "sku", "quantity"
            )
        )
    StockPush.objects.bulk_create(
        [
            StockPush(sku=sku, quantity=qty)
            for sku, qty in changes
            if (sku, qty) not in already_sent
        ],
        batch_size=2000,
    )
    return len(changes)


def sku_set_subject(skus: list[str]) -> str:
    """A stable name for a set of SKUs, so a batch's retries count on one exception."""
    ordered = sorted(set(skus))
    digest = hashlib.sha256("\n".join(ordered).encode()).hexdigest()[:10]
    head = ", ".join(ordered[:3]) + (f" and {len(ordered) - 3} more" if len(ordered) > 3 else "")
    return f"stock push {digest}: {head}"[:350]


class StockPusher:
    """Delivers outbox rows, settles them from bulk status, dead-letters after the limit."""

    def __init__(
        self,
        magento: MagentoClient,
        run: SyncRun,
        *,
        batch: int | None = None,
        max_attempts: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.magento, self.run = magento, run
        self.batch = batch or settings.SYNC_STOCK_BATCH
        self.max_attempts = max_attempts or settings.SYNC_STOCK_MAX_ATTEMPTS
        self.sleep, self.rng = sleep, rng
        self.settled: list[str] = []
        self.api_calls_before = magento.calls

    def _retry_later(self, rows: list[StockPush], error: str, *, sent: bool = False) -> None:
        """Back off and retry, or dead-letter at the limit. `sent`: the attempt was already
        counted when the rows went out (they failed in Magento's queue, not on the way)."""
        now = timezone.now()
        dead: list[StockPush] = []
        for row in rows:
            if not sent:
                row.attempts += 1
            row.last_error = error[:2000]
            if row.attempts >= self.max_attempts:
                row.status = PushStatus.DEAD
                row.settled_at = now
                dead.append(row)
            else:
                row.status = PushStatus.PENDING
                row.bulk_uuid = ""
                delay = full_jitter_delay(row.attempts, base=5, cap=600, rng=self.rng)
                row.next_attempt_at = now + timedelta(seconds=delay)
        StockPush.objects.bulk_update(
            rows, ["attempts", "last_error", "status", "settled_at", "bulk_uuid", "next_attempt_at"]
        )
        if dead:
            self.run.failed += len(dead)
            skus = [row.sku for row in dead]
            exception_raise(
                kind=ExceptionKind.STOCK_PUSH_FAILED,
                subject=sku_set_subject(skus),
                message=(
                    f"{len(skus)} stock update(s) could not be delivered to Magento after "
                    f"{self.max_attempts} attempts: {error}"
                ),
                system=System.MAGENTO,
                sku=skus[0] if len(skus) == 1 else "",
                evidence={
                    "skus": sorted(skus)[:500],
                    "quantities": {r.sku: str(r.quantity) for r in dead[:500]},
                    "error": error,
                },
                units=Decimal(len(skus)),
            )

    def push_due(self) -> None:
        while True:
            due = StockPush.objects.filter(
                status=PushStatus.PENDING, next_attempt_at__lte=timezone.now()
            )
            first = due.order_by("attempts", "pk").first()
            if first is None:
                return
            # A failed batch is retried in halves, so one SKU Magento refuses ends up
            # dead-lettered alone instead of taking its whole batch with it.
            size = max(1, self.batch >> first.attempts)
            rows = list(due.filter(attempts=first.attempts).order_by("pk")[:size])
            items = [
                {
                    "sku": row.sku,
                    "source_code": settings.MAGENTO_SOURCE_CODE,
                    "quantity": float(row.quantity),
                    "status": 1 if row.quantity > 0 else 0,
                }
                for row in rows
            ]
            try:
                accepted = self.magento.source_items_async(items)
            except CircuitOpenError:
                raise
            except ConnectorError as exc:
                self._retry_later(rows, str(exc))
                continue
            uuid = str((accepted or {}).get("bulk_uuid") or "")
            rejected = [
                i.get("error_message", "rejected")
                for i in (accepted or {}).get("request_items") or []
                if i.get("status") == "rejected"
            ]
            if not uuid or rejected:
                self._retry_later(rows, "; ".join(rejected) or "no bulk_uuid in 202 answer")
                continue
            StockPush.objects.filter(pk__in=[r.pk for r in rows]).update(
                status=PushStatus.SENT, bulk_uuid=uuid, attempts=F("attempts") + 1
            )
            self.run.posted += len(rows)

    def poll(self, *, rounds: int = 3, wait: float = 0.2) -> None:
        """Settle sent rows from their bulk status; open ones stay for the next run."""
        for attempt in range(rounds):
            uuids = list(
                StockPush.objects.filter(status=PushStatus.SENT)
                .values_list("bulk_uuid", flat=True)
                .distinct()
            )
            if not uuids:
                return
            still_open = False
            for uuid in uuids:
                still_open |= self._settle(uuid)
            if not still_open:
                return
            if attempt + 1 < rounds:
                self.sleep(wait)

    def _settle(self, uuid: str) -> bool:
        status = self.magento.bulk_status(uuid)
        ops = status.get("operations_list") or []
        codes = {int(op.get("status") or OP_OPEN) for op in ops} or {OP_OPEN}
        rows = list(StockPush.objects.filter(bulk_uuid=uuid, status=PushStatus.SENT))
        if OP_OPEN in codes:
            return True
        if codes == {OP_COMPLETE}:
            now = timezone.now()
            with transaction.atomic():
                StockPush.objects.filter(pk__in=[r.pk for r in rows]).update(
                    status=PushStatus.DONE, settled_at=now
                )
                levels = {
                    lvl.sku: lvl for lvl in StockLevel.objects.filter(sku__in=[r.sku for r in rows])
                }
                for row in rows:
                    level = levels.get(row.sku)
                    if level is not None:
                        level.magento_told, level.told_at = row.quantity, now
                StockLevel.objects.bulk_update(list(levels.values()), ["magento_told", "told_at"])
            self.settled += [r.sku for r in rows]
            return False
        messages = "; ".join(
            str(op.get("result_message") or "") for op in ops if op.get("status") != OP_COMPLETE
        )
        self._retry_later(rows, f"bulk {uuid}: {messages or 'failed'}", sent=True)
        return False

    def read_back(self) -> int:
        """Compare what Magento now reports with what it was told; drift is an exception."""
        if not self.settled:
            return 0
        reported = {
            item["sku"]: Decimal(str(item.get("quantity") or 0))
            for item in self.magento.source_items(
                self.settled, source_code=settings.MAGENTO_SOURCE_CODE
            )
        }
        return stock_drift_check(skus=self.settled, reported=reported)


def stock_drift_check(*, skus: list[str], reported: dict[str, Decimal]) -> int:
    """Record Magento's figures; raise stock_drift beyond tolerance, resolve it when equal."""
    tolerance = Decimal(settings.SYNC_STOCK_TOLERANCE)
    now = timezone.now()
    drifted = 0
    levels = [
        level for chunk in chunked(skus) for level in StockLevel.objects.filter(sku__in=chunk)
    ]
    open_drift = set(
        DeskException.objects.filter(
            kind=ExceptionKind.STOCK_DRIFT, status__in=LIVE_STATUSES
        ).values_list("subject", flat=True)
    )
    for level in levels:
        level.magento_reported = reported.get(level.sku)
        level.reported_at = now
    StockLevel.objects.bulk_update(levels, ["magento_reported", "reported_at"])
    for level in levels:
        if level.erp_available is None:
            continue
        magento = level.magento_reported
        if magento is None or abs(magento - level.erp_available) > tolerance:
            drifted += 1
            exception_raise(
                kind=ExceptionKind.STOCK_DRIFT,
                subject=level.sku,
                message=(
                    f"Magento shows {magento if magento is not None else 'no source item'} for "
                    f"{level.sku}, the ERP has {level.erp_available} available"
                    + (
                        f" (Magento was told {level.magento_told})"
                        if level.magento_told is not None
                        else ""
                    )
                    + "."
                ),
                system=System.MAGENTO,
                sku=level.sku,
                evidence={
                    "erp_available": str(level.erp_available),
                    "magento_told": str(level.magento_told),
                    "magento_reported": str(magento),
                },
                units=abs((magento or Decimal(0)) - level.erp_available),
            )
        elif level.sku in open_drift:
            exception_auto_resolve(
                kind=ExceptionKind.STOCK_DRIFT,
                subject=level.sku,
                note="Magento's quantity equals the ERP's again.",
            )
    return drifted


def stock_run(
    *,
    magento: MagentoClient,
    erp: ErpAdapter,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
) -> SyncRun:
    """One stock run (skipped if another is in progress)."""

    def body(run: SyncRun, lease: Lease) -> None:
        availability = erp.availability()
        run.seen = len(availability)
        changes = stock_delta_record(availability=availability)
        stock_outbox_write(changes=changes)
        pusher = StockPusher(magento, run, sleep=sleep, rng=rng)
        # Push, settle, and push again what settled as retriable and is already due.
        for _ in range(pusher.max_attempts + 1):
            pusher.push_due()
            lease.renew()
            pusher.poll()
            if not StockPush.objects.filter(
                status=PushStatus.PENDING, next_attempt_at__lte=timezone.now()
            ).exists():
                break
        drifted = pusher.read_back()
        if drifted:
            run.error = f"{drifted} SKU(s) drifted after the push settled."

    return flow_run(Flow.STOCK, body)
