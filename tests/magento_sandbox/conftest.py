"""Fixtures for tests against the Magento sandbox, reusable by any test package.

- `magento_app`: a sandbox Flask app on a fresh SQLite file in tmp_path, Luma catalogue loaded,
  no faults, fixed clock (`MAGENTO_NOW`). Mutate `sandbox_state(magento_app).faults` to inject.
- `magento_client`: an httpx.Client on it through the WSGI transport, base_url
  `http://magento.test/rest`, authenticated with the integration token as Bearer. Every response
  is validated against the Magento 2.4.8 schema (a violation fails the test).
- `seeded_app`: `magento_app` with 60 orders over 30 days (seed 7); `seeded.report` lists which
  orders carry which cause.

Other packages can import `sandbox.magento.testing` (make_app, sandbox_client, bearer_headers,
OAuth1Auth, seed_app) and build the same fixtures.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from sandbox.magento.app import sandbox_state
from sandbox.magento.testing import (
    ValidationLog,
    bearer_headers,
    make_app,
    sandbox_client,
    seed_app,
)

MAGENTO_NOW = datetime(2026, 11, 20, 12, 0, 0)


@pytest.fixture
def magento_clock():
    """A settable clock: `magento_clock.now = datetime(...)` moves the sandbox's time."""

    class Clock:
        now = MAGENTO_NOW

        def __call__(self) -> datetime:
            return self.now

    return Clock()


@pytest.fixture
def magento_app(tmp_path, magento_clock):
    app = make_app(tmp_path, clock=magento_clock)
    yield app
    sandbox_state(app).store.close()


@pytest.fixture
def validation_log():
    return ValidationLog()


@pytest.fixture
def magento_client(magento_app, validation_log):
    with sandbox_client(magento_app, log=validation_log) as client:
        client.headers.update(bearer_headers())
        yield client


@pytest.fixture
def seeded(magento_app):
    """The seed report of 60 orders over 30 days (seed 7) in magento_app."""
    return seed_app(magento_app, orders=60, days=30, seed=7)
