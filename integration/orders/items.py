"""The ErpItem mirror, refreshed from what the ERP just said about the items orders need."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from integration.connectors.erp import ErpItemInfo
from integration.models import ErpItem

# How stale an unchanged item's `last_seen_at` may get before a read refreshes it: every
# batch of orders reads the same items again, and rewriting them all each time was most of
# the cost of building a batch's context.
ITEM_SEEN_RESOLUTION = timedelta(minutes=1)


def erp_items_record(infos: Iterable[ErpItemInfo]) -> None:
    """Mirror ERP items as just read (code, id, name, active; `last_seen_at` to the minute).

    Only new or changed items are written as rows; unchanged ones just have a stale
    `last_seen_at` moved on, in one UPDATE.
    """
    infos = list(infos)
    if not infos:
        return
    now = timezone.now()
    known = {
        code: ((erp_id, name, active), seen)
        for code, erp_id, name, active, seen in ErpItem.objects.filter(
            code__in=[i.code for i in infos]
        ).values_list("code", "erp_id", "name", "active", "last_seen_at")
    }
    changed, stale = [], []
    for info in infos:
        current = known.get(info.code)
        if current is None or current[0] != (info.erp_id, info.name[:255], info.active):
            changed.append(info)
        elif current[1] < now - ITEM_SEEN_RESOLUTION:
            stale.append(info.code)
    if changed:
        ErpItem.objects.bulk_create(
            [
                ErpItem(
                    code=i.code,
                    erp_id=i.erp_id,
                    name=i.name[:255],
                    active=i.active,
                    last_seen_at=now,
                )
                for i in changed
            ],
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["erp_id", "name", "active", "last_seen_at"],
            batch_size=1000,
        )
    if stale:
        ErpItem.objects.filter(code__in=stale).update(last_seen_at=now)
