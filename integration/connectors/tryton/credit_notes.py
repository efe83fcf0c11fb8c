"""Credit notes in Tryton: a Magento credit memo as a sale return, the way a Tryton shop does it.

Tryton's own "Return Sale" copies a sale with its quantities negated and the original as its
`origin`; processing it makes the customer return shipment the warehouse receives, and the
credit note (an `account.invoice` whose lines are negative). The desk builds that return from
what Magento refunded, not from the whole sale:

- goods coming back are product lines (negative quantity): they make the return shipment, whose
  planned date is cleared so the ERP counts the goods as available only once they are received;
- goods refunded without coming back, and Magento's adjustments, are lines without a product
  (money only, named after the SKU), so the warehouse expects nothing;
- refunded shipping is a line of the sale's carrier product (a service: nothing to receive).

The credit note is posted at once: Magento has already given the money back. The return sale
carries the credit memo's key as its `reference`, so a second post finds the first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from integration.connectors.erp import CreditLineRequest, CreditNoteRequest, ErpCreditNote
from integration.connectors.tryton.codec import dec, record_id
from integration.connectors.tryton.items import TrytonItems
from integration.connectors.tryton.transport import SYSTEM, TrytonRejected, TrytonTransport

RETURN_FIELDS = ("reference", "state", "invoices", "shipment_returns")
INVOICE_FIELDS = ("number", "state", "untaxed_amount", "tax_amount", "total_amount")
ORIGINAL_FIELDS = (
    "party",
    "invoice_address",
    "shipment_address",
    "currency",
    "warehouse",
    "carrier.carrier_product",
    "lines.product.code",
    "lines.unit",
    "lines.taxes",
    "lines.type",
)
DRAFT_STATES = frozenset({"draft", "quotation"})
POSTED_STATES = frozenset({"posted", "paid"})
# A confirmed sale is processed right after the commit; how long to wait for its invoice.
SETTLE_READS = 10
SETTLE_PAUSE = 0.2


def _credited(value: Any) -> Decimal | None:
    """Tryton's (negative) credit note amount as the positive amount credited."""
    return None if value is None else -dec(value)


class TrytonCreditNotes:
    def __init__(
        self,
        tryton: TrytonTransport,
        items: TrytonItems,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tryton = tryton
        self.items = items
        self.sleep = sleep

    # -- reading --

    def _return_sale(self, reference: str) -> dict | None:
        rows = self.tryton.search("sale.sale", [["reference", "=", reference]], RETURN_FIELDS)
        live = [r for r in rows if r.get("state") != "cancelled"]
        return live[0] if live else None

    def _note(self, sale: dict) -> ErpCreditNote:
        invoices = [record_id(i) for i in sale.get("invoices") or []]
        invoice: dict = {}
        if invoices:
            rows = self.tryton.search(
                "account.invoice",
                [["id", "in", invoices], ["state", "!=", "cancelled"]],
                INVOICE_FIELDS,
            )
            invoice = rows[0] if rows else {}
        return ErpCreditNote(
            erp_id=str(sale["id"]),
            reference=sale.get("reference") or "",
            state=sale.get("state") or "",
            number=invoice.get("number") or "",
            invoice_id=str(invoice["id"]) if invoice else "",
            invoice_state=invoice.get("state") or "",
            untaxed_amount=_credited(invoice.get("untaxed_amount")) if invoice else None,
            tax_amount=_credited(invoice.get("tax_amount")) if invoice else None,
            total_amount=_credited(invoice.get("total_amount")) if invoice else None,
            returns=tuple(str(record_id(s)) for s in sale.get("shipment_returns") or []),
        )

    def credit_note_find(self, reference: str) -> ErpCreditNote | None:
        sale = self._return_sale(reference)
        return self._note(sale) if sale else None

    # -- creating --

    def _original(self, reference: str) -> dict:
        rows = self.tryton.search(
            "sale.sale",
            [["reference", "=", reference], ["state", "not in", ["cancelled", "draft"]]],
            ORIGINAL_FIELDS,
        )
        if not rows:
            raise TrytonRejected(
                f"the ERP has no confirmed sale {reference} for the credit note to credit",
                system=SYSTEM,
            )
        return rows[0]

    def _terms(self, original: dict, request: CreditNoteRequest) -> dict[str, dict]:
        """Per item code: product id, unit and taxes, as the original sale charged them."""
        terms: dict[str, dict] = {}
        for line in original.get("lines") or []:
            product = line.get("product") or {}
            code = product.get("code") if isinstance(product, dict) else None
            if code and code not in terms and line.get("type", "line") == "line":
                terms[code] = {
                    "id": record_id(product),
                    "unit": record_id(line.get("unit")),
                    "taxes": [record_id(t) for t in line.get("taxes") or []],
                }
        missing = {ln.item_code for ln in request.lines if ln.item_code} - set(terms)
        if missing:
            rows = self.items.products(
                missing,
                ["code", "template.default_uom", "template.account_category.customer_taxes_used"],
            )
            for row in rows:
                template = row.get("template") or {}
                category = template.get("account_category") or {}
                terms[row["code"]] = {
                    "id": row["id"],
                    "unit": record_id(template.get("default_uom")),
                    "taxes": [record_id(t) for t in category.get("customer_taxes_used") or []],
                }
        unknown = missing - set(terms)
        if unknown:
            raise TrytonRejected(f"the ERP has no item {', '.join(sorted(unknown))}", system=SYSTEM)
        return terms

    def _line(self, line: CreditLineRequest, terms: dict[str, dict], fallback: list) -> dict:
        term = terms.get(line.item_code) if line.item_code else None
        taxes = (term or {}).get("taxes", fallback) if line.taxed else []
        body: dict[str, Any] = {
            "type": "line",
            "quantity": float(-line.quantity),
            "unit_price": line.unit_price.quantize(Decimal("0.0001")),
            "description": line.description[:250],
            "taxes": [["add", taxes]],
        }
        if line.returned and term is not None:
            body["product"], body["unit"] = term["id"], term["unit"]
        return body

    def _lines(self, original: dict, request: CreditNoteRequest) -> list[dict]:
        terms = self._terms(original, request)
        fallback = next(iter(terms.values()), {}).get("taxes", [])
        lines = [self._line(line, terms, fallback) for line in request.lines]
        if request.shipping_amount:
            carrier = original.get("carrier") or {}
            product = record_id(carrier.get("carrier_product")) if carrier else None
            shipping = next((t for t in terms.values() if t["id"] == product), None)
            body: dict[str, Any] = {
                "type": "line",
                "quantity": -1.0,
                "unit_price": request.shipping_amount.quantize(Decimal("0.0001")),
                "description": "Shipping refunded in Magento",
                "taxes": [["add", shipping["taxes"] if shipping else fallback]],
            }
            if shipping is not None:
                body["product"], body["unit"] = shipping["id"], shipping["unit"]
            lines.append(body)
        if request.adjustment:
            # Magento's adjustments carry no tax: a money-only line without taxes.
            lines.append(
                {
                    "type": "line",
                    "quantity": -1.0,
                    "unit_price": request.adjustment.quantize(Decimal("0.0001")),
                    "description": "Adjustment in Magento"
                    + (" (refund)" if request.adjustment > 0 else " (fee kept)"),
                }
            )
        return lines

    def credit_note_create(self, request: CreditNoteRequest) -> ErpCreditNote:
        """Create, confirm and settle the return sale. Callers look it up first."""
        original = self._original(request.sale_reference)
        body: dict[str, Any] = {
            "party": record_id(original.get("party")),
            "invoice_address": record_id(original.get("invoice_address")),
            "shipment_address": record_id(original.get("shipment_address")),
            "currency": record_id(original.get("currency")),
            "warehouse": record_id(original.get("warehouse")),
            "reference": request.reference,
            "origin": f"sale.sale,{original['id']}",
            "description": request.comment[:250],
            "sale_date": request.credit_date,
            "invoice_method": "order",
            "shipment_method": "order",
            "shipment_cost_method": None,
            "lines": [["create", self._lines(original, request)]],
        }
        created = self.tryton.request("POST", "model/sale.sale", body=body)
        return self.credit_note_settle(str(created["id"]))

    def credit_note_settle(self, erp_id: str) -> ErpCreditNote:
        """Finish an unfinished return sale: confirm, process, clear the return's planned
        date, post the credit note. Safe to repeat; returns the note as the ERP now has it."""
        path = f"model/sale.sale/{erp_id}"
        sale = self.tryton.request("GET", path, params=[("f", f) for f in RETURN_FIELDS])
        if sale.get("state") == "draft":
            self.tryton.request("POST", f"{path}/quote", body={})
            sale["state"] = "quotation"
        if sale.get("state") == "quotation":
            self.tryton.request("POST", f"{path}/confirm", body={})
        for attempt in range(SETTLE_READS):
            sale = self.tryton.request("GET", path, params=[("f", f) for f in RETURN_FIELDS])
            if sale.get("invoices") or sale.get("state") not in ("confirmed", *DRAFT_STATES):
                break
            if attempt == SETTLE_READS // 2:
                # Not processed after the commit: process now, so an ERP refusal is answered.
                self.tryton.request("POST", f"{path}/process", body={})
            else:
                self.sleep(SETTLE_PAUSE)
        self._returns_unplanned(sale)
        for invoice_id in [record_id(i) for i in sale.get("invoices") or []]:
            row = self.tryton.request(
                "GET", f"model/account.invoice/{invoice_id}", params=[("f", "state")]
            )
            if row.get("state") in ("draft", "validated"):
                self.tryton.request("POST", f"model/account.invoice/{invoice_id}/post", body={})
        note = self._note(sale)
        if not note.invoice_id:
            raise TrytonRejected(
                f"the ERP made no credit note for return sale {erp_id} (nothing to invoice)",
                system=SYSTEM,
            )
        return note

    def _returns_unplanned(self, sale: dict) -> None:
        """A customer's parcel has no known arrival date: without one, Tryton counts the
        returned goods as available only once the warehouse has received them."""
        for shipment_id in [record_id(s) for s in sale.get("shipment_returns") or []]:
            row = self.tryton.request(
                "GET",
                f"model/stock.shipment.out.return/{shipment_id}",
                params=[("f", "state"), ("f", "planned_date")],
            )
            if row.get("state") == "draft" and row.get("planned_date") is not None:
                self.tryton.request(
                    "PUT",
                    f"model/stock.shipment.out.return/{shipment_id}",
                    body={"planned_date": None},
                )
