"""Refunds in the demo store: credit memos on seeded orders, the way a UK shop's customer service
makes them, so `make run` shows each case (DESIGN §8).

| case | what the credit memo is |
| --- | --- |
| refund_full | everything on a shipped order, items back to stock, refunded online to the card |
| refund_partial | one unit of the first item of a shipped order, back to stock (a return) |
| refund_shipping | the delivery charge only (a late parcel), nothing back to stock |
| refund_goodwill | one unit without return plus a £2.00 goodwill adjustment, offline |
| refund_unshipped | a paid order refunded in full before dispatch (it closes in Magento) |

Uses its own random stream (from the seed), so adding refunds never changes the orders a seed
gives. A first seed refunds about `share` of the orders (`Shares.refunds`); each live tick
refunds one shipped order now and then (`LIVE_CHANCE`), as a shop refunding returns during the
day would. A share of 0 refunds nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sandbox.magento.errors import MagentoError
from sandbox.magento.orders.creditmemos import refund_order
from sandbox.magento.orders.document import finalise, top_items
from sandbox.magento.store import Store

LIVE_CHANCE = 0.1
CASES = ("refund_full", "refund_partial", "refund_shipping", "refund_goodwill")


def _refundable(order: dict[str, Any]) -> bool:
    return not order["is_virtual"] and not float(order.get("total_refunded") or 0)


def _request(case: str, order: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The refund request body for `case`, and whether it is refunded online."""
    # A line with stock of its own (a bundle's parent carries no quantity of its own).
    first = next(
        (i for i in top_items(order) if i["product_type"] in ("simple", "configurable")),
        top_items(order)[0],
    )
    one = [{"order_item_id": first["item_id"], "qty": 1}]
    if case == "refund_full":
        back = [i["item_id"] for i in top_items(order) if not i["is_virtual"]]
        return {"arguments": {"extension_attributes": {"return_to_stock_items": back}}}, True
    if case == "refund_partial":
        return {
            "items": one,
            "arguments": {
                "shipping_amount": 0,
                "extension_attributes": {"return_to_stock_items": [first["item_id"]]},
            },
        }, True
    if case == "refund_shipping":
        return {"items": [{"order_item_id": first["item_id"], "qty": 0}]}, False
    return {
        "items": one,
        "arguments": {"shipping_amount": 0, "adjustment_positive": 2},
        "comment": {"comment": "Goodwill: item arrived scuffed, customer keeps it."},
    }, False


def _refund(
    store: Store, report: Any, order: dict[str, Any], case: str, when: datetime
) -> str | None:
    """Refund `order` as `case` says; its increment id, or None when Magento refuses it.

    The report's state counts follow (a full refund closes the order)."""
    request, online = _request(case, order)
    before = order["state"]
    invoices = [d for d in store.all_docs("invoices") if d["order_id"] == order["entity_id"]]
    try:
        memo = refund_order(
            store,
            order,
            request,
            now=when,
            invoice_id=invoices[-1]["entity_id"] if invoices else None,
            online=online,
        )
    except MagentoError:
        return None  # e.g. a shipping-only refund on free delivery: not this order's case
    store.put_doc("creditmemos", memo)
    store.put_doc("orders", finalise(order))
    if order["state"] != before:
        report.states[before] -= 1
        report.states[order["state"]] += 1
    return order["increment_id"]


def _refund_time(order: dict[str, Any], rng: random.Random, now: datetime) -> datetime:
    updated = datetime.strptime(order["updated_at"], "%Y-%m-%d %H:%M:%S")
    return min(now, updated + timedelta(hours=rng.randrange(2, 72)))


def seed_refunds(store: Store, report: Any, *, seed: int, now: datetime, share: float) -> None:
    """Refund some of the orders just seeded (`report`), one case after another."""
    if share <= 0:
        return
    rng = random.Random(seed * 7919 + 17)  # noqa: S311 - demo data, its own stream
    first = report.first_entity_id or 1
    orders = [o for o in store.all_docs("orders") if o["entity_id"] >= first]
    if report.orders == 1:
        if rng.random() < LIVE_CHANCE:
            shipped = [o for o in store.all_docs("orders")
                       if o["state"] == "complete" and _refundable(o)]  # fmt: skip
            if shipped:
                order = store.get_doc("orders", rng.choice(shipped[-50:])["entity_id"])
                _note(
                    report, "refund_partial", _refund(store, report, order, "refund_partial", now)
                )
        return
    shipped = [o for o in orders if o["state"] == "complete" and _refundable(o)]
    rng.shuffle(shipped)
    wanted = max(len(CASES), round(share * len(orders)))
    made = 0
    for candidate in shipped:
        if made >= wanted:
            break
        # A case Magento refuses for this order (a goodwill payment above what was paid, a
        # delivery refund on free delivery) is tried on the next one.
        case = CASES[made % len(CASES)]
        order = store.get_doc("orders", candidate["entity_id"])
        number = _refund(store, report, order, case, _refund_time(order, rng, now))
        _note(report, case, number)
        made += number is not None
    unshipped = [o for o in orders if o["state"] == "processing" and _refundable(o)]
    if unshipped:
        order = store.get_doc("orders", rng.choice(unshipped)["entity_id"])
        when = _refund_time(order, rng, now)
        _note(report, "refund_unshipped", _refund(store, report, order, "refund_full", when))


def _note(report: Any, case: str, increment_id: str | None) -> None:
    if increment_id is not None:
        report.note(case, increment_id)
