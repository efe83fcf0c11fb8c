"""Refunds on the order page, in words an agent reads out: how much Magento gave back and when,
for what, and where the ERP's credit note stands (DESIGN §8).

`refund_step` is the path's last step when the order has a credit memo; `refund_headline` says
a full refund first, and adds a partial one to whatever the headline already says.
"""

from __future__ import annotations

from decimal import Decimal

from cx import words
from cx.path_steps import PathStep, StepState, Tone
from exceptions_app.models import DeskException, ExceptionKind
from integration.models import (
    CreditMemo,
    CreditMemoErpStatus,
    CreditMemoState,
    Order,
    OrderLine,
)

CLOSED = "closed"


def credit_memos_for(order: Order) -> list[CreditMemo]:
    """The order's refunds, oldest first, with their lines (one query with none, else two)."""
    return list(
        order.credit_memos.filter(state=CreditMemoState.REFUNDED)
        .prefetch_related("lines")
        .order_by("pk")
    )


def refunded_total(memos: list[CreditMemo]) -> Decimal:
    return sum((m.grand_total for m in memos), Decimal(0))


def is_full(order: Order, memos: list[CreditMemo]) -> bool:
    return order.state == CLOSED or refunded_total(memos) >= order.grand_total


def _what(memo: CreditMemo, lines: list[OrderLine]) -> str:
    """ "1 × Joust Duffle Bag and the delivery charge, plus a £2.00 goodwill payment"."""
    by_item = {line.item_id: line for line in lines}
    items = [
        (line.name or line.sku, line.qty)
        for line in memo.lines.all()
        if not (by_item.get(line.order_item_id) and by_item[line.order_item_id].parent_item_id)
    ]
    parts = [words.items_words(((name, qty) for name, qty in items), {})] if items else []
    if memo.shipping_amount:
        parts.append("the delivery charge")
    text = " and ".join(parts) or "nothing itemised"
    if memo.adjustment_positive:
        text += f", plus {words.money(memo.adjustment_positive, memo.currency_code)} goodwill"
    if memo.adjustment_negative:
        text += f", less a {words.money(memo.adjustment_negative, memo.currency_code)} fee"
    return text


def _in_erp(memo: CreditMemo) -> str:
    if memo.erp_status == CreditMemoErpStatus.POSTED:
        back = [line for line in memo.lines.all() if line.qty_returned]
        text = f"credit note {memo.erp_number or memo.erp_document_id} is in the ERP"
        if back:
            goods = words.items_words(((ln.name or ln.sku, ln.qty_returned) for ln in back), {})
            text += f"; the warehouse expects {goods} back"
        return text
    if memo.erp_status == CreditMemoErpStatus.FAILED:
        return "the ERP refused its credit note; the finance team is fixing it"
    if memo.erp_status == CreditMemoErpStatus.SKIPPED:
        return "nothing to credit in the ERP (the order is not in its books)"
    return "its credit note goes to the ERP within minutes"


def refund_words(memo: CreditMemo, lines: list[OrderLine]) -> str:
    """One refund as a sentence: amount, day, how, for what, and the ERP's credit note."""
    how = "to the card" if memo.online else "offline"
    return words.sentence(
        f"Refunded {words.money(memo.grand_total, memo.currency_code)} on "
        f"{words.day(memo.magento_created_at)} ({how}) for {_what(memo, lines)}: {_in_erp(memo)}"
    )


def refund_step(
    order: Order,
    memos: list[CreditMemo],
    lines: list[OrderLine],
    exceptions: list[DeskException],
) -> PathStep | None:
    """The "Refunded" step, or None when Magento has refunded nothing."""
    if not memos:
        return None
    total = words.money(refunded_total(memos), order.currency_code)
    failed = tuple(
        e for e in exceptions if e.kind == ExceptionKind.REFUND_POST_FAILED and e.is_working
    )
    if is_full(order, memos):
        summary = f"Refunded in full: {total}."
    else:
        of = words.money(order.grand_total, order.currency_code)
        summary = f"Partly refunded: {total} of {of}."
    if failed:
        state = StepState.BLOCKED
    elif any(m.erp_status == CreditMemoErpStatus.NEW for m in memos):
        state = StepState.CURRENT
    else:
        state = StepState.DONE
    return PathStep(
        "refund",
        "Refunded",
        state,
        summary,
        details=tuple(refund_words(m, lines) for m in memos),
        exceptions=failed,
    )


def refund_steps(
    order: Order,
    memos: list[CreditMemo],
    lines: list[OrderLine],
    exceptions: list[DeskException],
    steps: tuple[PathStep, ...],
) -> tuple[PathStep, ...]:
    """The path with its "Refunded" step last, when there is a refund."""
    step = refund_step(order, memos, lines, exceptions)
    return steps if step is None else (*steps, step)


def refund_headline(
    order: Order, memos: list[CreditMemo], headline: str, tone: str
) -> tuple[str, str]:
    """A full refund is what the agent says first; a partial one follows the headline."""
    if not memos:
        return headline, tone
    total = words.money(refunded_total(memos), order.currency_code)
    when = words.day(memos[-1].magento_created_at)
    if is_full(order, memos):
        return f"Refunded in full ({total}) on {when}.", Tone.SECONDARY
    return f"{headline} Partly refunded: {total} on {when}.", tone
