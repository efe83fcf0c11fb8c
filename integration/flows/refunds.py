"""Refunds: Magento credit memos become ERP credit notes for exactly what was refunded, once.

Credit memos are pulled by `updated_at` like orders (the watermark minus the orders' overlap) into
the mirror, then each refunded one whose order is in the ERP is credited there. Its key
(`<order>/CM<credit memo>`) is asked of the ERP first, so a replay, a lost answer or a rerun
finds the first credit note instead of making a second.

What the ERP credits is read from the credit memo, line by line: refunded goods Magento had
shipped are a return (the warehouse receives the parcel; the ERP counts it as stock only then),
refunded goods that never left are money only, and so are shipping and Magento's adjustments.
Magento's REST API does not say whether a refund put items back to Magento's own stock (its
`return_to_stock_items` is not stored on the credit memo), and the ERP owns stock anyway: the
SKUs of a return are re-pushed from the ERP on the next stock run, so Magento shows what the
warehouse really has.

A credit note the ERP refuses is a `refund_post_failed` exception naming why; replaying it runs
the same post. A credit memo whose order never reached the ERP has nothing to credit (skipped);
one whose order is still on its way waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exceptions_app.models import ExceptionKind, System
from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.erp import (
    ErpAdapter,
    ErpCreditNote,
    ErpRejected,
)
from integration.connectors.magento.client import MagentoClient
from integration.credit_memos import credit_memos_upsert, credit_note_request
from integration.flows.runs import flow_run, run_record_failure
from integration.flows.stock_now import stock_levels_repush
from integration.locks import Lease
from integration.models import (
    CreditMemo,
    CreditMemoErpStatus,
    CreditMemoState,
    Flow,
    Order,
    OrderErpStatus,
    SyncRun,
    Watermark,
)
from integration.orders.payload import magento_time

# Order statuses on their way to the ERP: their refunds wait for them.
WAITING_ORDER = frozenset({OrderErpStatus.NEW, OrderErpStatus.HELD, OrderErpStatus.FAILED})
PAGE_BATCH = 200


class RefundOutcome(StrEnum):
    POSTED = "posted"  # the credit note was made now
    ALREADY = "already"  # the ERP had it (a replay, a lost answer)
    WAITING = "waiting"  # the order is not in the ERP yet
    SKIPPED = "skipped"  # nothing to credit: not refunded, or the order never went to the ERP
    FAILED = "failed"  # the ERP refused it: an exception says why
    RETRY = "retry"  # the ERP could not be reached; the next run tries again


@dataclass(frozen=True)
class RefundResult:
    outcome: RefundOutcome
    detail: str = ""

    @property
    def credited(self) -> bool:
        return self.outcome in (RefundOutcome.POSTED, RefundOutcome.ALREADY)


# -- posting --


def _refused(memo: CreditMemo, error: Exception) -> RefundResult:
    order = memo.order
    with transaction.atomic():
        CreditMemo.objects.filter(pk=memo.pk).update(erp_status=CreditMemoErpStatus.FAILED)
        memo.erp_status = CreditMemoErpStatus.FAILED
        exception_raise(
            kind=ExceptionKind.REFUND_POST_FAILED,
            subject=memo.refund_key,
            message=(
                f"The ERP refused the credit note for Magento credit memo {memo.increment_id} "
                f"of order {order.increment_id} "
                f"({memo.grand_total} {memo.currency_code} refunded): {error}"
            ),
            system=System.ERP,
            order_increment_id=order.increment_id,
            erp_document=order.erp_sale_id,
            period=f"{memo.magento_created_at:%Y-%m}" if memo.magento_created_at else "",
            evidence={
                "credit_memo": memo.increment_id,
                "reference": memo.refund_key,
                "error": str(error),
                "refunded": str(memo.grand_total),
                "lines": [[line.sku, str(line.qty)] for line in memo.lines.all()],
            },
            amount=memo.grand_total,
            currency=memo.currency_code,
        )
    return RefundResult(RefundOutcome.FAILED, str(error))


def _credited_record(
    memo: CreditMemo, note: ErpCreditNote, back: dict[int, Decimal], *, created: bool
) -> RefundResult:
    with transaction.atomic():
        memo.erp_status = CreditMemoErpStatus.POSTED
        memo.erp_reference = note.reference
        memo.erp_document_id = note.erp_id
        memo.erp_number = note.number
        memo.erp_total = note.total_amount
        memo.erp_returns = list(note.returns)
        memo.erp_posted_at = memo.erp_posted_at or timezone.now()
        memo.save()
        for item_id, quantity in back.items():
            memo.lines.filter(order_item_id=item_id).update(qty_returned=quantity)
        exception_auto_resolve(
            kind=ExceptionKind.REFUND_POST_FAILED,
            subject=memo.refund_key,
            note=f"Credited in the ERP as {note.number or note.erp_id}.",
        )
    if back:
        # Magento may have put these back in its own stock: tell it the ERP's figure again.
        returned = memo.lines.filter(qty_returned__gt=0).values_list("sku", flat=True)
        stock_levels_repush(skus=list(returned))
    outcome = RefundOutcome.POSTED if created else RefundOutcome.ALREADY
    return RefundResult(outcome, f"credit note {note.number or note.erp_id}")


def credit_memo_post(*, memo: CreditMemo, erp: ErpAdapter) -> RefundResult:
    """Credit one credit memo in the ERP, once; the ERP is asked for its key first.

    `CircuitOpenError` (the ERP is down) propagates for the caller to stop its run.
    """
    if memo.erp_status == CreditMemoErpStatus.POSTED:
        return RefundResult(RefundOutcome.ALREADY, f"credit note {memo.erp_number}")
    order = memo.order
    if order is None:
        return RefundResult(RefundOutcome.WAITING, "its order is not in the desk yet")
    if memo.state != CreditMemoState.REFUNDED:
        memo.erp_status = CreditMemoErpStatus.SKIPPED
        memo.save(update_fields=["erp_status"])
        return RefundResult(RefundOutcome.SKIPPED, f"Magento has it {memo.state}")
    if order.erp_status != OrderErpStatus.POSTED or not order.erp_sale_id:
        if order.erp_status in WAITING_ORDER:
            return RefundResult(RefundOutcome.WAITING, "its order is not in the ERP yet")
        memo.erp_status = CreditMemoErpStatus.SKIPPED
        memo.save(update_fields=["erp_status"])
        return RefundResult(
            RefundOutcome.SKIPPED, f"its order is not in the ERP ({order.get_erp_status_display()})"
        )
    try:
        request, back = credit_note_request(memo)
        note = erp.credit_note_find(request.reference)
        created = note is None
        if note is None:
            note = erp.credit_note_create(request)
        elif not note.posted:
            note = erp.credit_note_settle(note.erp_id)
    except CircuitOpenError:
        raise
    except ErpRejected as exc:
        return _refused(memo, exc)
    except ConnectorError as exc:
        return RefundResult(RefundOutcome.RETRY, str(exc))
    return _credited_record(memo, note, back, created=created)


def refunds_process(*, erp: ErpAdapter, run: SyncRun | None = None) -> list[RefundResult]:
    """Credit every credit memo waiting for the ERP (not those refused: they are replayed)."""
    results = []
    memos = (
        CreditMemo.objects.filter(erp_status=CreditMemoErpStatus.NEW)
        .select_related("order")
        .order_by("pk")
    )
    for memo in memos:
        result = credit_memo_post(memo=memo, erp=erp)
        results.append(result)
        if run is None:
            continue
        if result.outcome == RefundOutcome.POSTED:
            run.posted += 1
        elif result.outcome == RefundOutcome.WAITING:
            run.held += 1
        elif result.outcome in (RefundOutcome.FAILED, RefundOutcome.RETRY):
            run_record_failure(
                run,
                subject=f"credit memo {memo.increment_id}",
                error=result.detail,
                system=System.ERP,
            )
    return results


def refunds_run(*, magento: MagentoClient, erp: ErpAdapter) -> SyncRun:
    """One refunds run: pull new credit memos, credit them (skipped if another run is on)."""

    def body(run: SyncRun, lease: Lease) -> None:
        mark = Watermark.objects.filter(flow=Flow.REFUNDS).first()
        overlap = timedelta(seconds=settings.SYNC_ORDERS_OVERLAP_SECONDS)
        since = (
            mark.value - overlap
            if mark
            else datetime.strptime(settings.SYNC_ORDERS_START, "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=UTC
            )
        )
        started = timezone.now()
        newest = None
        batch: list[dict] = []
        for payload in magento.creditmemos_updated_between(since):
            batch.append(payload)
            seen = magento_time(payload.get("updated_at"))
            if seen is not None:
                newest = seen if newest is None else max(newest, seen)
            if len(batch) >= PAGE_BATCH:
                run.seen += credit_memos_upsert(payloads=batch)
                batch = []
                lease.renew()
        run.seen += credit_memos_upsert(payloads=batch)
        # Credit memos pulled before their order: link them now the order may be mirrored.
        for memo in CreditMemo.objects.filter(order__isnull=True):
            memo.order = Order.objects.filter(entity_id=memo.magento_order_id).first()
            if memo.order is not None:
                memo.save(update_fields=["order"])
        refunds_process(erp=erp, run=run)
        if newest is not None:
            value = min(newest, started)  # never past the pull's start
            if mark is None or value > mark.value:
                Watermark.objects.update_or_create(flow=Flow.REFUNDS, defaults={"value": value})

    return flow_run(Flow.REFUNDS, body)
