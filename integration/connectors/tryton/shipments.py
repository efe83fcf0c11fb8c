"""Customer shipments in Tryton, each tied back to the reference of the sale it ships."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from integration.connectors.erp import ErpCarrierService, ErpShipment
from integration.connectors.tryton.codec import dec, record_id
from integration.connectors.tryton.transport import TrytonTransport, chunks

SHIPMENT_FIELDS = (
    "number",
    "state",
    "effective_date",
    "shipping_reference",
    "carrier.carrier_product.name",
    "write_date",
    "outgoing_moves.product.code",
    "outgoing_moves.quantity",
    "outgoing_moves.state",
)


class TrytonShipments:
    def __init__(self, tryton: TrytonTransport) -> None:
        self.tryton = tryton

    def _shipments(self, rows: list[dict]) -> list[ErpShipment]:
        if not rows:
            return []
        reference_of: dict[int, str] = {}
        for chunk in chunks([r["id"] for r in rows]):
            for sale in self.tryton.search(
                "sale.sale", [["shipments", "in", chunk]], ["reference", "shipments"]
            ):
                for shipment in sale.get("shipments") or []:
                    reference_of[record_id(shipment)] = sale.get("reference") or ""
        out = []
        for r in rows:
            carrier = r.get("carrier") or {}
            product = carrier.get("carrier_product") if isinstance(carrier, dict) else None
            # What actually leaves in this parcel: a line picked as nothing (the rest of the order
            # follows in another shipment) or a cancelled move carries no goods.
            lines = tuple(
                ((m.get("product") or {}).get("code") or "", dec(m.get("quantity")))
                for m in r.get("outgoing_moves") or []
                if isinstance(m, dict) and m.get("state") != "cancelled" and dec(m.get("quantity"))
            )
            write = r.get("write_date")
            out.append(
                ErpShipment(
                    erp_id=str(r["id"]),
                    sale_reference=reference_of.get(r["id"], ""),
                    state=r.get("state") or "",
                    effective_date=r.get("effective_date"),
                    tracking_number=r.get("shipping_reference") or "",
                    courier=(product or {}).get("name") or "",
                    # Tryton's timestamps are UTC without a zone.
                    updated_at=write.replace(tzinfo=UTC) if isinstance(write, datetime) else None,
                    lines=lines,
                )
            )
        return out

    def shipments_done_since(self, since: datetime | None) -> list[ErpShipment]:
        domain: list = [["state", "=", "done"]]
        if since is not None:
            domain.append(["effective_date", ">=", since.date()])
        return self._shipments(self.tryton.search("stock.shipment.out", domain, SHIPMENT_FIELDS))

    def shipments_for_references(self, references: Sequence[str]) -> list[ErpShipment]:
        ids: list[int] = []
        for chunk in chunks(sorted(set(references))):
            for sale in self.tryton.search(
                "sale.sale", [["reference", "in", chunk]], ["shipments"]
            ):
                ids += [record_id(s) for s in sale.get("shipments") or []]
        rows: list[dict] = []
        for chunk in chunks(ids):
            rows += self.tryton.search("stock.shipment.out", [["id", "in", chunk]], SHIPMENT_FIELDS)
        return self._shipments(rows)

    def carrier_services(self) -> list[ErpCarrierService]:
        rows = self.tryton.search(
            "carrier", [], ["party.name", "carrier_product.code", "carrier_product.name"]
        )
        services = []
        for row in rows:
            product = row.get("carrier_product") or {}
            party = row.get("party") or {}
            if isinstance(product, dict) and product.get("code"):
                services.append(
                    ErpCarrierService(
                        code=product["code"],
                        name=product.get("name") or product["code"],
                        courier=party.get("name", "") if isinstance(party, dict) else "",
                    )
                )
        return services
