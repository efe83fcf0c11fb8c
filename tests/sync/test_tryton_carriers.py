"""The ERP's carrier services, read from the real Tryton: what a shipping method can map to
(the carrier fix's suggestion draws on them)."""

import pytest
from django.core.cache import cache

from exceptions_app.fixers import fixer_for_kind
from integration.connections import connections_override
from tests.factories import DeskExceptionFactory, OrderFactory, OrderHoldFactory

pytestmark = pytest.mark.django_db


def test_tryton_lists_its_carrier_services_with_their_courier(tryton):
    services = {s.code: s for s in tryton.carrier_services()}
    assert set(services) >= {"RM-TPN24", "RM-TPS48", "DPD-1^12", "EVRI-HOME"}
    assert services["DPD-1^12"].name == "DPD Next Day"
    assert services["DPD-1^12"].courier == "DPD Group UK Ltd"


def test_the_carrier_suggestion_comes_from_the_real_erp(tryton_server, tryton):
    from integration.connectors.tryton.client import TrytonAdapter

    cache.clear()
    exception = DeskExceptionFactory(
        kind="carrier_unmapped", subject="matrixrate_matrixrate_12", sku="", system="integration"
    )
    order = OrderFactory(shipping_description="Select Shipping Method - Next Day Courier")
    OrderHoldFactory(order=order, kind="carrier_unmapped", subject="matrixrate_matrixrate_12")

    def real_erp():
        return TrytonAdapter(
            base_url=tryton_server.base_url,
            database=tryton_server.database,
            api_key=tryton_server.api_key,
        )

    with connections_override(erp=real_erp):
        best = fixer_for_kind("carrier_unmapped").suggestions(exception)[0]
    assert best.data == {"courier": "DPD", "service": "Next Day", "erp_carrier_id": "DPD-1^12"}
