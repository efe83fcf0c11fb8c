"""The Magento sandbox refunds like Magento 2.4.8: credit memos, their limits, stock and state.

Every response passes the 2.4.8 schema check of `sandbox_client`.
"""

from datetime import datetime
from decimal import Decimal

import pytest

from sandbox.magento.app import sandbox_state
from sandbox.magento.seed import Shares
from sandbox.magento.testing import bearer_headers, make_app, sandbox_client, seed_app

NOW = datetime(2026, 11, 20, 12, 0, 0)


@pytest.fixture
def store_app(tmp_path):
    app = make_app(tmp_path, clock=lambda: NOW)
    seed_app(app, orders=60, days=20, seed=7, shares=Shares(refunds=0))
    yield app
    sandbox_state(app).store.close()


@pytest.fixture
def client(store_app):
    with sandbox_client(store_app) as http:
        http.headers.update(bearer_headers())
        yield http


def orders_in(client, state):
    items = client.get("/V1/orders", params={"searchCriteria": ""}).json()["items"]
    return [o for o in items if o["state"] == state and not o["is_virtual"]]


def simple_line(order):
    """A top-level simple line with stock of its own."""
    return next(
        i for i in order["items"] if i["product_type"] == "simple" and not i.get("parent_item_id")
    )


def with_simple(orders):
    return next(
        o
        for o in orders
        if any(i["product_type"] == "simple" and not i.get("parent_item_id") for i in o["items"])
    )


def refund(client, order, body):
    return client.post(f"/V1/order/{order['entity_id']}/refund", json=body)


def test_partial_refund_back_to_stock_credits_one_unit_and_returns_it_to_the_source(
    client, store_app
):
    order = with_simple(orders_in(client, "complete"))
    line = simple_line(order)
    store = sandbox_state(store_app).store
    before = store.source_quantity(line["sku"])
    answer = refund(
        client,
        order,
        {
            "items": [{"order_item_id": line["item_id"], "qty": 1}],
            "arguments": {
                "shipping_amount": 0,
                "extension_attributes": {"return_to_stock_items": [line["item_id"]]},
            },
        },
    )
    assert answer.status_code == 200, answer.text
    memo = client.get(f"/V1/creditmemo/{answer.json()}").json()
    unit_gross = Decimal(str(line["row_total_incl_tax"])) / Decimal(str(line["qty_ordered"]))
    assert Decimal(str(memo["grand_total"])) == (
        unit_gross - Decimal(str(line["discount_amount"])) / Decimal(str(line["qty_ordered"]))
    ).quantize(Decimal("0.01"))
    assert memo["shipping_amount"] == 0 and memo["state"] == 2
    refunded = {i["order_item_id"]: i["qty"] for i in memo["items"]}
    assert refunded[line["item_id"]] == 1
    assert sum(refunded.values()) == 1  # every other item is listed with qty 0
    assert store.source_quantity(line["sku"]) == before + 1
    after = client.get(f"/V1/orders/{order['entity_id']}").json()
    assert after["state"] == "complete"
    assert Decimal(str(after["total_refunded"])) == Decimal(str(memo["grand_total"]))
    item = next(i for i in after["items"] if i["item_id"] == line["item_id"])
    assert item["qty_refunded"] == 1
    listed = client.get(
        "/V1/creditmemos",
        params={
            "searchCriteria[filter_groups][0][filters][0][field]": "order_id",
            "searchCriteria[filter_groups][0][filters][0][value]": str(order["entity_id"]),
        },
    ).json()
    assert [m["entity_id"] for m in listed["items"]] == [memo["entity_id"]]


def test_refunds_never_exceed_what_was_invoiced(client):
    order = with_simple(orders_in(client, "complete"))
    line = simple_line(order)
    too_many = refund(
        client, order, {"items": [{"order_item_id": line["item_id"], "qty": 99}]}
    ).json()
    assert too_many["message"].startswith("Creditmemo Document Validation Error(s):\n")
    assert (
        f'must not be greater than the unrefunded quantity for product SKU "{line["sku"]}"'
        in too_many["message"]
    )
    shipping = refund(
        client,
        order,
        {
            "items": [{"order_item_id": line["item_id"], "qty": 0}],
            "arguments": {"shipping_amount": float(order["shipping_incl_tax"]) + 10},
        },
    )
    assert shipping.status_code == 400
    assert shipping.json()["message"] == "Maximum shipping amount allowed to refund is: %1"
    money = refund(
        client,
        order,
        {
            "items": [{"order_item_id": line["item_id"], "qty": 1}],
            "arguments": {"adjustment_positive": float(order["grand_total"]) + 1},
        },
    ).json()
    assert "The most money available to refund is" in money["message"]
    nothing = client.get(
        f"/V1/orders/{order['entity_id']}",
    ).json()
    assert nothing["total_refunded"] == 0  # refused refunds change nothing


def test_a_full_refund_closes_the_order_and_nothing_more_can_be_refunded(client):
    order = orders_in(client, "complete")[0]
    first = refund(client, order, {})
    assert first.status_code == 200, first.text
    memo = client.get(f"/V1/creditmemo/{first.json()}").json()
    assert memo["grand_total"] == order["grand_total"]
    assert memo["shipping_incl_tax"] == order["shipping_incl_tax"]
    closed = client.get(f"/V1/orders/{order['entity_id']}").json()
    assert (closed["state"], closed["status"]) == ("closed", "closed")
    second = refund(client, order, {})
    assert second.status_code == 400
    assert "when an order has a status of closed" in second.json()["message"]


def test_shipping_only_refund_credits_the_delivery_charge_and_no_item(client):
    order = next(o for o in orders_in(client, "complete") if o["shipping_incl_tax"] > 0)
    top = next(i for i in order["items"] if not i.get("parent_item_id"))
    answer = refund(client, order, {"items": [{"order_item_id": top["item_id"], "qty": 0}]})
    assert answer.status_code == 200, answer.text
    memo = client.get(f"/V1/creditmemo/{answer.json()}").json()
    assert memo["grand_total"] == order["shipping_incl_tax"]
    assert memo["shipping_amount"] == order["shipping_amount"]
    assert all(i["qty"] == 0 for i in memo["items"])
    assert client.get(f"/V1/orders/{order['entity_id']}").json()["state"] == "complete"


def test_refund_before_dispatch_releases_the_reservation_and_closes_the_order(client, store_app):
    order = with_simple(orders_in(client, "processing"))
    line = simple_line(order)
    store = sandbox_state(store_app).store
    reserved = store.reserved(line["sku"])
    every = [i["item_id"] for i in order["items"] if not i.get("parent_item_id")]
    answer = refund(
        client, order, {"arguments": {"extension_attributes": {"return_to_stock_items": every}}}
    )
    assert answer.status_code == 200, answer.text
    assert store.reserved(line["sku"]) == reserved + line["qty_ordered"]
    closed = client.get(f"/V1/orders/{order['entity_id']}").json()
    assert closed["state"] == "closed"
    ship = client.post(f"/V1/order/{order['entity_id']}/ship", json={})
    assert ship.status_code == 400  # nothing is left to ship


def test_the_seed_holds_every_refund_case(tmp_path):
    app = make_app(tmp_path, clock=lambda: NOW)
    report = seed_app(app, orders=200, days=30, seed=1)
    cases = {k for k in report.causes if k.startswith("refund_")}
    assert cases == {
        "refund_full",
        "refund_partial",
        "refund_shipping",
        "refund_goodwill",
        "refund_unshipped",
    }
    store = sandbox_state(app).store
    memos = store.all_docs("creditmemos")
    assert len(memos) == sum(len(v) for k, v in report.causes.items() if k.startswith("refund_"))
    for memo in memos:
        assert memo["created_at"] <= NOW.strftime("%Y-%m-%d %H:%M:%S")
    assert any(m["transaction_id"] for m in memos)  # refunded online, to the card
    assert any(not m["transaction_id"] for m in memos)  # refunded offline
    (unshipped,) = report.causes["refund_unshipped"]
    order = next(o for o in store.all_docs("orders") if o["increment_id"] == unshipped)
    assert order["state"] == "closed"
