"""A real trytond on loopback for tests, from the cached bootstrap template.

    from sandbox.erp.testing import tryton_server  # a session-scoped pytest fixture

The fixture restores the cached template into a temporary directory (running the full
bootstrap on a cache miss: the template lives under var/cache/ and survives suite runs),
starts `trytond` on a free port and stops it at the end of the session. Tryton always runs
on SQLite here, whatever database the desk's tests use.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.erp.bootstrap import Bootstrapped, ensure_bootstrapped
from sandbox.erp.conf import BASE_DIR, ErpSandbox
from sandbox.erp.rest import TrytonRest
from sandbox.erp.server import TrytonServer, free_port


@dataclass(frozen=True)
class RunningTryton:
    """What a test needs to talk to the ERP exactly as the desk does."""

    base_url: str
    database: str
    api_key: str
    warehouse_api_key: str
    state: dict
    server: TrytonServer
    # The sandbox's var directory (holds tryton/<db>.json): point settings.VAR_DIR here to run
    # the `sandbox warehouse` command against this server.
    var_dir: Path

    def rest(self, *, warehouse: bool = False, base_url: str | None = None) -> TrytonRest:
        key = self.warehouse_api_key if warehouse else self.api_key
        return TrytonRest(base_url or self.base_url, self.database, key)

    def settings(self) -> dict[str, str]:
        """ERP_* values for `settings` overrides in the desk's own tests."""
        return {
            "ERP_BASE_URL": self.base_url,
            "ERP_DATABASE": self.database,
            "ERP_API_KEY": self.api_key,
        }


def cache_dir() -> Path:
    var = Path(os.environ.get("DESK_VAR_DIR") or BASE_DIR / "var")
    return var / "cache"


@contextlib.contextmanager
def running_tryton(rounding: str = "document") -> Iterator[RunningTryton]:
    """Restore the template into a temp dir and run trytond on a free port until exit."""
    with tempfile.TemporaryDirectory(prefix="tryton-test-") as tmp:
        sandbox = ErpSandbox(
            var_dir=Path(tmp),
            rounding=rounding,
            port=free_port(),
            cache_path=cache_dir(),
        )
        booted: Bootstrapped = ensure_bootstrapped(sandbox, log=lambda message: None)
        server = TrytonServer(sandbox, booted.api_key)
        server.start(timeout=90)
        try:
            yield RunningTryton(
                base_url=sandbox.base_url,
                database=sandbox.database,
                api_key=booted.api_key,
                warehouse_api_key=booted.warehouse_api_key,
                state=booted.state,
                server=server,
                var_dir=sandbox.var_dir,
            )
        finally:
            server.stop()


@pytest.fixture(scope="session")
def tryton_server() -> Iterator[RunningTryton]:
    """A real trytond (document VAT rounding) shared by the whole test session."""
    with running_tryton("document") as running:
        yield running
