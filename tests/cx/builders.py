"""Builders for orders at each point of their path, as the flows leave them in the mirror."""

from datetime import timedelta

from django.utils import timezone

from exceptions_app.services import exception_raise
from tests.factories import (
    OrderAddressFactory,
    OrderFactory,
    OrderHoldFactory,
    OrderLineFactory,
    ShipmentFactory,
)

PLACED = timezone.now() - timedelta(days=2)


def make_order(increment_id: str, **kwargs):
    """An order with a shipping and a billing address and one line."""
    postcode = kwargs.pop("postcode", "SW1A 2AA")
    kwargs.setdefault("customer_firstname", "Jane")
    kwargs.setdefault("customer_lastname", "Smith")
    kwargs.setdefault("customer_email", "jane.smith@example.test")
    kwargs.setdefault("payment_method", "braintree")
    kwargs.setdefault("shipping_method", "flatrate_flatrate")
    kwargs.setdefault("shipping_description", "Flat Rate - Fixed")
    kwargs.setdefault("magento_created_at", PLACED)
    kwargs.setdefault("first_seen_at", kwargs["magento_created_at"])  # pulled as it was placed
    order = OrderFactory(increment_id=increment_id, **kwargs)
    OrderAddressFactory(order=order, address_type="shipping", postcode=postcode)
    OrderAddressFactory(order=order, address_type="billing", postcode=postcode)
    OrderLineFactory(order=order)
    return order


def hold_address(order, field: str = "postcode"):
    """Held as orders_out holds it: a hold row and the address_invalid exception naming it."""
    postcode = order.addresses.get(address_type="shipping").postcode
    message = f"Order {order.increment_id} shipping address: “{postcode}” is not a valid postcode."
    OrderHoldFactory(order=order, kind="address_invalid", field=field, message=message)
    order.erp_status = "held"
    order.save(update_fields=["erp_status"])
    return exception_raise(
        kind="address_invalid",
        subject=order.increment_id,
        message=message,
        system="integration",
        order_increment_id=order.increment_id,
        evidence={"field": field, "order": order.increment_id, "fields": field.split(", ")},
        amount=order.grand_total,
        currency=order.currency_code,
    )


def post(order, sale_id: str = "SO-0042"):
    order.erp_status = "posted"
    order.erp_sale_id = sale_id
    order.erp_posted_at = PLACED + timedelta(hours=1)
    order.save(update_fields=["erp_status", "erp_sale_id", "erp_posted_at"])
    return order


def dispatch(order, *, told: bool, tracking: str = "TT123456785GB"):
    post(order)
    return ShipmentFactory(
        order=order,
        dispatched_at=PLACED + timedelta(days=1),
        tracking_number=tracking,
        courier="Royal Mail Tracked 24",
        magento_shipment_id="88" if told else "",
        pushed_at=PLACED + timedelta(days=1, minutes=5) if told else None,
    )
