"""`manage.py sandbox warehouse --ship N --part` sends a shipment out in part and leaves the rest
in a new ERP shipment; `--receive-returns N` takes customer returns into stock."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from integration.connectors.erp import SaleLineRequest, SaleRequest

pytestmark = pytest.mark.django_db


def test_the_warehouse_ships_part_now_and_the_rest_waits_in_a_new_shipment(
    tryton, tryton_server, capsys
):
    reference = f"PART-{uuid.uuid4().hex[:8]}"
    tryton.sale_create(
        SaleRequest(
            reference=reference,
            currency="GBP",
            sale_date=date.today(),
            customer_name="Ann Lee",
            customer_email=f"{reference.lower()}@example.com",
            telephone="01234 567890",
            company="",
            street=("1 High Street",),
            city="Rugby",
            region="",
            postcode="CV21 1DZ",
            country="GB",
            carrier="RM-TPN24",
            shipping_amount=Decimal(0),
            lines=(SaleLineRequest("24-MB04", Decimal(4), Decimal("26.6667"), "24-MB04"),),
        )  # fmt: skip
    )
    with override_settings(VAR_DIR=tryton_server.var_dir):
        call_command(
            "sandbox", "warehouse", "--ship", "50", "--part", "--base-url", tryton_server.base_url
        )
        out = capsys.readouterr().out
        assert "2 x 24-MB04 left for a later shipment" in out
        (first, rest) = sorted(
            tryton.shipments_for_references([reference]), key=lambda s: int(s.erp_id)
        )
        assert (first.state, first.lines) == ("done", (("24-MB04", Decimal(2)),))
        assert (rest.state, rest.lines) == ("waiting", (("24-MB04", Decimal(2)),))
        call_command("sandbox", "warehouse", "--receive-returns", "1",
                     "--base-url", tryton_server.base_url)  # fmt: skip
        assert "received" in capsys.readouterr().out
        with pytest.raises(CommandError, match="say what to do"):
            call_command("sandbox", "warehouse", "--base-url", tryton_server.base_url)
