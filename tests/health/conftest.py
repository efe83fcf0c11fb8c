import pytest
from django.core.cache import cache

from integration.connectors.backoff import breakers


@pytest.fixture(autouse=True)
def _fresh_state():
    """Probes and queue depths are cached, breakers are per process: start each test clean."""
    cache.clear()
    breakers.reset_all()
    yield
    cache.clear()
    breakers.reset_all()
