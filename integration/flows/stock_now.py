"""Stock pushed now, for one SKU or a few: the replays of stock_drift and stock_push_failed,
and the re-push after a refund.

A replay goes through Magento's synchronous source-items endpoint (the async queue's delay
would hide whether the push took effect) and reads Magento back at once; the read-back is
judged by the stock flow's own `stock_drift_check`, so a push Magento accepts without effect
stays drift and the replay is not confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integration.bulk_sql import chunked
from integration.connectors.erp import ErpAdapter
from integration.connectors.magento.client import MagentoClient
from integration.flows.stock import stock_drift_check
from integration.models import PushStatus, SkuMapping, StockLevel, StockPush

# Magento's array limit for a synchronous call when input limits are on (CONTRACT §7).
SYNC_SAVE_CHUNK = 20


def stock_levels_repush(*, skus: list[str]) -> int:
    """Forget what Magento was told for `skus`, so the next stock run sends the ERP's figure
    again (after a refund put goods back in Magento's own stock, which the ERP overrules)."""
    changed = 0
    for chunk in chunked(sorted(set(skus))):
        changed += StockLevel.objects.filter(sku__in=chunk).update(magento_told=None, told_at=None)
    return changed


@dataclass(frozen=True)
class PushNow:
    """A push of the ERP's figures made now, and what Magento reported back afterwards."""

    told: dict[str, Decimal]  # Magento SKU -> the ERP quantity sent
    reported: dict[str, Decimal]  # Magento SKU -> what Magento now says
    unknown: tuple[str, ...]  # SKUs the ERP has no goods item for (nothing sent)

    @property
    def differing(self) -> list[str]:
        tolerance = Decimal(settings.SYNC_STOCK_TOLERANCE)
        return sorted(
            sku
            for sku, quantity in self.told.items()
            if sku not in self.reported or abs(self.reported[sku] - quantity) > tolerance
        )

    @property
    def confirmed(self) -> bool:
        return not self.unknown and not self.differing and bool(self.told)


def stock_push_now(*, magento: MagentoClient, erp: ErpAdapter, skus: list[str]) -> PushNow:
    """Send the ERP's current figure for `skus` to Magento now and read Magento back.

    The read-back is recorded and judged like the flow's own (stock_drift raised or resolved),
    so a push Magento accepts without effect stays drift.
    """
    mapped = dict(SkuMapping.objects.filter(magento_sku__in=skus).values_list(
        "magento_sku", "erp_item_code"
    ))  # fmt: skip
    code_of = {sku: mapped.get(sku, sku) for sku in dict.fromkeys(skus)}
    available = erp.availability(sorted(set(code_of.values())))
    told = {sku: available[code] for sku, code in code_of.items() if code in available}
    items = [
        {
            "sku": sku,
            "source_code": settings.MAGENTO_SOURCE_CODE,
            "quantity": float(quantity),
            "status": 1 if quantity > 0 else 0,
        }
        for sku, quantity in told.items()
    ]
    for start in range(0, len(items), SYNC_SAVE_CHUNK):
        magento.source_items_save(items[start : start + SYNC_SAVE_CHUNK])
    now = timezone.now()
    with transaction.atomic():
        for sku, quantity in told.items():
            StockLevel.objects.update_or_create(
                sku=sku,
                defaults={
                    "erp_code": code_of[sku],
                    "erp_available": quantity,
                    "erp_read_at": now,
                    "magento_told": quantity,
                    "told_at": now,
                },
            )
    reported = {
        item["sku"]: Decimal(str(item.get("quantity") or 0))
        for item in (
            magento.source_items(list(told), source_code=settings.MAGENTO_SOURCE_CODE)
            if told
            else []
        )
    }
    stock_drift_check(skus=list(told), reported=reported)
    return PushNow(told, reported, tuple(s for s in code_of if s not in told))


def stock_dead_settle(*, skus: list[str], note: str) -> int:
    """Dead-lettered pushes of `skus` are settled: their SKUs were re-sent and confirmed."""
    return StockPush.objects.filter(sku__in=skus, status=PushStatus.DEAD).update(
        status=PushStatus.SUPERSEDED, last_error=note[:2000], settled_at=timezone.now()
    )
