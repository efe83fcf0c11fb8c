"""History at go-live: orders Magento had already shipped or closed when the desk first saw them.

Such an order was fulfilled outside the desk, so it never goes to the warehouse. Depending on
`SYNC_HISTORY_POSTING` it is posted to the ERP for the books only (a sale with no warehouse
shipment whose invoice is posted, so month-end reconciliation has it) or recorded and left out
of the ERP. Its Magento shipments (date and tracks) are read once, for the CX page.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from exceptions_app.models import LIVE_STATUSES, DeskException, ExceptionKind, System
from exceptions_app.services import exception_auto_resolve, exception_raise
from integration.bulk_sql import chunked
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.erp import ErpAdapter, ErpRejected
from integration.connectors.magento.client import MagentoClient
from integration.connectors.magento.criteria import SearchCriteria
from integration.models import Order, OrderErpStatus
from integration.orders.payload import decimal_of, erp_status_for, magento_time

# Magento states that mean the order needs nothing more from a warehouse.
HISTORY_STATES = frozenset({"complete", "closed"})
# Magento shipment lists read per call (order_id `in`).
SHIPMENT_CHUNK = 100


class HistoryPosting(StrEnum):
    BOOKS = "books"  # an ERP sale for the books only: invoiced, never shipped
    NONE = "none"  # recorded as history; nothing in the ERP


def history_posting() -> HistoryPosting:
    return HistoryPosting(settings.SYNC_HISTORY_POSTING)


def shipped_in_magento(payload: dict) -> bool:
    """Any item Magento has shipped (a shipment exists), virtual items aside."""
    return any(
        decimal_of(item.get("qty_shipped")) > 0
        for item in payload.get("items") or []
        if not item.get("is_virtual")
    )


def fulfilled_in_magento(fields: dict) -> bool:
    """Complete, closed or (part) shipped in Magento: someone other than the desk fulfilled it."""
    return fields["state"] in HISTORY_STATES or shipped_in_magento(fields["payload"])


def first_sight(fields: dict) -> tuple[OrderErpStatus, bool]:
    """(erp_status, fulfilled_outside) of an order the desk sees for the first time."""
    if not fulfilled_in_magento(fields):
        return erp_status_for(fields), False
    if history_posting() == HistoryPosting.BOOKS:
        return OrderErpStatus.NEW, True
    return OrderErpStatus.HISTORY, True


def _tracks(shipments: Sequence[dict]) -> list[dict]:
    tracks = []
    for shipment in shipments:
        for track in shipment.get("tracks") or []:
            number = str(track.get("track_number") or "").strip()
            if number:
                tracks.append({"number": number, "title": str(track.get("title") or "")})
    return tracks


def history_shipments_read(*, magento: MagentoClient, limit: int = 1000) -> int:
    """Read Magento's shipments (date, tracks) of history orders not read yet; returns how many.

    A history order with no shipment in Magento (closed before it shipped) is recorded with no
    tracks, so it is not asked for again.
    """
    pending = list(
        Order.objects.filter(fulfilled_outside=True, magento_tracks__isnull=True)
        .order_by("pk")
        .values_list("pk", "entity_id")[:limit]
    )
    done = 0
    for chunk in chunked(pending, SHIPMENT_CHUNK):
        by_entity = {entity_id: pk for pk, entity_id in chunk}
        criteria = SearchCriteria().where("order_id", list(by_entity), "in")
        shipments: dict[int, list[dict]] = {entity_id: [] for entity_id in by_entity}
        for shipment in magento.search("shipments", criteria):
            entity_id = int(shipment.get("order_id") or 0)
            if entity_id in shipments:
                shipments[entity_id].append(shipment)
        for entity_id, found in shipments.items():
            found.sort(key=lambda s: s.get("created_at") or "")
            shipped_at = magento_time(found[-1].get("created_at")) if found else None
            Order.objects.filter(pk=by_entity[entity_id]).update(
                magento_shipped_at=shipped_at, magento_tracks=_tracks(found)
            )
            done += 1
    return done


def books_close(
    *, erp: ErpAdapter, limit: int = 100
) -> tuple[int, list[tuple[str, ErpRejected | ConnectorError]]]:
    """Post the invoices of books-only sales (dated the day Magento took the order); returns
    (closed, [(order, error)]). The pass stops at a sale the ERP has not processed yet (its
    invoice does not exist) and takes it up again on the next run.

    A refusal (no open fiscal period for that date, or a later invoice already numbered in
    the sequence) is one `order_post_failed` exception on the order carrying the ERP's words,
    for finance to decide; an unreachable ERP stops the pass.
    """
    refused = DeskException.objects.filter(
        kind=ExceptionKind.ORDER_POST_FAILED, status__in=LIVE_STATUSES
    ).values("subject")
    orders = list(
        Order.objects.filter(
            erp_status=OrderErpStatus.POSTED, fulfilled_outside=True, erp_books_closed_at=None
        )
        # One the ERP refused waits for finance (a replay of its exception lets it try again).
        .exclude(increment_id__in=refused)
        .only("pk", "increment_id", "magento_created_at", "grand_total", "currency_code")
        # Oldest first: an ERP numbers invoices in date order and refuses one dated before
        # the last it numbered (Tryton does), so history is invoiced as it happened.
        .order_by("magento_created_at", "pk")[:limit]
    )
    closed = 0
    failed: list[tuple[str, ErpRejected | ConnectorError]] = []
    for order in orders:
        try:
            done = erp.sale_books_close(
                order.increment_id, invoice_date=order.magento_created_at.date()
            )
        except CircuitOpenError:
            raise
        except (ErpRejected, ConnectorError) as exc:
            failed.append((order.increment_id, exc))
            if isinstance(exc, ConnectorError) and exc.retryable:
                break  # the next run tries again, from this order on
            exception_raise(
                kind=ExceptionKind.ORDER_POST_FAILED,
                subject=order.increment_id,
                message=(
                    f"The ERP refused to post the invoice of history order "
                    f"{order.increment_id} (a sale for the books only): {exc}"
                ),
                system=System.ERP,
                order_increment_id=order.increment_id,
                evidence={"error": str(exc), "books_only": True},
                amount=order.grand_total,
                currency=order.currency_code,
            )
            continue
        if not done:
            # Not processed by the ERP yet: stop here, so no later invoice is numbered first.
            break
        Order.objects.filter(pk=order.pk).update(erp_books_closed_at=timezone.now())
        exception_auto_resolve(
            kind=ExceptionKind.ORDER_POST_FAILED,
            subject=order.increment_id,
            note=f"The books invoice of order {order.increment_id} is posted.",
        )
        closed += 1
    return closed, failed
