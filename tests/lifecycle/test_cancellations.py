"""Orders cancelled in Magento, against the sandbox and a real Tryton: before posting they never
post; after posting the ERP sale is cancelled while the warehouse has not picked it, and once it
has, exactly one `cancel_after_dispatch` exception says which parcel to stop (CX told)."""

import pytest

from cx.order_path import order_path
from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus, Notification
from integration.models import Order, OrderErpStatus, OrderHold
from sandbox.magento.app import sandbox_state
from tests.lifecycle.scenario import (
    live_sales,
    magento_cancel,
    pack,
    place,
    sales,
    sync,
    warehouse_cancels,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cancel_before_the_warehouse_picks_cancels_the_erp_sale(
    magento_today, tryton, tryton_server, carrier_mappings
):
    order = place(magento_today, 710001)
    reference = order["increment_id"]
    sync(magento_today, tryton)
    assert Order.objects.get(increment_id=reference).erp_status == OrderErpStatus.POSTED
    assert live_sales(tryton_server, [reference]) == [reference]

    magento_cancel(magento_today, order)
    run = sync(magento_today, tryton)

    mirrored = Order.objects.get(increment_id=reference)
    assert mirrored.erp_status == OrderErpStatus.CANCELLED and mirrored.erp_cancelled_at
    (sale,) = sales(tryton_server, reference)
    assert [s["state"] for s in sale["shipments"]] == ["cancelled"]
    assert {i["state"] for i in sale["invoices"]} <= {"cancelled"}
    assert live_sales(tryton_server, [reference]) == []
    assert not DeskException.objects.filter(kind=ExceptionKind.CANCEL_AFTER_DISPATCH).exists()
    assert run.status == "succeeded", run.error


def test_a_cancel_after_the_warehouse_packed_it_raises_one_exception_and_tells_cx(
    magento_today, tryton, tryton_server, carrier_mappings
):
    order = place(magento_today, 711001)
    reference = order["increment_id"]
    sync(magento_today, tryton)
    assert pack(tryton_server, reference) == ["packed"]

    magento_cancel(magento_today, order)
    sync(magento_today, tryton)
    sync(magento_today, tryton)  # a second run looks again, and reports nothing twice

    (exception,) = DeskException.objects.filter(kind=ExceptionKind.CANCEL_AFTER_DISPATCH)
    assert exception.subject == reference and exception.occurrences == 1
    assert exception.team == "ops" and exception.status == ExceptionStatus.OPEN
    assert (
        "is packed" in exception.message and "cancel the shipment in the ERP" in exception.message
    )
    assert exception.evidence["shipments"][0]["state"] == "packed"
    told = Notification.objects.filter(exception=exception, team="cx")
    assert told.count() == 1
    assert order_path(increment_id=reference).headline.endswith(
        "after the warehouse had packed it: the warehouse has been asked to stop the parcel "
        "(the operations team is on it)."
    )
    # The parcel is not cancelled behind the warehouse's back: the sale stays as it was.
    assert Order.objects.get(increment_id=reference).erp_status == OrderErpStatus.POSTED
    assert live_sales(tryton_server, [reference]) == [reference]

    # The warehouse stops the parcel in the ERP: the next run cancels the rest and resolves it.
    warehouse_cancels(tryton_server, reference)
    sync(magento_today, tryton)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert Order.objects.get(increment_id=reference).erp_status == OrderErpStatus.CANCELLED
    assert live_sales(tryton_server, [reference]) == []


def test_an_order_cancelled_before_posting_never_posts_even_when_its_hold_is_fixed(
    magento_today, tryton, tryton_server, carrier_mappings
):
    cancelled = place(magento_today, 712001)
    magento_cancel(magento_today, cancelled)
    held = place(magento_today, 712002)
    store = sandbox_state(magento_today).store
    doc = store.get_doc("orders", held["entity_id"])
    doc["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]["postcode"] = (
        "QQ1 1QQ"
    )
    store.put_doc("orders", doc)
    sync(magento_today, tryton)
    assert Order.objects.get(increment_id=held["increment_id"]).erp_status == "held"

    magento_cancel(magento_today, held)
    sync(magento_today, tryton)

    for reference in (cancelled["increment_id"], held["increment_id"]):
        assert sales(tryton_server, reference) == []
        assert Order.objects.get(increment_id=reference).erp_status == OrderErpStatus.SKIPPED
    assert not OrderHold.objects.filter(
        order__increment_id=held["increment_id"], released_at__isnull=True
    ).exists()
    address = DeskException.objects.get(kind=ExceptionKind.ADDRESS_INVALID)
    assert address.status == ExceptionStatus.RESOLVED  # nothing left for CX to correct
