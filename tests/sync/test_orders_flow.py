"""Orders in and out against the in-process Magento sandbox and the in-process ERP stand-in.

The ERP-side truth (exact lines, totals, one sale per order) is checked against a real Tryton
in test_tryton_posting.py; here the flow logic is checked quickly: which orders are held for
which causes, replays, idempotency, overlapping runs.
"""

from collections import defaultdict

import pytest

from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus
from exceptions_app.services import exception_replay
from integration.connections import connections_override
from integration.flows.orders_in import orders_in_run
from integration.flows.orders_out import orders_out_run
from integration.locks import flow_lock
from integration.models import (
    Flow,
    Order,
    OrderErpStatus,
    OrderHold,
    RunStatus,
    SkuMapping,
    SyncRun,
    Watermark,
)
from integration.orders.payload import PAID_STATES
from integration.orders.upsert import orders_upsert
from sandbox.divergence import catalogue_divergence
from sandbox.erp.inprocess import FakeErp
from tests.builders.orders import magento_order, sellable_sku
from tests.sync.conftest import NOW, magento_for

pytestmark = pytest.mark.django_db

DIVERGENT_KIND = {
    "unknown_sku": ExceptionKind.SKU_UNKNOWN,
    "inactive_sku": ExceptionKind.SKU_INACTIVE,
    "renamed_sku": ExceptionKind.SKU_UNKNOWN,
}
ADDRESS_FIELD = {
    "invalid_postcode": "postcode",
    "long_street": "street",
    "missing_phone": "telephone",
}


def expected_holds(order: Order, causes: list[str]) -> set[tuple[str, str]]:
    """The (kind, subject) holds the seed's causes imply for a paid order."""
    divergence = catalogue_divergence()
    expected = set()
    skus = {line.sku for line in order.lines.all()}
    for cause, kind in DIVERGENT_KIND.items():
        if cause in causes:
            pool = {
                "unknown_sku": divergence.missing,
                "inactive_sku": divergence.inactive,
                "renamed_sku": set(divergence.renamed),
            }[cause]
            for sku in skus & pool:
                expected.add((kind, sku))
    ships = any(
        line.product_type != "downloadable" and line.parent_item_id is None
        for line in order.lines.all()
    )
    # History (shipped by Magento before the desk saw it) is posted for the books only: no
    # label to print, and a courier service only to book a shipping charge.
    books = order.fulfilled_outside
    if "unmapped_carrier" in causes and ships and (order.shipping_amount > 0 or not books):
        expected.add((ExceptionKind.CARRIER_UNMAPPED, order.shipping_method))
    if ships and any(c in causes for c in ADDRESS_FIELD) and not books:
        expected.add((ExceptionKind.ADDRESS_INVALID, order.increment_id))
    return expected


def pull_and_post(app, erp):
    with magento_for(app) as magento:
        run_in = orders_in_run(magento=magento, now=NOW)
    run_out = orders_out_run(erp=erp)
    return run_in, run_out


def test_every_paid_order_is_posted_once_or_held_for_exactly_its_causes(seeded, carrier_mappings):
    app, report = seeded
    erp = FakeErp()
    run_in, run_out = pull_and_post(app, erp)
    assert run_in.status == RunStatus.SUCCEEDED and run_in.seen == 200
    assert Order.objects.count() == 200
    causes_of = defaultdict(list)
    for cause, ids in report.causes.items():
        for increment_id in ids:
            causes_of[increment_id].append(cause)

    paid = Order.objects.filter(state__in=PAID_STATES)
    assert paid.count() == report.states["processing"] + report.states["complete"]
    held_seen = 0
    for order in paid.prefetch_related("lines"):
        expected = expected_holds(order, causes_of[order.increment_id])
        holds = {(h.kind, h.subject) for h in order.holds.filter(released_at__isnull=True)}
        assert holds == expected, order.increment_id
        if expected:
            held_seen += 1
            assert order.erp_status == OrderErpStatus.HELD
            assert order.increment_id not in erp.sales
        else:
            assert order.erp_status == OrderErpStatus.POSTED, order.increment_id
            assert order.increment_id in erp.sales
    assert held_seen > 10
    # Unpaid, held-in-Magento and cancelled orders never reach the ERP (closed ones Magento
    # settled before the desk saw them go for the books only).
    assert not set(erp.sales) & set(
        Order.objects.exclude(state__in=PAID_STATES)
        .exclude(fulfilled_outside=True)
        .values_list("increment_id", flat=True)
    )
    assert erp.create_calls == len(erp.sales) == run_out.posted
    # One exception per SKU / method / address, each naming what is wrong.
    for kind, subject in OrderHold.objects.values_list("kind", "subject").distinct():
        exception = DeskException.objects.get(fingerprint=f"{kind}:{subject}")
        assert exception.status == ExceptionStatus.OPEN
        if kind in (ExceptionKind.SKU_UNKNOWN, ExceptionKind.SKU_INACTIVE):
            assert exception.sku == subject and subject in exception.message
    address = DeskException.objects.filter(kind=ExceptionKind.ADDRESS_INVALID)
    assert address.exists()
    mirrored = set(Order.objects.values_list("increment_id", flat=True))
    assert all(e.order_increment_id in mirrored and e.evidence["fields"] for e in address)


def test_running_again_posts_nothing_twice(seeded, carrier_mappings):
    app, _ = seeded
    erp = FakeErp()
    pull_and_post(app, erp)
    created = erp.create_calls
    run_in, run_out = pull_and_post(app, erp)
    assert erp.create_calls == created
    assert run_out.posted == 0
    assert Watermark.objects.get(flow=Flow.ORDERS_IN).value <= NOW


def test_mapping_then_replay_posts_held_orders_exactly_once(seeded, carrier_mappings, admin_user):
    app, report = seeded
    erp = FakeErp()
    pull_and_post(app, erp)
    divergence = catalogue_divergence()
    renamed_held = [
        e
        for e in DeskException.objects.filter(kind=ExceptionKind.SKU_UNKNOWN)
        if e.sku in divergence.renamed
    ]
    assert renamed_held
    with connections_override(erp=lambda: erp):
        for exception in renamed_held:
            SkuMapping.objects.create(
                magento_sku=exception.sku, erp_item_code=divergence.renamed[exception.sku]
            )
            outcome = exception_replay(exception=exception, actor=None)
            exception.refresh_from_db()
            orders = Order.objects.filter(holds__subject=exception.sku).distinct()
            for order in orders:
                if order.holds.filter(released_at__isnull=True).exists():
                    assert order.erp_status == OrderErpStatus.HELD
                else:
                    assert order.erp_status == OrderErpStatus.POSTED
                    assert erp.sales[order.increment_id]
                    assert any(
                        line.item_code == divergence.renamed[exception.sku]
                        for line in erp.requests[order.increment_id].lines
                    )
            assert outcome.ok, outcome.detail
            assert exception.status == ExceptionStatus.RESOLVED
        before = erp.create_calls
        for exception in renamed_held:
            exception.refresh_from_db()
        # A second replay of the same work finds every order already posted.
        orders_out_run(erp=erp)
        assert erp.create_calls == before


def test_a_second_concurrent_run_is_skipped(seeded, carrier_mappings):
    with flow_lock(Flow.ORDERS_OUT):
        run = orders_out_run(erp=FakeErp())
    assert run.status == RunStatus.SKIPPED
    assert SyncRun.objects.filter(flow=Flow.ORDERS_OUT, status=RunStatus.SKIPPED).count() == 1


def test_erp_rejection_becomes_order_post_failed_with_the_erps_message(carrier_mappings):
    # An order nothing else holds (an active SKU, a mapped carrier, a valid UK address), so
    # the ERP's refusal is the only thing that can stop it.
    orders_upsert(payloads=[magento_order(1, sku=sellable_sku())])
    victim = Order.objects.get(entity_id=1)
    erp = FakeErp()
    erp.reject.add(victim.increment_id)
    orders_out_run(erp=erp)
    victim.refresh_from_db()
    assert victim.erp_status == OrderErpStatus.FAILED
    exception = DeskException.objects.get(
        fingerprint=f"{ExceptionKind.ORDER_POST_FAILED}:{victim.increment_id}"
    )
    assert "rejected by test" in exception.message
    erp.reject.clear()
    with connections_override(erp=lambda: erp):
        outcome = exception_replay(exception=exception, actor=None)
    assert outcome.ok, outcome.detail
    victim.refresh_from_db()
    assert victim.erp_status == OrderErpStatus.POSTED
