"""Parcels in words: when and how one left, what it holds, as an agent reads it out."""

from __future__ import annotations

from decimal import Decimal

from cx import words
from integration.models import Shipment


def dispatch_words(shipment: Shipment, courier_service: str) -> str:
    """ "dispatched on 24 Nov 2025 with Royal Mail Tracked 24, tracking TT123456785GB"."""
    courier = words.courier_words(shipment.courier, "") or courier_service or "the courier"
    text = f"dispatched on {words.day(shipment.dispatched_at)} with {courier}"
    if shipment.tracking_number:
        text += f", tracking {shipment.tracking_number}"
    return text


def parcel_items(shipment: Shipment, names: dict[str, str]) -> str:
    """What the parcel holds, as the ERP listed it ("1 × Joust Duffle Bag"); "" if unknown."""
    lines = [
        (str(code), Decimal(str(qty)))
        for code, qty in (shipment.payload or {}).get("lines") or []
        if Decimal(str(qty)) > 0
    ]
    return words.items_words(lines, names)


def parcel_words(shipment: Shipment, names: dict[str, str], courier_service: str) -> str:
    """ "Parcel 12 (1 × Joust Duffle Bag): dispatched on 3 Mar 2026 with …, tracking …"."""
    items = parcel_items(shipment, names)
    where = (
        dispatch_words(shipment, courier_service)
        if shipment.dispatched_at is not None
        else words.shipment_state_words(shipment.erp_state)
    )
    return words.sentence(
        f"Parcel {shipment.erp_shipment_id}" + (f" ({items})" if items else "") + f": {where}"
    )
