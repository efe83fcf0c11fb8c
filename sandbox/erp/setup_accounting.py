"""The UK company's books in a fresh Tryton database, through proteus: GBP, the chart, VAT,
fiscal years with their sequences, payment terms, VAT categories and the payments journal.

Each function runs inside setup_tryton's proteus configuration, in the order setup() calls them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

UK_VAT = Decimal("0.20")
PENNY = Decimal("0.01")


def fiscal_years(today: dt.date) -> list[int]:
    """Calendar years covering today minus 90 days to today plus one year."""
    start = today - dt.timedelta(days=90)
    end = today + dt.timedelta(days=366)
    return list(range(start.year, end.year + 1))


def pound_sterling():
    """GBP with a rate of 1 (Tryton ships no currencies; pycountry is not needed)."""
    from proteus import Model

    Currency = Model.get("currency.currency")
    CurrencyRate = Model.get("currency.currency.rate")
    gbp = Currency(name="Pound Sterling", code="GBP", symbol="£", rounding=PENNY)
    gbp.numeric_code = "826"
    gbp.save()
    CurrencyRate(date=dt.date(2000, 1, 1), rate=Decimal(1), currency=gbp).save()
    return gbp


def chart_of_accounts(company, template_id: int) -> dict:
    """Tryton's universal chart (there is no UK chart on PyPI); the accounts setup uses."""
    from proteus import Model, Wizard

    AccountTemplate = Model.get("account.account.template")
    Account = Model.get("account.account")
    create_chart = Wizard("account.create_chart")
    create_chart.execute("account")
    create_chart.form.account_template = AccountTemplate(template_id)
    create_chart.form.company = company
    create_chart.execute("create_account")
    accounts = {}
    for kind in ("receivable", "payable", "revenue", "expense"):
        (accounts[kind],) = Account.find(
            [(f"type.{kind}", "=", True), ("closed", "!=", True)], limit=1
        )
    (accounts["cash"],) = Account.find([("code", "=", "1.1.1")], limit=1)
    (accounts["tax"],) = Account.find([("code", "=", "6.3.6")], limit=1)
    create_chart.form.account_receivable = accounts["receivable"]
    create_chart.form.account_payable = accounts["payable"]
    create_chart.form.category_account_expense = accounts["expense"]
    create_chart.form.category_account_revenue = accounts["revenue"]
    create_chart.execute("create_properties")
    return accounts


def set_tax_rounding(rounding: str) -> None:
    """The company's choice of VAT rounding: per line or per document."""
    from proteus import Model

    AccountConfiguration = Model.get("account.configuration")
    account_configuration = AccountConfiguration(1)
    account_configuration.tax_rounding = rounding
    account_configuration.save()


def open_fiscal_years(company, today: dt.date) -> None:
    """Fiscal years with monthly periods, and their move and invoice sequences."""
    from proteus import Model

    FiscalYear = Model.get("account.fiscalyear")
    SequenceStrict = Model.get("ir.sequence.strict")
    SequenceType = Model.get("ir.sequence.type")
    (move_type,) = SequenceType.find([("name", "=", "Account Move")], limit=1)
    (invoice_type,) = SequenceType.find([("name", "=", "Invoice")], limit=1)
    for year in fiscal_years(today):
        move_sequence = SequenceStrict(
            name=f"Moves {year}", sequence_type=move_type, company=company
        )
        move_sequence.prefix = f"M{year}-"
        move_sequence.padding = 6
        move_sequence.save()
        fiscalyear = FiscalYear(name=str(year), company=company)
        fiscalyear.start_date = dt.date(year, 1, 1)
        fiscalyear.end_date = dt.date(year, 12, 31)
        fiscalyear.move_sequence = move_sequence
        sequences = {}
        for kind, prefix in [("out_invoice", "INV"), ("out_credit_note", "CRN")]:
            seq = SequenceStrict(
                name=f"{prefix} {year}", sequence_type=invoice_type, company=company
            )
            seq.prefix = f"{prefix}{year}-"
            seq.padding = 6
            seq.save()
            sequences[kind] = seq
        (invoice_sequences,) = fiscalyear.invoice_sequences
        invoice_sequences.out_invoice_sequence = sequences["out_invoice"]
        invoice_sequences.out_credit_note_sequence = sequences["out_credit_note"]
        invoice_sequences.in_invoice_sequence = sequences["out_invoice"]
        invoice_sequences.in_credit_note_sequence = sequences["out_credit_note"]
        fiscalyear.save()
        fiscalyear.click("create_period")


def uk_vat(accounts: dict) -> dict:
    """UK VAT: standard 20% and zero-rated 0%, for sales and purchases."""
    from proteus import Model

    Tax = Model.get("account.tax")
    TaxGroup = Model.get("account.tax.group")
    sale_group = TaxGroup(name="VAT on sales", code="VAT-S", kind="sale")
    sale_group.save()
    purchase_group = TaxGroup(name="VAT on purchases", code="VAT-P", kind="purchase")
    purchase_group.save()
    taxes = {}
    for key, name, rate, group in [
        ("sale_standard", "UK VAT 20% (S) sales", UK_VAT, sale_group),
        ("sale_zero", "UK VAT 0% (Z) sales", Decimal(0), sale_group),
        ("purchase_standard", "UK VAT 20% (S) purchases", UK_VAT, purchase_group),
        ("purchase_zero", "UK VAT 0% (Z) purchases", Decimal(0), purchase_group),
    ]:
        tax = Tax(name=name, description=name, type="percentage", rate=rate, group=group)
        tax.invoice_account = accounts["tax"]
        tax.credit_note_account = accounts["tax"]
        tax.save()
        taxes[key] = tax
    return taxes


def payment_terms() -> tuple:
    """Due on receipt and Net 30."""
    from proteus import Model

    PaymentTerm = Model.get("account.invoice.payment_term")
    due_now = PaymentTerm(name="Due on receipt")
    due_now.lines.new(type="remainder")
    due_now.save()
    net30 = PaymentTerm(name="Net 30")
    line = net30.lines.new(type="remainder")
    line.relativedeltas.new(days=30)
    net30.save()
    return due_now, net30


def vat_categories(accounts: dict, taxes: dict) -> dict:
    """Accounting categories carrying the VAT treatment of the items in them."""
    from proteus import Model

    Category = Model.get("product.category")
    Tax = Model.get("account.tax")
    categories = {}
    for key, name, sale_tax, purchase_tax in [
        ("standard", "Standard-rated (VAT 20%)", "sale_standard", "purchase_standard"),
        ("zero", "Zero-rated (VAT 0%)", "sale_zero", "purchase_zero"),
    ]:
        category = Category(name=name, accounting=True)
        category.account_revenue = accounts["revenue"]
        category.account_expense = accounts["expense"]
        category.customer_taxes.append(Tax(taxes[sale_tax].id))
        category.supplier_taxes.append(Tax(taxes[purchase_tax].id))
        category.save()
        categories[key] = category
    return categories


def payments_journal(accounts: dict, currency, company):
    """A bank statement journal to record Magento payments (the card gateway payout)."""
    from proteus import Model

    Journal = Model.get("account.journal")
    StatementJournal = Model.get("account.statement.journal")
    (statement_account_journal,) = Journal.find([("code", "=", "STA")], limit=1)
    statement_journal = StatementJournal(
        name="Magento payments",
        journal=statement_account_journal,
        account=accounts["cash"],
        currency=currency,
        company=company,
        validation="amount",
    )
    statement_journal.save()
    return statement_journal
