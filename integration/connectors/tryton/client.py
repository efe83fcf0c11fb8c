"""The Tryton ERP adapter: the one place that talks to Tryton, over its REST API.

The adapter composes the parts: `transport` (httpx, auth, timeouts, retries, error mapping),
`codec` (Tryton's JSON), and one part per domain (`items`, `sales`, `shipments`, `finance`),
each calling Tryton only through the transport.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

import httpx
from django.conf import settings

from integration.connectors.backoff import CircuitBreaker, ConnectorError, RetryPolicy
from integration.connectors.erp import (
    CreditNoteRequest,
    ErpAdapter,
    ErpCarrierService,
    ErpCreditNote,
    ErpInvoice,
    ErpItemInfo,
    ErpSale,
    ErpShipment,
    SaleCancel,
    SaleRequest,
)
from integration.connectors.tryton.credit_notes import TrytonCreditNotes
from integration.connectors.tryton.finance import TrytonFinance
from integration.connectors.tryton.items import TrytonItems
from integration.connectors.tryton.sales import SALE_FIELDS, TrytonSales
from integration.connectors.tryton.shipments import SHIPMENT_FIELDS, TrytonShipments
from integration.connectors.tryton.transport import SYSTEM, TrytonRejected, TrytonTransport

__all__ = ["SYSTEM", "TrytonAdapter", "TrytonRejected"]


class TrytonAdapter(ErpAdapter):
    """ErpAdapter over Tryton REST: pooled, timed out, retried, breaker-guarded."""

    SALE_FIELDS = SALE_FIELDS
    SHIPMENT_FIELDS = SHIPMENT_FIELDS

    def __init__(
        self,
        *,
        base_url: str,
        database: str,
        api_key: str,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        warehouse_code: str = "WH",
    ) -> None:
        self.tryton = TrytonTransport(
            base_url=base_url,
            database=database,
            api_key=api_key,
            transport=transport,
            timeout=timeout,
            policy=policy,
            breaker=breaker,
            sleep=sleep,
        )
        self.items = TrytonItems(self.tryton, warehouse_code=warehouse_code)
        self.sales = TrytonSales(self.tryton, self.items)
        self.shipments = TrytonShipments(self.tryton)
        self.finance = TrytonFinance(self.tryton)
        self.credit_notes = TrytonCreditNotes(self.tryton, self.items, sleep=sleep)
        # Raw REST access, for callers that read Tryton directly (tests, the benchmark).
        self.request = self.tryton.request
        self.search = self.tryton.search

    @classmethod
    def from_settings(cls, *, transport: httpx.BaseTransport | None = None) -> TrytonAdapter:
        if not (settings.ERP_BASE_URL and settings.ERP_DATABASE and settings.ERP_API_KEY):
            raise ConnectorError(
                "ERP_BASE_URL, ERP_DATABASE and ERP_API_KEY must all be set", system=SYSTEM
            )
        return cls(
            base_url=settings.ERP_BASE_URL,
            database=settings.ERP_DATABASE,
            api_key=settings.ERP_API_KEY,
            transport=transport,
            timeout=httpx.Timeout(settings.ERP_READ_TIMEOUT, connect=settings.ERP_CONNECT_TIMEOUT),
            policy=RetryPolicy(
                max_attempts=settings.ERP_MAX_ATTEMPTS, max_total=settings.ERP_RETRY_BUDGET
            ),
            warehouse_code=settings.ERP_WAREHOUSE,
        )

    def close(self) -> None:
        """Close the pooled connections; a second close is a no-op."""
        self.tryton.close()

    def interactive(self) -> TrytonAdapter:
        self.tryton.interactive()
        return self

    # -- the transport's state --

    @property
    def calls(self) -> int:
        return self.tryton.calls

    @property
    def policy(self) -> RetryPolicy:
        return self.tryton.policy

    @property
    def breaker(self) -> CircuitBreaker:
        return self.tryton.breaker

    @property
    def warehouse_code(self) -> str:
        return self.items.warehouse_code

    # -- ErpAdapter --

    def items_by_codes(self, codes: Iterable[str]) -> dict[str, ErpItemInfo]:
        return self.items.items_by_codes(codes)

    def items_all(self) -> list[ErpItemInfo]:
        return self.items.items_all()

    def availability(self, codes: Sequence[str] | None = None) -> dict[str, Decimal]:
        return self.items.availability(codes)

    def sale_find(self, reference: str) -> ErpSale | None:
        return self.sales.sale_find(reference)

    def sales_by_references(self, references: Sequence[str]) -> dict[str, ErpSale]:
        return self.sales.sales_by_references(references)

    def sale_create(self, request: SaleRequest) -> ErpSale:
        return self.sales.sale_create(request)

    def sale_confirm(self, sale: ErpSale) -> ErpSale:
        return self.sales.sale_confirm(sale)

    def sale_cancel(self, reference: str, *, note: str) -> SaleCancel:
        return self.sales.sale_cancel(reference, note=note)

    def sale_books_close(self, reference: str, *, invoice_date: date) -> bool:
        return self.sales.sale_books_close(reference, invoice_date=invoice_date)

    def shipments_done_since(self, since: datetime | None) -> list[ErpShipment]:
        return self.shipments.shipments_done_since(since)

    def carrier_services(self) -> list[ErpCarrierService]:
        return self.shipments.carrier_services()

    def shipments_for_references(self, references: Sequence[str]) -> list[ErpShipment]:
        return self.shipments.shipments_for_references(references)

    def invoices_for_references(
        self, references: Sequence[str], *, include_draft: bool = False
    ) -> list[ErpInvoice]:
        return self.finance.invoices_for_references(references, include_draft=include_draft)

    def invoice_post(self, invoice: ErpInvoice, *, invoice_date: date) -> ErpInvoice:
        return self.finance.invoice_post(invoice, invoice_date=invoice_date)

    def payment_record(
        self, *, invoice: ErpInvoice, amount: Decimal, paid_on: date, reference: str
    ) -> str:
        return self.finance.payment_record(
            invoice=invoice, amount=amount, paid_on=paid_on, reference=reference
        )

    def credit_note_find(self, reference: str) -> ErpCreditNote | None:
        return self.credit_notes.credit_note_find(reference)

    def credit_note_create(self, request: CreditNoteRequest) -> ErpCreditNote:
        return self.credit_notes.credit_note_create(request)

    def credit_note_settle(self, erp_id: str) -> ErpCreditNote:
        return self.credit_notes.credit_note_settle(erp_id)
