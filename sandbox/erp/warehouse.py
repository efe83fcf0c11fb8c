"""The warehouse stand-in: picks, packs and dispatches waiting customer shipments in Tryton.

A warehouse without a scanner still has to ship. This does what the warehouse staff would do
in Tryton, over the REST API with the warehouse user's own key: reserve stock (assign), pick,
pack into a parcel carrying the carrier's tracking number, and mark the shipment done (which
sets its effective date, the dispatch date the desk reports to Magento).

With `part`, each shipment goes out incomplete, as when one item is short on the shelf: the
picker takes its last line only in part (half its units, or none of a single unit) and Tryton,
processing the sale, puts what was left behind in a new shipment that a later run dispatches.
Returns (`receive_returns`) are customers' parcels arriving back: received and put into stock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.erp.rest import TrytonRest

OPEN_STATES = ["waiting", "assigned", "picked", "packed"]


@dataclass(frozen=True)
class Dispatch:
    shipment_id: int
    number: str
    origins: str
    carrier: str
    tracking: str
    held_back: str = ""  # what stayed on the shelf for a later shipment (`part`)


@dataclass(frozen=True)
class Received:
    shipment_id: int
    number: str
    lines: tuple[tuple[str, float], ...]  # (item code, quantity) back in stock


@dataclass(frozen=True)
class Skipped:
    shipment_id: int
    number: str
    reason: str


def _s10_check_digit(serial: str) -> str:
    """UPU S10 check digit, as on Royal Mail tracked items (TT123456785GB)."""
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return "0" if check == 10 else "5" if check == 11 else str(check)


def tracking_number(carrier_code: str, shipment_id: int) -> str:
    """A tracking number in the carrier's own format, deterministic per shipment."""
    digits = str(int(hashlib.sha256(f"track:{shipment_id}".encode()).hexdigest(), 16))
    if carrier_code in {"RM-TPN24", "RM-TPS48"}:
        serial = digits[:8]
        prefix = "TT" if carrier_code == "RM-TPN24" else "TS"
        return f"{prefix}{serial}{_s10_check_digit(serial)}GB"
    if carrier_code.startswith("DPD"):
        return "1550" + digits[:10]  # DPD UK parcel numbers: 14 digits
    if carrier_code.startswith("EVRI"):
        return "H01" + digits[:13]  # Evri barcodes: 16 characters starting with H
    raise ValueError(f"no tracking number format for carrier product {carrier_code!r}")


def ship(
    rest: TrytonRest, limit: int, *, part: bool = False, log: Callable[[str], None] = print
) -> list[Dispatch]:
    """Dispatch up to `limit` open customer shipments, oldest first; return what shipped.

    A shipment whose stock cannot be reserved is left waiting (and reported), as a real
    warehouse would leave an order it cannot fill on the shelf. With `part`, each goes out
    incomplete and the rest follows in a shipment of its own (a shipment of a single unit
    cannot be split and is left for a later run).
    """
    if limit < 1:
        raise ValueError(f"--ship must be at least 1; got {limit}")
    (package_type,) = rest.search("stock.package.type", [["name", "=", "Parcel"]], ["id"])
    # Only what was waiting when the run began: the rest of a shipment sent in part is for a
    # later run, not split again in this one.
    newest = rest.search(
        "stock.shipment.out", [["state", "in", OPEN_STATES]], ["id"], order=[["id", "DESC"]],
        limit=1,
    )  # fmt: skip
    if not newest:
        return []
    ceiling = newest[0]["id"]
    dispatched: list[Dispatch] = []
    offset = 0
    while len(dispatched) < limit:
        batch = rest.search(
            "stock.shipment.out",
            [["state", "in", OPEN_STATES], ["id", "<=", ceiling]],
            ["number", "state", "origins", "carrier.carrier_product.code"],
            order=[["id", "ASC"]],
            limit=limit,
            offset=offset,
        )
        if not batch:
            break
        for shipment in batch:
            if len(dispatched) >= limit:
                break
            result = _dispatch_one(rest, shipment, package_type["id"], part=part)
            if isinstance(result, Skipped):
                offset += 1
                log(f"skipped shipment {result.number}: {result.reason}")
            else:
                dispatched.append(result)
                log(
                    f"shipped {result.number} ({result.origins}) via {result.carrier} "
                    f"tracking {result.tracking}"
                    + (
                        f"; {result.held_back} left for a later shipment"
                        if result.held_back
                        else ""
                    )
                )
    return dispatched


def _hold_back(rest: TrytonRest, shipment_id: int) -> str | None:
    """Pick the shipment's last line only in part; None when there is nothing to split."""
    row = rest.read("stock.shipment.out", shipment_id, ["inventory_moves", "outgoing_moves"])
    ids = row["inventory_moves"] or row["outgoing_moves"]
    moves = rest.search(
        "stock.move", [["id", "in", ids]], ["quantity", "product.code"], order=[["id", "ASC"]]
    )
    if sum(m["quantity"] for m in moves) < 2:
        return None
    last = moves[-1]
    kept = last["quantity"] // 2 if last["quantity"] >= 2 else 0
    rest.write("stock.move", last["id"], {"quantity": kept})
    return f"{last['quantity'] - kept:g} x {last['product']['code']}"


def _dispatch_one(
    rest: TrytonRest, shipment: dict, package_type: int, *, part: bool = False
) -> Dispatch | Skipped:
    model = "stock.shipment.out"
    sid = shipment["id"]
    state = shipment["state"]
    carrier = shipment.get("carrier") or {}
    carrier_code = (carrier.get("carrier_product") or {}).get("code") or ""
    if not carrier_code:
        # Tryton refuses to pack a shipment with no carrier (a warning the warehouse would have
        # to override); a real warehouse asks the office which courier to book.
        return Skipped(sid, shipment["number"], "no carrier on the shipment")
    held = ""
    if part:
        if state != "waiting":
            return Skipped(sid, shipment["number"], "already being picked in full")
        held = _hold_back(rest, sid) or ""
        if not held:
            return Skipped(sid, shipment["number"], "a single unit cannot go out in part")
    if state == "waiting":
        state = rest.action(model, sid, "assign_try", ["state"])["state"]
        if state == "waiting":
            return Skipped(sid, shipment["number"], "not enough stock to reserve")
    if state == "assigned":
        state = rest.action(model, sid, "pick", ["state"])["state"]
    tracking = tracking_number(carrier_code, sid)
    if state == "picked":
        moves = rest.read(model, sid, ["outgoing_moves", "packages"])
        if not moves["packages"]:
            rest.create(
                "stock.package",
                {
                    "type": package_type,
                    "shipment": f"{model},{sid}",
                    "moves": [["add", moves["outgoing_moves"]]],
                    "shipping_reference": tracking,
                },
            )
        rest.action(model, sid, "pack")
    rest.write(model, sid, {"shipping_reference": tracking})
    done = rest.action(model, sid, "do", ["state", "effective_date", "shipping_reference"])
    return Dispatch(
        shipment_id=sid,
        number=shipment["number"],
        origins=shipment.get("origins") or "",
        carrier=carrier_code,
        tracking=done["shipping_reference"],
        held_back=held,
    )


def receive_returns(
    rest: TrytonRest, limit: int, *, log: Callable[[str], None] = print
) -> list[Received]:
    """Receive up to `limit` customer returns (oldest first) and put the goods into stock."""
    if limit < 1:
        raise ValueError(f"--receive-returns must be at least 1; got {limit}")
    model = "stock.shipment.out.return"
    received = []
    for shipment in rest.search(
        model,
        [["state", "in", ["draft", "received"]]],
        ["number", "state", "incoming_moves.product.code", "incoming_moves.quantity"],
        order=[["id", "ASC"]],
        limit=limit,
    ):
        if shipment["state"] == "draft":
            rest.action(model, shipment["id"], "receive")
        rest.action(model, shipment["id"], "do")
        lines = tuple(
            ((m.get("product") or {}).get("code") or "", m["quantity"])
            for m in shipment.get("incoming_moves") or []
            if m.get("quantity")
        )
        received.append(Received(shipment["id"], shipment["number"], lines))
        log(f"received return {shipment['number']}: " + ", ".join(f"{q:g} x {c}" for c, q in lines))
    return received


def order_shipments(rest: TrytonRest, reference: str) -> list[dict]:
    """The customer shipments of the sale carrying this Magento reference (read with the desk's
    key: the warehouse user sees shipments, not sales)."""
    sales = rest.search("sale.sale", [["reference", "=", reference]], ["shipments"])
    ids = [s if isinstance(s, int) else s["id"] for sale in sales for s in sale["shipments"]]
    if not ids:
        return []
    return rest.search(
        "stock.shipment.out",
        [["id", "in", ids]],
        ["number", "state", "origins", "carrier.carrier_product.code"],
        order=[["id", "ASC"]],
    )


def pick_and_pack(rest: TrytonRest, shipment: dict) -> str:
    """Reserve, pick and pack one shipment into its labelled parcel, and stop there (the courier
    has not collected it); returns the shipment's state. A shipment short of stock stays
    waiting."""
    model = "stock.shipment.out"
    sid = shipment["id"]
    state = shipment["state"]
    if state == "waiting":
        state = rest.action(model, sid, "assign_try", ["state"])["state"]
    if state == "assigned":
        state = rest.action(model, sid, "pick", ["state"])["state"]
    if state == "picked":
        carrier = (shipment.get("carrier") or {}).get("carrier_product") or {}
        (package_type,) = rest.search("stock.package.type", [["name", "=", "Parcel"]], ["id"])
        moves = rest.read(model, sid, ["outgoing_moves", "packages"])
        if not moves["packages"]:
            rest.create(
                "stock.package",
                {
                    "type": package_type["id"],
                    "shipment": f"{model},{sid}",
                    "moves": [["add", moves["outgoing_moves"]]],
                    "shipping_reference": tracking_number(carrier.get("code") or "", sid),
                },
            )
        state = rest.action(model, sid, "pack", ["state"])["state"]
    return state
