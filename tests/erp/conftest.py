"""Fixtures for the Tryton sandbox tests. `tryton_server` comes from sandbox.erp.testing
(registered in tests/conftest.py so every test package can use the real ERP)."""

import datetime as dt
import time
from decimal import Decimal

import pytest

from sandbox.erp.rest import TrytonRest


@pytest.fixture
def erp(tryton_server):
    """REST as the desk's integration user."""
    with tryton_server.rest() as rest:
        yield rest


@pytest.fixture
def warehouse_rest(tryton_server):
    with tryton_server.rest(warehouse=True) as rest:
        yield rest


def product_id(rest: TrytonRest, code: str) -> int:
    (product,) = rest.search("product.product", [["code", "=", code]], ["id"])
    return product["id"]


def create_customer(rest: TrytonRest, name: str = "Jane Smith") -> tuple[int, int]:
    """A party with one UK address; returns (party id, address id)."""
    (gb,) = rest.search("country.country", [["code", "=", "GB"]], ["id"])
    party = rest.create(
        "party.party",
        {
            "name": name,
            "addresses": [
                [
                    "create",
                    [
                        {
                            "street": "Flat 3, 12 High Street\nKensington",
                            "city": "London",
                            "postal_code": "W8 4PT",
                            "country": gb["id"],
                        }
                    ],
                ]
            ],
            "contact_mechanisms": [["create", [{"type": "email", "value": "jane@example.com"}]]],
        },
        ["addresses"],
    )
    return party["id"], party["addresses"][0]


def create_sale(
    rest: TrytonRest,
    lines: list[tuple[str, int, Decimal]],
    *,
    reference: str,
    carrier_code: str | None = None,
    shipping_charge: Decimal | None = None,
) -> dict:
    """A draft sale for a new customer with lines of (ERP code, quantity, net unit price).

    With `shipping_charge` the order's own (Magento's) net carriage is a line on the carrier's
    product and Tryton does not price carriage itself; without it, Tryton adds the carrier's
    charge on quote. A sale without a carrier must not ask Tryton for carriage at all.
    """
    party, address = create_customer(rest)
    (vat,) = rest.search("account.tax", [["name", "=", "UK VAT 20% (S) sales"]], ["id"])
    values = {
        "party": party,
        "invoice_address": address,
        "shipment_address": address,
        "reference": reference,
        "description": f"Magento order {reference}",
        "lines": [
            [
                "create",
                [
                    {
                        "type": "line",
                        "product": product_id(rest, code),
                        "quantity": quantity,
                        "unit": 1,
                        "unit_price": price,
                        "taxes": [["add", [vat["id"]]]],
                    }
                    for code, quantity, price in lines
                ],
            ]
        ],
    }
    if carrier_code:
        (carrier,) = rest.search(
            "carrier", [["carrier_product.code", "=", carrier_code]], ["id", "carrier_product"]
        )
        values["carrier"] = carrier["id"]
    if not carrier_code or shipping_charge is not None:
        values["shipment_cost_method"] = None
    if shipping_charge is not None:
        values["lines"][0][1].append(
            {
                "type": "line",
                "product": carrier["carrier_product"],
                "quantity": 1,
                "unit": 1,
                "unit_price": shipping_charge,
                "taxes": [["add", [vat["id"]]]],
            }
        )
    return rest.create("sale.sale", values, ["state", "untaxed_amount", "tax_amount"])


def confirm_sale(rest: TrytonRest, sale_id: int, timeout: float = 20) -> dict:
    """Quote and confirm; Tryton processes a confirmed sale right after the commit."""
    rest.action("sale.sale", sale_id, "quote")
    rest.action("sale.sale", sale_id, "confirm")
    deadline = time.monotonic() + timeout
    fields = ["state", "shipments", "invoices", "shipment_state", "invoice_state"]
    while True:
        sale = rest.read("sale.sale", sale_id, fields)
        if sale["state"] == "processing" and sale["shipments"] and sale["invoices"]:
            return sale
        if time.monotonic() > deadline:
            raise AssertionError(f"sale {sale_id} not processed: {sale}")
        time.sleep(0.2)


TODAY = dt.date.today()
