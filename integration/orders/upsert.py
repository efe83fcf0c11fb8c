"""The order mirror's write path: a page of Magento orders upserted set-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from integration.bulk_sql import rows_insert
from integration.models import Order, OrderAddress, OrderErpStatus, OrderLine
from integration.orders.history import first_sight
from integration.orders.payload import address_rows, line_rows, order_fields


@dataclass
class UpsertCounts:
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


# Columns an upsert rewrites on an order already mirrored (everything Magento owns; not our
# erp_* bookkeeping, not first_seen_at).
_UPSERT_FIELDS = [*order_fields({"increment_id": ""}).keys(), "last_pulled_at"]


def _latest_by_entity(payloads: Sequence[dict]) -> dict[int, dict]:
    """The newest snapshot of each order in the page (a page may repeat an order)."""
    latest: dict[int, dict] = {}
    for payload in payloads:
        entity_id = int(payload["entity_id"])
        previous = latest.get(entity_id)
        if previous is None or (payload.get("updated_at") or "") >= (
            previous.get("updated_at") or ""
        ):
            latest[entity_id] = payload
    return latest


@transaction.atomic
def orders_upsert(*, payloads: Sequence[dict]) -> UpsertCounts:
    """Upsert a page of Magento orders by entity_id, set-based (a handful of queries a page).

    An older snapshot never overwrites a newer one; an address the desk corrected is kept; an
    order the desk already held, posted or failed keeps that status.
    """
    counts = UpsertCounts(seen=len(payloads))
    latest = _latest_by_entity(payloads)
    # Existing rows without their payloads: decoding a stored payload costs as much as the
    # pull itself, and only a row whose timestamp did not move needs it (the overlap window
    # re-reads those; an identical payload is skipped without a write).
    existing = {
        entity_id: (pk, updated_at)
        for entity_id, pk, updated_at in Order.objects.filter(
            entity_id__in=list(latest)
        ).values_list("entity_id", "pk", "magento_updated_at")
    }
    now = timezone.now()
    rows: dict[int, tuple[dict, dict]] = {}
    same_time: dict[int, int] = {}
    for entity_id, payload in latest.items():
        fields = order_fields(payload)
        current = existing.get(entity_id)
        if current is not None:
            if fields["magento_updated_at"] < current[1]:
                counts.unchanged += 1
                continue
            if fields["magento_updated_at"] == current[1]:
                same_time[current[0]] = entity_id
        rows[entity_id] = (payload, fields)
    if same_time:
        for pk, stored in Order.objects.filter(pk__in=list(same_time)).values_list("pk", "payload"):
            if stored == rows[same_time[pk]][0]:
                del rows[same_time[pk]]
                counts.unchanged += 1

    created = [entity_id for entity_id in rows if entity_id not in existing]
    updated = {entity_id: existing[entity_id][0] for entity_id in rows if entity_id in existing}
    if created:
        # A plain insert: a row another writer created meanwhile is an error, not overwritten.
        new_rows = []
        for entity_id in created:
            fields = rows[entity_id][1]
            # Shipped or closed in Magento before the desk saw it: history, never warehoused.
            status, outside = first_sight(fields)
            new_rows.append(
                {
                    **fields,
                    "entity_id": entity_id,
                    "first_seen_at": now,
                    "last_pulled_at": now,
                    "erp_status": status,
                    "fulfilled_outside": outside,
                }
            )
        rows_insert(Order, new_rows)
    if updated:
        _orders_update(updated, rows, now)
    counts.created, counts.updated = len(created), len(updated)
    if not rows:
        return counts

    ids = dict(updated)
    if created:
        ids.update(Order.objects.filter(entity_id__in=created).values_list("entity_id", "pk"))
    _children_replace(ids, rows, replacing=bool(updated))
    return counts


def _orders_update(pks: dict[int, int], rows: dict[int, tuple[dict, dict]], now) -> None:
    """Rewrite the Magento-owned columns of orders already mirrored (entity_id -> pk)."""
    # One INSERT .. ON CONFLICT DO UPDATE per 500 rows; bulk_update's CASE per column and
    # row costs far more. The rows exist, so this only ever takes the update branch.
    Order.objects.bulk_create(
        [
            Order(pk=pk, entity_id=entity_id, last_pulled_at=now, **rows[entity_id][1])
            for entity_id, pk in pks.items()
        ],
        update_conflicts=True,
        unique_fields=["entity_id"],
        update_fields=_UPSERT_FIELDS,
        batch_size=500,
    )
    # Only new/skipped move between each other (paid, or cancelled since); the filter on
    # the current status keeps a status orders-out set meanwhile (held, posted, failed), and
    # a history order keeps what its first sight decided. A skipped order that comes back
    # shipped by Magento (paid and shipped between two pulls) is history, not the warehouse's.
    wants_new, wants_skip, shipped = [], [], []
    for entity_id, pk in pks.items():
        status, outside = first_sight(rows[entity_id][1])
        if outside:
            shipped.append((pk, status))
        else:
            (wants_new if status == OrderErpStatus.NEW else wants_skip).append(pk)
    Order.objects.filter(pk__in=wants_new, erp_status=OrderErpStatus.SKIPPED).update(
        erp_status=OrderErpStatus.NEW
    )
    Order.objects.filter(
        pk__in=wants_skip, erp_status=OrderErpStatus.NEW, fulfilled_outside=False
    ).update(erp_status=OrderErpStatus.SKIPPED)
    for status in {status for _pk, status in shipped}:
        Order.objects.filter(
            pk__in=[pk for pk, s in shipped if s == status],
            erp_status__in=[OrderErpStatus.SKIPPED, OrderErpStatus.NEW],
            fulfilled_outside=False,
        ).update(erp_status=status, fulfilled_outside=True)


def _children_replace(
    ids: dict[int, int], rows: dict[int, tuple[dict, dict]], *, replacing: bool
) -> None:
    """Write the lines and addresses of the upserted orders (entity_id -> pk), replacing the
    previous snapshot's; an address the desk corrected stays as corrected."""
    touched = list(ids.values())
    if replacing:
        OrderLine.objects.filter(order_id__in=touched).delete()
    rows_insert(
        OrderLine,
        [line for entity_id, pk in ids.items() for line in line_rows(pk, rows[entity_id][0])],
    )
    corrected: set[tuple[int, str]] = set()
    if replacing:
        corrected = set(
            OrderAddress.objects.filter(
                order_id__in=touched, corrected_at__isnull=False
            ).values_list("order_id", "address_type")
        )
        OrderAddress.objects.filter(order_id__in=touched, corrected_at__isnull=True).delete()
    rows_insert(
        OrderAddress,
        [
            address
            for entity_id, pk in ids.items()
            for address in address_rows(pk, rows[entity_id][0])
            if (pk, address["address_type"]) not in corrected
        ],
    )
