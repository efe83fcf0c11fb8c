"""Orders out: every paid order not yet in the ERP is validated, then held or posted."""

from __future__ import annotations

from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.connectors.backoff import CircuitOpenError
from integration.connectors.erp import ErpAdapter
from integration.flows.runs import error_system, flow_run
from integration.locks import Lease
from integration.models import Flow, Order, OrderErpStatus, SyncRun
from integration.orders import context_build, orders_for_validation, orders_process

# Orders validated together: the mappings, ERP items and open exceptions are read once per
# batch, and its holds are written in one transaction.
BATCH = 500
# The one exception an ERP outage raises, however many orders it blocks.
OUTAGE_SUBJECT = "ERP unreachable"


def orders_pending(after_id: int = 0, limit: int = BATCH) -> list[Order]:
    # The batch's keys (an index-only query on (erp_status, id)), then the loader's queries.
    ids = list(
        Order.objects.filter(erp_status=OrderErpStatus.NEW, pk__gt=after_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return orders_for_validation(Order.objects.filter(pk__in=ids).order_by("pk"))


def orders_out_run(*, erp: ErpAdapter) -> SyncRun:
    """One orders-out run (skipped if another is in progress)."""

    def body(run: SyncRun, lease: Lease) -> None:
        last = 0
        while True:
            orders = orders_pending(last)
            if not orders:
                break
            last = orders[-1].pk
            try:
                ctx = context_build(erp=erp, orders=orders)
                for _order, outcome in orders_process(orders=orders, erp=erp, ctx=ctx):
                    run.seen += 1
                    if outcome.status in ("posted", "already"):
                        run.posted += 1
                    elif outcome.status == "held":
                        run.held += 1
                    elif outcome.status == "busy":
                        pass  # another worker is posting it right now; it counts there
                    else:
                        run.failed += 1
            except CircuitOpenError as exc:
                exception_raise(
                    kind="order_post_failed",
                    subject=OUTAGE_SUBJECT,
                    message=f"Orders cannot be posted: {exc}",
                    system=error_system(exc),
                    evidence={"error": str(exc)},
                )
                raise
            lease.renew()
        if run.posted:
            exception_auto_resolve(
                kind="order_post_failed",
                subject=OUTAGE_SUBJECT,
                note="Orders reach the ERP again.",
            )

    return flow_run(Flow.ORDERS_OUT, body)
