"""MSI source items (sync and async) and bulk operation status."""

from __future__ import annotations

from sandbox.magento.app import Settings, sandbox_state
from sandbox.magento.faults import Faults
from sandbox.magento.testing import bearer_headers, make_app, sandbox_client

BY_SKU = "searchCriteria[filter_groups][0][filters][0][field]"
BY_SKU_VALUE = "searchCriteria[filter_groups][0][filters][0][value]"


def item(sku="24-MB01", quantity=5, status=1, source="default"):
    return {"sku": sku, "source_code": source, "quantity": quantity, "status": status}


def source_qty(client, sku):
    return client.get(
        "/V1/inventory/source-items", params={BY_SKU: "sku", BY_SKU_VALUE: sku}
    ).json()


def test_source_items_are_absolute_upserts(magento_client):
    for _ in range(2):  # sending the same absolute quantity twice is idempotent
        response = magento_client.post("/V1/inventory/source-items",
                                       json={"sourceItems": [item(quantity=12)]})  # fmt: skip
        assert response.status_code == 200 and response.json() == []
    body = source_qty(magento_client, "24-MB01")
    assert body["items"] == [item(quantity=12)] and body["total_count"] == 1


def test_source_item_validation_bodies(magento_client):
    cases = [
        ({"sourceItems": []}, {"message": "Input data is empty"}),
        ({"sourceItems": [item(sku="")]}, {"message": "Validation Failed", "errors": [
            {"message": '"%field" can not be empty.', "parameters": {"field": "sku"}}]}),
        ({"sourceItems": [item(status=7)]}, {"message": "Validation Failed", "errors": [
            {"message": '"%field" should a known status.', "parameters": {"field": "status"}}]}),
        ({"sourceItems": [item(source="nowhere")]}, {"message": "Could not save Source Item"}),
        ({"sourceItems": [item(quantity="test")]}, {"message": (
            'Error occurred during "quantity" processing. The "test" value\'s type is invalid. '
            'The "float" type was expected. Verify and try again.')}),
        ({}, {"message": '"%fieldName" is required. Enter and try again.',
              "parameters": {"fieldName": "sourceItems"}}),
    ]  # fmt: skip
    for body, expected in cases:
        response = magento_client.post("/V1/inventory/source-items", json=body)
        assert response.status_code == 400, body
        assert response.json() == expected


def test_async_source_items_202_then_status_complete(magento_client):
    response = magento_client.post(
        "http://magento.test/rest/async/V1/inventory/source-items",
        json={"sourceItems": [item(quantity=42)]},
    )
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["errors"] is False
    assert accepted["request_items"][0]["status"] == "accepted"
    assert len(accepted["request_items"][0]["data_hash"]) == 64
    status = magento_client.get(f"/V1/bulk/{accepted['bulk_uuid']}/status").json()
    assert status["operations_list"][0]["status"] == 1
    assert status["description"] == (
        "Topic async.magento.inventoryapi.api.sourceitemssaveinterface.execute.post"
    )
    assert source_qty(magento_client, "24-MB01")["items"][0]["quantity"] == 42
    detailed = magento_client.get(f"/V1/bulk/{accepted['bulk_uuid']}/detailed-status").json()
    assert detailed["operations_list"][0]["bulk_uuid"] == accepted["bulk_uuid"]
    count = magento_client.get(f"/V1/bulk/{accepted['bulk_uuid']}/operation-status/1").json()
    assert count == 1


def test_async_manual_consumer_shows_open_then_failed_for_bad_input(tmp_path):
    app = make_app(tmp_path, settings=Settings(async_mode="manual"))
    state = sandbox_state(app)
    with sandbox_client(app) as client:
        client.headers.update(bearer_headers())
        bad = client.post(
            "http://magento.test/rest/default/async/V1/inventory/source-items",
            json={"sourceItems": [item(source="nowhere")]},
        ).json()
        good = client.post(
            "http://magento.test/rest/async/bulk/V1/inventory/source-items",
            json=[{"sourceItems": [item(quantity=3)]}, {"sourceItems": [item("24-MB04", 9)]}],
        ).json()
        assert len(good["request_items"]) == 2
        assert client.get(f"/V1/bulk/{bad['bulk_uuid']}/status").json()[
            "operations_list"][0]["status"] == 4  # fmt: skip
        assert state.consume() == 3
        failed = client.get(f"/V1/bulk/{bad['bulk_uuid']}/status").json()["operations_list"][0]
        assert failed["status"] == 3 and failed["result_message"] == "Could not save Source Item"
        done = client.get(f"/V1/bulk/{good['bulk_uuid']}/status").json()["operations_list"]
        assert [op["status"] for op in done] == [1, 1]
        assert source_qty(client, "24-MB04")["items"][0]["quantity"] == 9
        unknown = client.get("/V1/bulk/00000000-0000-0000-0000-000000000000/status")
        assert unknown.status_code == 404
        assert unknown.json()["parameters"] == {"bulkUuid": "00000000-0000-0000-0000-000000000000"}
    state.store.close()


def test_deadlock_fault_sync_400_and_async_retriable(tmp_path):
    faults = Faults(script=["deadlock", "deadlock"])
    app = make_app(tmp_path, faults=faults)
    with sandbox_client(app) as client:
        client.headers.update(bearer_headers())
        sync = client.post("/V1/inventory/source-items", json={"sourceItems": [item(quantity=1)]})
        assert sync.status_code == 400
        assert sync.json() == {"message": "Database deadlock found when trying to get lock"}
        assert source_qty(client, "24-MB01")["items"][0]["quantity"] == 100  # not written
        queued = client.post(
            "http://magento.test/rest/async/V1/inventory/source-items",
            json={"sourceItems": [item(quantity=1)]},
        ).json()
        op = client.get(f"/V1/bulk/{queued['bulk_uuid']}/status").json()["operations_list"][0]
        assert op["status"] == 2 and op["error_code"] == 1213
        retry = client.post("/V1/inventory/source-items", json={"sourceItems": [item(quantity=1)]})
        assert retry.status_code == 200
    sandbox_state(app).store.close()


def test_async_get_is_not_a_route(magento_client):
    response = magento_client.get("http://magento.test/rest/async/V1/orders?searchCriteria=")
    assert response.status_code == 404
    assert response.json() == {"message": "Request does not match any route."}


def test_source_items_delete_unassigns(magento_client):
    response = magento_client.post(
        "/V1/inventory/source-items-delete",
        json={"sourceItems": [{"sku": "24-MB01", "source_code": "default"}]},
    )
    assert response.status_code == 200
    assert source_qty(magento_client, "24-MB01")["total_count"] == 0
    salable = magento_client.get("/V1/inventory/get-product-salable-quantity/24-MB01/1")
    assert salable.status_code == 400
