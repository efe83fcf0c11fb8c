"""The Magento sandbox cancels, holds and edits orders by Magento 2.4.8's rules, and the demo
seed plans the after-posting events the live process plays.

Every response passes the 2.4.8 schema check of `sandbox_client` (the relation fields of an
edited order included).
"""

from datetime import datetime, timedelta

import pytest

from sandbox.magento.app import sandbox_state
from sandbox.magento.errors import MagentoError
from sandbox.magento.lifecycle_live import Director
from sandbox.magento.orders.edit import edit_order
from sandbox.magento.seed import SeedReport
from sandbox.magento.seed_lifecycle import (
    EVENTS,
    edited_spec,
    place_order,
    plan_load,
    seed_lifecycle,
)
from sandbox.magento.testing import bearer_headers, make_app, sandbox_client

NOW = datetime(2026, 11, 20, 12, 0, 0)


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path, clock=lambda: NOW)
    yield app
    sandbox_state(app).store.close()


@pytest.fixture
def client(app):
    with sandbox_client(app) as http:
        http.headers.update(bearer_headers())
        yield http


def place(app, seed: int, paid: str) -> dict:
    store = sandbox_state(app).store
    return place_order(store, seed, created=NOW - timedelta(hours=1), paid=paid)


def test_an_authorised_order_cancels_and_voids_its_payment(app, client):
    order = place(app, 11, "authorised")
    assert order["state"] == "processing" and not order["total_paid"]
    assert client.post(f"/V1/orders/{order['entity_id']}/cancel").json() is True
    after = client.get(f"/V1/orders/{order['entity_id']}").json()
    assert after["state"] == after["status"] == "canceled"
    assert after["payment"]["amount_canceled"] == order["grand_total"]
    assert all(i["qty_canceled"] == i["qty_ordered"] for i in after["items"])


def test_an_invoiced_or_held_order_cannot_be_cancelled(app, client):
    captured = place(app, 12, "captured")
    held = place(app, 13, "held")
    for order in (captured, held):
        assert client.post(f"/V1/orders/{order['entity_id']}/cancel").json() is False
        assert client.get(f"/V1/orders/{order['entity_id']}").json()["state"] == order["state"]


def test_hold_is_refused_once_the_order_is_finished_and_unhold_restores_the_state(app, client):
    order = place(app, 14, "captured")
    assert client.post(f"/V1/orders/{order['entity_id']}/hold").json() is True
    assert client.post(f"/V1/orders/{order['entity_id']}/hold").status_code == 400
    assert client.post(f"/V1/orders/{order['entity_id']}/unhold").json() is True
    assert client.get(f"/V1/orders/{order['entity_id']}").json()["state"] == "processing"
    cancelled = place(app, 15, "authorised")
    client.post(f"/V1/orders/{cancelled['entity_id']}/cancel")
    refused = client.post(f"/V1/orders/{cancelled['entity_id']}/hold")
    assert refused.status_code == 400
    assert refused.json()["message"] == "A hold action is not available."


def test_an_edit_cancels_the_original_and_links_the_replacement_both_ways(app, client):
    store = sandbox_state(app).store
    original = place(app, 16, "authorised")
    spec = edited_spec(store, 16, now=NOW)
    replacement = edit_order(store, original, spec, now=NOW)
    got = client.get(f"/V1/orders/{replacement['entity_id']}").json()
    assert got["increment_id"] == f"{original['increment_id']}-1"
    assert got["relation_parent_id"] == str(original["entity_id"])
    assert got["relation_parent_real_id"] == original["increment_id"]
    assert got["edit_increment"] == 1 and got["state"] == "processing"
    parent = client.get(f"/V1/orders/{original['entity_id']}").json()
    assert parent["state"] == "canceled"
    assert parent["relation_child_id"] == str(replacement["entity_id"])
    assert parent["relation_child_real_id"] == got["increment_id"]
    # The edit added one of the first item, so the replacement costs more.
    assert got["grand_total"] > parent["grand_total"]


def test_an_invoiced_order_cannot_be_edited(app):
    store = sandbox_state(app).store
    captured = place(app, 17, "captured")
    with pytest.raises(MagentoError, match="cannot be edited"):
        edit_order(store, captured, edited_spec(store, 17, now=NOW), now=NOW)


class FakeErp:
    def __init__(self):
        self.sales, self.packed_refs = set(), set()

    def has_sale(self, reference):
        return reference in self.sales

    def packed(self, reference):
        self.packed_refs.add(reference)
        return True


def test_the_live_events_wait_for_the_desk_then_cancel_edit_and_hold(app, client):
    store = sandbox_state(app).store
    report = SeedReport()
    plan = seed_lifecycle(store, report, seed=3, now=NOW)
    assert [e.event for e in plan] == [event for event, _ in EVENTS]
    edited = client.get(
        "/V1/orders",
        params={
            "searchCriteria[filter_groups][0][filters][0][field]": "increment_id",
            "searchCriteria[filter_groups][0][filters][0][value]": report.causes["edited"][0],
        },
    ).json()["items"][0]
    assert edited["state"] == "canceled" and edited["relation_child_real_id"]

    clock = {"t": 0.0}
    erp = FakeErp()
    director = Director(
        store, erp, clock=lambda: NOW, monotonic=lambda: clock["t"], log=lambda m: None
    )
    clock["t"] = 1000.0
    done = director.tick()
    # Only the release of a hold needs nothing from the desk.
    assert [e.event for e in done] == ["unhold"]
    erp.sales = {e.increment_id for e in plan}
    done = {e.event: e for e in director.tick()}
    assert set(done) == {"cancel", "edit", "hold", "cancel_after_pick", "edit_after_pick"}
    assert erp.packed_refs == {
        done["cancel_after_pick"].increment_id,
        done["edit_after_pick"].increment_id,
    }
    state = {e.event: client.get(f"/V1/orders/{e.entity_id}").json() for e in plan}
    assert state["unhold"]["state"] == "processing"
    assert state["cancel"]["state"] == state["cancel_after_pick"]["state"] == "canceled"
    assert state["hold"]["state"] == "holded"
    assert state["edit"]["relation_child_real_id"] == f"{state['edit']['increment_id']}-1"
    assert all(e.done for e in plan_load(store))
    assert director.tick() == []  # every event happens once
