"""Sales in Tryton: found by the Magento reference, created with party, address, lines and
carrier, and moved on to confirmed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from integration.connectors.erp import (
    UNPICKED_SHIPMENT_STATES,
    CancelStatus,
    ErpSale,
    ErpShipment,
    SaleCancel,
    SaleRequest,
)
from integration.connectors.tryton.codec import dec, record_id
from integration.connectors.tryton.items import TrytonItems
from integration.connectors.tryton.transport import (
    SYSTEM,
    TrytonRejected,
    TrytonTransport,
    chunks,
)

SALE_FIELDS = ("reference", "state", "number", "untaxed_amount", "tax_amount", "total_amount")
# Sale states Tryton's own `cancel` button accepts; later ones are cancelled document by document.
DRAFT_SALE_STATES = ("draft", "quotation")
# Invoice states Tryton cancels without an accounting move (a posted one needs a credit note).
UNPOSTED_INVOICE_STATES = ("draft", "validated")


def sale_from_row(row: dict) -> ErpSale:
    return ErpSale(
        erp_id=str(row["id"]),
        reference=row.get("reference") or "",
        state=row.get("state") or "",
        number=row.get("number") or "",
        untaxed_amount=dec(row.get("untaxed_amount")),
        tax_amount=dec(row.get("tax_amount")),
        total_amount=dec(row.get("total_amount")),
    )


def _sale_line(term: dict, *, quantity: float, unit_price: Decimal, description: str) -> dict:
    """A sale line with the unit and customer taxes Tryton's on_change_product would set."""
    return {
        "type": "line",
        "product": term["id"],
        "quantity": quantity,
        "unit": record_id(term.get("sale_uom")) or record_id(term.get("default_uom")),
        "unit_price": unit_price,
        "description": description,
        "taxes": [["add", [record_id(t) for t in term.get("customer_taxes_used") or []]]],
    }


class TrytonSales:
    def __init__(self, tryton: TrytonTransport, items: TrytonItems) -> None:
        self.tryton = tryton
        self.items = items

    def sale_find(self, reference: str) -> ErpSale | None:
        rows = self.tryton.search("sale.sale", [["reference", "=", reference]], SALE_FIELDS)
        live = [r for r in rows if r.get("state") != "cancelled"] or rows
        return sale_from_row(live[0]) if live else None

    def sales_by_references(self, references: Sequence[str]) -> dict[str, ErpSale]:
        out: dict[str, ErpSale] = {}
        for chunk in chunks(sorted(set(references))):
            for row in self.tryton.search("sale.sale", [["reference", "in", chunk]], SALE_FIELDS):
                if row.get("state") != "cancelled" or row["reference"] not in out:
                    out[row["reference"]] = sale_from_row(row)
        return out

    def _party_id(self, request: SaleRequest) -> int:
        if request.customer_email:
            rows = self.tryton.search(
                "party.contact_mechanism",
                [["type", "=", "email"], ["value", "=", request.customer_email]],
                ["party"],
                page=2,
            )
            if rows:
                party = rows[0]["party"]
                return party["id"] if isinstance(party, dict) else int(party)
        mechanisms = []
        if request.customer_email:
            mechanisms.append({"type": "email", "value": request.customer_email})
        if request.telephone:
            mechanisms.append({"type": "phone", "value": request.telephone})
        created = self.tryton.request(
            "POST",
            "model/party.party",
            body={
                "name": request.customer_name or request.customer_email or request.reference,
                "contact_mechanisms": [["create", mechanisms]],
            },
        )
        return created["id"]

    def _address_id(self, party: int, request: SaleRequest) -> int:
        country = self.tryton.id_of(
            "country.country",
            [["code", "=", request.country or "GB"]],
            f"country {request.country}",
        )
        created = self.tryton.request(
            "POST",
            "model/party.address",
            body={
                "party": party,
                "party_name": request.customer_name,
                "street": "\n".join(request.street),
                "postal_code": request.postcode,
                "city": request.city,
                "country": country,
            },
        )
        return created["id"]

    def _product_terms(self, codes: Iterable[str]) -> dict[str, dict]:
        """Unit and customer taxes per product: what Tryton's on_change_product would set."""
        rows = self.items.products(
            codes,
            [
                "code",
                "template.sale_uom",
                "template.default_uom",
                "template.account_category.customer_taxes_used",
            ],
        )
        for row in rows:
            template = row.get("template") or {}
            category = template.get("account_category") or {}
            row["sale_uom"] = template.get("sale_uom")
            row["default_uom"] = template.get("default_uom")
            row["customer_taxes_used"] = category.get("customer_taxes_used") or []
        return {r["code"]: r for r in rows}

    def _carrier(self, code: str) -> tuple[int, dict] | None:
        if not code:
            return None
        fields = ["carrier_product", "carrier_product.code"]
        rows = self.tryton.search("carrier", [["carrier_product.code", "=", code]], fields, page=2)
        if not rows:
            rows = self.tryton.search(
                "carrier", [["rec_name", "ilike", f"%{code}%"]], fields, page=2
            )
        if not rows:
            raise TrytonRejected(f"the ERP has no carrier service {code!r}", system=SYSTEM)
        product = rows[0]["carrier_product"]
        product_code = product.get("code") if isinstance(product, dict) else None
        return rows[0]["id"], {"code": product_code}

    def sale_create(self, request: SaleRequest) -> ErpSale:
        carrier = self._carrier(request.carrier)
        codes = {line.item_code for line in request.lines}
        if carrier and carrier[1].get("code"):
            codes.add(carrier[1]["code"])
        terms = self._product_terms(codes)
        lines = []
        for line in request.lines:
            term = terms.get(line.item_code)
            if term is None:
                raise TrytonRejected(f"the ERP has no item {line.item_code}", system=SYSTEM)
            lines.append(
                _sale_line(
                    term,
                    quantity=float(line.quantity),
                    unit_price=line.unit_price,
                    description=line.description,
                )
            )
        if carrier and request.shipping_amount:
            term = terms.get(carrier[1].get("code") or "")
            if term is not None:
                lines.append(
                    _sale_line(
                        term,
                        quantity=1.0,
                        unit_price=request.shipping_amount.quantize(Decimal("0.0001")),
                        description="Shipping (as charged in Magento)",
                    )
                )
        party = self._party_id(request)
        address = self._address_id(party, request)
        body: dict[str, Any] = {
            "party": party,
            "invoice_address": address,
            "shipment_address": address,
            "reference": request.reference,
            "description": request.comment[:250],
            "sale_date": request.sale_date,
            "lines": [["create", lines]],
        }
        # Magento's shipping charge is already a line: no second charge computed by the
        # carrier (and an order with nothing to ship has no carrier at all).
        body["shipment_cost_method"] = None
        if carrier:
            body["carrier"] = carrier[0]
        if request.books_only:
            # Fulfilled before the desk: Tryton invoices it when it processes the sale and never
            # makes a customer shipment, so nothing reaches the warehouse's picking list.
            body["shipment_method"] = "manual"
            body["invoice_method"] = "order"
        created = self.tryton.request("POST", "model/sale.sale", body=body)
        sale = ErpSale(erp_id=str(created["id"]), reference=request.reference, state="draft")
        return self.sale_confirm(sale)

    def sale_confirm(self, sale: ErpSale) -> ErpSale:
        state = sale.state
        if state == "draft":
            self.tryton.request("POST", f"model/sale.sale/{sale.erp_id}/quote", body={})
            state = "quotation"
        if state == "quotation":
            self.tryton.request("POST", f"model/sale.sale/{sale.erp_id}/confirm", body={})
        row = self.tryton.request(
            "GET", f"model/sale.sale/{sale.erp_id}", params=[("f", f) for f in SALE_FIELDS]
        )
        return sale_from_row(row)

    def _documents(self, reference: str) -> list[dict]:
        """The live (not cancelled) sales carrying the reference, with shipments and invoices."""
        rows = self.tryton.search(
            "sale.sale",
            [["reference", "=", reference], ["state", "!=", "cancelled"]],
            ["state", "number", "comment", "shipments", "invoices"],
        )
        for row in rows:
            ids = [record_id(s) for s in row.get("shipments") or []]
            row["shipment_rows"] = (
                self.tryton.search(
                    "stock.shipment.out",
                    [["id", "in", ids]],
                    ["number", "state", "effective_date", "shipping_reference"],
                )
                if ids
                else []
            )
            ids = [record_id(i) for i in row.get("invoices") or []]
            row["invoice_rows"] = (
                self.tryton.search("account.invoice", [["id", "in", ids]], ["number", "state"])
                if ids
                else []
            )
        return rows

    def sale_cancel(self, reference: str, *, note: str) -> SaleCancel:
        sales = self._documents(reference)
        if not sales:
            return SaleCancel(CancelStatus.NOT_FOUND)
        late = [
            ErpShipment(
                erp_id=str(s["id"]),
                sale_reference=reference,
                state=s.get("state") or "",
                effective_date=s.get("effective_date"),
                tracking_number=s.get("shipping_reference") or "",
                courier="",
                number=s.get("number") or "",
            )
            for sale in sales
            for s in sale["shipment_rows"]
            if s.get("state") not in UNPICKED_SHIPMENT_STATES and s.get("state") != "cancelled"
        ]
        if late:
            return SaleCancel(CancelStatus.TOO_LATE, shipments=tuple(late))
        kept: list[str] = []
        for sale in sales:
            path = f"model/sale.sale/{sale['id']}"
            if sale["state"] == "confirmed" and not sale["shipment_rows"]:
                # Not processed yet: back to draft, then Tryton's own cancel.
                self.tryton.request("POST", f"{path}/draft", body={})
                sale["state"] = "draft"
            if sale["state"] in DRAFT_SALE_STATES:
                self.tryton.request("POST", f"{path}/cancel", body={})
                continue
            for shipment in sale["shipment_rows"]:
                if shipment.get("state") in UNPICKED_SHIPMENT_STATES:
                    self.tryton.request(
                        "POST", f"model/stock.shipment.out/{shipment['id']}/cancel", body={}
                    )
            for invoice in sale["invoice_rows"]:
                if invoice.get("state") in UNPOSTED_INVOICE_STATES:
                    self.tryton.request(
                        "POST", f"model/account.invoice/{invoice['id']}/cancel", body={}
                    )
                elif invoice.get("state") != "cancelled":
                    kept.append(invoice.get("number") or str(invoice["id"]))
            comment = sale.get("comment") or ""
            if note not in comment:
                # What an ERP user reads on the sale: why its shipment and invoice went.
                self.tryton.request("PUT", path, body={"comment": f"{comment}\n{note}".strip()})
        return SaleCancel(CancelStatus.CANCELLED, invoices_kept=tuple(kept))

    def sale_books_close(self, reference: str, *, invoice_date: date) -> bool:
        sales = self._documents(reference)
        invoices = [i for sale in sales for i in sale["invoice_rows"]]
        if not invoices:
            return False  # Tryton makes the invoice when it processes the sale, just after
        for invoice in invoices:
            if invoice.get("state") in UNPOSTED_INVOICE_STATES:
                path = f"model/account.invoice/{invoice['id']}"
                self.tryton.request("PUT", path, body={"invoice_date": invoice_date})
                self.tryton.request("POST", f"{path}/post", body={})
        return True
