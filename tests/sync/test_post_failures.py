"""A failed post is settled in one place: a refusal fails the order with the ERP's message,
spent retries leave it new for the next run, and an outage is one exception for every order
waiting, resolved once orders reach the ERP again."""

import pytest

from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus, System
from integration.connectors.backoff import CircuitOpenError, PermanentError, TransientError
from integration.flows.orders_out import orders_out_run
from integration.models import Order, OrderErpStatus, OrderHold, RunStatus
from integration.orders.posting import OUTAGE_SUBJECT
from integration.orders.upsert import orders_upsert
from sandbox.erp.inprocess import FakeErp
from tests.builders.orders import magento_order, sellable_sku

pytestmark = pytest.mark.django_db


class FailingErp(FakeErp):
    """Raises `error` from the method named `on`; everything else answers as the stand-in does."""

    def __init__(self, error: Exception, *, on: str = "sale_create") -> None:
        super().__init__()
        self.error = error
        setattr(self, on, self._fail)

    def _fail(self, *args, **kwargs):
        raise self.error


@pytest.fixture
def order(carrier_mappings) -> Order:
    """One paid order that passes validation: an active SKU, a mapped carrier, a UK address."""
    orders_upsert(payloads=[magento_order(1, sku=sellable_sku())])
    return Order.objects.get(entity_id=1)


def post_failure(order: Order) -> DeskException:
    return DeskException.objects.get(
        fingerprint=f"{ExceptionKind.ORDER_POST_FAILED}:{order.increment_id}"
    )


def test_a_refusal_no_retry_can_fix_fails_the_order_with_the_erps_message(order):
    error = PermanentError("the party has no address", system="erp", status=422)
    run = orders_out_run(erp=FailingErp(error))
    assert (run.status, run.failed, run.posted) == (RunStatus.PARTIAL, 1, 0)
    order.refresh_from_db()
    assert order.erp_status == OrderErpStatus.FAILED
    assert order.post_claimed_by == "" and order.post_claimed_until is None
    exception = post_failure(order)
    assert exception.message == (
        f"The ERP refused order {order.increment_id}: erp HTTP 422: the party has no address"
    )
    assert exception.system == System.ERP and exception.amount == order.grand_total
    assert OrderHold.objects.filter(
        order=order, kind=ExceptionKind.ORDER_POST_FAILED, released_at__isnull=True
    ).exists()


def test_spent_retries_leave_the_order_new_and_the_next_run_posts_it(order):
    run = orders_out_run(erp=FailingErp(TransientError("timed out", system="erp")))
    assert (run.status, run.failed) == (RunStatus.PARTIAL, 1)
    order.refresh_from_db()
    assert order.erp_status == OrderErpStatus.NEW
    assert order.post_claimed_by == ""
    exception = post_failure(order)
    assert (
        exception.message
        == f"Posting order {order.increment_id} failed after retries: erp: timed out"
    )
    assert exception.evidence["retryable"] is True
    assert not OrderHold.objects.filter(order=order).exists()

    erp = FakeErp()
    again = orders_out_run(erp=erp)
    assert again.posted == 1 and order.increment_id in erp.sales
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED


@pytest.mark.parametrize("method", ["items_by_codes", "sale_create"])
def test_an_erp_outage_is_one_exception_that_resolves_when_orders_post_again(order, method):
    outage = FailingErp(CircuitOpenError("circuit open after 5 failures", system="erp"), on=method)
    run = orders_out_run(erp=outage)
    assert run.status == RunStatus.FAILED and run.error_system == System.ERP
    exception = DeskException.objects.get(
        fingerprint=f"{ExceptionKind.ORDER_POST_FAILED}:{OUTAGE_SUBJECT}"
    )
    assert exception.order_increment_id == "" and "circuit open" in exception.message
    assert not DeskException.objects.filter(order_increment_id=order.increment_id).exists()
    order.refresh_from_db()
    assert order.erp_status == OrderErpStatus.NEW and order.post_claimed_by == ""

    assert orders_out_run(erp=FakeErp()).posted == 1
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
