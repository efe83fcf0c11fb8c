"""Conformance with the Magento 2.4.8 reference material.

- Every response the `magento_client` fixture sees is validated against the 2.4.8 schema by a
  response hook (sandbox.magento.testing.validate_response); these tests prove the hook runs
  and can fail, and that the loosened validator accepts Magento's own example payloads.
- The example requests in data/examples (copied from ../shared/reference/magento/examples) are
  replayed; every example file is either replayed here or listed as not modelled, with why.
- The error bodies of error_catalogue.json that the sandbox produces are compared verbatim.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from sandbox.magento.conformance import (
    SchemaViolation,
    response_schema,
    validate_against,
    validate_response,
)
from sandbox.magento.testing import EXAMPLES_DIR, load_example

SHARED_REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "magento"

REPLAYED = {
    "POST_V1_order_orderId_ship.request.json",
    "POST_V1_order_orderId_ship.msi_source.request.json",
    "POST_V1_order_orderId_invoice.request.json",
    "POST_V1_inventory_sources.request.json",
    "POST_V1_inventory_source-items.request.json",
    "POST_V1_inventory_source-items-delete.request.json",
    "GET_V1_inventory_source-items.response.json",
    "GET_V1_orders_fields_filter.response.json",
    "GET_V1_invoices_id.response.json",
    "GET_V1_bulk_uuid_status.response.json",
    "GET_V1_bulk_uuid_detailed-status.response.json",
    "PUT_async_V1_products_sku.response.json",
    "error_catalogue.json",
    "error_response.400.example.json",
}
NOT_MODELLED = {
    # storefront checkout: the desk never places orders
    "POST_V1_carts_mine_estimate-shipping-methods.response.json": "customer cart API",
    "POST_V1_carts_mine_payment-information.request.json": "customer cart API",
    "POST_V1_carts_mine_shipping-information.request.json": "customer cart API",
    # catalogue and customer writes: the desk only reads products and writes stock
    "POST_V1_products.request.json": "product writes",
    "POST_V1_products.response.json": "product writes",
    "PUT_async_V1_products_sku.request.json": "product writes",
    "POST_async_bulk_V1_customers.request.json": "customer writes",
    "POST_async_bulk_V1_customers.response.json": "customer writes",
    "POST_async_bulk_V1_products.request.json": "product writes",
    "POST_async_bulk_V1_products.response.json": "product writes",
    "POST_V1_order_orderId_refund.request.json": "credit memos",
    "POST_V1_inventory_source-selection-algorithm-result.request.json": "SSA",
    "POST_V1_inventory_source-selection-algorithm-result.response.json": "SSA",
    "GET_V1_bulk_searchCriteria.response.json": "bulk operation search",
}


def test_every_example_is_replayed_or_declared_not_modelled():
    names = {p.name for p in EXAMPLES_DIR.glob("*.json")}
    assert names == REPLAYED | set(NOT_MODELLED)


@pytest.mark.skipif(not SHARED_REFERENCE.exists(), reason="../shared/reference not present")
def test_in_repo_reference_copies_match_the_shared_reference():
    here = EXAMPLES_DIR.parent
    pairs = [(here / "schema" / "magento-2.4.8-admin-schema-subset.json",
              SHARED_REFERENCE / "schema" / "magento-2.4.8-admin-schema-subset.json"),
             (here / "luma_catalog_products.csv",
              SHARED_REFERENCE / "sample-data" / "luma_catalog_products.csv")]  # fmt: skip
    pairs += [(p, SHARED_REFERENCE / "examples" / p.name) for p in EXAMPLES_DIR.glob("*.json")]
    for mine, theirs in pairs:
        digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (mine, theirs)]
        assert digest[0] == digest[1], mine.name


@pytest.mark.parametrize(
    ("example", "method", "path"),
    [
        ("GET_V1_invoices_id.response.json", "GET", "/V1/invoices/1"),
        ("GET_V1_bulk_uuid_status.response.json", "GET", "/V1/bulk/x/status"),
        ("GET_V1_bulk_uuid_detailed-status.response.json", "GET", "/V1/bulk/x/detailed-status"),
        ("GET_V1_inventory_source-items.response.json", "GET", "/V1/inventory/source-items"),
        ("error_response.400.example.json", "GET", "/V1/products/x"),
    ],
)
def test_validator_accepts_magentos_own_examples(example, method, path):
    status = 400 if example.startswith("error") else 200
    schema = response_schema(method, path, status)
    assert schema is not None
    assert validate_against(schema, load_example(example)) == []


def test_validator_rejects_invented_fields_and_wrong_types():
    schema = response_schema("GET", "/V1/orders/1", 200)
    assert validate_against(schema, {"items": [], "grand_total": 1, "base_grand_total": 1,
                                     "customer_email": "a@b", "made_up": 1})  # fmt: skip
    assert validate_against(schema, {"items": [], "grand_total": "1", "base_grand_total": 1,
                                     "customer_email": "a@b"})  # fmt: skip
    nulls = {"items": [{"sku": None}], "grand_total": None, "base_grand_total": 1,
             "customer_email": "a@b"}  # fmt: skip
    assert validate_against(schema, nulls) == []


def test_response_hook_validates_every_response(magento_client, validation_log):
    magento_client.get("/V1/products/24-MB01")
    magento_client.get("/V1/products", params={"searchCriteria[pageSize]": 2})
    magento_client.get("/V1/orders/123456")
    assert validation_log.validated == 3
    bad = httpx.Response(
        200,
        json={"sku": "x", "not_a_magento_field": True},
        request=httpx.Request("GET", "http://magento.test/rest/V1/products/x"),
    )
    with pytest.raises(SchemaViolation):
        validate_response(bad)


def _processing_order_with_two_lines(client):
    orders = client.get("/V1/orders", params={"searchCriteria": ""}).json()["items"]
    for order in orders:
        lines = [i for i in order["items"] if i.get("parent_item_id") is None
                 and i["product_type"] != "downloadable"]  # fmt: skip
        if order["state"] == "processing" and len(lines) >= 2:
            return order, lines
    raise AssertionError("no suitable seeded order")


def test_replay_ship_examples(magento_client, seeded):
    example = load_example("POST_V1_order_orderId_ship.request.json")
    order, lines = _processing_order_with_two_lines(magento_client)
    # The example ships 3 items of its own order; map them onto this order's lines.
    body = dict(example)
    body["items"] = [{"order_item_id": line["item_id"], "qty": line["qty_ordered"]}
                     for line in lines]  # fmt: skip
    response = magento_client.post(f"/V1/order/{order['entity_id']}/ship", json=body)
    assert response.status_code == 200
    shipment = magento_client.get(f"/V1/shipment/{response.json()}").json()
    assert shipment["tracks"][0]["track_number"] == example["tracks"][0]["track_number"]
    assert shipment["tracks"][0]["carrier_code"] == "ups"

    msi = load_example("POST_V1_order_orderId_ship.msi_source.request.json")
    other, other_lines = _processing_order_with_two_lines(magento_client)
    msi["items"] = [{"order_item_id": other_lines[0]["item_id"], "qty": 20},
                    {"order_item_id": other_lines[1]["item_id"], "qty": 35}]  # fmt: skip
    refused = magento_client.post(f"/V1/order/{other['entity_id']}/ship", json=msi)
    assert refused.status_code == 400  # the example's 20 and 35 exceed what was ordered
    assert refused.json()["message"].startswith("Shipment Document Validation Error(s):\n")


def test_replay_invoice_example(magento_client, seeded):
    orders = magento_client.get("/V1/orders", params={"searchCriteria": ""}).json()["items"]
    pending = next(o for o in orders if o["state"] == "new")
    body = load_example("POST_V1_order_orderId_invoice.request.json")
    response = magento_client.post(f"/V1/order/{pending['entity_id']}/invoice", json=body)
    assert response.status_code == 200 and isinstance(response.json(), int)
    invoice = magento_client.get(f"/V1/invoices/{response.json()}").json()
    example = load_example("GET_V1_invoices_id.response.json")
    assert set(example) <= set(invoice)
    assert set(example["items"][0]) <= set(invoice["items"][0])


def test_replay_msi_examples_gives_the_documented_response(magento_client):
    source = load_example("POST_V1_inventory_sources.request.json")
    assert magento_client.post("/V1/inventory/sources", json=source).status_code == 200
    for code in ("central", "east"):
        body = {"source": {**source["source"], "source_code": code, "name": code}}
        assert magento_client.post("/V1/inventory/sources", json=body).status_code == 200
    saved = magento_client.post(
        "/V1/inventory/source-items",
        json=load_example("POST_V1_inventory_source-items.request.json"),
    )
    assert saved.status_code == 200 and saved.json() == []
    expected = load_example("GET_V1_inventory_source-items.response.json")
    response = magento_client.get(
        "/V1/inventory/source-items",
        params={"searchCriteria[filter_groups][0][filters][0][field]": "sku",
                "searchCriteria[filter_groups][0][filters][0][value]": "new_product2",
                "searchCriteria[filter_groups][0][filters][0][condition_type]": "eq"},
    )  # fmt: skip
    assert response.json() == expected
    deleted = magento_client.post(
        "/V1/inventory/source-items-delete",
        json=load_example("POST_V1_inventory_source-items-delete.request.json"),
    )
    assert deleted.status_code == 200


def test_replay_fields_filter_example_shape(magento_client, seeded):
    expected = load_example("GET_V1_orders_fields_filter.response.json")
    response = magento_client.get(
        "/V1/orders",
        params={"searchCriteria[pageSize]": 3, "fields": "items[increment_id,entity_id]"},
    ).json()
    assert set(response) == set(expected)
    assert [set(i) for i in response["items"]] == [set(i) for i in expected["items"]]


def test_async_and_bulk_status_shapes_match_examples(magento_client):
    accepted = magento_client.post(
        "http://magento.test/rest/async/V1/inventory/source-items",
        json={"sourceItems": [{"sku": "24-MB01", "source_code": "default", "quantity": 1,
                               "status": 1}]},
    ).json()  # fmt: skip
    example = load_example("PUT_async_V1_products_sku.response.json")
    assert set(accepted) == set(example)
    assert set(accepted["request_items"][0]) == set(example["request_items"][0])
    status = magento_client.get(f"/V1/bulk/{accepted['bulk_uuid']}/status").json()
    assert set(status) == set(load_example("GET_V1_bulk_uuid_status.response.json"))
    detailed = magento_client.get(f"/V1/bulk/{accepted['bulk_uuid']}/detailed-status").json()
    expected = load_example("GET_V1_bulk_uuid_detailed-status.response.json")
    assert set(detailed["operations_list"][0]) == set(expected["operations_list"][0])
    meta = json.loads(detailed["operations_list"][0]["serialized_data"])
    assert set(meta) == {"entity_id", "entity_link", "meta_information"}


def _catalogue_body(when_contains: str) -> dict:
    entries = load_example("error_catalogue.json")["entries"]
    return next(e for e in entries if when_contains in e["when"])


@pytest.mark.parametrize(
    ("when", "method", "url", "body", "headers"),
    [
        ("unknown route", "GET", "/V1/no/such/route", None, None),
        ("missing/invalid/expired bearer", "GET", "/V1/orders?searchCriteria=", None,
         {"Authorization": "Bearer expired"}),
        ("with bad credentials", "POST", "/V1/integration/admin/token",
         {"username": "admin", "password": "nope"}, None),
        ("without any searchCriteria", "GET", "/V1/orders", None, None),
        ("store code 'all'", "GET", "http://magento.test/rest/all/V1/orders?searchCriteria=",
         None, None),
        ("unknown SKU", "GET", "/V1/products/NO-SUCH-SKU", None, None),
        ("GET /V1/orders/{id} unknown id", "GET", "/V1/orders/424242", None, None),
        ("missing/empty sku", "POST", "/V1/inventory/source-items",
         {"sourceItems": [{"sku": "", "source_code": "default", "quantity": 1, "status": 1}]},
         None),
        ("unknown status value", "POST", "/V1/inventory/source-items",
         {"sourceItems": [{"sku": "a", "source_code": "default", "quantity": 1, "status": 9}]},
         None),
        ("non-existing source_code", "POST", "/V1/inventory/source-items",
         {"sourceItems": [{"sku": "a", "source_code": "nowhere", "quantity": 1, "status": 1}]},
         None),
        ("sourceItems: []", "POST", "/V1/inventory/source-items", {"sourceItems": []}, None),
        ("wrong JSON type", "POST", "/V1/inventory/source-items",
         {"sourceItems": [{"sku": "a", "source_code": "default", "quantity": "test",
                           "status": 1}]}, None),
    ],
)  # fmt: skip
def test_error_bodies_match_the_catalogue(magento_client, when, method, url, body, headers):
    entry = _catalogue_body(when)
    response = magento_client.request(method, url, json=body, headers=headers)
    assert response.status_code == entry["http"]
    assert response.json() == entry["body"]
