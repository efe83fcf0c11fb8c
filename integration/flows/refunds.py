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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from exceptions_app.models import ExceptionKind, System
from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.erp import (
    CreditLineRequest,
    CreditNoteRequest,
    ErpAdapter,
    ErpCreditNote,
    ErpRejected,
)
from integration.connectors.magento.client import MagentoClient
from integration.flows.runs import flow_run, run_record_failure
from integration.flows.stock_now import stock_levels_repush
from integration.locks import Lease
from integration.models import (
    CreditMemo,
    CreditMemoErpStatus,
    CreditMemoLine,
    CreditMemoState,
    Flow,
    Order,
    OrderErpStatus,
    SkuMapping,
    SyncRun,
    Watermark,
)
from integration.orders.payload import decimal_of, magento_time
from integration.skus import LineSource, lines_expand

# sales_creditmemo.state
MEMO_STATES = {1: CreditMemoState.OPEN, 2: CreditMemoState.REFUNDED, 3: CreditMemoState.CANCELED}
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


# -- the mirror --


def _memo_fields(payload: dict) -> dict:
    return {
        "increment_id": str(payload.get("increment_id") or payload["entity_id"]),
        "magento_order_id": int(payload["order_id"]),
        "state": MEMO_STATES.get(int(payload.get("state") or 2), CreditMemoState.REFUNDED),
        "online": bool(payload.get("transaction_id")),
        "currency_code": payload.get("order_currency_code")
        or payload.get("base_currency_code")
        or "GBP",
        "subtotal": decimal_of(payload.get("subtotal")),
        "discount_amount": decimal_of(payload.get("discount_amount")),
        "tax_amount": decimal_of(payload.get("tax_amount")),
        "shipping_amount": decimal_of(payload.get("shipping_amount")),
        "shipping_tax_amount": decimal_of(payload.get("shipping_tax_amount")),
        "adjustment_positive": decimal_of(payload.get("adjustment_positive")),
        "adjustment_negative": decimal_of(payload.get("adjustment_negative")),
        "grand_total": decimal_of(payload.get("grand_total")),
        "magento_created_at": magento_time(payload.get("created_at")),
        "magento_updated_at": magento_time(payload.get("updated_at") or payload.get("created_at")),
        "payload": payload,
    }


def _memo_lines(memo: CreditMemo, payload: dict) -> list[CreditMemoLine]:
    """The items refunded (qty > 0): Magento lists the order's other items with qty 0."""
    return [
        CreditMemoLine(
            credit_memo=memo,
            order_item_id=int(item["order_item_id"]),
            sku=item.get("sku") or "",
            name=(item.get("name") or "")[:255],
            qty=decimal_of(item.get("qty")),
            price=decimal_of(item.get("price")),
            row_total=decimal_of(item.get("row_total")),
            tax_amount=decimal_of(item.get("tax_amount")),
            discount_amount=decimal_of(item.get("discount_amount")),
            row_total_incl_tax=decimal_of(item.get("row_total_incl_tax")),
        )
        for item in payload.get("items") or []
        if decimal_of(item.get("qty")) > 0
    ]


def credit_memos_upsert(*, payloads: Iterable[dict]) -> int:
    """Mirror credit memos; a credited one keeps its lines and ERP fields. Returns how many."""
    payloads = list(payloads)
    orders = {
        o.entity_id: o
        for o in Order.objects.filter(entity_id__in={int(p["order_id"]) for p in payloads})
    }
    now = timezone.now()
    for payload in payloads:
        fields = _memo_fields(payload)
        with transaction.atomic():
            memo, created = CreditMemo.objects.select_for_update().get_or_create(
                entity_id=int(payload["entity_id"]),
                defaults={**fields, "order": orders.get(fields["magento_order_id"])},
            )
            if not created:
                for name, value in fields.items():
                    setattr(memo, name, value)
                memo.order = memo.order or orders.get(fields["magento_order_id"])
                memo.last_pulled_at = now
                memo.save()
            if memo.erp_status != CreditMemoErpStatus.POSTED:
                memo.lines.all().delete()
                CreditMemoLine.objects.bulk_create(_memo_lines(memo, payload))
    return len(payloads)


# -- what the ERP credits --


def _returned_before(memo: CreditMemo) -> dict[int, Decimal]:
    """Per order item: what earlier credit notes of the order already took back."""
    rows = (
        CreditMemoLine.objects.filter(
            credit_memo__order=memo.order, credit_memo__erp_status=CreditMemoErpStatus.POSTED
        )
        .exclude(credit_memo=memo)
        .values("order_item_id")
        .annotate(back=Sum("qty_returned"))
    )
    return {r["order_item_id"]: r["back"] or Decimal(0) for r in rows}


def credit_note_request(memo: CreditMemo) -> tuple[CreditNoteRequest, dict[int, Decimal]]:
    """The credit note for `memo`, and the quantity per order item it takes back."""
    order = memo.order
    order_lines = {line.item_id: line for line in order.lines.all()}
    memo_lines = list(memo.lines.all())
    in_memo = {line.order_item_id for line in memo_lines}
    sources = []
    for line in memo_lines:
        ordered = order_lines.get(line.order_item_id)
        if ordered is None:
            raise ErpRejected(
                f"credit memo {memo.increment_id} refunds order item {line.order_item_id}, "
                f"which order {order.increment_id} does not have"
            )
        parent = ordered.parent_item_id if ordered.parent_item_id in in_memo else None
        sources.append(
            LineSource(
                item_id=ordered.item_id,
                parent_item_id=parent,
                sku=ordered.sku,
                name=ordered.name,
                product_type=ordered.product_type,
                qty_ordered=line.qty,
                price=line.price,
                row_total=line.row_total,
                tax_amount=line.tax_amount,
                discount_amount=line.discount_amount,
                row_total_incl_tax=line.row_total_incl_tax,
            )
        )
    mappings = dict(SkuMapping.objects.values_list("magento_sku", "erp_item_code"))
    before = _returned_before(memo)
    lines: list[CreditLineRequest] = []
    back: dict[int, Decimal] = {}
    for expanded in lines_expand(sources):
        code = mappings.get(expanded.sku, expanded.sku)
        shipped = order_lines[expanded.item_id].qty_shipped if expanded.ships else Decimal(0)
        returned = min(expanded.quantity, max(shipped - before.get(expanded.item_id, 0), 0))
        kept = expanded.quantity - returned
        name = f"{expanded.name} ({expanded.sku})"
        if returned:
            back[expanded.item_id] = returned
            lines.append(
                CreditLineRequest(code, returned, expanded.unit_price, f"Return: {name}", True)
            )
        if kept:
            lines.append(
                CreditLineRequest(
                    code, kept, expanded.unit_price, f"Refund without return: {name}", False
                )
            )
    how = "online (payment gateway)" if memo.online else "offline"
    request = CreditNoteRequest(
        reference=memo.refund_key,
        sale_reference=order.increment_id,
        credit_date=(memo.magento_created_at or timezone.now()).date(),
        lines=tuple(lines),
        shipping_amount=memo.shipping_amount,
        adjustment=memo.adjustment_positive - memo.adjustment_negative,
        comment=f"Magento credit memo {memo.increment_id} of order {order.increment_id}, "
        f"refunded {how}",
    )
    return request, back


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
