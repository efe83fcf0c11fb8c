"""Posting a validated order under a claim, and the one place a failed post is decided.

An order reaches the ERP at most once: the post claims the order row and asks the ERP for the
Magento increment id (the sale's reference) before creating anything, so a replay, a
redelivered task or two racing workers all find the first sale instead of making a second.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from exceptions_app.models import ExceptionKind
from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.erp import ErpAdapter, ErpRejected, ErpSale, SaleRequest
from integration.flows.runs import error_system
from integration.models import Order, OrderErpStatus, OrderHold
from integration.orders.claims import (
    claim_or_wait,
    claim_record_posted,
    claim_release,
)
from integration.orders.holds import cause_raise, holds_release
from integration.orders.validation import Cause

DRAFT_STATES = frozenset({"draft", "quotation"})
# The one exception an ERP outage raises, however many orders it blocks.
OUTAGE_SUBJECT = "ERP unreachable"


class PostStatus(StrEnum):
    POSTED = "posted"  # the sale was created now
    ALREADY = "already"  # the ERP had it already (a replay, a lapsed claim, a lost answer)
    HELD = "held"  # validation held the order
    FAILED = "failed"  # the ERP refused it: failed, with an exception
    RETRY = "retry"  # not posted this time (retries ran out, or the ERP is down); stays new
    BUSY = "busy"  # another worker is posting it right now
    SKIPPED = "skipped"  # Magento no longer wants it posted (cancelled, on hold, history)


@dataclass
class PostOutcome:
    status: PostStatus
    detail: str = ""
    sale: ErpSale | None = None
    causes: list[Cause] = field(default_factory=list)

    @property
    def in_erp(self) -> bool:
        return self.status in (PostStatus.POSTED, PostStatus.ALREADY)


def order_post(
    *,
    order: Order,
    request: SaleRequest,
    erp: ErpAdapter,
    open_post_failures: set[str] | None = None,
) -> PostOutcome:
    """Post one validated order: claim it, find it in the ERP by reference, else create it.

    The claim (a lease on the order row) makes two racing posts one sale without holding a
    database transaction across the ERP's HTTP calls; the lookup by reference makes a post
    after a crash, or after a lapsed claim, find the sale instead of creating a second one.
    A refusal or spent retries are settled by `post_failed`; `CircuitOpenError` (the ERP is
    down) propagates, for the caller to stop its run.
    """
    owner = uuid.uuid4().hex
    claimed, status, sale_id = claim_or_wait(order.pk, owner)
    if status == OrderErpStatus.POSTED:
        return PostOutcome(PostStatus.ALREADY, f"already in the ERP as {sale_id}")
    if not claimed:
        return PostOutcome(PostStatus.BUSY, "another worker is posting this order")
    try:
        sale = erp.sale_find(request.reference)
        created = sale is None
        if sale is None:
            sale = erp.sale_create(request)
        elif sale.state in DRAFT_STATES:
            # A previous post died between create and confirm; finish it, don't duplicate.
            sale = erp.sale_confirm(sale)
        return _posted_record(
            order, owner, sale, created=created, prior=status, open_failures=open_post_failures
        )
    except CircuitOpenError:
        claim_release(order.pk, owner)
        raise
    except (ErpRejected, ConnectorError) as exc:
        claim_release(order.pk, owner)
        return post_failed(error=exc, order=order)
    except BaseException:
        claim_release(order.pk, owner)
        raise


def _posted_record(
    order: Order,
    owner: str,
    sale: ErpSale,
    *,
    created: bool,
    prior: str,
    open_failures: set[str] | None,
) -> PostOutcome:
    """Record the sale on the order under our claim; its holds and failure resolve."""
    label = f"sale {sale.number or sale.erp_id}"
    posted_at = timezone.now()
    with transaction.atomic():
        if not claim_record_posted(order.pk, owner, sale_id=sale.erp_id, posted_at=posted_at):
            # Our claim lapsed and another worker took over; it finds this same sale.
            return PostOutcome(PostStatus.ALREADY, label, sale=sale)
        order.erp_status, order.erp_sale_id, order.erp_posted_at = (
            OrderErpStatus.POSTED,
            sale.erp_id,
            posted_at,
        )
        if prior in (OrderErpStatus.HELD, OrderErpStatus.FAILED):
            # Only held or failed orders have holds to release.
            holds_release(
                OrderHold.objects.filter(order_id=order.pk, released_at__isnull=True),
                notes={order.pk: f"Order {order.increment_id} reached the ERP."},
            )
        if open_failures is None or order.increment_id in open_failures:
            exception_auto_resolve(
                kind=ExceptionKind.ORDER_POST_FAILED,
                subject=order.increment_id,
                note=f"Order {order.increment_id} reached the ERP as {label}.",
            )
    return PostOutcome(PostStatus.POSTED if created else PostStatus.ALREADY, label, sale=sale)


def post_failed(*, error: ErpRejected | ConnectorError, order: Order | None = None) -> PostOutcome:
    """Decide what a failed post means and record it: the one place a post failure is written.

    - The ERP cannot be reached (its circuit is open): the one outage exception, however many
      orders wait (`order` may be None); they stay new, and the caller stops its run.
    - The ERP refused the order (a rejection, or an error no retry can fix): the order fails,
      held by an `order_post_failed` exception carrying the ERP's message.
    - Retries ran out: counted on the order's `order_post_failed` exception; the order stays
      new, so the next run tries again.
    """
    if isinstance(error, CircuitOpenError):
        exception_raise(
            kind=ExceptionKind.ORDER_POST_FAILED,
            subject=OUTAGE_SUBJECT,
            message=f"Orders cannot be posted: {error}",
            system=error_system(error),
            evidence={"error": str(error)},
        )
        return PostOutcome(PostStatus.RETRY, str(error))
    if order is None:
        raise TypeError("only an outage is recorded without the order it stopped")
    reference = order.increment_id
    if isinstance(error, ErpRejected) or not error.retryable:
        verb = "rejected" if isinstance(error, ErpRejected) else "refused"
        cause = Cause(
            ExceptionKind.ORDER_POST_FAILED,
            reference,
            f"The ERP {verb} order {reference}: {error}",
        )
        _order_fail(order, cause, evidence={"error": str(error)})
        return PostOutcome(PostStatus.FAILED, str(error), causes=[cause])
    cause = Cause(
        ExceptionKind.ORDER_POST_FAILED,
        reference,
        f"Posting order {reference} failed after retries: {error}",
    )
    cause_raise(order, cause, evidence={"error": str(error), "retryable": True})
    return PostOutcome(PostStatus.RETRY, str(error))


@transaction.atomic
def _order_fail(order: Order, cause: Cause, *, evidence: dict) -> None:
    """The refused order is failed and held by the cause, unless it was posted meanwhile."""
    locked = (
        Order.objects.select_for_update()
        .only("erp_status", "increment_id", "grand_total", "currency_code")
        .get(pk=order.pk)
    )
    if locked.erp_status == OrderErpStatus.POSTED:
        return
    locked.erp_status = OrderErpStatus.FAILED
    locked.save(update_fields=["erp_status"])
    OrderHold.objects.get_or_create(
        order=locked,
        kind=cause.kind,
        subject=cause.subject,
        released_at=None,
        defaults={"message": cause.message},
    )
    cause_raise(locked, cause, evidence=evidence)


def outage_over() -> None:
    """Orders reach the ERP again: the outage exception resolves itself."""
    exception_auto_resolve(
        kind=ExceptionKind.ORDER_POST_FAILED,
        subject=OUTAGE_SUBJECT,
        note="Orders reach the ERP again.",
    )
