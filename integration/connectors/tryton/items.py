"""Items and stock in Tryton: products by code, the active catalogue, warehouse availability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from integration.connectors.erp import ErpItemInfo
from integration.connectors.tryton.codec import dec
from integration.connectors.tryton.transport import TrytonTransport, chunks


def _item(row: dict) -> ErpItemInfo:
    return ErpItemInfo(
        code=row["code"],
        erp_id=str(row["id"]),
        name=row.get("name") or "",
        active=bool(row.get("active")),
        goods=row.get("type") == "goods",
    )


class TrytonItems:
    def __init__(self, tryton: TrytonTransport, *, warehouse_code: str = "WH") -> None:
        self.tryton = tryton
        self.warehouse_code = warehouse_code

    def products(self, codes: Iterable[str], fields: Sequence[str]) -> list[dict]:
        """`fields` of the products with these codes, active or not."""
        rows: list[dict] = []
        for chunk in chunks(sorted(set(codes))):
            rows += self.tryton.search(
                "product.product",
                [["code", "in", chunk]],
                fields,
                context={"active_test": False},
            )
        return rows

    def items_by_codes(self, codes: Iterable[str]) -> dict[str, ErpItemInfo]:
        rows = self.products(codes, ["code", "name", "active", "type"])
        return {r["code"]: _item(r) for r in rows if r.get("code")}

    def items_all(self) -> list[ErpItemInfo]:
        rows = self.tryton.search(
            "product.product",
            [["code", "!=", None]],
            ["code", "name", "active", "type"],
            context={"active_test": False},
        )
        return [_item(r) for r in rows if r.get("code")]

    def warehouse_id(self) -> int:
        return self.tryton.id_of(
            "stock.location",
            [["code", "=", self.warehouse_code], ["type", "=", "warehouse"]],
            f"warehouse {self.warehouse_code}",
        )

    def availability(self, codes: Sequence[str] | None = None) -> dict[str, Decimal]:
        """Forecast quantity at the warehouse up to today: on hand minus what is promised."""
        context = {
            "locations": [self.warehouse_id()],
            "with_childs": True,
            "stock_date_end": date.today(),
        }
        domain: list = [["type", "=", "goods"]]
        fields = ["code", "forecast_quantity"]
        if codes is not None:
            out: dict[str, Decimal] = {}
            for chunk in chunks(sorted(set(codes))):
                rows = self.tryton.search(
                    "product.product", [*domain, ["code", "in", chunk]], fields, context=context
                )
                out.update({r["code"]: dec(r["forecast_quantity"]) for r in rows})
            return out
        rows = self.tryton.search("product.product", domain, fields, context=context)
        return {r["code"]: dec(r["forecast_quantity"]) for r in rows if r.get("code")}
