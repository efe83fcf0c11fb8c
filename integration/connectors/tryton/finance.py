"""Invoices and payments in Tryton: customer invoices by sale, payments as bank statements.

A sale invoiced on order leaves its invoice in draft; Magento has already invoiced and charged
the customer, so the payment posting books (posts) it before recording the payment. A payment
is a statement of its own on the Magento payments journal, named by the payment's reference so
a second call finds the first; it is validated (its move reconciles the invoice) and posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from integration.connectors.erp import ErpInvoice
from integration.connectors.tryton.codec import dec, record_id
from integration.connectors.tryton.transport import TrytonTransport, chunks

INVOICE_FIELDS = (
    "number",
    "state",
    "invoice_date",
    "currency.code",
    "untaxed_amount",
    "tax_amount",
    "total_amount",
    "amount_to_pay",
)
BOOKED_STATES = ["posted", "paid"]
CENT = Decimal("0.01")
DRAFT_STATES = ["draft", "validated"]


def _invoice(row: dict, sale_reference: str) -> ErpInvoice:
    currency = row.get("currency") or {}
    return ErpInvoice(
        erp_id=str(row["id"]),
        sale_reference=sale_reference,
        number=row.get("number") or "",
        state=row.get("state") or "",
        invoice_date=row.get("invoice_date"),
        currency=currency.get("code", "") if isinstance(currency, dict) else "",
        untaxed_amount=dec(row.get("untaxed_amount")),
        tax_amount=dec(row.get("tax_amount")),
        total_amount=dec(row.get("total_amount")),
        amount_to_pay=dec(row.get("amount_to_pay")),
    )


class TrytonFinance:
    def __init__(self, tryton: TrytonTransport) -> None:
        self.tryton = tryton

    def invoices_for_references(
        self, references: Sequence[str], *, include_draft: bool = False
    ) -> list[ErpInvoice]:
        states = BOOKED_STATES + (DRAFT_STATES if include_draft else [])
        out: list[ErpInvoice] = []
        for chunk in chunks(sorted(set(references))):
            sales = self.tryton.search(
                "sale.sale", [["reference", "in", chunk]], ["reference", "invoices"]
            )
            ref_of = {
                record_id(i): s.get("reference") or ""
                for s in sales
                for i in s.get("invoices") or []
            }
            if not ref_of:
                continue
            rows = self.tryton.search(
                "account.invoice",
                [["id", "in", list(ref_of)], ["state", "in", states]],
                INVOICE_FIELDS,
            )
            out += [_invoice(r, ref_of.get(r["id"], "")) for r in rows]
        return out

    def invoice_post(self, invoice: ErpInvoice, *, invoice_date: date) -> ErpInvoice:
        """Post a draft invoice dated the day Magento invoiced it; a booked one is left.

        Tryton numbers invoices in date order: a day earlier than one already numbered is
        refused, with its reason (the caller records it).
        """
        if invoice.state in DRAFT_STATES:
            path = f"model/account.invoice/{invoice.erp_id}"
            self.tryton.request("PUT", path, body={"invoice_date": invoice_date})
            self.tryton.request("POST", f"{path}/post", body={})
        row = self.tryton.request(
            "GET",
            f"model/account.invoice/{invoice.erp_id}",
            params=[("f", f) for f in INVOICE_FIELDS],
        )
        return _invoice(row, invoice.sale_reference)

    def _statement_totals(self, journal: int, amount: Decimal, lines: int) -> dict:
        """What the journal's validation checks: the total, the line count or the balances."""
        row = self.tryton.request(
            "GET", f"model/account.statement.journal/{journal}", params=[("f", "validation")]
        )
        validation = row.get("validation") or "amount"
        if validation == "number_of_lines":
            return {"number_of_lines": lines}
        if validation == "balance":
            last = self.tryton.search(
                "account.statement",
                [["journal", "=", journal], ["state", "in", ["validated", "posted"]]],
                ["end_balance"],
                order=[["date", "DESC"], ["id", "DESC"]],
                page=1,
            )
            start = dec(last[0].get("end_balance")) if last else Decimal(0)
            return {"start_balance": start, "end_balance": start + amount}
        return {"total_amount": amount}

    def payment_record(
        self, *, invoice: ErpInvoice, amount: Decimal, paid_on: date, reference: str
    ) -> str:
        """A statement line on the Magento payments journal, one statement per payment.

        The statement's name is the reference, so a second call finds the first (and finishes
        it if an earlier call stopped between creating and posting it).
        """
        # The desk keeps money to 4 places; Tryton takes an amount in its currency's cents.
        amount = amount.quantize(CENT)
        found = self.tryton.search(
            "account.statement", [["name", "=", reference]], ["state"], page=2
        )
        if found:
            statement_id, state = found[0]["id"], found[0].get("state")
        else:
            journal = self.tryton.id_of(
                "account.statement.journal",
                [["name", "=", "Magento payments"]],
                "statement journal 'Magento payments'",
            )
            row = self.tryton.request(
                "GET",
                f"model/account.invoice/{invoice.erp_id}",
                params=[("f", "party"), ("f", "account")],
            )
            line = {
                "number": reference,
                "date": paid_on,
                "amount": amount,
                "party": record_id(row.get("party")),
                "account": record_id(row.get("account")),
                "related_to": f"account.invoice,{invoice.erp_id}",
                "description": f"Magento payment {reference}",
            }
            lines = [line]
            due = invoice.amount_to_pay
            if due is not None and Decimal(0) <= due < amount:
                # Magento charged more than the ERP's own total (VAT rounded per line there,
                # per document here): Tryton refuses to pay an invoice above its amount, so the
                # excess is a credit on the customer's account, for finance to see.
                lines = [
                    {**line, "amount": due},
                    {
                        **line,
                        "amount": amount - due,
                        "related_to": None,
                        "description": f"Magento payment {reference}: paid above the ERP "
                        "invoice (rounding)",
                    },
                ]
            statement = self.tryton.request(
                "POST",
                "model/account.statement",
                body={
                    "name": reference,
                    "journal": journal,
                    "date": paid_on,
                    **self._statement_totals(
                        journal, amount, len([ln for ln in lines if ln["amount"]])
                    ),
                    "lines": [["create", [ln for ln in lines if ln["amount"]]]],
                },
            )
            statement_id, state = statement["id"], "draft"
        path = f"model/account.statement/{statement_id}"
        if state == "draft":
            self.tryton.request("POST", f"{path}/validate_statement", body={})
            state = "validated"
        if state == "validated":
            self.tryton.request("POST", f"{path}/post", body={})
        return str(statement_id)
