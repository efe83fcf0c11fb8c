"""The order lookup's result table (django-tables2). Every cell reads the row's annotations
(cx.selectors.order_rows_annotate), so a page of results is one query.

Six columns that fit a 1280 px screen, the last but one saying in one phrase where the order
is, with Magento's own status beneath it.
"""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from cx import words
from cx.lifecycle import lifecycle_phrase
from exceptions_app.models import ExceptionKind
from integration.models import Order, OrderErpStatus

CANCELED_STATE = "canceled"

# What holds the order, in the fewest words (its team in brackets: who to tell the customer).
HELD_BY = {
    ExceptionKind.ADDRESS_INVALID: "address to correct (customer service)",
    ExceptionKind.SKU_UNKNOWN: "an item not set up yet (operations)",
    ExceptionKind.SKU_INACTIVE: "an item switched off (operations)",
    ExceptionKind.CARRIER_UNMAPPED: "delivery option not linked (operations)",
    ExceptionKind.EDIT_AFTER_DISPATCH: "its original was already packed (operations)",
}

# Why an order is not for the warehouse, by Magento state.
NOT_SENT = {
    "new": "Not paid yet",
    "pending_payment": "Not paid yet",
    "payment_review": "Payment being reviewed",
    "holded": "On hold in Magento",
    "closed": "Refunded and closed",
}


def where_it_is(order: Order) -> tuple[str, str]:
    """(one phrase an agent can read out, tone) for a row of the result table."""
    lifecycle = lifecycle_phrase(order)  # history, cancelled, edited, held after posting
    if lifecycle is not None:
        return lifecycle
    if order.state == CANCELED_STATE:
        return "Cancelled in Magento", "secondary"
    if order.dispatched_at:
        when = words.day(order.dispatched_at)
        if order.parcels_waiting:
            return f"Part dispatched {when}, more to come", "info"
        courier = words.courier_words(order.dispatched_with, "")
        phrase = f"Dispatched {when} with {courier}" if courier else f"Dispatched {when}"
        if order.magento_untold:
            return f"{phrase}; Magento not told yet", "info"
        return phrase, "success"
    status = order.erp_status
    if status == OrderErpStatus.HELD or order.hold_kind:
        held_by = HELD_BY.get(order.hold_kind, "something to fix")
        return f"On hold: {held_by}", "danger"
    if status == OrderErpStatus.FAILED:
        return "Refused by the ERP (operations fixing)", "danger"
    if status == OrderErpStatus.SKIPPED:
        return NOT_SENT.get(order.state, "Not for the warehouse"), "secondary"
    if status == OrderErpStatus.POSTED:
        if order.preparing_state:
            return f"In the warehouse: {words.shipment_state_words(order.preparing_state)}", "info"
        return f"With the warehouse since {words.day(order.erp_posted_at)}", "info"
    if status == OrderErpStatus.NEW:
        return "Received, not checked yet", "light"
    return order.get_erp_status_display(), "light"


class OrderResultTable(tables.Table):
    increment_id = tables.Column(verbose_name="Order")
    magento_created_at = tables.Column(
        verbose_name="Placed", attrs={"td": {"class": "text-nowrap"}}
    )
    customer = tables.Column(empty_values=(), verbose_name="Customer")
    postcode = tables.Column(
        verbose_name="Postcode", default="—", attrs={"td": {"class": "text-nowrap"}}
    )
    where = tables.Column(empty_values=(), verbose_name="Where it is")
    open_exceptions = tables.Column(verbose_name="Problems", attrs={"td": {"class": "text-end"}})

    class Meta:
        model = Order
        fields = ()
        sequence = (
            "increment_id",
            "magento_created_at",
            "customer",
            "postcode",
            "where",
            "open_exceptions",
        )
        attrs = {"class": "table table-sm table-hover align-middle order-results"}
        # Newest first is what an agent wants; sorting a handful of matches adds nothing.
        orderable = False
        empty_text = "No orders match."
        row_attrs = {"data-order": lambda record: record.increment_id}

    def render_increment_id(self, record: Order) -> str:
        url = reverse("cx:order_detail", args=[record.increment_id])
        return format_html('<a href="{}">#{}</a>', url, record.increment_id)

    def render_magento_created_at(self, record: Order) -> str:
        return words.day(record.magento_created_at)

    def render_customer(self, record: Order) -> str:
        return format_html(
            '{}<br><span class="small text-body-secondary customer-email">{}</span>',
            record.customer_name or "—",
            record.customer_email,
        )

    def render_where(self, record: Order) -> str:
        phrase, tone = where_it_is(record)
        return format_html(
            '<span class="where where-{}" data-testid="where">{}</span>'
            '<br><span class="small text-body-secondary">Magento: {}</span>',
            tone,
            phrase,
            words.magento_status_words(record.status),
        )

    def render_open_exceptions(self, record: Order) -> str:
        if not record.open_exceptions:
            return "0"
        return format_html('<span class="badge text-bg-warning">{}</span>', record.open_exceptions)
