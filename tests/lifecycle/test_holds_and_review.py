"""Orders on hold or under payment review in Magento, against the sandbox and a real Tryton:
they wait and are not posted; released, they are; a hold placed after posting asks the
warehouse to hold the parcel and resolves itself when Magento releases it."""

import pytest

from cx.order_path import order_path
from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus
from integration.models import Order, OrderErpStatus
from tests.lifecycle.scenario import magento_hold, place, sales, sync

pytestmark = pytest.mark.django_db(transaction=True)


def test_held_and_under_review_orders_wait_until_magento_releases_them(
    magento_today, tryton, tryton_server, carrier_mappings
):
    held = place(magento_today, 740001, paid="held")
    review = place(magento_today, 740002, paid="review")
    sync(magento_today, tryton)
    sync(magento_today, tryton)
    for order in (held, review):
        assert sales(tryton_server, order["increment_id"]) == []
        assert Order.objects.get(increment_id=order["increment_id"]).erp_status == "skipped"
    assert order_path(increment_id=review["increment_id"]).headline.startswith(
        "Payment under review in Magento: the order waits here"
    )

    magento_hold(magento_today, held, release=True)
    sync(magento_today, tryton)
    assert Order.objects.get(increment_id=held["increment_id"]).erp_status == "posted"
    assert len(sales(tryton_server, held["increment_id"])) == 1
    assert sales(tryton_server, review["increment_id"]) == []


def test_a_hold_after_posting_asks_the_warehouse_to_hold_the_parcel_until_released(
    magento_today, tryton, tryton_server, carrier_mappings
):
    order = place(magento_today, 741001, paid="captured")
    reference = order["increment_id"]
    sync(magento_today, tryton)
    magento_hold(magento_today, order)
    sync(magento_today, tryton)
    sync(magento_today, tryton)

    (exception,) = DeskException.objects.filter(kind=ExceptionKind.HOLD_AFTER_POSTING)
    assert exception.subject == reference and exception.occurrences == 1
    assert "keep its parcel back" in exception.message and "is waiting" in exception.message
    assert Order.objects.get(increment_id=reference).erp_status == OrderErpStatus.POSTED
    assert order_path(increment_id=reference).headline.endswith(
        "the warehouse has been asked to hold the parcel (the operations team is on it)."
    )

    magento_hold(magento_today, order, release=True)
    sync(magento_today, tryton)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert order_path(increment_id=reference).headline.startswith("With the warehouse")
