"""Invoices and payments in Tryton: posted customer invoices by sale, payments as statements."""

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

    def invoices_for_references(self, references: Sequence[str]) -> list[ErpInvoice]:
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
                [["id", "in", list(ref_of)], ["state", "in", ["posted", "paid"]]],
                INVOICE_FIELDS,
            )
            out += [_invoice(r, ref_of.get(r["id"], "")) for r in rows]
        return out

    def payment_record(
        self, *, invoice: ErpInvoice, amount: Decimal, paid_on: date, reference: str
    ) -> str:
        """A statement line on the Magento payments journal, one statement per payment.

        The statement's name is the reference, so a second call finds the first statement.
        """
        found = self.tryton.search(
            "account.statement", [["name", "=", reference]], ["state"], page=2
        )
        if found:
            return str(found[0]["id"])
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
        statement = self.tryton.request(
            "POST",
            "model/account.statement",
            body={
                "name": reference,
                "journal": journal,
                "date": paid_on,
                "start_balance": Decimal(0),
                "end_balance": amount,
                "lines": [["create", [line]]],
            },
        )
        self.tryton.request(
            "POST", f"model/account.statement/{statement['id']}/validate_statement", body={}
        )
        return str(statement["id"])
