"""Order payload shapes, VAT arithmetic, shipping and comments."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from sandbox.divergence import catalogue_divergence
from sandbox.magento.app import sandbox_state
from sandbox.magento.orders.pricing import TaxBasis
from sandbox.magento.testing import make_app, sandbox_client, seed_app

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def all_orders(client):
    return client.get("/V1/orders", params={"searchCriteria": ""}).json()["items"]


def find(orders, predicate):
    for order in orders:
        if predicate(order):
            return order
    raise AssertionError("no seeded order matches")


def test_order_shape_matches_contract(magento_client, seeded):
    orders = all_orders(magento_client)
    assert len(orders) == 60
    for order in orders:
        assert STAMP.match(order["created_at"]) and STAMP.match(order["updated_at"])
        assert order["order_currency_code"] == order["base_currency_code"] == "GBP"
        assert order["base_grand_total"] == order["grand_total"]
        assert isinstance(order["billing_address"]["street"], list)
        assert "shipping_address" not in order
        if not order["is_virtual"]:
            shipping = order["extension_attributes"]["shipping_assignments"][0]["shipping"]
            assert isinstance(shipping["address"]["street"], list)
            assert "_" in shipping["method"]
        gross = sum(
            Decimal(str(i["row_total_incl_tax"])) - Decimal(str(i["discount_amount"]))
            for i in order["items"]
        )
        assert Decimal(str(order["grand_total"])) == gross + Decimal(
            str(order["shipping_incl_tax"])
        )
        assert order["discount_amount"] <= 0
        assert order["items"][0]["item_id"] > 0


def test_configurable_listed_twice_priced_parent_zero_child(magento_client, seeded):
    order = find(
        all_orders(magento_client),
        lambda o: any(i["product_type"] == "configurable" for i in o["items"]),
    )
    parent = next(i for i in order["items"] if i["product_type"] == "configurable")
    child = next(i for i in order["items"] if i.get("parent_item_id") == parent["item_id"])
    assert child["sku"] == parent["sku"]
    assert child["product_type"] == "simple" and child["price"] == 0 and parent["price"] > 0
    assert child["parent_item"]["item_id"] == parent["item_id"]
    options = parent["product_option"]["extension_attributes"]["configurable_item_options"]
    assert len(options) == 2


def test_bundle_children_are_priced(magento_app, magento_client):
    report = seed_app(magento_app, orders=150, days=10, seed=3)
    assert report.orders == 150
    orders = all_orders(magento_client)
    order = find(orders, lambda o: any(i["product_type"] == "bundle" for i in o["items"]))
    bundle = next(i for i in order["items"] if i["product_type"] == "bundle")
    children = [i for i in order["items"] if i.get("parent_item_id") == bundle["item_id"]]
    assert len(children) == 4 and all(c["price"] > 0 for c in children)
    assert bundle["sku"].startswith("24-WG080-")
    assert find(orders, lambda o: any(i["product_type"] == "downloadable" for i in o["items"]))


def test_discounted_order_has_negative_order_and_positive_item_discount(magento_client, seeded):
    order = find(all_orders(magento_client), lambda o: o["coupon_code"])
    assert order["discount_amount"] < 0
    assert any(i["discount_amount"] > 0 for i in order["items"])
    item_discounts = sum(Decimal(str(i["discount_amount"])) for i in order["items"])
    assert Decimal(str(order["discount_amount"])) == -item_discounts


def _order_for(tmp_path, basis):
    app = make_app(tmp_path / basis.value)
    from sandbox.magento.seed import Shares, seed_orders

    state = sandbox_state(app)
    seed_orders(state.store, orders=40, days=5, seed=11, now=datetime(2026, 1, 10), basis=basis,
                shares=Shares(discount=0.5))  # fmt: skip
    docs = state.store.all_docs("orders")
    state.store.close()
    return docs


def test_tax_basis_moves_pennies_not_gross(tmp_path):
    by_basis = {b: _order_for(tmp_path, b) for b in TaxBasis}
    gross = {b: [o["grand_total"] for o in docs] for b, docs in by_basis.items()}
    assert gross[TaxBasis.UNIT_BASE] == gross[TaxBasis.ROW_BASE] == gross[TaxBasis.TOTAL_BASE]
    taxes = {b: [o["tax_amount"] for o in docs] for b, docs in by_basis.items()}
    assert taxes[TaxBasis.UNIT_BASE] != taxes[TaxBasis.ROW_BASE]
    assert taxes[TaxBasis.ROW_BASE] != taxes[TaxBasis.TOTAL_BASE]
    for docs in by_basis.values():
        for order in docs:
            total = (
                Decimal(str(order["subtotal"]))
                + Decimal(str(order["tax_amount"]))
                + Decimal(str(order["discount_tax_compensation_amount"]))
                + Decimal(str(order["shipping_amount"]))
                + Decimal(str(order["discount_amount"]))
            )
            assert total == Decimal(str(order["grand_total"]))


def test_unknown_order_is_404(magento_client):
    response = magento_client.get("/V1/orders/999999")
    assert response.status_code == 404
    assert response.json() == {
        "message": "The entity that was requested doesn't exist. Verify the entity and try again."
    }


def _processing_order(client):
    return find(
        all_orders(client),
        lambda o: o["state"] == "processing" and not o["is_virtual"]
        and any(i["qty_ordered"] >= 1 and i.get("parent_item_id") is None for i in o["items"]),
    )  # fmt: skip


def test_ship_full_order_completes_it_and_moves_stock(magento_client, seeded, magento_clock):
    order = _processing_order(magento_client)
    sku = next(i["sku"] for i in order["items"] if i["product_type"] == "simple")
    before_qty = _source_qty(magento_client, sku)
    before_salable = magento_client.get(
        f"/V1/inventory/get-product-salable-quantity/{sku}/1"
    ).json()
    magento_clock.now = magento_clock.now + timedelta(hours=1)
    response = magento_client.post(
        f"/V1/order/{order['entity_id']}/ship",
        json={"tracks": [{"track_number": "TT123456785GB", "title": "Royal Mail",
                          "carrier_code": "custom"}], "notify": True},
    )  # fmt: skip
    assert response.status_code == 200
    shipment_id = response.json()
    assert isinstance(shipment_id, int)
    after = magento_client.get(f"/V1/orders/{order['entity_id']}").json()
    assert after["state"] == after["status"] == "complete"
    assert (
        after["updated_at"] == "2026-11-20 13:00:00" and after["updated_at"] > order["updated_at"]
    )
    shipped = sum(i["qty_ordered"] for i in order["items"] if i["sku"] == sku
                  and i["product_type"] == "simple")  # fmt: skip
    assert _source_qty(magento_client, sku) == before_qty - shipped
    salable = magento_client.get(f"/V1/inventory/get-product-salable-quantity/{sku}/1").json()
    assert salable == before_salable  # the reservation is compensated as the source is deducted
    shipment = magento_client.get(f"/V1/shipment/{shipment_id}").json()
    assert shipment["tracks"][0]["track_number"] == "TT123456785GB"
    found = magento_client.get(
        "/V1/shipments",
        params={"searchCriteria[filter_groups][0][filters][0][field]": "order_id",
                "searchCriteria[filter_groups][0][filters][0][value]": order["entity_id"]},
    ).json()  # fmt: skip
    assert [s["entity_id"] for s in found["items"]] == [shipment_id]

    again = magento_client.post(f"/V1/order/{order['entity_id']}/ship", json={})
    assert again.status_code == 400
    assert again.json()["message"] == (
        "Shipment Document Validation Error(s):\nThe order does not allow a shipment to be created."
    )


def _source_qty(client, sku):
    items = client.get(
        "/V1/inventory/source-items",
        params={"searchCriteria[filter_groups][0][filters][0][field]": "sku",
                "searchCriteria[filter_groups][0][filters][0][value]": sku},
    ).json()["items"]  # fmt: skip
    return items[0]["quantity"]


def test_over_shipping_is_refused_and_partial_shipping_keeps_processing(magento_client, seeded):
    order = find(
        all_orders(magento_client),
        lambda o: o["state"] == "processing" and not o["is_virtual"]
        and sum(1 for i in o["items"] if i.get("parent_item_id") is None
                and i["product_type"] != "downloadable") >= 2,
    )  # fmt: skip
    line = next(i for i in order["items"] if i.get("parent_item_id") is None
                and i["product_type"] != "downloadable")  # fmt: skip
    over = magento_client.post(
        f"/V1/order/{order['entity_id']}/ship",
        json={"items": [{"order_item_id": line["item_id"], "qty": line["qty_ordered"] + 1}]},
    )
    assert over.status_code == 400
    assert over.json()["message"] == (
        "Shipment Document Validation Error(s):\n"
        f'We found an invalid quantity to ship for item "{line["name"]}".\n'
        "You can't create a shipment without products."
    )
    partial = magento_client.post(
        f"/V1/order/{order['entity_id']}/ship",
        json={"items": [{"order_item_id": line["item_id"], "qty": line["qty_ordered"]}]},
    )
    assert partial.status_code == 200
    after = magento_client.get(f"/V1/orders/{order['entity_id']}").json()
    assert after["state"] == "processing"
    shipped = next(i for i in after["items"] if i["item_id"] == line["item_id"])
    assert shipped["qty_shipped"] == line["qty_ordered"]
    twice = magento_client.post(
        f"/V1/order/{order['entity_id']}/ship",
        json={"items": [{"order_item_id": line["item_id"], "qty": 1}]},
    )
    assert twice.status_code == 400


def test_ship_refused_for_blocked_states(magento_client):
    report = seed_app(_app_of(magento_client), orders=120, days=20, seed=5)
    orders = all_orders(magento_client)
    for state in ("holded", "canceled", "payment_review"):
        assert report.states[state] > 0
        order = find(orders, lambda o, s=state: o["state"] == s)
        response = magento_client.post(f"/V1/order/{order['entity_id']}/ship", json={})
        assert response.status_code == 400
        assert response.json()["message"] == (
            "Shipment Document Validation Error(s):\n"
            f"A shipment cannot be created when an order has a status of {order['status']}"
        )


def _app_of(client):
    return client._transport.app  # the WSGI app behind the test transport


def test_ship_unknown_item_and_missing_track_fields(magento_client, seeded):
    order = _processing_order(magento_client)
    unknown = magento_client.post(
        f"/V1/order/{order['entity_id']}/ship",
        json={"items": [{"order_item_id": 999999, "qty": 1}]},
    )
    assert unknown.status_code == 400
    assert 'We can not found item "999999" in order.' in unknown.json()["message"]
    no_title = magento_client.post(
        f"/V1/order/{order['entity_id']}/ship",
        json={"tracks": [{"track_number": "X1", "carrier_code": "custom"}]},
    )
    assert no_title.status_code == 400
    assert no_title.json()["parameters"] == {"fieldName": "title"}
    assert magento_client.get(f"/V1/orders/{order['entity_id']}").json()["state"] == "processing"


def test_new_order_shipped_moves_to_processing_then_invoice_completes(magento_client, seeded):
    order = find(all_orders(magento_client), lambda o: o["state"] == "new" and not o["is_virtual"])
    assert magento_client.post(f"/V1/order/{order['entity_id']}/ship", json={}).status_code == 200
    shipped = magento_client.get(f"/V1/orders/{order['entity_id']}").json()
    assert (shipped["state"], shipped["status"]) == ("processing", "processing")
    invoice = magento_client.post(
        f"/V1/order/{order['entity_id']}/invoice", json={"capture": True, "notify": True}
    )
    assert invoice.status_code == 200
    done = magento_client.get(f"/V1/orders/{order['entity_id']}").json()
    assert done["state"] == "complete" and done["total_paid"] == done["grand_total"]
    got = magento_client.get(f"/V1/invoices/{invoice.json()}").json()
    assert got["order_id"] == order["entity_id"] and got["grand_total"] == order["grand_total"]


def test_add_comment_bumps_updated_at(magento_client, seeded, magento_clock):
    order = all_orders(magento_client)[0]
    magento_clock.now = datetime(2026, 11, 21, 8, 30, 0)
    response = magento_client.post(
        f"/V1/orders/{order['entity_id']}/comments",
        json={"statusHistory": {"comment": "Held at depot <b>", "is_customer_notified": 0,
                                "is_visible_on_front": 0, "parent_id": order["entity_id"]}},
    )  # fmt: skip
    assert response.status_code == 200 and response.json() is True
    after = magento_client.get(f"/V1/orders/{order['entity_id']}").json()
    assert after["updated_at"] == "2026-11-21 08:30:00"
    assert after["status_histories"][0]["comment"] == "Held at depot <b>"
    missing = magento_client.post(f"/V1/orders/{order['entity_id']}/comments", json={})
    assert missing.status_code == 400
    assert missing.json()["parameters"] == {"fieldName": "statusHistory"}


def test_seeded_unknown_sku_orders_carry_erp_missing_skus(magento_client, magento_app):
    report = seed_app(magento_app, orders=40, days=5, seed=2,
                      shares=__import__("sandbox.magento.seed", fromlist=["Shares"]).Shares(
                          unknown_sku=1.0))  # fmt: skip
    missing = catalogue_divergence().missing
    for increment_id in report.causes["unknown_sku"]:
        order = magento_client.get(
            "/V1/orders",
            params={"searchCriteria[filter_groups][0][filters][0][field]": "increment_id",
                    "searchCriteria[filter_groups][0][filters][0][value]": increment_id},
        ).json()["items"][0]  # fmt: skip
        assert any(i["sku"] in missing for i in order["items"])
    assert len(report.causes["unknown_sku"]) == 40


def test_salable_quantity_is_source_minus_open_reservations(magento_client, seeded):
    orders = all_orders(magento_client)
    open_orders = [o for o in orders if o["state"] in ("new", "processing", "holded",
                                                       "payment_review")]  # fmt: skip
    line = next(i for o in open_orders for i in o["items"] if i["product_type"] == "simple"
                and i["qty_shipped"] == 0)  # fmt: skip
    sku = line["sku"]
    reserved = sum(
        i["qty_ordered"] - i["qty_shipped"] - i["qty_canceled"]
        for o in orders
        for i in o["items"]
        if i["sku"] == sku and i["product_type"] == "simple" and o["state"] != "canceled"
    )
    salable = magento_client.get(f"/V1/inventory/get-product-salable-quantity/{sku}/1").json()
    assert salable == _source_qty(magento_client, sku) - reserved
    assert reserved > 0
    assert magento_client.get(f"/V1/inventory/is-product-salable/{sku}/1").json() is (salable > 0)
    other_stock = magento_client.get(f"/V1/inventory/get-product-salable-quantity/{sku}/2")
    assert other_stock.status_code == 404


def test_hold_unhold_and_cancel(magento_client, seeded):
    order = find(all_orders(magento_client), lambda o: o["state"] == "processing")
    assert magento_client.post(f"/V1/orders/{order['entity_id']}/hold").json() is True
    assert magento_client.get(f"/V1/orders/{order['entity_id']}/statuses").json() == "holded"
    assert magento_client.post(f"/V1/orders/{order['entity_id']}/unhold").json() is True
    assert magento_client.get(f"/V1/orders/{order['entity_id']}").json()["state"] == "processing"
    pending = find(all_orders(magento_client), lambda o: o["state"] == "new")
    assert magento_client.post(f"/V1/orders/{pending['entity_id']}/cancel").json() is True
    assert magento_client.get(f"/V1/orders/{pending['entity_id']}").json()["state"] == "canceled"
    # paid orders cannot be canceled (Magento refunds them instead)
    assert magento_client.post(f"/V1/orders/{order['entity_id']}/cancel").json() is False


def test_products_get_and_404(magento_client):
    product = magento_client.get("/V1/products/MH01-XS-Black").json()
    assert product["sku"] == "MH01-XS-Black" and product["visibility"] == 1
    missing = magento_client.get("/V1/products/NOPE-1")
    assert missing.status_code == 404
    assert missing.json()["message"] == (
        "The product that was requested doesn't exist. Verify the product and try again."
    )


def test_seeded_orders_validate_with_camel_sku_client(tmp_path):
    """A second app on its own file shares nothing with the first (own database)."""
    first = make_app(tmp_path / "a")
    second = make_app(tmp_path / "b")
    seed_app(first, orders=5, days=1, seed=1)
    with sandbox_client(second) as client:
        client.headers["Authorization"] = "Bearer sandboxaccesstoken00000000000001"
        assert client.get("/V1/orders", params={"searchCriteria": ""}).json()["total_count"] == 0
    for app in (first, second):
        sandbox_state(app).store.close()
