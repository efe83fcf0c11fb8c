"""searchCriteria semantics of the list endpoints (CONTRACT §3)."""

from __future__ import annotations

import pytest

from sandbox.magento.app import Settings, sandbox_state
from sandbox.magento.testing import make_app, sandbox_client


def sc(*filters_groups, sort=None, page_size=None, page=None, camel=False):
    """Build searchCriteria query params. filters_groups: [[(field, value, cond), ...], ...]."""
    fg, ct = ("filterGroups", "conditionType") if camel else ("filter_groups", "condition_type")
    params = {}
    for g, group in enumerate(filters_groups):
        for f, (field, value, cond) in enumerate(group):
            base = f"searchCriteria[{fg}][{g}][filters][{f}]"
            params[f"{base}[field]"] = field
            params[f"{base}[value]"] = value
            if cond:
                params[f"{base}[{ct}]"] = cond
    for n, (field, direction) in enumerate(sort or []):
        params[f"searchCriteria[sortOrders][{n}][field]"] = field
        params[f"searchCriteria[sortOrders][{n}][direction]"] = direction
    if page_size is not None:
        params["searchCriteria[pageSize]"] = page_size
    if page is not None:
        params["searchCriteria[currentPage]"] = page
    if not params:
        params["searchCriteria"] = ""
    return params


def skus(response):
    return [item["sku"] for item in response.json()["items"]]


def test_missing_search_criteria_is_400_with_magento_body(magento_client):
    response = magento_client.get("/V1/products")
    assert response.status_code == 400
    assert response.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "searchCriteria"},
    }


def test_eq_and_snake_and_camel_keys_agree(magento_client):
    snake = magento_client.get("/V1/products", params=sc([("sku", "24-MB01", "eq")]))
    camel = magento_client.get("/V1/products", params=sc([("sku", "24-MB01", "eq")], camel=True))
    assert skus(snake) == skus(camel) == ["24-MB01"]
    echoed = snake.json()["search_criteria"]["filter_groups"][0]["filters"][0]
    assert echoed == {"field": "sku", "value": "24-MB01", "condition_type": "eq"}


def test_filters_in_a_group_are_ored_and_groups_anded(magento_client):
    either = magento_client.get(
        "/V1/products", params=sc([("sku", "24-MB01", "eq"), ("sku", "24-MB04", "eq")])
    )
    assert sorted(skus(either)) == ["24-MB01", "24-MB04"]
    both = magento_client.get(
        "/V1/products",
        params=sc([("sku", "24-MB01", "eq"), ("sku", "24-MB04", "eq")], [("price", "33", "gt")]),
    )
    assert skus(both) == ["24-MB01"]  # 34.00 > 33; 24-MB04 is 32.00


@pytest.mark.parametrize(
    ("cond", "value", "expected"),
    [
        ("like", "24-MB0%", {"24-MB01", "24-MB02", "24-MB03", "24-MB04", "24-MB05", "24-MB06"}),
        ("nlike", "%", set()),
        ("in", "24-MB01, 24-MB04", {"24-MB01", "24-MB04"}),
        ("finset", "24-MB03", {"24-MB03"}),
    ],
)
def test_string_conditions(magento_client, cond, value, expected):
    response = magento_client.get(
        "/V1/products", params=sc([("sku", value, cond)], [("type_id", "simple", "eq")])
    )
    assert set(skus(response)) == expected


def test_numeric_conditions_compare_numerically(magento_client):
    base = [("sku", "24-MB0%", "like")]
    # prices: MB01 34, MB02 59, MB03 38, MB04 32, MB05 45, MB06 45
    expect = {
        "gt": {"24-MB02", "24-MB03", "24-MB05", "24-MB06"},
        "gteq": {"24-MB01", "24-MB02", "24-MB03", "24-MB05", "24-MB06"},
        "lt": {"24-MB04"},
        "lteq": {"24-MB01", "24-MB04"},
        "neq": {"24-MB02", "24-MB03", "24-MB04", "24-MB05", "24-MB06"},
        "moreq": {"24-MB01", "24-MB02", "24-MB03", "24-MB05", "24-MB06"},
    }
    for cond, wanted in expect.items():
        response = magento_client.get("/V1/products", params=sc(base, [("price", "34", cond)]))
        assert set(skus(response)) == wanted, cond


def test_from_to_pair_and_nin(magento_client):
    response = magento_client.get(
        "/V1/products",
        params=sc([("sku", "24-MB0%", "like")], [("price", "33", "from")], [("price", "40", "to")]),
    )
    assert set(skus(response)) == {"24-MB01", "24-MB03"}
    response = magento_client.get(
        "/V1/products",
        params=sc([("sku", "24-MB0%", "like")], [("sku", "24-MB01,24-MB02,24-MB03", "nin")]),
    )
    assert set(skus(response)) == {"24-MB04", "24-MB05", "24-MB06"}


def test_null_and_notnull(magento_client, seeded):
    guests = magento_client.get("/V1/orders", params=sc([("customer_id", "", "null")]))
    members = magento_client.get("/V1/orders", params=sc([("customer_id", "", "notnull")]))
    assert guests.json()["total_count"] > 0 and members.json()["total_count"] > 0
    assert guests.json()["total_count"] + members.json()["total_count"] == 60
    assert all(o["customer_id"] is None for o in guests.json()["items"])
    assert all(o["customer_is_guest"] == 1 for o in guests.json()["items"])


def test_updated_at_polling_with_sort_and_paging(magento_client, seeded):
    every = magento_client.get(
        "/V1/orders", params=sc(sort=[("updated_at", "ASC"), ("entity_id", "ASC")])
    ).json()["items"]
    assert len(every) == 60
    stamps = [o["updated_at"] for o in every]
    assert stamps == sorted(stamps)
    cutoff = stamps[30]
    newer = magento_client.get(
        "/V1/orders",
        params=sc([("updated_at", cutoff, "gt")], sort=[("updated_at", "ASC")], page_size=10),
    ).json()
    assert newer["total_count"] == sum(1 for s in stamps if s > cutoff)
    assert len(newer["items"]) == 10
    assert all(o["updated_at"] > cutoff for o in newer["items"])


def test_sort_without_direction_is_descending(magento_client):
    params = sc([("sku", "24-MB0%", "like")])
    params["searchCriteria[sortOrders][0][field]"] = "price"
    prices = [p["price"] for p in magento_client.get("/V1/products", params=params).json()["items"]]
    assert prices == sorted(prices, reverse=True)


def test_page_past_the_end_returns_the_last_page_again(magento_client):
    params = sc([("sku", "24-MB0%", "like")], sort=[("sku", "ASC")], page_size=4)
    last = magento_client.get("/V1/products", params={**params, "searchCriteria[currentPage]": 2})
    beyond = magento_client.get("/V1/products", params={**params, "searchCriteria[currentPage]": 9})
    assert last.json()["total_count"] == beyond.json()["total_count"] == 6
    assert skus(last) == skus(beyond) == ["24-MB05", "24-MB06"]
    assert beyond.json()["search_criteria"]["current_page"] == 9  # echoed as sent


def test_no_page_size_returns_every_row(magento_client):
    response = magento_client.get("/V1/products", params=sc([("type_id", "configurable", "eq")]))
    assert response.json()["total_count"] == len(response.json()["items"]) == 147


def test_input_limits_default_and_maximum_page_size(tmp_path):
    app = make_app(tmp_path, settings=Settings(input_limits=True))
    with sandbox_client(app) as client:
        client.headers["Authorization"] = "Bearer sandboxaccesstoken00000000000001"
        capped = client.get("/V1/products", params=sc([("type_id", "simple", "eq")]))
        assert len(capped.json()["items"]) == 20
        refused = client.get("/V1/products", params=sc(page_size=301))
        assert refused.status_code == 400
        assert refused.json() == {
            "message": "Maximum SearchCriteria pageSize is %max",
            "parameters": {"max": 300},
        }
    sandbox_state(app).store.close()


def test_unknown_order_column_is_a_masked_500(magento_client):
    response = magento_client.get("/V1/orders", params=sc([("no_such_column", "1", "eq")]))
    assert response.status_code == 500
    assert response.json()["message"].startswith(
        "Internal Error. Details are available in Magento log file. Report ID: webapi-"
    )


def test_unknown_condition_type_is_400(magento_client):
    response = magento_client.get("/V1/products", params=sc([("sku", "x", "between")]))
    assert response.status_code == 400
    assert response.json()["parameters"] == ["between"]


def test_fields_trims_the_response(magento_client, seeded):
    params = {**sc(page_size=3), "fields": "items[increment_id,entity_id],total_count"}
    body = magento_client.get("/V1/orders", params=params).json()
    assert set(body) == {"items", "total_count"}
    assert all(set(item) == {"increment_id", "entity_id"} for item in body["items"])
