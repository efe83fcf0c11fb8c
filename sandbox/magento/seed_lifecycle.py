"""The order-lifecycle cases of the demo store (`sandbox magento-init`), deterministic by seed.

At seed time (the desk sees them already so on its first pull):

| case | what Magento holds |
| --- | --- |
| edited | an authorised order edited in the admin: the original cancelled, `<n>-1` placed |
| holded, payment_review | from the seed's fates (`seed.py`): paid orders that must wait |
| history | the seed's `complete` orders: shipped by Magento long before the desk |

And orders waiting for an event the live process (`sandbox seed --live`) makes happen once the
desk has posted them (`LiveEvent`, planned in the store's meta `lifecycle_plan`):

| event | what happens in Magento (and the warehouse) |
| --- | --- |
| cancel | an authorised order is cancelled while its parcel waits in the warehouse |
| cancel_after_pick | the warehouse picks and packs it, then it is cancelled in Magento |
| edit | an authorised order is edited after it reached the ERP |
| edit_after_pick | the warehouse packs it, then it is edited in Magento |
| hold | a paid order is put on hold after it reached the ERP |
| unhold | an order seeded on hold is released, so the desk posts it |
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sandbox.erp.item_master import erp_stock
from sandbox.magento.orders.builder import build_order
from sandbox.magento.orders.document import finalise
from sandbox.magento.orders.edit import authorise, edit_order
from sandbox.magento.orders.invoices import invoice_order
from sandbox.magento.orders.pricing import TaxBasis
from sandbox.magento.orders.reservations import reserve
from sandbox.magento.orders.spec import OrderSpec
from sandbox.magento.orders.state import set_state
from sandbox.magento.seed import SHIPPING_MAPPED, SeedReport, Shares
from sandbox.magento.seed_customers import customer_parties
from sandbox.magento.seed_lines import LinePool, product_rows
from sandbox.magento.store import Store

PLAN_KEY = "lifecycle_plan"
# (event, seconds after the live process starts before it may happen)
EVENTS = (
    ("unhold", 90),
    ("cancel", 120),
    ("edit", 150),
    ("hold", 180),
    ("cancel_after_pick", 210),
    ("edit_after_pick", 240),
)
# Events that wait for the desk to have posted the order, and those that also need its parcel
# packed by the warehouse first.
NEEDS_SALE = frozenset({"cancel", "edit", "hold", "cancel_after_pick", "edit_after_pick"})
NEEDS_PACKED = frozenset({"cancel_after_pick", "edit_after_pick"})
# A clean customer: no invalid postcode, long street, missing phone or hostile name.
CLEAN = Shares(**{name: 0.0 for name in Shares.__dataclass_fields__})


@dataclass
class LiveEvent:
    event: str
    entity_id: int
    increment_id: str
    spec_seed: int  # regenerates the order's spec (an edit changes it)
    due_after: float  # seconds after the live process starts
    done: bool = False
    outcome: str = ""


def order_spec(store: Store, spec_seed: int, *, created: datetime | None) -> OrderSpec:
    """A clean, shippable order (two stocked lines, a mapped delivery option), by seed."""
    rng = random.Random(spec_seed)  # noqa: S311 - demo data
    pool = LinePool(product_rows(store))
    billing, shipping = customer_parties(rng, CLEAN, [])
    # Items the warehouse has on the shelf, so a parcel can be picked and packed.
    stocked = [sku for sku in pool.children if erp_stock(sku, pool.products[sku]["qty"]) >= 10]
    lines = [pool.line_for(rng.choice(stocked), rng.choice([1, 2])) for _ in range(2)]
    method, description, price = rng.choice(SHIPPING_MAPPED)
    return OrderSpec(
        customer=billing,
        shipping=shipping,
        lines=lines,
        shipping_method=method,
        shipping_description=description,
        shipping_incl_tax=price,
        payment_method="braintree",
        payment_title="Credit Card (Braintree)",
        created_at=created,
    )


def edited_spec(store: Store, spec_seed: int, *, now: datetime) -> OrderSpec:
    """What the admin's edit changes: one more of the first item."""
    spec = order_spec(store, spec_seed, created=now)
    first = replace(spec.lines[0], qty=spec.lines[0].qty + 1)
    return replace(spec, lines=[first, *spec.lines[1:]])


def place_order(
    store: Store,
    spec_seed: int,
    *,
    created: datetime,
    paid: str,
    basis: TaxBasis = TaxBasis.TOTAL_BASE,
    entity_id: int | None = None,
) -> dict[str, Any]:
    """Place a clean order (saved): `paid` is "authorised" (card authorised, captured when it
    ships), "captured" (invoiced), "held" (captured, then on hold) or "review" (payment under
    review)."""
    spec = order_spec(store, spec_seed, created=created)
    entity_id = entity_id or store.max_key("orders") + 1
    order = build_order(store, spec, entity_id=entity_id, now=created, basis=basis)
    reserve(store, order)
    if paid == "authorised":
        authorise(store, order, now=created)
    elif paid == "review":
        set_state(order, "payment_review")
    else:
        store.put_doc("invoices", invoice_order(store, order, now=created))
        if paid == "held":
            order["hold_before_state"], order["hold_before_status"] = order["state"], "processing"
            set_state(order, "holded")
    store.put_doc("orders", finalise(order))
    return order


def seed_lifecycle(
    store: Store,
    report: SeedReport,
    *,
    seed: int,
    now: datetime,
    basis: TaxBasis = TaxBasis.TOTAL_BASE,
) -> list[LiveEvent]:
    """Add the edited pair and the orders the live events act on; plan those events."""
    base = seed * 7717 + 101
    with store.transaction():
        original = place_order(store, base, created=now - timedelta(hours=3), basis=basis,
                               paid="authorised")  # fmt: skip
        spec = edited_spec(store, base, now=now - timedelta(hours=2))
        replacement = edit_order(store, original, spec, now=now - timedelta(hours=2), basis=basis)
        report.note("edited", original["increment_id"])
        report.note("edit_replacement", replacement["increment_id"])
        plan = []
        for n, (event, due) in enumerate(EVENTS, start=1):
            paid = {"hold": "captured", "unhold": "held"}.get(event, "authorised")
            created = now - timedelta(minutes=40 - 5 * n)
            order = place_order(store, base + n, created=created, basis=basis, paid=paid)
            plan.append(LiveEvent(event, order["entity_id"], order["increment_id"], base + n, due))
            report.note(f"live_{event}", order["increment_id"])
        plan_save(store, plan)
    return plan


def plan_load(store: Store) -> list[LiveEvent]:
    return [LiveEvent(**entry) for entry in json.loads(store.meta_get(PLAN_KEY) or "[]")]


def plan_save(store: Store, plan: list[LiveEvent]) -> None:
    store.meta_set(PLAN_KEY, json.dumps([asdict(event) for event in plan]))
