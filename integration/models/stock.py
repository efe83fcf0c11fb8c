"""Stock levels per SKU and the stock push outbox."""

from django.db import models
from django.utils import timezone

from integration.models.fields import QTY


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
