"""The Magento order mirror: orders, lines, addresses, the lookup keys, and holds."""

from django.conf import settings
from django.db import models
from django.db.models import Func, Value
from django.db.models.functions import Concat, Lower, Replace, Upper
from django.utils import timezone

from integration.models.fields import MONEY, QTY


class OrderErpStatus(models.TextChoices):
    NEW = "new", "Not yet validated"
    HELD = "held", "Held by an exception"
    POSTED = "posted", "In the ERP"
    FAILED = "failed", "ERP rejected it"
    SKIPPED = "skipped", "Not for the ERP (unpaid or cancelled)"
    HISTORY = "history", "Fulfilled by Magento before the desk; not sent to the ERP"
    CANCELLED = "cancelled", "Cancelled in Magento; its ERP sale cancelled too"


# The keys the CX lookup compares (cx.selectors), each an expression an index below is built on,
# so an order is found by how a person types it, without a full scan and without a column to
# keep in step: the database computes the key on every write.
ORDER_NUMBER_PREFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_/#. "


def order_number_key(field: str = "increment_id") -> Func:
    """The increment id without its store prefix and leading zeros ("EU-000000123" → "123")."""
    unprefixed = Func(Upper(field), Value(ORDER_NUMBER_PREFIX), function="LTRIM")
    return Func(unprefixed, Value("0"), function="LTRIM")


def email_key(field: str = "customer_email") -> Lower:
    return Lower(field)


def postcode_key(field: str = "postcode") -> Upper:
    """The postcode squashed: "sw1a  1aa" → "SW1A1AA"."""
    return Upper(Replace(field, Value(" "), Value("")))


def name_key(first: str, last: str) -> Concat:
    """First and last name as the lookup compares them (case-insensitively): "Siobhan O'Brien"
    → " Siobhan OBrien". The leading space marks where each word starts; apostrophes go and
    hyphens become spaces, so "obri" finds O'Brien and "jones" Smith-Jones. Trigram-indexed on
    PostgreSQL (migration 0006_cx_refresh_and_search)."""
    full = Concat(first, Value(" "), last)
    for mark, instead in (("'", ""), ("\u2019", ""), ("-", " ")):
        full = Replace(full, Value(mark), Value(instead))
    return Concat(Value(" "), full)


class Order(models.Model):
    """A Magento order as last pulled (sales-data-order-interface)."""

    entity_id = models.PositiveBigIntegerField(unique=True)
    increment_id = models.CharField(max_length=50, unique=True)
    store_id = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=32)
    status = models.CharField(max_length=64)
    customer_email = models.EmailField(max_length=254, blank=True)
    customer_firstname = models.CharField(max_length=255, blank=True)
    customer_lastname = models.CharField(max_length=255, blank=True)
    currency_code = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY)
    discount_amount = models.DecimalField(**MONEY, default=0)
    shipping_amount = models.DecimalField(**MONEY, default=0)
    shipping_tax_amount = models.DecimalField(**MONEY, default=0)
    tax_amount = models.DecimalField(**MONEY, default=0)
    grand_total = models.DecimalField(**MONEY)
    total_paid = models.DecimalField(**MONEY, null=True, blank=True)
    payment_method = models.CharField(max_length=64, blank=True)
    shipping_method = models.CharField(
        max_length=128, blank=True, help_text="Magento's <carrier_code>_<method_code>"
    )
    shipping_description = models.CharField(max_length=255, blank=True)
    magento_created_at = models.DateTimeField()
    magento_updated_at = models.DateTimeField(db_index=True)
    payload = models.JSONField(help_text="The order exactly as Magento last sent it")
    erp_status = models.CharField(
        max_length=16, choices=OrderErpStatus.choices, default=OrderErpStatus.NEW, db_index=True
    )
    erp_sale_id = models.CharField(max_length=64, blank=True)
    erp_posted_at = models.DateTimeField(null=True, blank=True)
    # The order lifecycle beyond "posted" (integration.orders.lifecycle, history):
    fulfilled_outside = models.BooleanField(
        default=False,
        help_text="Shipped or closed in Magento when the desk first saw it: never sent to the "
        "warehouse (posted for the books only, or not at all: SYNC_HISTORY_POSTING)",
    )
    magento_shipped_at = models.DateTimeField(
        null=True, blank=True, help_text="When Magento shipped a history order (its shipments)"
    )
    magento_tracks = models.JSONField(
        null=True,
        blank=True,
        help_text="A history order's Magento tracks [{number, title}]; null until read",
    )
    erp_books_closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a books-only sale's invoice was posted"
    )
    erp_cancelled_at = models.DateTimeField(null=True, blank=True)
    magento_state_followed = models.CharField(
        max_length=32,
        blank=True,
        help_text="The Magento state (canceled, holded) whose consequence for a posted order "
        "the desk has acted on, so a later pull does not act twice",
    )
    relation_parent_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Edited order: the entity id of the order it replaces"
    )
    relation_child_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Edited order: the entity id of its replacement"
    )
    # A worker posting the order claims it for a lease instead of holding a database lock
    # across the ERP's HTTP calls; an expired claim (a killed worker) is simply taken over.
    post_claimed_by = models.CharField(max_length=32, blank=True, default="")
    post_claimed_until = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_pulled_at = models.DateTimeField(default=timezone.now)
    # When a person last had the order re-read from each system (integration.order_refresh);
    # null until then. CX pages show these next to what the flows last read.
    magento_read_at = models.DateTimeField(null=True, blank=True)
    erp_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(email_key(), name="order_email_key"),
            models.Index(order_number_key(), name="order_number_key"),
            models.Index(fields=["erp_status", "magento_created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.increment_id}"

    @property
    def customer_name(self) -> str:
        return f"{self.customer_firstname} {self.customer_lastname}".strip()


class OrderLine(models.Model):
    """One Magento order item (parents and children both, as Magento lists them)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    item_id = models.PositiveBigIntegerField()
    parent_item_id = models.PositiveBigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    product_type = models.CharField(max_length=32)
    qty_ordered = models.DecimalField(**QTY)
    qty_shipped = models.DecimalField(**QTY, default=0)
    price = models.DecimalField(**MONEY, default=0)
    row_total = models.DecimalField(**MONEY, default=0)
    tax_amount = models.DecimalField(**MONEY, default=0)
    tax_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    discount_amount = models.DecimalField(**MONEY, default=0)
    row_total_incl_tax = models.DecimalField(**MONEY, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "item_id"], name="order_line_item_unique")
        ]
        indexes = [models.Index(fields=["sku"])]

    def __str__(self) -> str:
        return f"{self.order} {self.sku} × {self.qty_ordered}"


class AddressType(models.TextChoices):
    BILLING = "billing", "Billing"
    SHIPPING = "shipping", "Shipping"


class OrderAddress(models.Model):
    """An order address. `original` keeps what Magento sent when the desk corrects it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="addresses")
    address_type = models.CharField(max_length=16, choices=AddressType.choices)
    firstname = models.CharField(max_length=255, blank=True)
    lastname = models.CharField(max_length=255, blank=True)
    company = models.CharField(max_length=255, blank=True)
    street = models.JSONField(default=list, help_text="Street lines, as Magento's array")
    city = models.CharField(max_length=255, blank=True)
    region = models.CharField(max_length=255, blank=True)
    postcode = models.CharField(max_length=32, blank=True)
    country_id = models.CharField(max_length=2, blank=True)
    telephone = models.CharField(max_length=64, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    original = models.JSONField(null=True, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "address_type"], name="order_address_type_unique"
            )
        ]
        indexes = [models.Index(postcode_key(), name="order_address_postcode_key")]

    def __str__(self) -> str:
        return f"{self.order} {self.address_type}: {self.postcode}"


class OrderHold(models.Model):
    """One cause holding an order back from the ERP, tied to the exception that reports it.

    An SKU or carrier exception can hold many orders; this row says which, so replaying the
    exception re-validates exactly the orders it blocked.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    kind = models.CharField(max_length=32)
    subject = models.CharField(max_length=350, help_text="The exception's subject")
    field = models.CharField(max_length=64, blank=True, help_text="SKU or address field")
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind", "subject"],
                condition=models.Q(released_at__isnull=True),
                name="order_hold_one_open_per_cause",
            )
        ]
        indexes = [models.Index(fields=["kind", "subject", "released_at"])]

    def __str__(self) -> str:
        return f"{self.order} held: {self.kind} {self.subject}"
