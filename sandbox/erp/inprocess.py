"""An in-process ERP: the sandbox's stand-in for Tryton in the benchmark and the fast tests.

Correctness tests of the ERP side run against the real Tryton; this exists so the benchmark
can measure our own code with zero ERP latency (and `latency` can add a fixed delay per call),
and the flow tests run in seconds. Its catalogue is the seeded one, with the same divergence
(missing, inactive and renamed SKUs) the Tryton bootstrap creates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from integration.connectors.erp import (
    UNPICKED_SHIPMENT_STATES,
    CancelStatus,
    CreditNoteRequest,
    ErpAdapter,
    ErpCreditNote,
    ErpInvoice,
    ErpItemInfo,
    ErpRejected,
    ErpSale,
    ErpShipment,
    SaleCancel,
    SaleRequest,
)
from sandbox.divergence import STOCKED_TYPES, catalogue_divergence, catalogue_rows


class FakeErp(ErpAdapter):
    """Items, stock, sales, shipments, invoices and payments held in memory; thread-safe counts.

    Tests set `reject` (references whose sale the ERP refuses), `shipments` and `invoices`.
    """

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls = 0
        self._lock = threading.Lock()
        divergence = catalogue_divergence()
        self.items: dict[str, ErpItemInfo] = {}
        self.stock: dict[str, Decimal] = {}
        for row in catalogue_rows():
            sku = row["sku"]
            if row["type_id"] not in STOCKED_TYPES or sku in divergence.missing:
                continue
            code = divergence.erp_code(sku)
            goods = row["type_id"] == "simple"
            self.items[code] = ErpItemInfo(
                code, code, row["name"], sku not in divergence.inactive, goods
            )
            if goods:
                self.stock[code] = Decimal(int(Decimal(row["qty"] or "0")))
        self.sales: dict[str, ErpSale] = {}
        self.requests: dict[str, SaleRequest] = {}
        self.create_calls = 0
        self.shipments: list[ErpShipment] = []
        self.invoices: list[ErpInvoice] = []
        self.payments: dict[str, str] = {}
        self.reject: set[str] = set()
        # Credit notes by reference; `reject_credit` holds references whose note is refused.
        self.credit_notes: dict[str, ErpCreditNote] = {}
        self.credit_requests: dict[str, CreditNoteRequest] = {}
        self.reject_credit: set[str] = set()
        # References whose sale was cancelled, and books-only sales whose invoice was posted.
        self.cancelled: dict[str, str] = {}
        self.books_closed: dict[str, date] = {}

    def _call(self) -> None:
        with self._lock:
            self.calls += 1
        if self.latency:
            time.sleep(self.latency)

    def items_by_codes(self, codes: Iterable[str]) -> dict[str, ErpItemInfo]:
        self._call()
        return {c: self.items[c] for c in codes if c in self.items}

    def items_all(self) -> list[ErpItemInfo]:
        self._call()
        return list(self.items.values())

    def availability(self, codes: Sequence[str] | None = None) -> dict[str, Decimal]:
        self._call()
        if codes is None:
            return dict(self.stock)
        return {c: self.stock[c] for c in codes if c in self.stock}

    def sale_find(self, reference: str) -> ErpSale | None:
        self._call()
        return self.sales.get(reference)

    def sale_create(self, request: SaleRequest) -> ErpSale:
        self._call()
        if request.reference in self.reject:
            raise ErpRejected(f"The sale {request.reference} is not valid (rejected by test).")
        with self._lock:
            self.create_calls += 1
            sale = ErpSale(
                str(len(self.sales) + 1), request.reference, "processing", f"S{len(self.sales) + 1}"
            )
            self.sales[request.reference] = sale
            self.requests[request.reference] = request
        return sale

    def sale_confirm(self, sale: ErpSale) -> ErpSale:
        self._call()
        confirmed = replace(sale, state="processing")
        self.sales[sale.reference] = confirmed
        return confirmed

    def sales_by_references(self, references: Sequence[str]) -> dict[str, ErpSale]:
        self._call()
        return {r: self.sales[r] for r in references if r in self.sales}

    def sale_cancel(self, reference: str, *, note: str) -> SaleCancel:
        self._call()
        if reference not in self.sales:
            return SaleCancel(CancelStatus.NOT_FOUND)
        mine = [s for s in self.shipments if s.sale_reference == reference]
        late = [
            s for s in mine if s.state not in UNPICKED_SHIPMENT_STATES and s.state != "cancelled"
        ]
        if late:
            return SaleCancel(CancelStatus.TOO_LATE, shipments=tuple(late))
        with self._lock:
            self.shipments = [
                replace(s, state="cancelled") if s.sale_reference == reference else s
                for s in self.shipments
            ]
            self.cancelled[reference] = note
        return SaleCancel(CancelStatus.CANCELLED)

    def sale_books_close(self, reference: str, *, invoice_date: date) -> bool:
        self._call()
        if reference not in self.sales:
            return False
        self.books_closed[reference] = invoice_date
        return True

    def shipments_done_since(self, since: datetime | None) -> list[ErpShipment]:
        self._call()
        return [s for s in self.shipments if s.state == "done"]

    def shipments_for_references(self, references: Sequence[str]) -> list[ErpShipment]:
        self._call()
        wanted = set(references)
        return [s for s in self.shipments if s.sale_reference in wanted]

    def invoices_for_references(
        self, references: Sequence[str], *, include_draft: bool = False
    ) -> list[ErpInvoice]:
        self._call()
        wanted = set(references)
        states = {"posted", "paid", "draft"} if include_draft else {"posted", "paid"}
        return [i for i in self.invoices if i.sale_reference in wanted and i.state in states]

    def invoice_post(self, invoice: ErpInvoice, *, invoice_date: date) -> ErpInvoice:
        self._call()
        if invoice.state != "draft":
            return invoice
        posted = replace(invoice, state="posted", invoice_date=invoice_date)
        with self._lock:
            self.invoices = [posted if i.erp_id == invoice.erp_id else i for i in self.invoices]
        return posted

    def payment_record(
        self, *, invoice: ErpInvoice, amount: Decimal, paid_on: date, reference: str
    ) -> str:
        self._call()
        return self.payments.setdefault(reference, f"PAY-{len(self.payments) + 1}")

    def credit_note_find(self, reference: str) -> ErpCreditNote | None:
        self._call()
        return self.credit_notes.get(reference)

    def credit_note_create(self, request: CreditNoteRequest) -> ErpCreditNote:
        """The credit note of a sale it has, its VAT at 20% per document (adjustments untaxed)."""
        self._call()
        if request.sale_reference not in self.sales:
            raise ErpRejected(f"the ERP has no confirmed sale {request.sale_reference} to credit")
        if request.reference in self.reject_credit:
            raise ErpRejected(f"The credit note {request.reference} is refused (by the test).")
        cent = Decimal("0.01")
        amounts = [((ln.quantity * ln.unit_price).quantize(cent), ln.taxed) for ln in request.lines]
        taxed = sum((a for a, t in amounts if t), request.shipping_amount.quantize(cent))
        untaxed = taxed + sum((a for a, t in amounts if not t), request.adjustment.quantize(cent))
        tax = (taxed * Decimal("0.20")).quantize(cent)
        with self._lock:
            number = len(self.credit_notes) + 1
            note = ErpCreditNote(
                erp_id=f"R{number}",
                reference=request.reference,
                state="processing",
                number=f"CRN-{number}",
                invoice_id=f"CN{number}",
                invoice_state="posted",
                untaxed_amount=untaxed,
                tax_amount=tax,
                total_amount=untaxed + tax,
                returns=(f"RET-{number}",) if any(ln.returned for ln in request.lines) else (),
            )
            self.credit_notes[request.reference] = note
            self.credit_requests[request.reference] = request
        return note

    def credit_note_settle(self, erp_id: str) -> ErpCreditNote:
        self._call()
        return next(n for n in self.credit_notes.values() if n.erp_id == erp_id)
