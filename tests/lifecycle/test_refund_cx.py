"""The CX page tells the truth about refunds and split parcels: a sentence per case, as an agent
reads it to the customer."""

from datetime import timedelta
from decimal import Decimal

import pytest

from cx.order_path import order_path
from exceptions_app.services import exception_raise
from integration.models import CreditMemo, CreditMemoLine
from tests.cx.builders import PLACED, dispatch, make_order, post
from tests.factories import OrderLineFactory, ShipmentFactory

pytestmark = pytest.mark.django_db

REFUNDED = PLACED + timedelta(days=3)


def credit_memo(order, *, total, status="posted", number="CRN2026-000007", lines=(), **fields):
    memo = CreditMemo.objects.create(
        entity_id=CreditMemo.objects.count() + 1,
        increment_id=f"{CreditMemo.objects.count() + 1:09d}",
        magento_order_id=order.entity_id,
        order=order,
        state="refunded",
        currency_code="GBP",
        grand_total=Decimal(total),
        magento_created_at=REFUNDED,
        magento_updated_at=REFUNDED,
        payload={},
        erp_status=status,
        erp_number=number if status == "posted" else "",
        **fields,
    )
    for item_id, sku, name, qty, back in lines:
        CreditMemoLine.objects.create(credit_memo=memo, order_item_id=item_id, sku=sku,
                                      name=name, qty=qty, qty_returned=back)  # fmt: skip
    return memo


def test_a_partial_refund_says_how_much_for_what_and_the_credit_note_in_the_erp():
    order = make_order("500", grand_total=Decimal("54.00"))
    dispatch(order, told=True)
    line = order.lines.get()
    credit_memo(order, total="40.80", online=True,
                lines=[(line.item_id, line.sku, line.name, 1, 1)])  # fmt: skip
    path = order_path(increment_id="500")
    assert path.headline.endswith(" Partly refunded: £40.80 on " + f"{REFUNDED:%-d %b %Y}.")
    step = path.steps[-1]
    assert (step.key, step.state, step.summary) == (
        "refund",
        "done",
        "Partly refunded: £40.80 of £54.00.",
    )
    assert step.details == (
        f"Refunded £40.80 on {REFUNDED:%-d %b %Y} (to the card) for 1 × Joust Duffle Bag: "
        "credit note CRN2026-000007 is in the ERP; the warehouse expects "
        "1 × Joust Duffle Bag back.",
    )


def test_a_full_refund_is_said_first_with_its_amount_and_shipping_only_names_the_delivery():
    order = make_order("501", grand_total=Decimal("54.00"), state="closed", status="closed")
    dispatch(order, told=True)
    line = order.lines.get()
    credit_memo(order, total="3.95", shipping_amount=Decimal("3.29"), number="CRN2026-000008")
    credit_memo(order, total="50.05", number="CRN2026-000009",
                lines=[(line.item_id, line.sku, line.name, 1, 0)])  # fmt: skip
    path = order_path(increment_id="501")
    assert path.headline == f"Refunded in full (£54.00) on {REFUNDED:%-d %b %Y}."
    step = path.steps[-1]
    assert step.summary == "Refunded in full: £54.00."
    assert step.details[0] == (
        f"Refunded £3.95 on {REFUNDED:%-d %b %Y} (offline) for the delivery charge: "
        "credit note CRN2026-000008 is in the ERP."
    )


def test_a_refund_the_erp_refused_is_a_blocked_step_naming_finance():
    order = make_order("502", grand_total=Decimal("54.00"))
    post(order)
    credit_memo(order, total="10.00", status="failed", adjustment_positive=Decimal("10.00"))
    exception = exception_raise(kind="refund_post_failed", subject="502/CM000000001",
                                message="The ERP refused it.", system="erp",
                                order_increment_id="502")  # fmt: skip
    step = order_path(increment_id="502").steps[-1]
    assert step.state == "blocked" and step.exceptions == (exception,)
    assert step.details[0].endswith(
        "for nothing itemised, plus £10.00 goodwill: the ERP refused its credit note; the "
        "finance team is fixing it."
    )


def test_an_order_in_two_parcels_names_each_parcel_with_its_items_and_tracking():
    order = make_order("503", grand_total=Decimal("80.00"))
    post(order)
    tee = OrderLineFactory(order=order, sku="MS10-XS-Blue", name="Logan HeatTec Tee")
    first = ShipmentFactory(order=order, erp_shipment_id="31",
                            dispatched_at=PLACED + timedelta(days=1),
                            tracking_number="TT000000031GB", magento_shipment_id="5",
                            payload={"lines": [["24-MB01", "1"]]})  # fmt: skip
    ShipmentFactory(order=order, erp_shipment_id="32", erp_state="waiting", dispatched_at=None,
                    tracking_number="", payload={"lines": [[tee.sku, "1"]]})  # fmt: skip
    day = f"{first.dispatched_at:%-d %b %Y}"
    path = order_path(increment_id="503")
    assert path.headline == (
        f"Partly dispatched: one parcel dispatched on {day} with Royal Mail Tracked 24, tracking "
        "TT000000031GB; the rest (1 × Logan HeatTec Tee) is waiting for stock in the warehouse."
    )
    warehouse = path.steps[3]
    assert warehouse.state == "current"
    assert warehouse.summary == (
        "Partly dispatched: 1 of 2 parcels have left, the rest is waiting for stock in the "
        "warehouse."
    )
    assert warehouse.details == (
        f"Parcel 31 (1 × Joust Duffle Bag): dispatched on {day} with Royal Mail Tracked 24, "
        "tracking TT000000031GB.",
        "Parcel 32 (1 × Logan HeatTec Tee): waiting for stock in the warehouse.",
    )

    later = PLACED + timedelta(days=4)
    order.shipments.filter(erp_shipment_id="32").update(
        erp_state="done", dispatched_at=later, tracking_number="TT000000032GB",
        magento_shipment_id="6",
    )  # fmt: skip
    path = order_path(increment_id="503")
    assert path.headline == (
        f"Dispatched in 2 parcels: dispatched on {day} with Royal Mail Tracked 24, tracking "
        f"TT000000031GB; dispatched on {later:%-d %b %Y} with Royal Mail Tracked 24, tracking "
        "TT000000032GB."
    )
    assert path.steps[3].details[1] == (
        f"Parcel 32 (1 × Logan HeatTec Tee): dispatched on {later:%-d %b %Y} with Royal Mail "
        "Tracked 24, tracking TT000000032GB."
    )
