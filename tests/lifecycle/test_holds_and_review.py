"""Orders on hold or under payment review in Magento, against the sandbox and a real Tryton:
they wait and are not posted; released, they are; a hold placed after posting asks the
warehouse to hold the parcel and resolves itself when Magento releases it."""

import pytest

from cx.order_path import order_path
from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus
from integration.models import Order, OrderErpStatus
from sandbox.magento.app import sandbox_state
from sandbox.magento.testing import make_app
from tests.lifecycle.scenario import NOW, magento_hold, place, sales, sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path, clock=lambda: NOW)
    yield app
    sandbox_state(app).store.close()


def test_held_and_under_review_orders_wait_until_magento_releases_them(
    app, tryton, tryton_server, carrier_mappings
):
    held = place(app, 740001, paid="held")
    review = place(app, 740002, paid="review")
    sync(app, tryton)
    sync(app, tryton)
    for order in (held, review):
        assert sales(tryton_server, order["increment_id"]) == []
        assert Order.objects.get(increment_id=order["increment_id"]).erp_status == "skipped"
    assert order_path(increment_id=review["increment_id"]).headline.startswith(
        "Payment under review in Magento: the order waits here"
    )

    magento_hold(app, held, release=True)
    sync(app, tryton)
    assert Order.objects.get(increment_id=held["increment_id"]).erp_status == "posted"
    assert len(sales(tryton_server, held["increment_id"])) == 1
    assert sales(tryton_server, review["increment_id"]) == []


def test_a_hold_after_posting_asks_the_warehouse_to_hold_the_parcel_until_released(
    app, tryton, tryton_server, carrier_mappings
):
    order = place(app, 741001, paid="captured")
    reference = order["increment_id"]
    sync(app, tryton)
    magento_hold(app, order)
    sync(app, tryton)
    sync(app, tryton)

    (exception,) = DeskException.objects.filter(kind=ExceptionKind.HOLD_AFTER_POSTING)
    assert exception.subject == reference and exception.occurrences == 1
    assert "keep its parcel back" in exception.message and "is waiting" in exception.message
    assert Order.objects.get(increment_id=reference).erp_status == OrderErpStatus.POSTED
    assert order_path(increment_id=reference).headline.endswith(
        "the warehouse has been asked to hold the parcel (the operations team is on it)."
    )

    magento_hold(app, order, release=True)
    sync(app, tryton)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert order_path(increment_id=reference).headline.startswith("With the warehouse")
