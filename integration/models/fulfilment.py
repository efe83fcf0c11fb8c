"""ERP customer shipments and the Magento shipments made from them."""

from django.db import models

from integration.models.orders import Order


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
