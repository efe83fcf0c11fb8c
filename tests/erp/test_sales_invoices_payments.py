"""A Magento order's life in the ERP, over REST: sale, shipment, invoice with UK VAT, payment."""

from decimal import Decimal

import pytest

from sandbox.erp.testing import running_tryton
from tests.erp.conftest import TODAY, confirm_sale, create_sale


def test_sale_quote_confirm_process_gives_shipment_and_invoice_with_vat(erp):
    sale = create_sale(
        erp,
        [("24-MB01", 2, Decimal("28.3333")), ("24-MB04", 1, Decimal("26.6667"))],
        reference="000000101",
        carrier_code="RM-TPN24",
    )
    assert sale["state"] == "draft"
    processed = confirm_sale(erp, sale["id"])
    assert processed["shipment_state"] == "waiting"

    (shipment_id,) = processed["shipments"]
    shipment = erp.read(
        "stock.shipment.out",
        shipment_id,
        ["state", "effective_date", "shipping_reference", "carrier.carrier_product.code"],
    )
    assert shipment["state"] == "waiting"
    assert shipment["effective_date"] is None and shipment["shipping_reference"] is None
    assert shipment["carrier"]["carrier_product"]["code"] == "RM-TPN24"

    (invoice_id,) = processed["invoices"]
    invoice = erp.read(
        "account.invoice",
        invoice_id,
        [
            "state",
            "untaxed_amount",
            "tax_amount",
            "total_amount",
            "lines.amount",
            "lines.product.code",
            "taxes.base",
            "taxes.amount",
        ],
    )
    # Lines: 56.67 + 26.67 + the carrier's charge for Tracked 24 (3.95 net).
    assert sorted((line["product"]["code"], line["amount"]) for line in invoice["lines"]) == [
        ("24-MB01", Decimal("56.67")),
        ("24-MB04", Decimal("26.67")),
        ("RM-TPN24", Decimal("3.95")),
    ]
    assert invoice["untaxed_amount"] == Decimal("87.29")
    assert invoice["tax_amount"] == Decimal("17.46")  # 20% of 87.29 = 17.458
    assert invoice["total_amount"] == Decimal("104.75")
    assert [(t["base"], t["amount"]) for t in invoice["taxes"]] == [
        (Decimal("87.29"), Decimal("17.46"))
    ]

    # The sale is found by the Magento increment id.
    (found,) = erp.search("sale.sale", [["reference", "=", "000000101"]], ["number"])
    assert found["id"] == sale["id"] and found["number"]


def test_magento_priced_carriage_replaces_the_erp_carrier_charge(erp):
    sale = create_sale(
        erp,
        [("24-MB01", 1, Decimal("10.00"))],
        reference="000000104",
        carrier_code="DPD-1^12",
        shipping_charge=Decimal("4.1667"),  # Magento's £5.00 incl. VAT
    )
    processed = confirm_sale(erp, sale["id"])
    (invoice_id,) = processed["invoices"]
    invoice = erp.read(
        "account.invoice", invoice_id, ["lines.product.code", "lines.amount", "total_amount"]
    )
    assert sorted((ln["product"]["code"], ln["amount"]) for ln in invoice["lines"]) == [
        ("24-MB01", Decimal("10.00")),
        ("DPD-1^12", Decimal("4.17")),
    ]
    assert invoice["total_amount"] == Decimal("17.00")  # 14.17 + 2.83 VAT
    (shipment_id,) = processed["shipments"]
    shipment = erp.read("stock.shipment.out", shipment_id, ["carrier.carrier_product.code"])
    assert shipment["carrier"]["carrier_product"]["code"] == "DPD-1^12"


def test_invoice_posted_then_paid_through_a_statement(erp, tryton_server):
    sale = create_sale(erp, [("24-MB01", 1, Decimal("10.00"))], reference="000000102")
    processed = confirm_sale(erp, sale["id"])
    (invoice_id,) = processed["invoices"]
    posted = erp.action(
        "account.invoice",
        invoice_id,
        "post",
        ["state", "number", "total_amount", "amount_to_pay", "account", "party"],
    )
    assert posted["state"] == "posted" and posted["number"].startswith(f"INV{TODAY.year}-")
    assert posted["amount_to_pay"] == Decimal("12.00")

    statement = erp.create(
        "account.statement",
        {
            "name": "Magento 000000102",
            "journal": tryton_server.state["statement_journal"],
            "company": 1,
            "date": TODAY,
            "total_amount": Decimal("12.00"),
            "lines": [
                [
                    "create",
                    [
                        {
                            "number": "000000102",
                            "date": TODAY,
                            "amount": Decimal("12.00"),
                            "party": posted["party"],
                            "account": posted["account"],
                            "related_to": f"account.invoice,{invoice_id}",
                            "description": "Magento payment 000000102",
                        }
                    ],
                ]
            ],
        },
    )
    assert (
        erp.action("account.statement", statement["id"], "validate_statement", ["state"])["state"]
        == "validated"
    )
    assert erp.action("account.statement", statement["id"], "post", ["state"])["state"] == "posted"

    paid = erp.read("account.invoice", invoice_id, ["state", "amount_to_pay", "reconciled"])
    assert paid["state"] == "paid"
    assert paid["amount_to_pay"] == 0
    assert paid["reconciled"] == TODAY


@pytest.fixture(scope="module")
def line_rounding_erp():
    with running_tryton("line") as running, running.rest() as rest:
        yield rest


def test_line_and_document_rounding_differ_by_a_penny(erp, line_rounding_erp):
    """Three lines of 1.03 net: 3 x 0.206 -> 0.21 each (line) vs 0.618 -> 0.62 (document)."""
    basket = [
        ("24-MB01", 1, Decimal("1.03")),
        ("24-MB04", 1, Decimal("1.03")),
        ("24-MB02", 1, Decimal("1.03")),
    ]
    document = create_sale(erp, basket, reference="000000103")
    line = create_sale(line_rounding_erp, basket, reference="000000103")
    assert document["untaxed_amount"] == line["untaxed_amount"] == Decimal("3.09")
    assert document["tax_amount"] == Decimal("0.62")
    assert line["tax_amount"] == Decimal("0.63")

    # The invoices agree with their sales.
    for rest, sale, expected in [(erp, document, "0.62"), (line_rounding_erp, line, "0.63")]:
        (invoice_id,) = confirm_sale(rest, sale["id"])["invoices"]
        invoice = rest.read("account.invoice", invoice_id, ["tax_amount", "total_amount"])
        assert invoice["tax_amount"] == Decimal(expected)
        assert invoice["total_amount"] == Decimal("3.09") + Decimal(expected)


def test_forecast_quantity_counts_confirmed_sales_until_dispatch(erp):
    (warehouse,) = erp.search("stock.location", [["code", "=", "WH"]], ["id"])
    context = {"locations": [warehouse["id"]]}

    def stock():
        (product,) = erp.search(
            "product.product",
            [["code", "=", "MH01-XS-Black"]],
            ["quantity", "forecast_quantity"],
            context=context,
        )
        return product["quantity"], product["forecast_quantity"]

    on_hand, forecast = stock()
    sale = create_sale(
        erp,
        [("MH01-XS-Black", 3, Decimal("43.33"))],
        reference="000000105",
        carrier_code="RM-TPS48",
    )
    confirm_sale(erp, sale["id"])
    assert stock() == (on_hand, forecast - 3)
