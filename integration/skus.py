"""Order lines as the ERP needs them, and each Magento SKU resolved to an active ERP item.

Magento lists container items and their children side by side (CONTRACT §4): a configurable
product is a parent carrying the price and a child carrying the stocked SKU; a bundle is a
parent whose children are the real goods with their own prices. The ERP wants goods once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from exceptions_app.models import ExceptionKind

NOT_SHIPPED_TYPES = frozenset({"downloadable", "virtual"})
ZERO = Decimal("0")


@dataclass(frozen=True)
class LineSource:
    """The fields of an order line the expansion reads (an OrderLine row satisfies it)."""

    item_id: int
    parent_item_id: int | None
    sku: str
    name: str
    product_type: str
    qty_ordered: Decimal
    price: Decimal
    row_total: Decimal
    tax_amount: Decimal
    discount_amount: Decimal
    row_total_incl_tax: Decimal = ZERO


@dataclass(frozen=True)
class ExpandedLine:
    sku: str
    name: str
    quantity: Decimal
    net_amount: Decimal  # row total after discount, excluding tax
    tax_amount: Decimal
    ships: bool
    item_id: int

    @property
    def unit_price(self) -> Decimal:
        if not self.quantity:
            return ZERO
        return (self.net_amount / self.quantity).quantize(Decimal("0.0001"))


def _net(line) -> Decimal:
    """Net of tax and discount. With tax-inclusive prices Magento's discount is gross and its
    tax is on the discounted amount, so net = gross row − discount − tax."""
    gross = Decimal(getattr(line, "row_total_incl_tax", 0) or 0)
    discount = Decimal(line.discount_amount or 0)
    if gross:
        return gross - discount - Decimal(line.tax_amount or 0)
    return Decimal(line.row_total) - discount


def lines_expand(lines: Iterable) -> list[ExpandedLine]:
    """One ERP line per thing to sell: configurables once, bundles as their components."""
    lines = list(lines)
    children: dict[int, list] = defaultdict(list)
    by_id = {line.item_id: line for line in lines}
    for line in lines:
        if line.parent_item_id is not None and line.parent_item_id in by_id:
            children[line.parent_item_id].append(line)
    out: list[ExpandedLine] = []
    for line in lines:
        if line.parent_item_id is not None and line.parent_item_id in by_id:
            continue  # emitted through its parent
        kids = sorted(children.get(line.item_id, []), key=lambda k: k.item_id)
        if line.product_type == "configurable":
            # The parent carries price and tax; the child carries the SKU that is stocked.
            sku = kids[0].sku if kids else line.sku
            out.append(
                ExpandedLine(
                    sku=sku,
                    name=line.name,
                    quantity=Decimal(line.qty_ordered),
                    net_amount=_net(line),
                    tax_amount=Decimal(line.tax_amount),
                    ships=True,
                    item_id=line.item_id,
                )
            )
        elif line.product_type == "bundle" and kids:
            kid_net = sum((_net(k) for k in kids), ZERO)
            if kid_net == ZERO and _net(line) != ZERO:
                # Fixed-price bundle: the price sits on the parent; share it by quantity.
                total_qty = sum((Decimal(k.qty_ordered) for k in kids), ZERO) or Decimal(1)
                shares = [Decimal(k.qty_ordered) / total_qty for k in kids]
                nets = [(_net(line) * s).quantize(Decimal("0.0001")) for s in shares]
                taxes = [(Decimal(line.tax_amount) * s).quantize(Decimal("0.0001")) for s in shares]
                nets[-1] += _net(line) - sum(nets, ZERO)
                taxes[-1] += Decimal(line.tax_amount) - sum(taxes, ZERO)
            else:
                nets = [_net(k) for k in kids]
                taxes = [Decimal(k.tax_amount) for k in kids]
            for kid, net, tax in zip(kids, nets, taxes, strict=True):
                out.append(
                    ExpandedLine(
                        sku=kid.sku,
                        name=kid.name,
                        quantity=Decimal(kid.qty_ordered),
                        net_amount=net,
                        tax_amount=tax,
                        ships=kid.product_type not in NOT_SHIPPED_TYPES,
                        item_id=kid.item_id,
                    )
                )
        else:
            out.append(
                ExpandedLine(
                    sku=line.sku,
                    name=line.name,
                    quantity=Decimal(line.qty_ordered),
                    net_amount=_net(line),
                    tax_amount=Decimal(line.tax_amount),
                    ships=line.product_type not in NOT_SHIPPED_TYPES,
                    item_id=line.item_id,
                )
            )
    return out


@dataclass(frozen=True)
class SkuProblem:
    kind: ExceptionKind  # SKU_UNKNOWN or SKU_INACTIVE
    sku: str
    erp_code: str
    message: str


@dataclass(frozen=True)
class ItemState:
    code: str
    active: bool


def skus_resolve(
    skus: Iterable[str], *, mappings: Mapping[str, str], items: Mapping[str, ItemState]
) -> tuple[dict[str, str], list[SkuProblem]]:
    """Magento SKU → ERP item code for every SKU, or the problem (unknown / inactive) naming it."""
    resolved: dict[str, str] = {}
    problems: list[SkuProblem] = []
    for sku in dict.fromkeys(skus):
        code = mappings.get(sku, sku)
        via = f" (mapped to ERP item {code})" if code != sku else ""
        item = items.get(code)
        if item is None:
            problems.append(
                SkuProblem(
                    ExceptionKind.SKU_UNKNOWN,
                    sku,
                    code,
                    f"SKU {sku}{via} is not in the ERP item master.",
                )
            )
        elif not item.active:
            problems.append(
                SkuProblem(
                    ExceptionKind.SKU_INACTIVE, sku, code, f"SKU {sku}{via} is inactive in the ERP."
                )
            )
        else:
            resolved[sku] = code
    return resolved, problems
