"""Shipments back: ERP customer shipments whose dispatch is confirmed become Magento shipments.

Never before dispatch (only `done` shipments are read), and once: a shipment already pushed is
skipped, and before creating one the order's Magento shipments are searched for the same
tracking number, so a push whose answer was lost is recognised instead of repeated.

An order the warehouse ships in several parcels (part now, the rest when stock arrives) is
several ERP shipments: each becomes its own Magento shipment naming only its own items and its
own track. Magento is never told more than it still has to ship of an item (ordered, less
shipped, refunded and cancelled, read from Magento at the time): what the ERP shipped beyond
that is left out and reported on the run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from exceptions_app.models import System
from integration.carriers import track_carrier_code
from integration.connectors.backoff import CircuitOpenError, ConnectorError
from integration.connectors.erp import ErpAdapter, ErpShipment
from integration.connectors.magento.client import MagentoClient
from integration.flows.runs import flow_run, run_record_failure
from integration.locks import Lease
from integration.models import Flow, Order, Shipment, SkuMapping, SyncRun, Watermark
from integration.orders.payload import decimal_of

# The ERP shipment state that means dispatch is confirmed.
DISPATCHED = "done"
# ERP dates have day resolution; re-read a little so a late-confirmed shipment is not missed.
OVERLAP = timedelta(days=2)
ZERO = Decimal(0)


class NothingToTell(Exception):  # noqa: N818
    """The ERP shipment holds nothing Magento still expects: no Magento shipment is made."""


@dataclass(frozen=True)
class Told:
    """A Magento shipment made (or found) for an ERP shipment, and what was left out of it."""

    magento_shipment_id: str
    created: bool
    left_out: tuple[tuple[str, Decimal], ...] = field(default_factory=tuple)  # (item code, qty)


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


def shipment_lines(shipment: Shipment) -> list[tuple[str, Decimal]]:
    """The (ERP item code, quantity) the parcel carries, as the ERP listed them."""
    lines = (shipment.payload or {}).get("lines") or []
    return [(str(code), Decimal(str(qty))) for code, qty in lines if Decimal(str(qty)) > 0]


def _open_items(magento_order: dict) -> dict[str, list[list]]:
    """Per Magento SKU, the order items a shipment names, with what each has left to ship.

    A configurable's child ships through its parent (which carries the child's SKU); a
    bundle ships as its children.
    """
    items = magento_order.get("items") or []
    by_id = {item.get("item_id"): item for item in items}
    open_items: dict[str, list[list]] = defaultdict(list)
    for item in items:
        parent = by_id.get(item.get("parent_item_id"))
        if item.get("is_virtual") or item.get("product_type") == "bundle":
            continue
        if parent is not None and parent.get("product_type") == "configurable":
            continue
        left = (
            decimal_of(item.get("qty_ordered"))
            - decimal_of(item.get("qty_shipped"))
            - decimal_of(item.get("qty_refunded"))
            - decimal_of(item.get("qty_canceled"))
        )
        open_items[item.get("sku") or ""].append([int(item["item_id"]), max(left, ZERO)])
    return open_items


def magento_items_for(
    lines: list[tuple[str, Decimal]], magento_order: dict
) -> tuple[list[dict], list[tuple[str, Decimal]]]:
    """The Magento shipment items for an ERP shipment's lines, and what does not fit.

    Each line goes to the order items of its SKU (through the SKU mapping) up to what each
    still has to ship; the rest of a line is left out, never told.
    """
    skus_of: dict[str, list[str]] = defaultdict(list)
    for sku, code in SkuMapping.objects.values_list("magento_sku", "erp_item_code"):
        skus_of[code].append(sku)
    open_items = _open_items(magento_order)
    shipped: dict[int, Decimal] = defaultdict(Decimal)
    left_out = []
    for code, quantity in lines:
        need = quantity
        for sku in [*skus_of.get(code, []), code]:
            for entry in open_items.get(sku, []):
                take = min(need, entry[1])
                if take > 0:
                    shipped[entry[0]] += take
                    entry[1] -= take
                    need -= take
        if need > 0:
            left_out.append((code, need))
    items = [{"order_item_id": item_id, "qty": float(qty)} for item_id, qty in shipped.items()]
    return items, left_out


def _tracks_of(magento_shipment: dict) -> set[str]:
    return {str(t.get("track_number") or "") for t in magento_shipment.get("tracks") or []}


def _quantities_of(magento_shipment: dict) -> dict[int, float]:
    return {
        int(i["order_item_id"]): float(i.get("qty") or 0)
        for i in magento_shipment.get("items") or []
        if float(i.get("qty") or 0)
    }


def _recognised(shipment: Shipment, existing: list[dict], items: list[dict] | None) -> dict | None:
    """The Magento shipment already made for this parcel: same track, or (no track) the same
    items, among those no other parcel of the order has claimed."""
    claimed = set(
        Shipment.objects.filter(order=shipment.order)
        .exclude(pk=shipment.pk)
        .exclude(magento_shipment_id="")
        .values_list("magento_shipment_id", flat=True)
    )
    free = [s for s in existing if str(s.get("entity_id")) not in claimed]
    if shipment.tracking_number:
        return next((s for s in free if shipment.tracking_number in _tracks_of(s)), None)
    if items:
        wanted = {i["order_item_id"]: i["qty"] for i in items}
        return next((s for s in free if _quantities_of(s) == wanted), None)
    return None


def shipment_push(*, magento: MagentoClient, shipment: Shipment) -> Told:
    """Create the Magento shipment for one ERP parcel (its items, its track), or recognise the
    one already there. Raises NothingToTell when Magento expects none of its goods."""
    if shipment.magento_shipment_id:
        return Told(shipment.magento_shipment_id, created=False)
    order = shipment.order
    lines = shipment_lines(shipment)
    items: list[dict] | None = None
    left_out: list[tuple[str, Decimal]] = []
    if lines:
        items, left_out = magento_items_for(lines, magento.order(order.entity_id))
    existing = magento.shipments_for_order(order.entity_id)
    match = _recognised(shipment, existing, items)
    if match is not None:
        magento_id, created = str(match.get("entity_id")), False
    else:
        if items is not None and not items:
            raise NothingToTell(
                "Magento has nothing left to ship of "
                + ", ".join(f"{qty} × {code}" for code, qty in lines)
                + " (refunded, cancelled or already shipped)"
            )
        tracks = []
        if shipment.tracking_number:
            tracks.append(
                {
                    "track_number": shipment.tracking_number,
                    "title": shipment.courier or "Courier",
                    "carrier_code": track_carrier_code(shipment.courier),
                }
            )
        # No lines from the ERP (an adapter that lists none): Magento ships what is left.
        magento_id = str(
            magento.order_ship(order.entity_id, items=items or [], tracks=tracks, notify=True)
        )
        created = True
    shipment.magento_shipment_id = magento_id
    shipment.pushed_at = timezone.now()
    shipment.save(update_fields=["magento_shipment_id", "pushed_at"])
    return Told(magento_id, created=created, left_out=tuple(left_out))


def left_out_words(order: Order, shipment: Shipment, told: Told) -> str:
    return (
        f"order {order.increment_id} parcel {shipment.erp_shipment_id}: the ERP shipped "
        + ", ".join(f"{qty} × {code}" for code, qty in told.left_out)
        + " that Magento no longer expects (refunded or cancelled); Magento was told of the rest"
    )


def _parcels_record(erp: ErpAdapter, orders: dict[str, Order], references: set[str]) -> None:
    """Record the other ERP shipments of orders that just had a parcel dispatched: an order the
    warehouse ships in part has the rest waiting in a shipment of its own."""
    for chunk_start in range(0, len(references), 200):
        chunk = sorted(references)[chunk_start : chunk_start + 200]
        for shipment in erp.shipments_for_references(chunk):
            order = orders.get(shipment.sale_reference)
            if order is not None and shipment.state != DISPATCHED:
                shipment_record(order=order, shipment=shipment)


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
        touched: set[str] = set()
        for shipment in shipments:
            if shipment.state != DISPATCHED:
                continue  # belt and braces: never push before dispatch
            run.seen += 1
            order = orders.get(shipment.sale_reference)
            if order is None:
                run_record_failure(
                    run,
                    subject=f"ERP shipment {shipment.erp_id}",
                    error=f"no Magento order {shipment.sale_reference or '(no reference)'}",
                    system=System.ERP,
                )
                continue
            row = shipment_record(order=order, shipment=shipment)
            if row.magento_shipment_id:
                continue
            try:
                told = shipment_push(magento=magento, shipment=row)
            except CircuitOpenError:
                raise
            except ConnectorError as exc:
                run_record_failure(run, subject=f"order {order.increment_id}", error=exc)
                continue
            except NothingToTell as exc:
                run_record_failure(
                    run, subject=f"order {order.increment_id}", error=str(exc), system=System.ERP
                )
                continue
            run.posted += 1
            if told.left_out:
                run_record_failure(
                    run,
                    subject=f"order {order.increment_id}",
                    error=left_out_words(order, row, told),
                    system=System.ERP,
                )
            touched.add(order.increment_id)
            when = _dispatched_at(shipment)
            if when is not None:
                newest = when if newest is None else max(newest, when)
        _parcels_record(erp, orders, touched)
        if newest is not None and (mark is None or newest > mark.value):
            Watermark.objects.update_or_create(flow=Flow.SHIPMENTS, defaults={"value": newest})

    return flow_run(Flow.SHIPMENTS, body)


@dataclass(frozen=True)
class TellCheck:
    """What Magento confirmed after being told of an order's parcels."""

    problems: tuple[str, ...]  # what is still not confirmed (none: every parcel is there)
    notes: tuple[str, ...]  # goods left out because Magento no longer expects them
    parcels: int

    @property
    def confirmed(self) -> bool:
        return not self.problems


def shipments_tell_order(*, magento: MagentoClient, erp: ErpAdapter, order: Order) -> TellCheck:
    """Tell Magento now of every parcel of `order` the ERP has dispatched, then read Magento's
    shipments back: confirmed only when Magento has each parcel, with its track."""
    for shipment in erp.shipments_for_references([order.increment_id]):
        shipment_record(order=order, shipment=shipment)
    dispatched = list(order.shipments.filter(dispatched_at__isnull=False).order_by("pk"))
    if not dispatched:
        return TellCheck(
            (f"the ERP has no dispatched shipment for order {order.increment_id}",), (), 0
        )
    problems, notes = [], []
    for row in dispatched:
        if row.magento_shipment_id:
            continue
        try:
            told = shipment_push(magento=magento, shipment=row)
        except CircuitOpenError:
            raise
        except (ConnectorError, NothingToTell) as exc:
            problems.append(f"parcel {row.erp_shipment_id}: {exc}")
            continue
        if told.left_out:
            notes.append(left_out_words(order, row, told))
    in_magento = {str(s.get("entity_id")): s for s in magento.shipments_for_order(order.entity_id)}
    for row in dispatched:
        row.refresh_from_db(fields=["magento_shipment_id"])
        found = in_magento.get(row.magento_shipment_id) if row.magento_shipment_id else None
        if found is None:
            problems.append(f"Magento has no shipment for parcel {row.erp_shipment_id}")
        elif row.tracking_number and row.tracking_number not in _tracks_of(found):
            problems.append(
                f"Magento's shipment {row.magento_shipment_id} lacks tracking {row.tracking_number}"
            )
    return TellCheck(tuple(dict.fromkeys(problems)), tuple(notes), len(dispatched))
