"""The ERP item mirror and the mappings ops keeps (SKU → item, method → courier), audited."""

from django.conf import settings
from django.db import models
from django.utils import timezone


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
