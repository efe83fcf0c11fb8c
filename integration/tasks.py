"""django-q2 tasks for the sync flows: no arguments, connections from settings, safe twice.

Each flow takes its own lease, so a schedule that fires while the previous run is still going
records a skipped run instead of running twice.
"""

from __future__ import annotations

from integration.connections import erp_adapter, magento_client
from integration.models import SyncRun

ORDER = ("orders_in", "orders_out", "stock", "shipments", "refunds", "finance", "checks")


def run_flow(name: str) -> SyncRun:
    """Run one flow by name with the configured Magento and ERP."""
    from integration.flows.checks import checks_run
    from integration.flows.finance import finance_run
    from integration.flows.orders_in import orders_in_run
    from integration.flows.orders_out import orders_out_run
    from integration.flows.refunds import refunds_run
    from integration.flows.shipments import shipments_run
    from integration.flows.stock import stock_run

    if name not in ORDER:
        raise ValueError(f"unknown flow {name!r}; expected one of {ORDER}")
    if name == "orders_in":
        with magento_client() as magento:
            return orders_in_run(magento=magento)
    if name == "orders_out":
        with erp_adapter() as erp:
            return orders_out_run(erp=erp)
    if name == "finance":
        with erp_adapter() as erp:
            return finance_run(erp=erp)
    with magento_client() as magento, erp_adapter() as erp:
        if name == "stock":
            return stock_run(magento=magento, erp=erp)
        if name == "shipments":
            return shipments_run(magento=magento, erp=erp)
        if name == "refunds":
            return refunds_run(magento=magento, erp=erp)
        return checks_run(magento=magento, erp=erp)


def run_summary(run: SyncRun) -> str:
    return (
        f"{run.flow} {run.status}: seen {run.seen}, posted {run.posted}, held {run.held}, "
        f"failed {run.failed}" + (f" ({run.error})" if run.error else "")
    )


def sync_orders() -> str:
    """Orders in, then out: a new order reaches the ERP in one scheduled step."""
    return "; ".join(run_summary(run_flow(name)) for name in ("orders_in", "orders_out"))


def sync_stock() -> str:
    return run_summary(run_flow("stock"))


def sync_shipments() -> str:
    return run_summary(run_flow("shipments"))


def sync_refunds() -> str:
    return run_summary(run_flow("refunds"))


def sync_finance() -> str:
    return run_summary(run_flow("finance"))


def sync_checks() -> str:
    return run_summary(run_flow("checks"))
