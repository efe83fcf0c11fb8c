"""How fresh an order's page is: when the desk last read it from Magento and from the ERP.

A CX agent never answers from stale data without knowing it: every order page says, per
system, the latest read the mirror reflects, whether a person's refresh
(`integration.order_refresh`) or a flow run that reads every order (orders in from Magento;
shipments back from the ERP, for an order the ERP has).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from cx import words
from cx.step_timing import duration_words
from integration.models import Flow, Order, OrderErpStatus, RunStatus, SyncRun

# Older than this, the page suggests refreshing before answering.
STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class SystemRead:
    system: str  # "Magento", "ERP"
    at: datetime | None  # None: the desk has not read this order from the system yet
    how: str  # what read it, in words
    stale: bool

    @property
    def at_words(self) -> str:
        return words.day_and_time(self.at)

    @property
    def ago(self) -> str:
        if self.at is None:
            return ""
        return duration_words(timezone.now() - self.at)


def _last_success(flow: str) -> datetime | None:
    return (
        SyncRun.objects.filter(flow=flow, status=RunStatus.SUCCEEDED)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )


def _latest(*reads: tuple[datetime | None, str]) -> tuple[datetime | None, str]:
    known = [read for read in reads if read[0] is not None]
    return max(known, key=lambda read: read[0]) if known else (None, "")


def _read(system: str, at: datetime | None, how: str, now: datetime) -> SystemRead:
    return SystemRead(system, at, how, stale=at is None or now - at > STALE_AFTER)


def order_freshness(*, order: Order) -> tuple[SystemRead, SystemRead]:
    """(Magento, ERP): when each was last read for this order, and by what."""
    now = timezone.now()
    magento_at, magento_how = _latest(
        (order.magento_read_at, "refreshed from Magento"),
        (order.last_pulled_at, "pulled from Magento"),
        (_last_success(Flow.ORDERS_IN), "the order pull from Magento"),
    )
    in_erp = order.erp_status == OrderErpStatus.POSTED
    erp_at, erp_how = _latest(
        (order.erp_read_at, "refreshed from the ERP"),
        (order.erp_posted_at if in_erp else None, "sent to the ERP"),
        (_last_success(Flow.SHIPMENTS) if in_erp else None, "the shipments run from the ERP"),
    )
    erp = _read("ERP", erp_at, erp_how, now)
    if erp_at is None and not in_erp:
        # Nothing to read: the desk itself has not sent the order (the page says why).
        erp = SystemRead("ERP", None, "nothing to read: the desk has not sent the order yet", False)
    return _read("Magento", magento_at, magento_how, now), erp
