"""Orders edited in Magento (the original cancelled, `<increment>-1` placed), against the sandbox
and a real Tryton: the ERP never keeps both as live sales."""

import pytest

from cx.order_path import order_path
from exceptions_app.models import DeskException, ExceptionKind, ExceptionStatus
from integration.models import Order, OrderErpStatus
from tests.lifecycle.scenario import (
    live_sales,
    magento_edit,
    pack,
    place,
    sales,
    sync,
    warehouse_cancels,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_order_edited_before_the_desk_saw_it_posts_only_its_replacement(
    magento_today, tryton, tryton_server, carrier_mappings
):
    original = place(magento_today, 720001)
    replacement = magento_edit(magento_today, original)
    sync(magento_today, tryton)
    references = [original["increment_id"], replacement["increment_id"]]
    assert live_sales(tryton_server, references) == [replacement["increment_id"]]
    assert sales(tryton_server, original["increment_id"]) == []
    assert Order.objects.get(increment_id=original["increment_id"]).erp_status == "skipped"
    mirrored = Order.objects.get(increment_id=replacement["increment_id"])
    assert mirrored.relation_parent_id == original["entity_id"]


def test_an_order_edited_after_posting_cancels_the_original_sale_and_posts_the_replacement(
    magento_today, tryton, tryton_server, carrier_mappings
):
    original = place(magento_today, 721001)
    sync(magento_today, tryton)
    assert live_sales(tryton_server, [original["increment_id"]]) == [original["increment_id"]]

    replacement = magento_edit(magento_today, original)
    sync(magento_today, tryton)

    references = [original["increment_id"], replacement["increment_id"]]
    assert live_sales(tryton_server, references) == [replacement["increment_id"]]
    assert Order.objects.get(increment_id=original["increment_id"]).erp_status == (
        OrderErpStatus.CANCELLED
    )
    child = Order.objects.get(increment_id=replacement["increment_id"])
    assert child.erp_status == OrderErpStatus.POSTED
    assert Order.objects.get(increment_id=original["increment_id"]).relation_child_id == (
        child.entity_id
    )
    assert not DeskException.objects.filter(kind=ExceptionKind.EDIT_AFTER_DISPATCH).exists()


def test_an_edit_after_the_warehouse_packed_the_original_holds_the_replacement_for_a_person(
    magento_today, tryton, tryton_server, carrier_mappings
):
    original = place(magento_today, 722001)
    sync(magento_today, tryton)
    assert pack(tryton_server, original["increment_id"]) == ["packed"]

    replacement = magento_edit(magento_today, original)
    sync(magento_today, tryton)
    sync(magento_today, tryton)

    references = [original["increment_id"], replacement["increment_id"]]
    assert live_sales(tryton_server, references) == [original["increment_id"]]
    child = Order.objects.get(increment_id=replacement["increment_id"])
    assert child.erp_status == OrderErpStatus.HELD
    (exception,) = DeskException.objects.filter(kind=ExceptionKind.EDIT_AFTER_DISPATCH)
    assert exception.subject == replacement["increment_id"] and exception.occurrences == 1
    assert exception.evidence["original"] == original["increment_id"]
    assert original["increment_id"] in exception.message and "is packed" in exception.message
    assert not DeskException.objects.filter(kind=ExceptionKind.CANCEL_AFTER_DISPATCH).exists()
    assert order_path(increment_id=replacement["increment_id"]).headline == (
        "Waiting: it replaces an order the warehouse had already packed or dispatched, so nobody "
        "sends both — the operations team is fixing it."
    )

    # The person stops the original's parcel: the desk cancels its sale and posts the edit.
    warehouse_cancels(tryton_server, original["increment_id"])
    sync(magento_today, tryton)
    assert live_sales(tryton_server, references) == [replacement["increment_id"]]
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert Order.objects.get(increment_id=replacement["increment_id"]).erp_status == "posted"
