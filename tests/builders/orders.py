"""Orders as Magento sends them, and the sale request the ERP gets for one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integration.connectors.erp import SaleLineRequest, SaleRequest
from sandbox.divergence import catalogue_divergence
from sandbox.erp.inprocess import FakeErp


def sellable_sku() -> str:
    """A simple Luma SKU the ERP stand-in holds, active, under the same code."""
    divergence = catalogue_divergence()
    unusual = divergence.missing | divergence.inactive | set(divergence.renamed)
    return next(
        code for code, item in sorted(FakeErp().items.items()) if item.goods and code not in unusual
    )


def magento_order(
    entity_id: int,
    *,
    updated_at: str = "2026-03-01 10:00:00",
    state: str = "processing",
    qty: float = 1,
    sku: str = "24-MB01",
    street: list[str] | None = None,
    extra: dict | None = None,
) -> dict:
    """A sales-data-order-interface payload: one simple item, shipped flat rate to London."""
    address = {
        "firstname": "Priya",
        "lastname": "Taylor",
        "street": street or ["12 High Street"],
        "city": "London",
        "postcode": "SW1A 1AA",
        "country_id": "GB",
        "telephone": "020 7946 0000",
        "email": "priya@example.co.uk",
    }
    return {
        "entity_id": entity_id,
        "increment_id": f"0000{entity_id:05d}",
        "store_id": 1,
        "state": state,
        "status": state,
        "created_at": "2026-03-01 09:00:00",
        "updated_at": updated_at,
        "customer_email": "priya@example.co.uk",
        "customer_firstname": "Priya",
        "customer_lastname": "Taylor",
        "order_currency_code": "GBP",
        "subtotal": 58.33 * qty,
        "shipping_amount": 5.0,
        "shipping_discount_amount": 1.5,
        "tax_amount": 11.67 * qty,
        "grand_total": 75.0 * qty,
        "total_paid": 75.0 * qty,
        "payment": {"method": "checkmo"},
        "items": [
            {
                "item_id": entity_id * 10,
                "sku": sku,
                "name": "Joust Duffle Bag",
                "product_type": "simple",
                "qty_ordered": qty,
                "price": 58.33,
                "row_total": 58.33 * qty,
                "tax_amount": 11.67 * qty,
                "tax_percent": 20.0,
                "discount_amount": 0.0,
                "row_total_incl_tax": 70.0 * qty,
            }
        ],
        "billing_address": {**address, "address_type": "billing"},
        "extension_attributes": {
            "shipping_assignments": [
                {
                    "shipping": {
                        "method": "flatrate_flatrate",
                        "address": {**address, "address_type": "shipping"},
                    }
                }
            ]
        },
        **(extra or {}),
    }


def sale_request(reference: str, **changes) -> SaleRequest:
    """A valid one-line sale for `reference` (a duffle bag to Rugby, Royal Mail Tracked 24)."""
    fields = dict(
        reference=reference, currency="GBP", sale_date=date.today(), customer_name="Ann Lee",
        customer_email="ann@example.com", telephone="01234 567890", company="",
        street=("1 High Street",), city="Rugby", region="", postcode="CV21 1DZ", country="GB",
        carrier="RM-TPN24", shipping_amount=Decimal("3.29"),
        lines=(SaleLineRequest("24-MB01", Decimal(1), Decimal("28.3333"), "24-MB01"),),
    )  # fmt: skip
    return SaleRequest(**{**fields, **changes})
