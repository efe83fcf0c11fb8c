"""Fill a freshly created Tryton database with a UK business, through proteus.

Run as a subprocess by sandbox.erp.bootstrap (trytond holds process-wide configuration):

    python -m sandbox.erp.setup_tryton --config FILE --database NAME --rounding document --out F

The database must exist with the modules of conf.MODULES activated. Writes a JSON document
with the integration and warehouse users' REST application keys to --out. The books are
set up by setup_accounting, the items and their stock by item_master.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

from sandbox.erp import item_master, setup_accounting
from sandbox.erp.item_master import create_item_master
from sandbox.erp.setup_accounting import (
    chart_of_accounts,
    open_fiscal_years,
    payment_terms,
    payments_journal,
    pound_sterling,
    set_tax_rounding,
    uk_vat,
    vat_categories,
)

# What shapes the database this builds: the bootstrap's cache key hashes these files.
SOURCES = (Path(__file__), Path(setup_accounting.__file__), Path(item_master.__file__))

COMPANY_NAME = "Luma Outdoor Ltd"
WAREHOUSE_NAME = "Luma DC Daventry"
INTEGRATION_LOGIN = "desk_integration"
WAREHOUSE_LOGIN = "warehouse"

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

_started = time.monotonic()


def _progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:5.1f}s] {message}", file=sys.stderr, flush=True)


def setup(database: str, config_file: str, rounding: str) -> dict:
    from proteus import Model
    from proteus import config as pconfig

    cfg = pconfig.set_trytond(database, config_file=config_file)
    today = dt.date.today()

    gbp = pound_sterling()
    company = _company(cfg, gbp, _countries())
    accounts = chart_of_accounts(company, _ref(cfg, "account.account_template_root_en"))
    set_tax_rounding(rounding)
    open_fiscal_years(company, today)
    taxes = uk_vat(accounts)
    due_now, net30 = payment_terms()
    categories = vat_categories(accounts, taxes)
    Uom = Model.get("product.uom")
    unit = Uom(_ref(cfg, "product.uom_unit"))
    warehouse, storage = _warehouse()
    package_types = _package_types()
    carrier_ids = _carriers(unit, categories["standard"])
    _progress("company, chart, taxes, carriers ready")

    item_count = create_item_master(
        cfg,
        unit_id=unit.id,
        category_id=categories["standard"].id,
        storage_id=storage.id,
        today=today,
    )
    _progress("items created and opening stock counted")

    statement_journal = payments_journal(accounts, gbp, company)
    api_key = _user_with_key(
        cfg,
        company,
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
    warehouse_api_key = _user_with_key(
        cfg, company, WAREHOUSE_LOGIN, "Warehouse stand-in", ["stock.group_stock"]
    )

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


def _ref(cfg, xml_id: str) -> int:
    from proteus import Model

    return Model.get("ir.model.data").get_id(xml_id, cfg.context)


def _countries() -> dict:
    from proteus import Model

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
    return countries


def _company(cfg, currency, countries: dict):
    """The company, its address in Rugby; the session's context becomes the company's."""
    from proteus import Model, Wizard

    Party = Model.get("party.party")
    User = Model.get("res.user")
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
    company.currency = currency
    company.timezone = "Europe/London"
    company_config.execute("add")
    cfg._context = User.get_preferences(True, {})
    Company = Model.get("company.company")
    (company,) = Company.find()
    return company


def _warehouse() -> tuple:
    """The warehouse, renamed, and its storage location."""
    from proteus import Model

    Location = Model.get("stock.location")
    (warehouse,) = Location.find([("code", "=", "WH")])
    warehouse.name = WAREHOUSE_NAME
    warehouse.save()
    (storage,) = Location.find([("code", "=", "STO")])
    return warehouse, storage


def _package_types() -> dict[str, int]:
    """Package types the warehouse packs into (a package carries the tracking number)."""
    from proteus import Model

    PackageType = Model.get("stock.package.type")
    package_types = {}
    for name in ("Parcel", "Large letter"):
        package_type = PackageType(name=name)
        package_type.save()
        package_types[name] = package_type.id
    return package_types


def _carriers(unit, category) -> dict[str, int]:
    """Carriers: a service product each (what the customer is charged) and a carrier."""
    from proteus import Model

    Party = Model.get("party.party")
    Template = Model.get("product.template")
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
        template.account_category = category
        template.save()
        carrier = Carrier(party=carrier_parties[party_name], carrier_product=template.products[0])
        carrier.carrier_cost_method = "product"
        carrier.save()
        carrier_ids[code] = carrier.id
    return carrier_ids


def _user_with_key(cfg, company, login: str, name: str, group_ids: list[str]) -> str:
    """A user of the company (an employee) with a REST application key; returns the key."""
    from proteus import Model

    Party = Model.get("party.party")
    User = Model.get("res.user")
    Group = Model.get("res.group")
    Company = Model.get("company.company")
    Employee = Model.get("company.employee")
    Application = Model.get("res.user.application")
    employee_party = Party(name=name)
    employee_party.save()
    employee = Employee(party=employee_party, company=company)
    employee.save()
    user = User(login=login, name=name)
    for xml_id in group_ids:
        user.groups.append(Group(_ref(cfg, xml_id)))
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


def set_rounding(database: str, config_file: str, rounding: str) -> None:
    """Switch the company's VAT rounding of an already set-up database."""
    from proteus import config as pconfig

    pconfig.set_trytond(database, config_file=config_file)
    set_tax_rounding(rounding)


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
