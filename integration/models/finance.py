"""ERP invoices, the daily payment batches, and Magento credit memos with their ERP credit notes."""

from django.db import models
from django.utils import timezone

from integration.models.fields import MONEY, QTY
from integration.models.orders import Order


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
