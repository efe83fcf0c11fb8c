"""Indexed look-ups of the list endpoints: the same answers as a full scan, and never stale."""

from __future__ import annotations

import pytest

from sandbox.magento.search import Filter, SearchCriteria, _coerce, apply, key_index, matches
from sandbox.magento.store import Store

DOCS = [
    {"sku": "24-MB01", "source_code": "default", "quantity": 5, "status": 1},
    {"sku": "24-MB02", "source_code": "default", "quantity": 0, "status": 0},
    {"sku": "24-mb02", "source_code": "uk", "quantity": 3.5, "status": 1},
    {"sku": "MH01-XS-Black", "source_code": "default", "quantity": 12, "status": 1},
    {"sku": "MH01-XS-Black", "source_code": "uk", "quantity": 1, "status": 1},
    {"sku": "WS12-M-Orange", "source_code": "default", "quantity": 7, "status": 1},
]


def criteria(*groups, sort=(), page_size=None, page=None) -> SearchCriteria:
    return SearchCriteria(
        filter_groups=[[Filter(*f) for f in group] for group in groups],
        sort_orders=list(sort),
        page_size=page_size,
        current_page=page,
    )


CASES = [
    criteria([("sku", "24-mb02 , mh01-xs-black,nothing", "in")]),
    criteria([("sku", "24-MB01")]),
    criteria([("sku", "24-MB01", "eq"), ("sku", "WS12-M-Orange", "eq")]),
    criteria([("sku", "24-MB02,MH01-XS-Black", "in")], [("source_code", "uk")]),
    criteria([("source_code", "UK")], [("sku", "24-MB02,MH01-XS-Black", "in")]),
    # A group mixing an indexed and a non-indexed field cannot bound the result alone.
    criteria([("sku", "24-MB01"), ("quantity", "7", "eq")]),
    criteria([("sku", "24-%", "like")]),
    criteria([("sku", "24-MB01,WS12-M-Orange", "nin")]),
    criteria([("sku", "")]),
    criteria(
        [("sku", "24-MB01,24-MB02,MH01-XS-Black,WS12-M-Orange", "in")],
        sort=[("quantity", "DESC")],
        page_size=2,
        page=2,
    ),
]


@pytest.mark.parametrize("search", CASES)
def test_an_indexed_search_returns_exactly_what_a_full_scan_does(search):
    indexes = {name: key_index(DOCS, name) for name in ("sku", "source_code")}
    scanned = apply(DOCS, search)
    looked_up = apply(DOCS, search, indexes=indexes)
    assert looked_up.items == scanned.items
    assert looked_up.total_count == scanned.total_count


def test_in_keeps_mysql_comparison_rules():
    # Text compares case-insensitively; a numeric column numerically, with non-numeric text
    # cast to 0 as MySQL does; NULL is neither in nor not in a list.
    docs = [{"v": "AbC"}, {"v": 0}, {"v": 2.0}, {"v": None}, {"v": True}]
    assert apply(docs, criteria([("v", "abc, 2", "in")])).items == docs[:3]
    assert apply(docs, criteria([("v", "1", "in")])).items == [docs[4]]
    assert apply(docs, criteria([("v", "abc", "nin")])).items == [docs[2], docs[4]]


@pytest.mark.parametrize("condition", ["in", "nin"])
@pytest.mark.parametrize("listed", ["abc, 2", "ABC", "0", " 1 ,x", "1e0,-0", "", "nan,inf"])
def test_in_matches_the_value_by_value_comparison(condition, listed):
    """The set look-up agrees with comparing the row against each listed value in turn."""
    flt = Filter("v", listed, condition)
    for actual in ["AbC", "abc ", 0, -0.0, 1, 2.0, 1.5, None, True, False, "", "2", float("inf")]:
        hit = any(
            (pair := _coerce(actual, value.strip())) is not None and pair[0] == pair[1]
            for value in listed.split(",")
        )
        expected = hit if condition == "in" else (actual is not None and not hit)
        assert matches(actual, flt) == expected, (actual, listed)


def test_a_field_with_non_text_values_is_not_indexed():
    assert key_index([{"sku": "A"}, {"sku": 5}], "sku") is None
    assert key_index([{"sku": "A"}, {"sku": "a"}], "sku") == {"a": [0, 1]}


def test_cached_source_items_follow_every_write_even_from_another_process(tmp_path):
    path = tmp_path / "sandbox.sqlite3"
    store, other = Store(path), Store(path)  # another Store: the live seeder's connection
    store.upsert_source_items([DOCS[0], DOCS[3]])
    docs, indexes = store.indexed_docs("source_items", ("sku",))
    assert [d["sku"] for d in docs] == ["24-MB01", "MH01-XS-Black"]
    assert indexes["sku"]["mh01-xs-black"] == [1]

    other.upsert_source_items([{**DOCS[0], "quantity": 9}])
    assert store.source_items()[0]["quantity"] == 9
    other.deduct_source("24-MB01", "default", 4)
    assert store.source_items()[0]["quantity"] == 5
    other.delete_source_items([DOCS[0]])
    docs, indexes = store.indexed_docs("source_items", ("sku",))
    assert [d["sku"] for d in docs] == ["MH01-XS-Black"]
    assert indexes["sku"] == {"mh01-xs-black": [0]}
