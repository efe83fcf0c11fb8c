"""The order lookup's result table (django-tables2). Every cell reads the row's annotations
(cx.selectors.order_rows_annotate), so a page of results is one query."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from cx import words
from integration.models import Order, OrderErpStatus

# The desk's view of an order, in the words an agent would use.
DESK_STATUS = {
    OrderErpStatus.NEW: ("Received, not checked yet", "text-bg-light border"),
    OrderErpStatus.HELD: ("On hold: needs fixing", "text-bg-danger"),
    OrderErpStatus.POSTED: ("With the warehouse", "text-bg-info"),
    OrderErpStatus.FAILED: ("Refused by the ERP", "text-bg-danger"),
    OrderErpStatus.SKIPPED: ("Not sent (unpaid or cancelled)", "text-bg-secondary"),
}


class OrderResultTable(tables.Table):
    increment_id = tables.Column(verbose_name="Order")
    magento_created_at = tables.Column(
        verbose_name="Placed", attrs={"td": {"class": "text-nowrap"}}
    )
    customer = tables.Column(
        empty_values=(),
        verbose_name="Customer",
        order_by=("customer_lastname", "customer_firstname"),
    )
    postcode = tables.Column(verbose_name="Delivery postcode", default="—")
    status = tables.Column(verbose_name="In Magento")
    erp_status = tables.Column(verbose_name="Where it is")
    dispatched_at = tables.Column(verbose_name="Shipped?", default="Not yet")
    open_exceptions = tables.Column(verbose_name="Problems", attrs={"td": {"class": "text-end"}})

    class Meta:
        model = Order
        fields = ()
        sequence = (
            "increment_id",
            "magento_created_at",
            "customer",
            "postcode",
            "status",
            "erp_status",
            "dispatched_at",
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
        return words.short_day(record.magento_created_at)

    def render_customer(self, record: Order) -> str:
        return format_html(
            '{}<br><span class="small text-body-secondary">{}</span>',
            record.customer_name or "—",
            record.customer_email,
        )

    def render_status(self, record: Order) -> str:
        return words.magento_status_words(record.status)

    def render_erp_status(self, record: Order) -> str:
        label, badge = DESK_STATUS.get(
            record.erp_status, (record.get_erp_status_display(), "text-bg-light")
        )
        if record.erp_status == OrderErpStatus.POSTED and record.dispatched_at:
            label, badge = "Dispatched", "text-bg-success"
        return format_html('<span class="badge {}">{}</span>', badge, label)

    def render_dispatched_at(self, record: Order) -> str:
        return format_html(
            '<span class="text-nowrap">Yes, {}</span>', words.short_day(record.dispatched_at)
        )

    def render_open_exceptions(self, record: Order) -> str:
        if not record.open_exceptions:
            return "0"
        return format_html('<span class="badge text-bg-warning">{}</span>', record.open_exceptions)
