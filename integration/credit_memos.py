"""Magento credit memos as the desk mirrors them, and what the ERP is asked to credit for one.

A credit memo lists every item of its order, those not refunded with qty 0; the mirror keeps the
refunded ones. Its credit note is read line by line and expanded like the order (configurables
once, bundles as their parts): goods Magento had shipped and no earlier credit note took back
are a return, the rest is money only; shipping and Magento's (untaxed) adjustments follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from integration.connectors.erp import CreditLineRequest, CreditNoteRequest, ErpRejected
from integration.models import (
    CreditMemo,
    CreditMemoErpStatus,
    CreditMemoLine,
    CreditMemoState,
    Order,
    SkuMapping,
)
from integration.orders.payload import decimal_of, magento_time
from integration.skus import LineSource, lines_expand

# sales_creditmemo.state
MEMO_STATES = {1: CreditMemoState.OPEN, 2: CreditMemoState.REFUNDED, 3: CreditMemoState.CANCELED}


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
