"""Demo data: determinism, cause shares, speed, and the management commands."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command

from config.env import read_env_file
from sandbox.divergence import catalogue_divergence, stocked_skus
from sandbox.magento.catalogue import load_catalogue
from sandbox.magento.seed import Shares, live_orders, seed_orders
from sandbox.magento.store import Store

NOW = datetime(2026, 11, 20, 12, 0, 0)


def fresh_store(path):
    store = Store(path)
    load_catalogue(store)
    return store


def test_same_seed_same_orders_other_seed_other_orders(tmp_path):
    docs = []
    for name, seed in (("a", 4), ("b", 4), ("c", 5)):
        store = fresh_store(tmp_path / f"{name}.sqlite3")
        seed_orders(store, orders=30, days=10, seed=seed, now=NOW)
        docs.append(store.all_docs("orders"))
        store.close()
    assert docs[0] == docs[1]
    assert docs[0] != docs[2]


def test_shares_control_each_cause(tmp_path):
    store = fresh_store(tmp_path / "s.sqlite3")
    everything = Shares(**{name: 1.0 for name in Shares.__dataclass_fields__})
    report = seed_orders(store, orders=20, days=5, seed=1, now=NOW, shares=everything)
    for cause in (
        "unknown_sku",
        "inactive_sku",
        "renamed_sku",
        "unmapped_carrier",
        "invalid_postcode",
        "long_street",
        "missing_phone",
        "hostile_name",
        "discount",
    ):
        assert len(report.causes[cause]) == 20, cause
    orders = store.all_docs("orders")
    shipping = [
        o["extension_attributes"]["shipping_assignments"][0]["shipping"]
        for o in orders
        if o["extension_attributes"]["shipping_assignments"]
    ]
    assert all(s["method"] in ("matrixrate_matrixrate_12", "instore_pickup") for s in shipping)
    assert all(s["address"]["telephone"] is None for s in shipping)
    assert all(len(s["address"]["street"][0]) > 100 for s in shipping)
    nothing = Shares(**{name: 0.0 for name in Shares.__dataclass_fields__})
    clean = seed_orders(store, orders=20, days=5, seed=2, now=NOW, shares=nothing)
    assert clean.causes == {}
    divergent = catalogue_divergence()
    skus = {i["sku"] for o in store.all_docs("orders")[20:] for i in o["items"]}
    assert not skus & (divergent.missing | divergent.inactive | set(divergent.renamed))
    store.close()


def test_five_hundred_orders_over_sixty_days_take_seconds(tmp_path):
    store = fresh_store(tmp_path / "big.sqlite3")
    started = time.monotonic()
    report = seed_orders(store, orders=500, days=60, seed=1, now=NOW)
    elapsed = time.monotonic() - started
    assert store.count("orders") == 500 and report.orders == 500
    assert elapsed < 10
    stamps = sorted(o["created_at"] for o in store.all_docs("orders"))
    assert stamps[0] >= "2026-09-21" and stamps[-1] <= "2026-11-20 12:00:00"
    assert set(report.states) >= {"complete", "processing", "new", "canceled"}
    store.close()


def test_live_orders_keep_coming(tmp_path):
    store = fresh_store(tmp_path / "live.sqlite3")
    seen = []
    added = live_orders(
        store,
        seed=3,
        interval=0,
        limit=3,
        clock=lambda: NOW,
        on_order=lambda r: seen.append(r.first_entity_id),
    )
    assert added == 3 and seen == [1, 2, 3]
    assert [o["created_at"] for o in store.all_docs("orders")] == ["2026-11-20 12:00:00"] * 3
    store.close()


def test_shares_parse_rejects_unknown_and_out_of_range():
    assert Shares.parse(["unknown_sku=0.5"]).unknown_sku == 0.5
    for bad in (["nope=1"], ["unknown_sku=2"], ["unknown_sku"]):
        with pytest.raises(ValueError):
            Shares.parse(bad)


def test_commands_init_is_idempotent_and_seed_adds(tmp_path, monkeypatch, capsys, settings):
    db = tmp_path / "cmd.sqlite3"
    monkeypatch.setenv("MAGENTO_SANDBOX_DB", str(db))
    settings.VAR_DIR = tmp_path / "var"
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "sandbox.env").write_text("ERP_DATABASE=erp\n")
    call_command("sandbox", "magento-init", "--orders", "25", "--days", "3")
    call_command("sandbox", "magento-init", "--orders", "25")
    call_command(
        "sandbox", "seed", "--orders", "5", "--days", "1", "--seed", "9", "--share", "unknown_sku=1"
    )
    out = capsys.readouterr().out
    # magento-init adds the lifecycle cases: an edited pair and six orders for live events.
    assert "seeded 25 orders" in out and "already has 33 orders" in out
    assert "lifecycle: edited" in out
    assert "unknown_sku 5" in out
    env = read_env_file(tmp_path / "var" / "sandbox.env")
    assert env["ERP_DATABASE"] == "erp"  # other writers' lines are kept
    assert env["MAGENTO_BASE_URL"] == "http://127.0.0.1:8081"
    assert env["MAGENTO_TOKEN"] == "sandboxaccesstoken00000000000001"
    store = Store(db)
    assert store.count("orders") == 38 and store.count("products") == 2046
    store.close()
    with pytest.raises(CommandError):
        call_command("sandbox", "seed", "--orders", "1", "--share", "bogus=1")


def test_divergence_is_disjoint_small_and_from_the_catalogue():
    divergence = catalogue_divergence()
    stocked = set(stocked_skus())
    sets = [divergence.missing, divergence.inactive, set(divergence.renamed)]
    assert all(s <= stocked for s in sets)
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert len(divergence.missing) == round(len(stocked) * 0.01)
    some_missing = next(iter(divergence.missing))
    some_renamed, code = next(iter(divergence.renamed.items()))
    assert divergence.erp_code(some_missing) is None
    assert divergence.erp_code(some_renamed) == code != some_renamed


def test_no_seeded_timestamp_is_ahead_of_the_store_clock(tmp_path):
    store = fresh_store(tmp_path / "clock.sqlite3")
    # Recent orders are the ones whose invoice or shipment could land after "now".
    seed_orders(store, orders=300, days=1, seed=3, now=NOW)
    latest = NOW.strftime("%Y-%m-%d %H:%M:%S")
    for table in ("orders", "invoices", "shipments"):
        for doc in store.all_docs(table):
            for key in ("created_at", "updated_at"):
                assert (doc.get(key) or "") <= latest, (table, doc.get("entity_id"), key)
    store.close()
