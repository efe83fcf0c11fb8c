"""Fixtures for the sync engine: the Magento sandbox in-process, a seeded scenario, clients."""

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integration.connectors.backoff import CircuitBreaker, RetryPolicy, breakers
from integration.connectors.magento.client import BearerAuth, MagentoClient
from integration.models import CarrierMapping

DEMO_CARRIERS = (
    Path(__file__).resolve().parents[2] / "integration/fixtures/demo_carrier_mappings.csv"
)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def magento_for(app, *, attempts=6, sleeps=None, breaker=None, page_size=50):
    from sandbox.magento.auth import Credentials
    from sandbox.magento.testing import sandbox_transport

    return MagentoClient(
        base_url="http://magento.test",
        auth=BearerAuth(Credentials().access_token),
        transport=sandbox_transport(app),
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.001, max_delay=0.01, max_total=600),
        breaker=breaker or CircuitBreaker("magento-test", threshold=1000),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        page_size=page_size,
    )


@pytest.fixture(autouse=True)
def _fresh_breakers():
    breakers.reset_all()
    yield
    breakers.reset_all()


@pytest.fixture
def carrier_mappings(db):
    with DEMO_CARRIERS.open() as handle:
        for row in csv.DictReader(handle):
            CarrierMapping.objects.create(**row)


@pytest.fixture
def magento_app(tmp_path):
    from sandbox.magento.testing import make_app

    return make_app(tmp_path, clock=lambda: NOW.replace(tzinfo=None))


@pytest.fixture
def seeded(magento_app):
    """200 orders over 10 days with every Magento-side cause; the seed's report says which."""
    from sandbox.magento.testing import seed_app

    report = seed_app(magento_app, orders=200, days=10, seed=7)
    return magento_app, report


from sandbox.erp.testing import tryton_server  # noqa: E402,F401  (session fixture: a real trytond)


@pytest.fixture
def tryton(tryton_server):  # noqa: F811
    from integration.connectors.tryton.client import TrytonAdapter

    adapter = TrytonAdapter(
        base_url=tryton_server.base_url,
        database=tryton_server.database,
        api_key=tryton_server.api_key,
        breaker=CircuitBreaker("erp-test", threshold=1000),
        policy=RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.2, max_total=60),
    )
    yield adapter
    adapter.close()
