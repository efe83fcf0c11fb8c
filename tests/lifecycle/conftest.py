"""Fixtures for the order-lifecycle tests: the sync fixtures (Magento sandbox, seeded store,
carrier mappings, a real Tryton) shared with tests/sync."""

from tests.sync.conftest import (  # noqa: F401  (pytest fixtures, found by name)
    _fresh_breakers,
    carrier_mappings,
    magento_app,
    seeded,
    tryton,
    tryton_server,
)
