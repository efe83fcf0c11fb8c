"""Fill a freshly created Tryton database with a UK business, through proteus.

Run as a subprocess by sandbox.erp.bootstrap (trytond holds process-wide configuration):

    python -m sandbox.erp.setup_tryton --config FILE --database NAME --rounding document --out F

The database must exist with the modules of conf.MODULES activated. Writes a JSON document
with the integration and warehouse users' REST application keys to --out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

from sandbox.divergence import STOCKED_TYPES, catalogue_divergence, catalogue_rows

COMPANY_NAME = "Luma Outdoor Ltd"
WAREHOUSE_NAME = "Luma DC Daventry"
INTEGRATION_LOGIN = "desk_integration"
WAREHOUSE_LOGIN = "warehouse"
UK_VAT = Decimal("0.20")
PENNY = Decimal("0.01")

# Carrier service product code -> (carrier party, service name, net charge to the customer).
# The codes follow the carriers' own service codes (Royal Mail Click & Drop, DPD networkCode,
# Evri service level) so a mapping table on the desk reads like the carrier's documentation.
CARRIERS = {
    "RM-TPN24": ("Royal Mail Group Ltd", "Royal Mail Tracked 24", Decimal("3.95")),
    "RM-TPS48": ("Royal Mail Group Ltd", "Royal Mail Tracked 48", Decimal("3.25")),
    "DPD-1^12": ("DPD Group UK Ltd", "DPD Next Day", Decimal("6.95")),
    "EVRI-HOME": ("Evri", "Evri Home Delivery", Decimal("2.95")),
}

# Tracking reference prefixes the warehouse stand-in uses per carrier product code.
TRACKING_PREFIX = {"RM-TPN24": "TT", "RM-TPS48": "TS", "DPD-1^12": "15", "EVRI-HOME": "H"}


def fiscal_years(today: dt.date) -> list[int]:
    """Calendar years covering today minus 90 days to today plus one year."""
    start = today - dt.timedelta(days=90)
    end = today + dt.timedelta(days=366)
    return list(range(start.year, end.year + 1))


def _rank(text: str) -> int:
    return int(hashlib.sha256(f"erp-stock:{text}".encode()).hexdigest()[:8], 16)


def erp_stock(sku: str, magento_qty: str) -> int:
    """ERP on-hand quantity for a SKU: mostly Magento's figure, but not everywhere.

    Deterministic per SKU: 88% equal, 7% a few lower (sold but not yet synced), 2% out of stock,
    3% a few higher (a delivery booked in that Magento has not heard of).
    """
    base = int(Decimal(magento_qty or "0"))
    rank = _rank(sku)
    bucket = rank % 100
    delta = 1 + (rank // 100) % 15
    if bucket < 88:
        return base
    if bucket < 95:
        return max(0, base - delta)
    if bucket < 97:
        return 0
    return base + delta


def net_price(gross: str) -> Decimal:
    """Luma prices are shelf prices including UK VAT; the ERP keeps net list prices."""
    return (Decimal(gross or "0") / (1 + UK_VAT)).quantize(Decimal("0.0001"))


_started = time.monotonic()


def _progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:5.1f}s] {message}", file=sys.stderr, flush=True)


def _create_item_master(cfg, *, unit_id: int, category_id: int, storage_id: int, today) -> int:
    """Create the ERP items and their opening stock; return the number of items.

    Straight through trytond's models in one transaction: building 1,900 proteus records runs
    every on_change and takes close to a minute, this takes seconds.
    """
    from trytond.transaction import Transaction

    divergence = catalogue_divergence()
    templates = []
    stock = {}
    for row in catalogue_rows():
        sku = row["sku"]
        if row["type_id"] not in STOCKED_TYPES or sku in divergence.missing:
            continue
        code = divergence.erp_code(sku)
        goods = row["type_id"] == "simple"
        active = sku not in divergence.inactive
        templates.append(
            {
                "name": row["name"],
                "code": code,
                "type": "goods" if goods else "service",
                "default_uom": unit_id,
                "salable": True,
                "sale_uom": unit_id,
                "list_price": net_price(row["price"]),
                "account_category": category_id,
                "active": active,
                "products": [("create", [{"active": active}])],
            }
        )
        if goods:
            stock[code] = erp_stock(sku, row["qty"])

    with Transaction().start(cfg.database_name, cfg.user, context=cfg.context):
        Template = cfg.pool.get("product.template")
        Product = cfg.pool.get("product.product")
        Inventory = cfg.pool.get("stock.inventory")
        # Small batches: the unique-code check of a batch is one SQL clause per product and
        # SQLite's parser refuses deeply nested ones.
        for start in range(0, len(templates), 40):
            Template.create(templates[start : start + 40])
        with Transaction().set_context(active_test=False):
            products = Product.search([("type", "=", "goods")])
        lines = [
            {"product": p.id, "quantity": float(stock[p.code])} for p in products if stock[p.code]
        ]
        # Opening stock through inventories, as stock counts put it into the warehouse; one
        # count per aisle, since confirming grows quadratically with the lines of one count.
        for start in range(0, len(lines), 150):
            (inventory,) = Inventory.create(
                [
                    {
                        "location": storage_id,
                        "date": today,
                        "lines": [("create", lines[start : start + 150])],
                    }
                ]
            )
            Inventory.confirm([inventory])
    return len(templates)


def setup(database: str, config_file: str, rounding: str) -> dict:
    from proteus import Model, Wizard
    from proteus import config as pconfig

    cfg = pconfig.set_trytond(database, config_file=config_file)
    today = dt.date.today()

    ModelData = Model.get("ir.model.data")
    Party = Model.get("party.party")
    User = Model.get("res.user")

    def ref(xml_id: str) -> int:
        return ModelData.get_id(xml_id, cfg.context)

    # --- currency and countries (Tryton ships no data for them; pycountry is not needed) ---
    Currency = Model.get("currency.currency")
    CurrencyRate = Model.get("currency.currency.rate")
    gbp = Currency(name="Pound Sterling", code="GBP", symbol="£", rounding=PENNY)
    gbp.numeric_code = "826"
    gbp.save()
    CurrencyRate(date=dt.date(2000, 1, 1), rate=Decimal(1), currency=gbp).save()
    Country = Model.get("country.country")
    countries = {}
    for code, code3, num, name in [
        ("GB", "GBR", "826", "United Kingdom"),
        ("IE", "IRL", "372", "Ireland"),
        ("FR", "FRA", "250", "France"),
        ("US", "USA", "840", "United States"),
    ]:
        country = Country(name=name, code=code, code3=code3, code_numeric=num)
        country.save()
        countries[code] = country

    # --- company ---
    company_party = Party(name=COMPANY_NAME)
    address = company_party.addresses[0]
    address.street = "Unit 4, Swift Park\nOld Leicester Road"
    address.city = "Rugby"
    address.postal_code = "CV21 1DZ"
    address.country = countries["GB"]
    company_party.save()
    company_config = Wizard("company.company.config")
    company_config.execute("company")
    company = company_config.form
    company.party = company_party
    company.currency = gbp
    company.timezone = "Europe/London"
    company_config.execute("add")
    cfg._context = User.get_preferences(True, {})
    Company = Model.get("company.company")
    (company,) = Company.find()

    # --- chart of accounts (Tryton's universal chart; there is no UK chart on PyPI) ---
    AccountTemplate = Model.get("account.account.template")
    Account = Model.get("account.account")
    create_chart = Wizard("account.create_chart")
    create_chart.execute("account")
    create_chart.form.account_template = AccountTemplate(ref("account.account_template_root_en"))
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

    # --- tax rounding: the company's choice, per line or per document ---
    AccountConfiguration = Model.get("account.configuration")
    account_configuration = AccountConfiguration(1)
    account_configuration.tax_rounding = rounding
    account_configuration.save()

    # --- fiscal years with monthly periods, move and invoice sequences ---
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

    # --- UK VAT: standard 20% and zero-rated 0%, for sales and purchases ---
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

    # --- payment terms ---
    PaymentTerm = Model.get("account.invoice.payment_term")
    due_now = PaymentTerm(name="Due on receipt")
    due_now.lines.new(type="remainder")
    due_now.save()
    net30 = PaymentTerm(name="Net 30")
    line = net30.lines.new(type="remainder")
    line.relativedeltas.new(days=30)
    net30.save()

    # --- accounting categories carrying the VAT treatment ---
    Category = Model.get("product.category")
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

    Uom = Model.get("product.uom")
    unit = Uom(ref("product.uom_unit"))
    Template = Model.get("product.template")

    # --- warehouse ---
    Location = Model.get("stock.location")
    (warehouse,) = Location.find([("code", "=", "WH")])
    warehouse.name = WAREHOUSE_NAME
    warehouse.save()
    (storage,) = Location.find([("code", "=", "STO")])

    # --- package types the warehouse packs into (a package carries the tracking number) ---
    PackageType = Model.get("stock.package.type")
    package_types = {}
    for name in ("Parcel", "Large letter"):
        package_type = PackageType(name=name)
        package_type.save()
        package_types[name] = package_type.id

    # --- carriers: a service product each (what the customer is charged) and a carrier ---
    Carrier = Model.get("carrier")
    carrier_parties = {}
    carrier_ids = {}
    for code, (party_name, service, charge) in CARRIERS.items():
        if party_name not in carrier_parties:
            carrier_parties[party_name] = Party(name=party_name)
            carrier_parties[party_name].save()
        template = Template(name=service, code=code, type="service", default_uom=unit)
        template.salable = True
        template.list_price = charge
        template.account_category = categories["standard"]
        template.save()
        carrier = Carrier(party=carrier_parties[party_name], carrier_product=template.products[0])
        carrier.carrier_cost_method = "product"
        carrier.save()
        carrier_ids[code] = carrier.id

    _progress("company, chart, taxes, carriers ready")

    # --- item master from the Luma catalogue, diverging from Magento as real ones do ---
    item_count = _create_item_master(
        cfg,
        unit_id=unit.id,
        category_id=categories["standard"].id,
        storage_id=storage.id,
        today=today,
    )
    _progress("items created and opening stock counted")

    # --- a bank statement journal to record Magento payments (the card gateway payout) ---
    Journal = Model.get("account.journal")
    StatementJournal = Model.get("account.statement.journal")
    (statement_account_journal,) = Journal.find([("code", "=", "STA")], limit=1)
    statement_journal = StatementJournal(
        name="Magento payments",
        journal=statement_account_journal,
        account=accounts["cash"],
        currency=gbp,
        company=company,
        validation="amount",
    )
    statement_journal.save()

    # --- users: the desk's integration user and the warehouse, each with a REST key ---
    Group = Model.get("res.group")
    Employee = Model.get("company.employee")
    Application = Model.get("res.user.application")

    def user_with_key(login: str, name: str, group_ids: list[str]) -> str:
        employee_party = Party(name=name)
        employee_party.save()
        employee = Employee(party=employee_party, company=company)
        employee.save()
        user = User(login=login, name=name)
        for xml_id in group_ids:
            user.groups.append(Group(ref(xml_id)))
        user.companies.append(Company(company.id))
        user.company = company
        user.employees.append(Employee(employee.id))
        user.employee = employee
        user.save()
        application = Application(user=user, application="rest")
        application.save()
        # Created by the administrator, the key is born validated (default state): no
        # interactive approval as a user requesting a key from the client would need.
        return application.key

    api_key = user_with_key(
        INTEGRATION_LOGIN,
        "Exception desk integration",
        [
            "sale.group_sale",
            "stock.group_stock",
            "account.group_account",
            "account_statement.group_statement",
            "party.group_party_admin",
        ],
    )
    warehouse_api_key = user_with_key(WAREHOUSE_LOGIN, "Warehouse stand-in", ["stock.group_stock"])

    return {
        "api_key": api_key,
        "warehouse_api_key": warehouse_api_key,
        "company": company.id,
        "warehouse": warehouse.id,
        "storage": storage.id,
        "statement_journal": statement_journal.id,
        "package_types": package_types,
        "carriers": carrier_ids,
        "taxes": {key: tax.id for key, tax in taxes.items()},
        "payment_terms": {"due_on_receipt": due_now.id, "net_30": net30.id},
        "items": item_count,
        "rounding": rounding,
        "built_on": today.isoformat(),
    }


def set_rounding(database: str, config_file: str, rounding: str) -> None:
    """Switch the company's VAT rounding of an already set-up database."""
    from proteus import Model
    from proteus import config as pconfig

    pconfig.set_trytond(database, config_file=config_file)
    AccountConfiguration = Model.get("account.configuration")
    account_configuration = AccountConfiguration(1)
    account_configuration.tax_rounding = rounding
    account_configuration.save()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--rounding", choices=("document", "line"), required=True)
    parser.add_argument("--out", help="where to write the JSON result of a full setup")
    parser.add_argument("--only-rounding", action="store_true", help="only switch the VAT rounding")
    args = parser.parse_args(argv)
    if args.only_rounding:
        set_rounding(args.database, args.config, args.rounding)
        return 0
    if not args.out:
        parser.error("--out is required for a full setup")
    result = setup(args.database, args.config, args.rounding)
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
