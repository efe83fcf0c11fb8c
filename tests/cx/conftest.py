"""One order at each point of DESIGN §3's path."""

from decimal import Decimal

import pytest

from exceptions_app.services import exception_raise
from tests.cx.builders import dispatch, hold_address, make_order, post


@pytest.fixture
def orders(db):
    """One order in each state of DESIGN §3's path."""
    new = make_order("000000101", postcode="M1 1AE")
    held = make_order(
        "000000102",
        customer_firstname="Siobhan",
        customer_lastname="O'Brien",
        customer_email="Siobhan.OBrien@Example.test",
        postcode="zz1 1zz",
    )
    held_exception = hold_address(held)
    posted = post(make_order("000000103", postcode="EH1 1YZ"))
    dispatched = make_order("000000104", postcode="B1 1AA", grand_total=Decimal("120.50"))
    dispatch(dispatched, told=False)
    drift = exception_raise(
        kind="status_drift",
        subject=dispatched.increment_id,
        message="Dispatched in the ERP but Magento has no shipment.",
        system="magento",
        order_increment_id=dispatched.increment_id,
    )
    shipped = make_order("000000105", postcode="CF10 1AA")
    dispatch(shipped, told=True)
    return {
        "new": new,
        "held": held,
        "held_exception": held_exception,
        "posted": posted,
        "dispatched": dispatched,
        "drift": drift,
        "shipped": shipped,
    }
