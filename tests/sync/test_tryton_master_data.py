"""Master data read from the real Tryton: the whole item master (the desk's item mirror, which
the SKU fix ranks) and the carrier services (what a shipping method can map to)."""

import pytest
from django.core.cache import cache

from exceptions_app.fixers import fixer_for_kind
from integration.connections import connections_override
from tests.factories import DeskExceptionFactory, OrderFactory, OrderHoldFactory

pytestmark = pytest.mark.django_db


def test_tryton_gives_the_whole_item_master_active_or_not(tryton):
    from sandbox.divergence import catalogue_divergence

    items = {item.code: item for item in tryton.items_all()}
    divergence = catalogue_divergence()
    for sku, code in divergence.renamed.items():
        assert code in items and sku not in items
    for sku in divergence.inactive:
        assert items[sku].active is False
    assert not set(divergence.missing) & set(items)


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
