"""What build_order takes: the lines bought, the customer, and how it ships and pays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass
class Line:
    """One thing the customer bought. `kind` is simple | configurable | bundle | downloadable.

    simple/downloadable: `product` is the catalogue row. configurable: `product` is the child
    simple row and `parent` the configurable row. bundle: `product` is the bundle row and
    `components` the chosen child rows (each priced by itself, dynamic-price bundle).
    """

    kind: str
    product: dict[str, Any]
    qty: int
    parent: dict[str, Any] | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)  # (option_id, option_value)


@dataclass
class Party:
    firstname: str
    lastname: str
    email: str
    customer_id: int | None
    street: list[str]
    city: str
    region: str | None
    postcode: str
    telephone: str | None
    company: str | None = None
    country_id: str = "GB"


@dataclass
class OrderSpec:
    customer: Party
    shipping: Party
    lines: list[Line]
    shipping_method: str
    shipping_description: str
    shipping_incl_tax: Decimal
    payment_method: str
    payment_title: str
    coupon_code: str | None = None
    discount_percent: Decimal = Decimal("0")
    created_at: datetime | None = None
