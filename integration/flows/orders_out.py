"""Orders out: every paid order not yet in the ERP is validated, then held or posted.

`orders_process` is the one path from a batch of orders to the ERP: the flow runs it over every
new order, and each replay over the orders a fixed cause held.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from exceptions_app.models import System
from integration.connectors.backoff import CircuitOpenError
from integration.connectors.erp import ErpAdapter, SaleRequest
from integration.flows.runs import flow_run, run_record_failure
from integration.locks import Lease
from integration.models import Flow, Order, OrderErpStatus, SyncRun
from integration.orders.history import books_close
from integration.orders.holds import orders_hold
from integration.orders.lifecycle import orders_lifecycle, orders_wanted
from integration.orders.posting import (
    PostOutcome,
    PostStatus,
    order_post,
    outage_over,
    post_failed,
)
from integration.orders.validation import (
    Cause,
    ValidationContext,
    context_build,
    order_validate,
    orders_for_validation,
)

# Orders validated together: the mappings, ERP items and open exceptions are read once per
# batch, and its holds are written in one transaction.
BATCH = 500


def orders_process(
    *, orders: Sequence[Order], erp: ErpAdapter, ctx: ValidationContext | None = None
) -> Iterator[tuple[Order, PostOutcome]]:
    """Validate a batch, then hold or post each order, yielding each outcome as it is settled.

    Validation and holds are done for the whole batch first (holds in one transaction); valid
    orders are then posted one at a time, each under its own claim, because each is a
    separate sale in the ERP and no lock may be held across another order's ERP calls.
    `CircuitOpenError` propagates (the ERP is down: the caller stops); what was settled before
    it was yielded.
    """
    pending = [o for o in orders if o.erp_status != OrderErpStatus.POSTED]
    for order in orders:
        if order.erp_status == OrderErpStatus.POSTED:
            yield (
                order,
                PostOutcome(PostStatus.ALREADY, f"already in the ERP as {order.erp_sale_id}"),
            )
    # Cancelled, on hold or under review in Magento: never posted, whoever asks.
    pending, unwanted = orders_wanted(pending)
    yield from unwanted
    if not pending:
        return
    if ctx is None:
        ctx = context_build(erp=erp, orders=pending)
    to_hold: list[tuple[Order, list[Cause]]] = []
    to_post: list[tuple[Order, SaleRequest]] = []
    for order in pending:
        request, causes = order_validate(order, ctx)
        if causes:
            to_hold.append((order, causes))
        else:
            to_post.append((order, request))
    if to_hold:
        orders_hold(holds=to_hold)
        for order, causes in to_hold:
            detail = "; ".join(c.message for c in causes)
            yield order, PostOutcome(PostStatus.HELD, detail, causes=causes)
    for order, request in to_post:
        yield (
            order,
            order_post(
                order=order, request=request, erp=erp, open_post_failures=ctx.open_post_failures
            ),
        )


def orders_pending(after_id: int = 0, limit: int = BATCH, *, history: bool = False) -> list[Order]:
    """The next batch of new orders after `after_id`, loaded for validation: orders for the
    warehouse, or (`history`) those Magento fulfilled itself, posted for the books only."""
    # The batch's keys (an index scan on (erp_status, ...)), then the loader's queries.
    ids = list(
        Order.objects.filter(
            erp_status=OrderErpStatus.NEW, fulfilled_outside=history, pk__gt=after_id
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return orders_for_validation(Order.objects.filter(pk__in=ids).order_by("pk"))


def _count(run: SyncRun, outcome: PostOutcome) -> None:
    run.seen += 1
    if outcome.in_erp:
        run.posted += 1
    elif outcome.status == PostStatus.HELD:
        run.held += 1
    elif outcome.status not in (PostStatus.BUSY, PostStatus.SKIPPED):
        run.failed += 1  # a busy order counts in the run posting it


def orders_out_run(*, erp: ErpAdapter) -> SyncRun:
    """One orders-out run (skipped if another is in progress)."""

    def body(run: SyncRun, lease: Lease) -> None:
        try:
            # Magento's cancels and holds of posted orders first: an edited order's original
            # is cancelled in the ERP before its replacement is posted below.
            lifecycle = orders_lifecycle(erp=erp)
            for reference, error in lifecycle.failed:
                subject = f"cancel of {reference}"
                run_record_failure(run, subject=subject, error=str(error), system=System.ERP)
            if lifecycle.reprocess:
                released = orders_for_validation(Order.objects.filter(pk__in=lifecycle.reprocess))
                for _order, outcome in orders_process(orders=released, erp=erp):
                    _count(run, outcome)
        except CircuitOpenError as exc:
            post_failed(error=exc)
            raise
        # Orders for the warehouse first: a go-live backlog of history (books only) never
        # keeps today's orders from the picking list.
        for history in (False, True):
            last = 0
            while True:
                orders = orders_pending(last, history=history)
                if not orders:
                    break
                last = orders[-1].pk
                try:
                    ctx = context_build(erp=erp, orders=orders)
                    for _order, outcome in orders_process(orders=orders, erp=erp, ctx=ctx):
                        _count(run, outcome)
                except CircuitOpenError as exc:
                    post_failed(error=exc)
                    raise
                lease.renew()
        # History posted for the books: its invoices, once the ERP has made them.
        _closed, books_failed = books_close(erp=erp)
        for reference, error in books_failed:
            subject = f"books invoice of {reference}"
            run_record_failure(run, subject=subject, error=str(error), system=System.ERP)
        if run.posted:
            outage_over()

    return flow_run(Flow.ORDERS_OUT, body)
