"""The ERP item master from the Luma catalogue, diverging from Magento as real ones do.

Codes, activity and missing items follow sandbox.divergence; on-hand stock follows erp_stock.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from sandbox.divergence import STOCKED_TYPES, catalogue_divergence, catalogue_rows
from sandbox.erp.setup_accounting import UK_VAT


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


def create_item_master(cfg, *, unit_id: int, category_id: int, storage_id: int, today) -> int:
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
