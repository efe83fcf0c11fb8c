"""Realistic UK demo orders for the Magento sandbox, deterministic by seed.

Every cause the desk must catch (DESIGN §4) that starts on the Magento side is seeded with a
configurable share (`Shares`), and the seed reports which orders carry which cause:

| share | what the order gets |
| --- | --- |
| unknown_sku | a line whose SKU the ERP lacks (sandbox.divergence `missing`) |
| inactive_sku | a line whose ERP item is inactive (`inactive`) |
| renamed_sku | a line whose ERP item has another code (`renamed`, needs a SKU mapping) |
| unmapped_carrier | a method no courier mapping knows (matrixrate_matrixrate_12, instore_pickup) |
| invalid_postcode | a shipping postcode that fails the UK pattern |
| long_street | a street line of more than 100 characters |
| missing_phone | no telephone on the shipping address |
| hostile_name | names with markup, quotes and SQL (`<script>`, O'Brien, ...) |
| discount | a percentage coupon, so VAT rounds differently per line (tax variance) |
| stuck | paid orders older than a few days left unshipped (order_stuck) |

Other states come from the order's age and payment: unpaid bank transfers stay `new/pending`;
paid orders are invoiced (`processing`); orders older than `complete_after_days` are mostly
shipped with a track (`complete`); a few are canceled, on hold or in payment review.
Timestamps are UTC, spread over the last `days` days before `now`.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.divergence import catalogue_divergence, catalogue_rows
from sandbox.magento.catalogue import BUNDLE_OPTIONS, configurable_options, option_values
from sandbox.magento.clock import timestamp, utcnow
from sandbox.magento.orders.builder import build_order
from sandbox.magento.orders.document import finalise
from sandbox.magento.orders.invoices import invoice_order
from sandbox.magento.orders.pricing import TaxBasis
from sandbox.magento.orders.reservations import reserve
from sandbox.magento.orders.shipments import ship_order
from sandbox.magento.orders.spec import Line, OrderSpec, Party
from sandbox.magento.orders.state import add_history, cancel_order, set_state
from sandbox.magento.store import Store


@dataclass
class Shares:
    unknown_sku: float = 0.02
    inactive_sku: float = 0.01
    renamed_sku: float = 0.02
    unmapped_carrier: float = 0.03
    invalid_postcode: float = 0.02
    long_street: float = 0.01
    missing_phone: float = 0.02
    hostile_name: float = 0.02
    discount: float = 0.15
    stuck: float = 0.05

    @classmethod
    def parse(cls, entries: list[str] | None) -> Shares:
        """`["unknown_sku=0.05", ...]` -> Shares; unknown keys and bad values are errors."""
        shares = cls()
        names = {f.name for f in fields(cls)}
        for entry in entries or []:
            key, sep, value = entry.partition("=")
            if not sep or key not in names:
                raise ValueError(f"bad share {entry!r}; known: {', '.join(sorted(names))}")
            number = float(value)
            if not 0 <= number <= 1:
                raise ValueError(f"share {key} must be between 0 and 1")
            setattr(shares, key, number)
        return shares


@dataclass
class SeedReport:
    orders: int = 0
    first_entity_id: int | None = None
    states: Counter[str] = field(default_factory=Counter)
    # cause -> increment ids of the orders carrying it
    causes: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def note(self, cause: str, increment_id: str) -> None:
        self.causes.setdefault(cause, []).append(increment_id)


FIRST_NAMES = [
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Emily",
    "Charlie", "Grace", "Thomas", "Sophie", "James", "Poppy", "William", "Freya", "Arthur",
    "Lily", "Siobhan", "Rhys", "Aoife", "Callum", "Priya", "Mohammed", "Zainab", "Chidi",
    "Ewan", "Niamh", "Dylan", "Ffion", "Hamish", "Catriona", "Ravi", "Mei", "Tomasz", "Agnieszka",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Thomas", "Clarke", "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper",
    "Hill", "Ward", "Hughes", "Khan", "Ahmed", "Okafor", "MacDonald", "Campbell", "Kowalski",
]  # fmt: skip
HOSTILE_NAMES = [
    ("<script>alert('x')</script>", "Smith"),
    ("Siobhán", "O'Brien"),
    ("Zoë", "Ångström-Nuñez"),
    ("Robert'); DROP TABLE orders;--", "Tables"),
    ("Anne-Marie", "D'Arcy-Smythe"),
    ('"Bobby"', "<b>Bold</b> & Sons"),
]
# (city, county, postcode): real, publicly listed postcodes of landmarks and public buildings.
TOWNS = [
    ("London", "Greater London", "SW1A 1AA"),
    ("London", "Greater London", "EC1A 1BB"),
    ("London", "Greater London", "W1A 1AA"),
    ("London", "Greater London", "N1 9GU"),
    ("Manchester", "Greater Manchester", "M1 1AE"),
    ("Birmingham", "West Midlands", "B1 1BB"),
    ("Leeds", "West Yorkshire", "LS1 4DY"),
    ("Glasgow", "Lanarkshire", "G1 1XQ"),
    ("Edinburgh", "Midlothian", "EH1 1YZ"),
    ("Cardiff", "South Glamorgan", "CF10 1EP"),
    ("Bristol", "Bristol", "BS1 4DJ"),
    ("Belfast", "County Antrim", "BT1 5GS"),
    ("Newcastle upon Tyne", "Tyne and Wear", "NE1 7RU"),
    ("Liverpool", "Merseyside", "L1 8JQ"),
    ("Sheffield", "South Yorkshire", "S1 2HH"),
    ("Nottingham", "Nottinghamshire", "NG1 5FS"),
    ("Brighton", "East Sussex", "BN1 1EE"),
    ("Norwich", "Norfolk", "NR2 1NH"),
    ("Aberdeen", "Aberdeenshire", "AB10 1AB"),
    ("Swansea", "West Glamorgan", "SA1 3SN"),
    ("York", "North Yorkshire", "YO1 7HH"),
    ("Oxford", "Oxfordshire", "OX1 3BG"),
    ("Cambridge", "Cambridgeshire", "CB2 1TN"),
    ("Exeter", "Devon", "EX1 1HS"),
]
STREETS = [
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
    "Park Avenue", "Queens Road", "The Crescent", "Mill Lane", "Kings Road", "North Street",
    "Albert Terrace", "Windsor Close", "Orchard Way", "Chapel Street", "Riverside Walk",
]  # fmt: skip
SECOND_LINES = ["Flat 4", "Apartment 12B", "Unit 7, Riverside Works", "2nd Floor", "Flat 1A"]
THIRD_LINES = ["Rear entrance", "Old Town", "Leave with neighbour at no. 12"]
LONG_STREET = (
    "Flat 12, The Old Granary Building, 145-147 Upper Richmond Road West, "
    "Riverside Industrial Estate Access Road (deliveries via the rear service gate)"
)
INVALID_POSTCODES = ["SW1A 1A", "ABC 123", "12345", "EC1A 1BBB", "N/A", "QQ1 1QQ"]
COMPANIES = ["Acme Widgets Ltd", "Northern Yoga Studio", "Smith & Daughters LLP"]

# (method code, description, gross price) as a UK Luma store would configure them.
SHIPPING_MAPPED = [
    ("tablerate_bestway", "Best Way - Table Rate", Decimal("3.95")),
    ("flatrate_flatrate", "Flat Rate - Fixed", Decimal("4.95")),
    ("freeshipping_freeshipping", "Free Shipping - Free", Decimal("0")),
]
SHIPPING_UNMAPPED = [
    ("matrixrate_matrixrate_12", "Select Shipping Method - Next Day Courier", Decimal("9.99")),
    ("instore_pickup", "In-Store Pickup Delivery - Pick in Store", Decimal("0")),
]
PAID_METHODS = [
    ("braintree", "Credit Card (Braintree)"),
    ("paypal_express", "PayPal Express Checkout"),
]
UNPAID_METHODS = [("banktransfer", "Bank Transfer Payment"), ("checkmo", "Check / Money order")]
COUPONS = [("SAVE15", Decimal("15")), ("WELCOME10", Decimal("10")), ("SPRING12", Decimal("12.5"))]
TRACK_SERVICES = [
    ("Royal Mail Tracked 24", "TT{n:09d}GB"),
    ("Royal Mail Tracked 48", "TS{n:09d}GB"),
    ("DPD Next Day", "15501{n:09d}"),
    ("Evri", "H00A{n:012d}"),
]


class _Catalogue:
    """The sellable pool, with the ERP-divergent SKUs kept apart so causes stay controlled."""

    def __init__(self, products_by_sku: dict[str, dict[str, Any]]):
        divergence = catalogue_divergence()
        self.divergent = (
            set(divergence.missing) | set(divergence.inactive) | set(divergence.renamed)
        )
        self.missing = sorted(divergence.missing)
        self.inactive = sorted(divergence.inactive)
        self.renamed = sorted(divergence.renamed)
        rows = catalogue_rows()
        self.values = option_values(rows)
        self.products = products_by_sku
        self.children = [
            r["sku"] for r in rows if r["parent_sku"] and r["sku"] not in self.divergent
        ]
        self.simples = [
            r["sku"]
            for r in rows
            if r["type_id"] == "simple" and not r["parent_sku"] and r["sku"] not in self.divergent
            and float(r["price"] or 0) > 0
        ]  # fmt: skip
        self.downloadables = [
            r["sku"] for r in rows if r["type_id"] == "downloadable" and float(r["price"] or 0) > 0
        ]
        self.parent_of = {r["sku"]: r["parent_sku"] for r in rows if r["parent_sku"]}

    def line_for(self, sku: str, qty: int) -> Line:
        product = self.products[sku]
        parent_sku = self.parent_of.get(sku)
        if parent_sku:
            return Line(
                kind="configurable",
                product=product,
                parent=self.products[parent_sku],
                qty=qty,
                options=configurable_options(sku, self.values),
            )
        return Line(kind=product["type_id"], product=product, qty=qty)

    def random_line(self, rng: random.Random) -> Line:
        qty = rng.choices([1, 2, 3, 5], weights=[75, 15, 7, 3])[0]
        roll = rng.random()
        if roll < 0.03:
            bundle = self.products["24-WG080"]
            components = [
                self.products[rng.choice(option)] for option in BUNDLE_OPTIONS["24-WG080"]
            ]
            return Line(kind="bundle", product=bundle, qty=1, components=components)
        if roll < 0.08:
            return Line(kind="downloadable", product=self.products[rng.choice(self.downloadables)],
                        qty=1)  # fmt: skip
        if roll < 0.25:
            return self.line_for(rng.choice(self.simples), qty)
        return self.line_for(rng.choice(self.children), qty)


def _product_rows(store: Store) -> dict[str, dict[str, Any]]:
    """Catalogue rows keyed by sku, with the sandbox product id the order items reference."""
    ids = {doc["sku"]: doc["id"] for doc in store.all_docs("products")}
    return {row["sku"]: {**row, "id": ids[row["sku"]]} for row in catalogue_rows()}


def _party(rng: random.Random, shares: Shares, report_causes: list[str]) -> tuple[Party, Party]:
    if rng.random() < shares.hostile_name:
        first, last = rng.choice(HOSTILE_NAMES)
        report_causes.append("hostile_name")
    else:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    registered = rng.random() < 0.7
    serial = rng.randrange(1, 100000)
    local = (
        "".join(ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == ".") or "customer"
    )
    email = f"{local}{serial}@example.co.uk"
    city, county, postcode = rng.choice(TOWNS)
    if rng.random() < 0.05:
        postcode = postcode.lower().replace(" ", "")  # valid once normalised
    street = [f"{rng.randrange(1, 250)} {rng.choice(STREETS)}"]
    if rng.random() < 0.3:
        street.insert(0, rng.choice(SECOND_LINES))
    if rng.random() < 0.05:
        street.append(rng.choice(THIRD_LINES))
    phone: str | None = f"07700 900{rng.randrange(0, 1000):03d}"
    company = rng.choice(COMPANIES) if rng.random() < 0.1 else None
    customer_id = (serial % 5000) + 1 if registered else None
    billing = Party(first, last, email, customer_id, list(street), city, county, postcode, phone,
                    company)  # fmt: skip
    shipping = Party(first, last, email, customer_id, list(street), city, county, postcode, phone,
                     company)  # fmt: skip
    if rng.random() < shares.invalid_postcode:
        shipping.postcode = rng.choice(INVALID_POSTCODES)
        report_causes.append("invalid_postcode")
    if rng.random() < shares.long_street:
        shipping.street = [LONG_STREET]
        report_causes.append("long_street")
    if rng.random() < shares.missing_phone:
        shipping.telephone = None
        billing.telephone = None
        report_causes.append("missing_phone")
    return billing, shipping


def _track(rng: random.Random, serial: int) -> dict[str, str]:
    title, pattern = rng.choice(TRACK_SERVICES)
    return {"track_number": pattern.format(n=serial), "title": title, "carrier_code": "custom"}


def seed_orders(
    store: Store,
    *,
    orders: int,
    days: float,
    seed: int,
    now: datetime,
    shares: Shares | None = None,
    basis: TaxBasis = TaxBasis.TOTAL_BASE,
    complete_after_days: float = 5.0,
    spread: bool = True,
) -> SeedReport:
    """Add `orders` orders created over the `days` before `now`. Same seed, same orders."""
    started = time.monotonic()
    shares = shares or Shares()
    rng = random.Random(seed)  # noqa: S311 - demo data
    report = SeedReport()
    catalogue = _Catalogue(_product_rows(store))
    offsets = sorted(
        (rng.uniform(0, days * 86400) if spread else 0.0 for _ in range(orders)), reverse=True
    )
    with store.transaction():
        next_entity = store.max_key("orders") + 1
        report.first_entity_id = next_entity
        for offset in offsets:
            created = now - timedelta(seconds=int(offset))
            _one_order(store, rng, catalogue, shares, report, next_entity, created, now, basis,
                       complete_after_days)  # fmt: skip
            next_entity += 1
    report.orders = orders
    report.seconds = time.monotonic() - started
    return report


def _one_order(
    store: Store,
    rng: random.Random,
    catalogue: _Catalogue,
    shares: Shares,
    report: SeedReport,
    entity_id: int,
    created: datetime,
    now: datetime,
    basis: TaxBasis,
    complete_after_days: float,
) -> dict[str, Any]:
    causes: list[str] = []
    billing, shipping = _party(rng, shares, causes)
    lines = [
        catalogue.random_line(rng) for _ in range(rng.choices([1, 2, 3, 4], [50, 30, 15, 5])[0])
    ]
    for cause, pool in (
        ("unknown_sku", catalogue.missing),
        ("inactive_sku", catalogue.inactive),
        ("renamed_sku", catalogue.renamed),
    ):
        if rng.random() < getattr(shares, cause):
            lines.append(catalogue.line_for(rng.choice(pool), 1))
            causes.append(cause)
    if rng.random() < shares.unmapped_carrier:
        method, description, price = rng.choice(SHIPPING_UNMAPPED)
        causes.append("unmapped_carrier")
    else:
        method, description, price = rng.choice(SHIPPING_MAPPED)
    coupon, percent = None, Decimal("0")
    if rng.random() < shares.discount:
        coupon, percent = rng.choice(COUPONS)
        causes.append("discount")
    age_days = (now - created).total_seconds() / 86400
    roll = rng.random()
    if roll < 0.06:
        fate = "pending"
    elif roll < 0.09:
        fate = "canceled"
    elif roll < 0.10:
        fate = "holded"
    elif roll < 0.11:
        fate = "payment_review"
    elif age_days > complete_after_days and rng.random() >= shares.stuck / 0.89:
        fate = "complete"
    else:
        fate = "processing"
    payment_method, payment_title = rng.choice(
        UNPAID_METHODS if fate in ("pending", "canceled") else PAID_METHODS
    )
    spec = OrderSpec(
        customer=billing,
        shipping=shipping,
        lines=lines,
        shipping_method=method,
        shipping_description=description,
        shipping_incl_tax=price,
        payment_method=payment_method,
        payment_title=payment_title,
        coupon_code=coupon,
        discount_percent=percent,
        created_at=created,
    )
    order = build_order(store, spec, entity_id=entity_id, now=created, basis=basis)
    reserve(store, order)
    stamp = timestamp(created)
    if fate == "payment_review":
        set_state(order, "payment_review")
        add_history(store, order, comment="Suspected fraud: awaiting payment review.",
                    created=stamp)  # fmt: skip
    elif fate not in ("pending", "canceled"):
        # Never in the future: a real store has no updated_at ahead of its clock.
        invoice_at = min(now, created + timedelta(minutes=rng.randrange(1, 30)))
        store.put_doc("invoices", invoice_order(store, order, now=invoice_at))
        add_history(store, order, comment=f"Captured amount of £{order['grand_total']:.2f} online.",
                    created=timestamp(invoice_at), is_customer_notified=1)  # fmt: skip
        if fate == "holded":
            order["hold_before_state"], order["hold_before_status"] = (
                order["state"],
                order["status"],
            )
            set_state(order, "holded")
        elif fate == "complete" and not order["is_virtual"]:
            shipped_at = min(now, created + timedelta(hours=rng.randrange(20, 96)))
            shipment = ship_order(
                store, order, {"tracks": [_track(rng, entity_id * 7919 % 10**9)], "notify": True},
                now=shipped_at,
            )  # fmt: skip
            store.put_doc("shipments", shipment)
    elif fate == "canceled":
        cancel_at = created + timedelta(days=rng.randrange(1, 8))
        cancel_order(store, order, now=min(now, cancel_at))
    if "stuck" not in causes and fate == "processing" and age_days > complete_after_days:
        causes.append("stuck")
    store.put_doc("orders", finalise(order))
    report.states[order["state"]] += 1
    for cause in causes:
        report.note(cause, order["increment_id"])
    return order


def live_orders(
    store: Store,
    *,
    seed: int,
    interval: float,
    shares: Shares | None = None,
    basis: TaxBasis = TaxBasis.TOTAL_BASE,
    clock: Any = None,
    limit: int | None = None,
    on_order: Any = None,
) -> int:
    """Add one fresh order every `interval` seconds until interrupted (or `limit` reached)."""
    clock = clock or utcnow
    added = 0
    tick = 0
    while limit is None or added < limit:
        report = seed_orders(store, orders=1, days=0, seed=seed * 100003 + tick, now=clock(),
                             shares=shares, basis=basis, spread=False)  # fmt: skip
        added += 1
        tick += 1
        if on_order:
            on_order(report)
        if limit is not None and added >= limit:
            break
        time.sleep(interval)
    return added
