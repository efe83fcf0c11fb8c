"""Posting an order claims it for a lease instead of holding a database lock across the ERP's
HTTP calls, so the web and the other flows keep writing while the ERP answers."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integration.models import Order, OrderErpStatus
from integration.orders.posting import PostStatus, order_post
from sandbox.erp.inprocess import FakeErp
from tests.builders.orders import sale_request
from tests.builders.race import race, skip_without_row_locks
from tests.factories import OrderFactory


class WatchingErp(FakeErp):
    """Records whether a database transaction was open during each ERP call."""

    def __init__(self) -> None:
        super().__init__()
        self.in_transaction: list[bool] = []

    def _call(self) -> None:
        self.in_transaction.append(connection.in_atomic_block)
        super()._call()


@pytest.mark.django_db(transaction=True)
def test_no_database_transaction_is_open_while_the_erp_answers():
    order = OrderFactory()
    erp = WatchingErp()
    outcome = order_post(order=order, request=sale_request(order.increment_id), erp=erp)
    assert outcome.status == PostStatus.POSTED
    assert erp.in_transaction and not any(erp.in_transaction)
    order.refresh_from_db()
    assert order.erp_status == OrderErpStatus.POSTED
    assert order.post_claimed_by == "" and order.post_claimed_until is None


@pytest.mark.django_db(transaction=True)
def test_a_live_claim_by_another_worker_is_not_posted_twice(settings):
    settings.SYNC_POST_CLAIM_WAIT_SECONDS = 0.3
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(
        post_claimed_by="other-worker", post_claimed_until=timezone.now() + timedelta(minutes=5)
    )
    erp = FakeErp()
    outcome = order_post(order=order, request=sale_request(order.increment_id), erp=erp)
    assert outcome.status == PostStatus.BUSY
    assert erp.calls == 0
    order.refresh_from_db()
    assert order.erp_status == OrderErpStatus.NEW
    assert order.post_claimed_by == "other-worker"


@pytest.mark.django_db(transaction=True)
def test_a_lapsed_claim_is_taken_over_and_finds_the_sale_the_dead_worker_made():
    order = OrderFactory()
    erp = FakeErp()
    # The dead worker created the sale, then died before recording it.
    erp.sale_create(sale_request(order.increment_id))
    Order.objects.filter(pk=order.pk).update(
        post_claimed_by="dead-worker", post_claimed_until=timezone.now() - timedelta(seconds=1)
    )
    outcome = order_post(order=order, request=sale_request(order.increment_id), erp=erp)
    assert outcome.status == PostStatus.ALREADY
    assert erp.create_calls == 1
    order.refresh_from_db()
    assert order.erp_status == OrderErpStatus.POSTED
    assert order.erp_sale_id == erp.sales[order.increment_id].erp_id


@pytest.mark.django_db(transaction=True)
def test_an_erp_failure_releases_the_claim_for_the_next_run():
    order = OrderFactory()
    erp = FakeErp()
    erp.reject.add(order.increment_id)
    outcome = order_post(order=order, request=sale_request(order.increment_id), erp=erp)
    assert outcome.status == PostStatus.FAILED
    order.refresh_from_db()
    assert order.erp_status == OrderErpStatus.FAILED
    assert order.post_claimed_by == "" and order.post_claimed_until is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_posting_the_same_order_make_one_sale():
    skip_without_row_locks()
    order = OrderFactory()
    erp = FakeErp(latency=0.05)  # each ERP call takes a while: the second worker must wait
    outcomes = race(
        lambda: order_post(order=order, request=sale_request(order.increment_id), erp=erp).status
    )
    assert sorted(outcomes) == [PostStatus.ALREADY, PostStatus.POSTED]
    assert erp.create_calls == 1
    order.refresh_from_db()
    assert order.erp_status == OrderErpStatus.POSTED
