"""Re-read one order from Magento and the ERP now, for a person on the phone (DESIGN §5).

Each system is read on its own: one that does not answer is named in the result and the
other's answer still lands in the mirror. Every call to a system happens outside any database
transaction; what a system said is written afterwards, in one short transaction per system,
through the same writes the flows use (the order upsert, the shipment and invoice records).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from exceptions_app.models import System
from integration.connections import erp_adapter, magento_client
from integration.connectors.backoff import INTERACTIVE_POLICY, ConnectorError, NotFoundError
from integration.connectors.magento.criteria import SearchCriteria
from integration.flows.finance import invoice_record
from integration.flows.shipments import shipment_record
from integration.models import Order
from integration.orders.upsert import orders_upsert


@dataclass(frozen=True)
class SystemRefresh:
    system: System
    answered: bool  # False: the system did not answer (down, timing out, circuit open)
    detail: str  # what it said, or why it did not answer, in words
    read_at: datetime | None = None  # when its answer was written to the mirror


@dataclass(frozen=True)
class RefreshResult:
    increment_id: str
    found: bool  # the order is in the mirror after the refresh
    systems: tuple[SystemRefresh, ...]

    @property
    def unanswered(self) -> tuple[SystemRefresh, ...]:
        return tuple(s for s in self.systems if not s.answered)


def _magento_payload(order: Order | None, increment_id: str) -> dict | None:
    """The order as Magento has it now; None when Magento has no such order."""
    with magento_client() as magento:
        magento.policy = INTERACTIVE_POLICY
        if order is not None:
            try:
                return magento.order(order.entity_id)
            except NotFoundError:
                return None
        criteria = SearchCriteria(page_size=1).where("increment_id", increment_id)
        return next(iter(magento.search("orders", criteria)), None)


def _magento_refresh(order: Order | None, increment_id: str) -> SystemRefresh:
    try:
        payload = _magento_payload(order, increment_id)
    except ConnectorError as exc:
        return SystemRefresh(System.MAGENTO, False, f"Magento did not answer: {exc}")
    if payload is None:
        return SystemRefresh(System.MAGENTO, True, f"Magento has no order {increment_id}.")
    with transaction.atomic():
        orders_upsert(payloads=[payload])
        now = timezone.now()  # after the upsert's own time: the page says "refreshed"
        Order.objects.filter(entity_id=int(payload["entity_id"])).update(magento_read_at=now)
    status = payload.get("status") or payload.get("state") or "—"
    return SystemRefresh(System.MAGENTO, True, f"Magento says “{status}”.", now)


def _erp_refresh(order: Order) -> SystemRefresh:
    reference = order.increment_id
    try:
        with erp_adapter() as erp:
            erp.interactive()
            sale = erp.sales_by_references([reference]).get(reference)
            shipments = erp.shipments_for_references([reference])
            invoices = erp.invoices_for_references([reference])
    except ConnectorError as exc:
        return SystemRefresh(System.ERP, False, f"The ERP did not answer: {exc}")
    now = timezone.now()
    with transaction.atomic():
        for shipment in shipments:
            shipment_record(order=order, shipment=shipment)
        for invoice in invoices:
            invoice_record(order=order, invoice=invoice)
        Order.objects.filter(pk=order.pk).update(erp_read_at=now)
    if sale is None:
        return SystemRefresh(System.ERP, True, "The ERP has no sale for this order yet.", now)
    parcels = ", ".join(f"{s.erp_id} {s.state}" for s in shipments) or "none yet"
    return SystemRefresh(
        System.ERP,
        True,
        f"The ERP has sale {sale.number or sale.erp_id} ({sale.state}); shipments: {parcels}; "
        f"{len(invoices)} invoice(s).",
        now,
    )


def order_refresh(*, increment_id: str) -> RefreshResult:
    """Read the order from Magento and the ERP now and update the mirror with what they say.

    Magento first (it may be an order the pull has not brought yet), then the ERP for an order
    the mirror has. A system that does not answer is reported, never raised: the page says
    which one, and shows the mirror as last read.
    """
    order = Order.objects.filter(increment_id=increment_id).defer("payload").first()
    magento = _magento_refresh(order, increment_id)
    order = Order.objects.filter(increment_id=increment_id).defer("payload").first()
    if order is None:
        return RefreshResult(increment_id, False, (magento,))
    return RefreshResult(increment_id, True, (magento, _erp_refresh(order)))
