"""The ERP boundary: what the flows need from any ERP, whatever speaks it underneath.

Tryton is the first adapter (`integration/connectors/tryton/client.py`); a NetSuite or
Business Central adapter implements the same protocol beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, Self


@dataclass(frozen=True)
class ErpItemInfo:
    code: str
    erp_id: str
    name: str
    active: bool
    goods: bool = True


@dataclass(frozen=True)
class SaleLineRequest:
    item_code: str
    quantity: Decimal
    unit_price: Decimal  # net of tax and discount, 4 dp
    description: str


@dataclass(frozen=True)
class SaleRequest:
    """Everything the ERP needs to create the sale for one Magento order."""

    reference: str  # the Magento increment id: the idempotency key in the ERP
    currency: str
    sale_date: date
    customer_name: str
    customer_email: str
    telephone: str
    company: str
    street: tuple[str, ...]
    city: str
    region: str
    postcode: str
    country: str
    carrier: str  # ERP carrier service (mapping's erp_carrier_id or service name)
    shipping_amount: Decimal  # net of tax
    lines: tuple[SaleLineRequest, ...]
    comment: str = ""
    # Fulfilled outside the desk (history at go-live): a sale for the books only, with no
    # warehouse shipment; its invoice is posted by `sale_books_close`.
    books_only: bool = False


@dataclass(frozen=True)
class ErpSale:
    erp_id: str
    reference: str
    state: str
    number: str = ""
    untaxed_amount: Decimal | None = None
    tax_amount: Decimal | None = None
    total_amount: Decimal | None = None


@dataclass(frozen=True)
class ErpShipment:
    erp_id: str
    sale_reference: str
    state: str  # "done" means dispatch confirmed
    effective_date: date | None
    tracking_number: str
    courier: str
    updated_at: datetime | None = None
    lines: tuple[tuple[str, Decimal], ...] = field(default_factory=tuple)  # (item code, qty)
    number: str = ""  # the ERP's shipment number, as the warehouse reads it


@dataclass(frozen=True)
class ErpInvoice:
    erp_id: str
    sale_reference: str
    number: str
    state: str
    invoice_date: date | None
    currency: str
    untaxed_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    amount_to_pay: Decimal | None = None


@dataclass(frozen=True)
class ErpCarrierService:
    code: str  # the ERP's carrier service code, e.g. "DPD-1^12"
    name: str  # e.g. "DPD Next Day"
    courier: str  # the carrier company, e.g. "DPD Group UK Ltd"


class CancelStatus(StrEnum):
    CANCELLED = "cancelled"  # nothing of the sale will be shipped or invoiced any more
    TOO_LATE = "too_late"  # the warehouse has picked, packed or dispatched it
    NOT_FOUND = "not_found"  # the ERP has no sale with this reference


# Customer shipment states in which the warehouse has not touched the goods yet: a cancel
# there only releases a reservation.
UNPICKED_SHIPMENT_STATES = frozenset({"draft", "waiting", "assigned"})


@dataclass(frozen=True)
class SaleCancel:
    """What cancelling a sale did: cancelled, or too late (the shipments that went too far)."""

    status: CancelStatus
    shipments: tuple[ErpShipment, ...] = ()  # too late: the shipments the warehouse has
    invoices_kept: tuple[str, ...] = ()  # posted invoices a cancel cannot undo (finance credits)


@dataclass(frozen=True)
class CreditLineRequest:
    """One refunded line of a credit note."""

    item_code: str  # the ERP item the line credits
    quantity: Decimal  # positive: how many are credited
    unit_price: Decimal  # net of tax and discount, 4 dp
    description: str
    returned: bool  # goods the customer sends back (a return line); False: money only
    taxed: bool = True


@dataclass(frozen=True)
class CreditNoteRequest:
    """Everything the ERP needs to credit exactly what one Magento credit memo refunded."""

    reference: str  # the credit memo's key: the idempotency key in the ERP
    sale_reference: str  # the Magento increment id of the sale it credits
    credit_date: date
    lines: tuple[CreditLineRequest, ...]
    shipping_amount: Decimal = Decimal(0)  # refunded shipping, net of tax
    adjustment: Decimal = Decimal(0)  # Magento's untaxed adjustment: + refunds more, - a fee
    comment: str = ""


@dataclass(frozen=True)
class ErpCreditNote:
    """The ERP's credit for one credit memo; amounts are positive (what is credited)."""

    erp_id: str  # the ERP document carrying it (in Tryton: the return sale)
    reference: str
    state: str
    number: str = ""  # the credit note's number, once the ERP has made it
    invoice_id: str = ""
    invoice_state: str = ""  # "posted" or "paid" once booked
    untaxed_amount: Decimal | None = None
    tax_amount: Decimal | None = None
    total_amount: Decimal | None = None
    returns: tuple[str, ...] = ()  # return shipments the warehouse receives

    @property
    def posted(self) -> bool:
        return self.invoice_state in ("posted", "paid")


class ErpRejected(Exception):  # noqa: N818
    """The ERP refused a document; the message is the ERP's own, for the exception record."""


class ErpAdapter(Protocol):
    """What the flows call. Every method is safe to call twice.

    Adapters subclass this to inherit the context-manager methods: callers write
    `with erp_adapter() as erp:` and the adapter's connections are released on the way out.
    """

    def close(self) -> None:
        """Release the adapter's connections; safe to call twice. No-op when it holds none."""

    def __enter__(self) -> Self:
        return self

    def interactive(self) -> Self:
        """Somebody is waiting: at most one quick retry and short timeouts from now on."""
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def items_by_codes(self, codes: Iterable[str]) -> dict[str, ErpItemInfo]:
        """Items with these codes, active or not; codes the ERP lacks are absent."""

    def items_all(self) -> list[ErpItemInfo]:
        """The whole item master, active or not (the desk's item mirror, catalogue drift)."""

    def availability(self, codes: Sequence[str] | None = None) -> dict[str, Decimal]:
        """Available quantity per goods item code in the warehouse (all goods when None)."""

    def sale_find(self, reference: str) -> ErpSale | None:
        """The sale carrying this reference, if any (draft or further)."""

    def sale_create(self, request: SaleRequest) -> ErpSale:
        """Create and confirm the sale. Callers look it up with sale_find first."""

    def sale_confirm(self, sale: ErpSale) -> ErpSale:
        """Move a sale found in draft/quotation on to confirmed (finishing an interrupted post)."""

    def sales_by_references(self, references: Sequence[str]) -> dict[str, ErpSale]:
        """Sales (with totals) for these references."""

    def sale_cancel(self, reference: str, *, note: str) -> SaleCancel:
        """Cancel the sale carrying this reference while the warehouse has not picked it: its
        unpicked shipments and unposted invoices are cancelled and `note` is written on it.
        Too late (a shipment picked, packed or dispatched) changes nothing. Safe to repeat."""

    def sale_books_close(self, reference: str, *, invoice_date: date) -> bool:
        """Post the invoices of a books-only sale, dated `invoice_date`; True once every
        invoice of the sale is posted (False: the ERP has not made it yet). Safe to repeat."""

    def shipments_done_since(self, since: datetime | None) -> list[ErpShipment]:
        """Customer shipments whose dispatch was confirmed, changed since `since`."""

    def shipments_for_references(self, references: Sequence[str]) -> list[ErpShipment]:
        """Every customer shipment, any state, of the sales with these references."""

    def invoices_for_references(
        self, references: Sequence[str], *, include_draft: bool = False
    ) -> list[ErpInvoice]:
        """Posted customer invoices of the sales with these references (and those still in
        draft, with `include_draft`)."""

    def invoice_post(self, invoice: ErpInvoice, *, invoice_date: date) -> ErpInvoice:
        """Book a draft customer invoice dated `invoice_date` (a booked one is returned as it
        is); safe to repeat."""

    def carrier_services(self) -> list[ErpCarrierService]:
        """The courier services the ERP can ship with (what a shipping method maps to)."""
        return []

    def payment_record(
        self, *, invoice: ErpInvoice, amount: Decimal, paid_on: date, reference: str
    ) -> str:
        """Record a customer payment against an invoice; returns the ERP's payment reference.

        Must recognise a payment already recorded with `reference` and return it unchanged.
        """

    def credit_note_find(self, reference: str) -> ErpCreditNote | None:
        """The credit note carrying this reference, if any (finished or not)."""

    def credit_note_create(self, request: CreditNoteRequest) -> ErpCreditNote:
        """Create the credit note and book it. Callers look it up with credit_note_find first."""

    def credit_note_settle(self, erp_id: str) -> ErpCreditNote:
        """Finish a credit note found unfinished (an interrupted create); safe to repeat."""
