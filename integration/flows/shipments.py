"""Shipments back: ERP customer shipments whose dispatch is confirmed become Magento shipments.

Never before dispatch (only `done` shipments are read), and once: a shipment already pushed is
skipped, and before creating one the order's Magento shipments are searched for the same
tracking number, so a push whose answer was lost is recognised instead of repeated.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from integration.carriers import track_carrier_code
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.erp import ErpAdapter, ErpShipment
from integration.connectors.magento.client import MagentoClient
from integration.flows.runs import flow_run
from integration.locks import Lease
from integration.models import Flow, Order, Shipment, SyncRun, Watermark

# The ERP shipment state that means dispatch is confirmed.
DISPATCHED = "done"
# ERP dates have day resolution; re-read a little so a late-confirmed shipment is not missed.
OVERLAP = timedelta(days=2)


def _dispatched_at(shipment: ErpShipment) -> datetime | None:
    if shipment.updated_at is not None:
        return shipment.updated_at
    if shipment.effective_date is not None:
        return datetime.combine(shipment.effective_date, time(12, 0), tzinfo=UTC)
    return None


def shipment_record(*, order: Order, shipment: ErpShipment) -> Shipment:
    row, _ = Shipment.objects.update_or_create(
        erp_shipment_id=shipment.erp_id,
        defaults={
            "order": order,
            "erp_state": shipment.state,
            "dispatched_at": _dispatched_at(shipment) if shipment.state == DISPATCHED else None,
            "tracking_number": shipment.tracking_number,
            "courier": shipment.courier,
            "payload": {
                "sale_reference": shipment.sale_reference,
                "effective_date": shipment.effective_date.isoformat()
                if shipment.effective_date
                else None,
                "lines": [[code, str(qty)] for code, qty in shipment.lines],
            },
        },
    )
    return row


def _tracks_of(magento_shipment: dict) -> set[str]:
    return {str(t.get("track_number") or "") for t in magento_shipment.get("tracks") or []}


def shipment_push(*, magento: MagentoClient, shipment: Shipment) -> str:
    """Create the Magento shipment with its track, or recognise the one already there."""
    if shipment.magento_shipment_id:
        return shipment.magento_shipment_id
    order = shipment.order
    existing = magento.shipments_for_order(order.entity_id)
    match = next(
        (
            s
            for s in existing
            if shipment.tracking_number and shipment.tracking_number in _tracks_of(s)
        ),
        None,
    )
    if match is not None:
        magento_id = str(match.get("entity_id"))
    else:
        tracks = []
        if shipment.tracking_number:
            tracks.append(
                {
                    "track_number": shipment.tracking_number,
                    "title": shipment.courier or "Courier",
                    "carrier_code": track_carrier_code(shipment.courier),
                }
            )
        magento_id = str(magento.order_ship(order.entity_id, items=[], tracks=tracks, notify=True))
    shipment.magento_shipment_id = magento_id
    shipment.pushed_at = timezone.now()
    shipment.save(update_fields=["magento_shipment_id", "pushed_at"])
    return magento_id


def shipments_run(*, magento: MagentoClient, erp: ErpAdapter) -> SyncRun:
    """One shipments run (skipped if another is in progress)."""

    def body(run: SyncRun, lease: Lease) -> None:
        mark = Watermark.objects.filter(flow=Flow.SHIPMENTS).first()
        since = mark.value - OVERLAP if mark else None
        shipments = erp.shipments_done_since(since)
        orders = {
            o.increment_id: o
            for o in Order.objects.filter(increment_id__in={s.sale_reference for s in shipments})
        }
        newest = None
        for shipment in shipments:
            if shipment.state != DISPATCHED:
                continue  # belt and braces: never push before dispatch
            run.seen += 1
            order = orders.get(shipment.sale_reference)
            if order is None:
                run.failed += 1
                continue
            row = shipment_record(order=order, shipment=shipment)
            if row.magento_shipment_id:
                continue
            try:
                shipment_push(magento=magento, shipment=row)
            except CircuitOpenError:
                raise
            except ConnectorError as exc:
                run.failed += 1
                run.error = f"order {order.increment_id}: {exc}"[:4000]
                continue
            run.posted += 1
            when = _dispatched_at(shipment)
            if when is not None:
                newest = when if newest is None else max(newest, when)
        if newest is not None and (mark is None or newest > mark.value):
            Watermark.objects.update_or_create(flow=Flow.SHIPMENTS, defaults={"value": newest})

    return flow_run(Flow.SHIPMENTS, body)
