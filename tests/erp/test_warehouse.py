"""The warehouse stand-in dispatches waiting shipments with carrier tracking numbers."""

import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from sandbox.erp.warehouse import _s10_check_digit, ship, tracking_number
from tests.erp.conftest import TODAY, confirm_sale, create_sale

ROYAL_MAIL = re.compile(r"^T[TS]\d{9}GB$")


def test_tracking_numbers_follow_the_carriers_formats():
    assert _s10_check_digit("12345678") == "5"  # the UPU S10 example, EE123456785GB
    with pytest.raises(ValueError, match="no tracking number format"):
        tracking_number("VAN", 7)
    assert ROYAL_MAIL.match(tracking_number("RM-TPN24", 7))
    assert tracking_number("RM-TPS48", 7).startswith("TS")
    assert re.match(r"^1550\d{10}$", tracking_number("DPD-1^12", 7))
    assert re.match(r"^H01\d{13}$", tracking_number("EVRI-HOME", 7))
    assert tracking_number("RM-TPN24", 7) != tracking_number("RM-TPN24", 8)


def _open_shipments(erp):
    return erp.search(
        "stock.shipment.out",
        [["state", "in", ["waiting", "assigned", "picked", "packed"]]],
        ["id"],
    )


def test_ship_dispatches_waiting_shipments_with_tracking(erp, warehouse_rest):
    # Dispatch whatever earlier tests left open, so this test counts only its own shipments.
    ship(warehouse_rest, 50, log=lambda message: None)
    sales = [
        create_sale(
            erp, [("24-MB01", 1, Decimal("28.33"))], reference=f"00000020{n}", carrier_code=code
        )
        for n, code in enumerate(["RM-TPN24", "DPD-1^12", "EVRI-HOME"])
    ]
    shipment_ids = [confirm_sale(erp, s["id"])["shipments"][0] for s in sales]

    shipped = ship(warehouse_rest, 2, log=lambda message: None)
    assert [d.shipment_id for d in shipped] == shipment_ids[:2]
    still_open = {o["id"] for o in _open_shipments(erp)}
    assert shipment_ids[2] in still_open
    assert not still_open & set(shipment_ids[:2])

    for dispatch in shipped:
        shipment = erp.read(
            "stock.shipment.out",
            dispatch.shipment_id,
            ["state", "effective_date", "shipping_reference", "packages.shipping_reference"],
        )
        assert shipment["state"] == "done"
        assert shipment["effective_date"] == TODAY
        assert shipment["shipping_reference"] == dispatch.tracking
        assert [p["shipping_reference"] for p in shipment["packages"]] == [dispatch.tracking]
    assert ROYAL_MAIL.match(shipped[0].tracking)
    assert shipped[1].tracking.startswith("1550")

    sale = erp.read("sale.sale", sales[0]["id"], ["shipment_state"])
    assert sale["shipment_state"] == "sent"


def test_warehouse_command_ships_and_reports(erp, tryton_server, capsys):
    sale = create_sale(
        erp, [("24-MB01", 1, Decimal("28.33"))], reference="000000300", carrier_code="RM-TPS48"
    )
    (shipment_id,) = confirm_sale(erp, sale["id"])["shipments"]
    with override_settings(VAR_DIR=tryton_server.var_dir):
        call_command("sandbox", "warehouse", "--ship", "5", "--base-url", tryton_server.base_url)
    out = capsys.readouterr().out
    assert re.search(r"tracking TS\d{9}GB", out)
    assert "dispatched" in out
    assert erp.read("stock.shipment.out", shipment_id, ["state"])["state"] == "done"


def test_warehouse_leaves_a_shipment_it_cannot_fill(erp, warehouse_rest):
    ship(warehouse_rest, 50, log=lambda message: None)
    (product,) = erp.search(
        "product.product",
        [["code", "=", "24-MB01"]],
        ["quantity"],
        context={"locations": [tryton_server_warehouse(erp)]},
    )
    too_many = int(product["quantity"]) + 1000
    sale = create_sale(
        erp,
        [("24-MB01", too_many, Decimal("1.00"))],
        reference="000000301",
        carrier_code="EVRI-HOME",
    )
    (shipment_id,) = confirm_sale(erp, sale["id"])["shipments"]
    no_carrier = create_sale(erp, [("24-MB01", 1, Decimal("1.00"))], reference="000000302")
    (no_carrier_shipment,) = confirm_sale(erp, no_carrier["id"])["shipments"]
    messages = []
    assert ship(warehouse_rest, 1, log=messages.append) == []
    number = erp.read("stock.shipment.out", shipment_id, ["number"])["number"]
    no_carrier_number = erp.read("stock.shipment.out", no_carrier_shipment, ["number"])["number"]
    assert f"skipped shipment {number}: not enough stock to reserve" in messages
    assert f"skipped shipment {no_carrier_number}: no carrier on the shipment" in messages
    assert erp.read("stock.shipment.out", shipment_id, ["state"])["state"] == "waiting"


def tryton_server_warehouse(erp) -> int:
    (warehouse,) = erp.search("stock.location", [["code", "=", "WH"]], ["id"])
    return warehouse["id"]


def test_warehouse_refuses_nonsense(warehouse_rest, tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        ship(warehouse_rest, 0)
    with override_settings(VAR_DIR=tmp_path), pytest.raises(CommandError, match="erp-bootstrap"):
        call_command("sandbox", "warehouse", "--ship", "1")
