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
| refunds | credit memos: full, partial, shipping only, goodwill, before dispatch (seed_refunds) |

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

from sandbox.magento.clock import timestamp, utcnow
from sandbox.magento.orders.builder import build_order
from sandbox.magento.orders.document import finalise
from sandbox.magento.orders.invoices import invoice_order
from sandbox.magento.orders.pricing import TaxBasis
from sandbox.magento.orders.reservations import reserve
from sandbox.magento.orders.shipments import ship_order
from sandbox.magento.orders.spec import Line, OrderSpec
from sandbox.magento.orders.state import add_history, cancel_order, set_state
from sandbox.magento.seed_customers import customer_parties
from sandbox.magento.seed_lines import LinePool, product_rows
from sandbox.magento.seed_refunds import seed_refunds
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
    refunds: float = 0.04

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
    first_entity_id: int | None = None,
) -> SeedReport:
    """Add `orders` orders created over the `days` before `now`. Same seed, same orders.

    `first_entity_id` numbers them from there (as a second store view's orders would be), so
    stores seeded apart never share an increment id in the one ERP they post to.
    """
    started = time.monotonic()
    shares = shares or Shares()
    rng = random.Random(seed)  # noqa: S311 - demo data
    report = SeedReport()
    pool = LinePool(product_rows(store))
    offsets = sorted(
        (rng.uniform(0, days * 86400) if spread else 0.0 for _ in range(orders)), reverse=True
    )
    with store.transaction():
        next_entity = max(store.max_key("orders") + 1, first_entity_id or 0)
        report.first_entity_id = next_entity
        for offset in offsets:
            created = now - timedelta(seconds=int(offset))
            _one_order(store, rng, pool, shares, report, next_entity, created, now, basis,
                       complete_after_days)  # fmt: skip
            next_entity += 1
    report.orders = orders
    seed_refunds(store, report, seed=seed, now=now, share=shares.refunds)
    report.seconds = time.monotonic() - started
    return report


def _one_order(
    store: Store,
    rng: random.Random,
    pool: LinePool,
    shares: Shares,
    report: SeedReport,
    entity_id: int,
    created: datetime,
    now: datetime,
    basis: TaxBasis,
    complete_after_days: float,
) -> dict[str, Any]:
    # The draws happen in a fixed order (customer, lines, shipping, coupon, fate, payment):
    # the same seed must keep giving the same orders.
    causes: list[str] = []
    billing, shipping = customer_parties(rng, shares, causes)
    lines = _lines(rng, pool, shares, causes)
    method, description, price = _shipping_method(rng, shares, causes)
    coupon, percent = _coupon(rng, shares, causes)
    age_days = (now - created).total_seconds() / 86400
    fate = _fate(rng, shares, age_days, complete_after_days)
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
    _live_through(store, rng, order, fate, created=created, now=now)
    if "stuck" not in causes and fate == "processing" and age_days > complete_after_days:
        causes.append("stuck")
    store.put_doc("orders", finalise(order))
    report.states[order["state"]] += 1
    for cause in causes:
        report.note(cause, order["increment_id"])
    return order


def _lines(rng: random.Random, pool: LinePool, shares: Shares, causes: list[str]) -> list[Line]:
    lines = [pool.random_line(rng) for _ in range(rng.choices([1, 2, 3, 4], [50, 30, 15, 5])[0])]
    for cause, skus in (
        ("unknown_sku", pool.missing),
        ("inactive_sku", pool.inactive),
        ("renamed_sku", pool.renamed),
    ):
        if rng.random() < getattr(shares, cause):
            lines.append(pool.line_for(rng.choice(skus), 1))
            causes.append(cause)
    return lines


def _shipping_method(
    rng: random.Random, shares: Shares, causes: list[str]
) -> tuple[str, str, Decimal]:
    if rng.random() < shares.unmapped_carrier:
        causes.append("unmapped_carrier")
        return rng.choice(SHIPPING_UNMAPPED)
    return rng.choice(SHIPPING_MAPPED)


def _coupon(rng: random.Random, shares: Shares, causes: list[str]) -> tuple[str | None, Decimal]:
    if rng.random() < shares.discount:
        causes.append("discount")
        return rng.choice(COUPONS)
    return None, Decimal("0")


def _fate(rng: random.Random, shares: Shares, age_days: float, complete_after_days: float) -> str:
    """Where the order ends up: pending, canceled, holded, payment_review, complete, processing."""
    roll = rng.random()
    if roll < 0.06:
        return "pending"
    if roll < 0.09:
        return "canceled"
    if roll < 0.10:
        return "holded"
    if roll < 0.11:
        return "payment_review"
    if age_days > complete_after_days and rng.random() >= shares.stuck / 0.89:
        return "complete"
    return "processing"


def _live_through(
    store: Store,
    rng: random.Random,
    order: dict[str, Any],
    fate: str,
    *,
    created: datetime,
    now: datetime,
) -> None:
    """Take a placed order to its fate: review, capture, hold, shipment or cancel."""
    if fate == "payment_review":
        set_state(order, "payment_review")
        add_history(store, order, comment="Suspected fraud: awaiting payment review.",
                    created=timestamp(created))  # fmt: skip
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
            serial = order["entity_id"] * 7919 % 10**9
            shipment = ship_order(
                store, order, {"tracks": [_track(rng, serial)], "notify": True}, now=shipped_at
            )
            store.put_doc("shipments", shipment)
    elif fate == "canceled":
        cancel_at = created + timedelta(days=rng.randrange(1, 8))
        cancel_order(store, order, now=min(now, cancel_at))


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
    on_tick: Any = None,
) -> int:
    """Add one fresh order every `interval` seconds until interrupted (or `limit` reached);
    `on_tick` (the lifecycle events' director) is called after each."""
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
        if on_tick:
            on_tick()
        if limit is not None and added >= limit:
            break
        time.sleep(interval)
    return added
