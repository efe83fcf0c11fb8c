"""Fixtures for the order-lifecycle tests: the sync fixtures (Magento sandbox, seeded store,
carrier mappings, a real Tryton) shared with tests/sync."""

import pytest

from tests.sync.conftest import (  # noqa: F401  (pytest fixtures, found by name)
    _fresh_breakers,
    carrier_mappings,
    magento_app,
    seeded,
    tryton,
    tryton_server,
)


@pytest.fixture
def magento_today(tmp_path):
    """The Magento sandbox on today's clock, for the lifecycle scenarios (tests/lifecycle/
    scenario.py): a books invoice is dated the order's day, inside Tryton's fiscal years."""
    from sandbox.magento.app import sandbox_state
    from tests.lifecycle.scenario import magento_today_app

    app = magento_today_app(tmp_path)
    yield app
    sandbox_state(app).store.close()
