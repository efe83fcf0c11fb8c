"""The mirror of what Magento and the ERP reported, the mappings between them, and sync runs.

Mirror rows snapshot what the source said (amounts as Decimal, the raw payload kept) so a
later check can compare, and a person can see exactly what arrived.
"""

from django.conf import settings
from django.db import models
from django.db.models import Func, Value
from django.db.models.functions import Concat, Lower, Replace, Upper
from django.utils import timezone

from exceptions_app.models import System

MONEY = {"max_digits": 20, "decimal_places": 4}
QTY = {"max_digits": 14, "decimal_places": 4}


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


class ErpItem(models.Model):
    """An item of the ERP's item master as last read."""

    code = models.CharField(max_length=255, unique=True)
    erp_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True)
    last_seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.code if self.active else f"{self.code} (inactive)"


class MappingAudit(models.Model):
    """Who made a mapping, when, and why."""

    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class SkuMapping(MappingAudit):
    """Magento SKU → ERP item code, for catalogues whose codes differ."""

    magento_sku = models.CharField(max_length=255, unique=True)
    erp_item_code = models.CharField(max_length=255)

    def __str__(self) -> str:
        return f"{self.magento_sku} → {self.erp_item_code}"


class CarrierMapping(MappingAudit):
    """Magento shipping method (`carrier_method`) → courier and service in the ERP."""

    magento_method = models.CharField(max_length=128, unique=True)
    courier = models.CharField(max_length=128, help_text="ERP carrier, e.g. Royal Mail")
    service = models.CharField(max_length=128, help_text="Service, e.g. Tracked 24")
    erp_carrier_id = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.magento_method} → {self.courier} {self.service}"


class MappingTable(models.TextChoices):
    SKU = "sku", "SKU → ERP item"
    CARRIER = "carrier", "Shipping method → courier service"


class MappingSource(models.TextChoices):
    DESK = "desk", "Fixed on the exception desk"
    ADMIN = "admin", "Admin screen"
    IMPORT = "import", "CSV import"


class MappingChange(models.Model):
    """One change to a mapping row: who, when, from where, why, and the row before and after.

    Written by the mapping services only; never updated or deleted by the application.
    """

    table = models.CharField(max_length=16, choices=MappingTable.choices)
    key = models.CharField(max_length=255, help_text="The Magento SKU or shipping method")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=MappingSource.choices)
    note = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["table", "key", "at"])]

    def __str__(self) -> str:
        return f"{self.table} {self.key} @ {self.at:%Y-%m-%d %H:%M}"


class Flow(models.TextChoices):
    ORDERS_IN = "orders_in", "Orders in"
    ORDERS_OUT = "orders_out", "Orders out"
    STOCK = "stock", "Stock out"
    SHIPMENTS = "shipments", "Shipments back"
    FINANCE = "finance", "Finance postings"
    CHECKS = "checks", "Drift checks"
    REFUNDS = "refunds", "Refunds (credit notes)"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Finished with failures"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (another run held the lock)"


class RunErrorKind(models.TextChoices):
    """How a run went wrong, so the health page can say it in words."""

    NONE = "", "—"
    REFUSED = "refused", "The system answered with an error"
    UNREACHABLE = "unreachable", "The system did not answer"
    CIRCUIT_OPEN = "circuit_open", "Calls refused: circuit breaker open"
    RECORDS = "records", "Some records failed"
    BUG = "bug", "The integration raised an unexpected error"


class SyncRun(models.Model):
    """One run of a flow: what it saw and did, and where a failure sat.

    `failed` counts records the run could not handle (with `error` saying why whenever it is
    non-zero); `found` counts what a drift check found, which is neither held nor failed.
    """

    flow = models.CharField(max_length=16, choices=Flow.choices)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    seen = models.PositiveIntegerField(default=0)
    posted = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    found = models.PositiveIntegerField(default=0, help_text="Drift findings (checks)")
    error = models.TextField(blank=True)
    error_system = models.CharField(max_length=16, choices=System.choices, blank=True)
    error_kind = models.CharField(max_length=16, choices=RunErrorKind.choices, blank=True)
    error_status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The HTTP status the failing system answered"
    )

    class Meta:
        indexes = [
            models.Index(fields=["flow", "-started_at"]),
            # The health page's 24-hour and hourly figures read a time range across flows.
            models.Index(fields=["started_at"], name="syncrun_started"),
        ]

    def __str__(self) -> str:
        return f"{self.get_flow_display()} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Watermark(models.Model):
    """How far a pull flow has read, so the next run starts there (minus an overlap)."""

    flow = models.CharField(max_length=16, choices=Flow.choices, unique=True)
    value = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.flow} @ {self.value.isoformat()}"


class QuarantineStatus(models.TextChoices):
    OPEN = "open", "Quarantined"
    CLEARED = "cleared", "Read successfully later"


class QuarantinedWindow(models.Model):
    """A Magento time window whose order list keeps failing; skipped until a retry succeeds."""

    flow = models.CharField(max_length=16, choices=Flow.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=QuarantineStatus.choices, default=QuarantineStatus.OPEN
    )
    attempts = models.PositiveIntegerField(default=1)
    last_error = models.TextField(blank=True)
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "window_start", "window_end"], name="quarantine_window_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.flow} {self.window_start:%Y-%m-%d %H:%M}–{self.window_end:%H:%M}"


class StockLevel(models.Model):
    """Per SKU: what the ERP has available, what Magento was last told, what Magento reports."""

    sku = models.CharField(max_length=255, unique=True, help_text="Magento SKU")
    erp_code = models.CharField(max_length=255, blank=True)
    erp_available = models.DecimalField(**QTY, null=True, blank=True)
    erp_read_at = models.DateTimeField(null=True, blank=True)
    magento_told = models.DecimalField(**QTY, null=True, blank=True)
    told_at = models.DateTimeField(null=True, blank=True)
    magento_reported = models.DecimalField(**QTY, null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.sku}: ERP {self.erp_available} / told {self.magento_told}"


class PushStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent, waiting for Magento"
    DONE = "done", "Applied"
    DEAD = "dead", "Dead-lettered"
    SUPERSEDED = "superseded", "Replaced by a newer quantity"


class StockPush(models.Model):
    """Outbox row: one absolute quantity to tell Magento, with its delivery attempts."""

    sku = models.CharField(max_length=255, db_index=True)
    quantity = models.DecimalField(**QTY)
    status = models.CharField(
        max_length=16, choices=PushStatus.choices, default=PushStatus.PENDING, db_index=True
    )
    bulk_uuid = models.CharField(max_length=64, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.sku} → {self.quantity} ({self.status})"


class Shipment(models.Model):
    """An ERP customer shipment and, once dispatched, the Magento shipment made from it."""

    erp_shipment_id = models.CharField(max_length=64, unique=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    erp_state = models.CharField(max_length=32)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    tracking_number = models.CharField(max_length=128, blank=True)
    courier = models.CharField(max_length=128, blank=True)
    magento_shipment_id = models.CharField(max_length=64, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.order} shipment {self.erp_shipment_id} ({self.erp_state})"


class Invoice(models.Model):
    """An ERP customer invoice for an order, as last read (amounts as the ERP computed them)."""

    erp_invoice_id = models.CharField(max_length=64, unique=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=32)
    invoice_date = models.DateField(null=True, blank=True)
    currency_code = models.CharField(max_length=3)
    untaxed_amount = models.DecimalField(**MONEY)
    tax_amount = models.DecimalField(**MONEY)
    total_amount = models.DecimalField(**MONEY)
    amount_to_pay = models.DecimalField(**MONEY, null=True, blank=True)
    read_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.number or self.erp_invoice_id} {self.total_amount} {self.currency_code}"


class FinanceBatchStatus(models.TextChoices):
    POSTED = "posted", "Posted"
    PARTIAL = "partial", "Posted with failures"


class FinanceBatch(models.Model):
    """One day's Magento payments posted against ERP invoices, for finance to tick off."""

    day = models.DateField(unique=True)
    status = models.CharField(max_length=16, choices=FinanceBatchStatus.choices)
    payments = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(**MONEY, default=0)
    failed = models.PositiveIntegerField(default=0)
    posted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.day}: {self.payments} payments, {self.amount}"


class PaymentPosting(models.Model):
    """A Magento payment recorded against an ERP invoice (once per order: the idempotency key)."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="payment_posting")
    batch = models.ForeignKey(FinanceBatch, on_delete=models.CASCADE, related_name="postings")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="postings")
    amount = models.DecimalField(**MONEY)
    erp_reference = models.CharField(max_length=64, blank=True)
    posted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.order} paid {self.amount}"


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


class FlowLock(models.Model):
    """A lease that lets one run of a flow proceed at a time, across processes and hosts.

    A lease rather than a session lock so a killed worker's lock expires by itself.
    """

    flow = models.CharField(max_length=32, unique=True)
    owner = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.flow} held by {self.owner or 'nobody'}"


class CreditMemoState(models.TextChoices):
    """Magento's sales_creditmemo.state, as words."""

    OPEN = "open", "Open (not refunded yet)"
    REFUNDED = "refunded", "Refunded"
    CANCELED = "canceled", "Cancelled"


class CreditMemoErpStatus(models.TextChoices):
    NEW = "new", "Waiting to be credited in the ERP"
    POSTED = "posted", "Credit note in the ERP"
    FAILED = "failed", "ERP refused the credit note"
    SKIPPED = "skipped", "No ERP sale to credit"


class CreditMemo(models.Model):
    """A Magento credit memo as last pulled (sales-data-creditmemo-interface) and the ERP credit
    note made from it (integration.flows.refunds)."""

    entity_id = models.PositiveBigIntegerField(unique=True)
    increment_id = models.CharField(max_length=50)
    magento_order_id = models.PositiveBigIntegerField(db_index=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="credit_memos"
    )
    state = models.CharField(max_length=16, choices=CreditMemoState.choices)
    online = models.BooleanField(default=False, help_text="Refunded through the payment gateway")
    currency_code = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY, default=0)
    discount_amount = models.DecimalField(**MONEY, default=0)
    tax_amount = models.DecimalField(**MONEY, default=0)
    shipping_amount = models.DecimalField(**MONEY, default=0, help_text="Net of tax")
    shipping_tax_amount = models.DecimalField(**MONEY, default=0)
    adjustment_positive = models.DecimalField(**MONEY, default=0)
    adjustment_negative = models.DecimalField(**MONEY, default=0)
    grand_total = models.DecimalField(**MONEY)
    magento_created_at = models.DateTimeField()
    magento_updated_at = models.DateTimeField(db_index=True)
    payload = models.JSONField(help_text="The credit memo exactly as Magento last sent it")
    erp_status = models.CharField(
        max_length=16,
        choices=CreditMemoErpStatus.choices,
        default=CreditMemoErpStatus.NEW,
        db_index=True,
    )
    erp_reference = models.CharField(max_length=128, blank=True)
    erp_document_id = models.CharField(max_length=64, blank=True, help_text="The return sale")
    erp_number = models.CharField(max_length=64, blank=True, help_text="The credit note")
    erp_total = models.DecimalField(**MONEY, null=True, blank=True)
    erp_returns = models.JSONField(
        default=list, blank=True, help_text="Return shipments the warehouse receives"
    )
    erp_posted_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_pulled_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"credit memo {self.increment_id} ({self.grand_total} {self.currency_code})"

    @property
    def refund_key(self) -> str:
        """The ERP reference: the order and the credit memo, unique across store views."""
        order = self.order.increment_id if self.order else str(self.magento_order_id)
        return f"{order}/CM{self.increment_id}"


class CreditMemoLine(models.Model):
    """One credit memo item with a quantity (Magento lists the order's others with qty 0)."""

    credit_memo = models.ForeignKey(CreditMemo, on_delete=models.CASCADE, related_name="lines")
    order_item_id = models.PositiveBigIntegerField()
    sku = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    qty = models.DecimalField(**QTY)
    price = models.DecimalField(**MONEY, default=0)
    row_total = models.DecimalField(**MONEY, default=0)
    tax_amount = models.DecimalField(**MONEY, default=0)
    discount_amount = models.DecimalField(**MONEY, default=0)
    row_total_incl_tax = models.DecimalField(**MONEY, default=0)
    qty_returned = models.DecimalField(
        **QTY, default=0, help_text="Credited as goods the customer sends back (ERP return)"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credit_memo", "order_item_id"], name="credit_memo_line_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.credit_memo} {self.sku} × {self.qty}"
