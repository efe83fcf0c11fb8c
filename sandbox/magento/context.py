"""What a sandbox app carries (store, faults, credentials, settings, clock) and what a route
handler is given (the request's Ctx)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.magento import bulk
from sandbox.magento.auth import USER_TYPE_ADMIN, Credentials, Principal
from sandbox.magento.clock import timestamp, utcnow
from sandbox.magento.errors import NO_ROUTE, MagentoError
from sandbox.magento.faults import Faults
from sandbox.magento.orders.pricing import TaxBasis
from sandbox.magento.routing import match
from sandbox.magento.store import Store


@dataclass
class Settings:
    """Store configuration the sandbox models (env MAGENTO_SANDBOX_*)."""

    # Magento's default "Tax Calculation Method Based On" is Total.
    tax_basis: TaxBasis = TaxBasis.TOTAL_BASE
    # webapi/validation/input_limit_enabled: default page size 20, maximum 300.
    input_limits: bool = False
    async_mode: str = "next-request"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            tax_basis=TaxBasis(os.environ.get("MAGENTO_SANDBOX_TAX_BASIS", "TOTAL_BASE")),
            input_limits=os.environ.get("MAGENTO_SANDBOX_INPUT_LIMITS", "0") == "1",
            async_mode=os.environ.get("MAGENTO_SANDBOX_ASYNC_MODE", "next-request"),
        )


@dataclass
class SandboxState:
    store: Store
    faults: Faults
    credentials: Credentials
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    real_server: bool = False
    requests_seen: int = field(default=0)

    def now(self) -> datetime:
        return self.clock()

    def consume(self) -> int:
        """Run the queued async operations (Magento's async.operations.all consumer)."""
        return bulk.consume(self.store, self._run_operation)

    def _run_operation(self, method: str, path: str, body: Any) -> Any:
        found = match(method, path)
        if found is None:
            raise MagentoError(NO_ROUTE, status=404)
        route, params = found
        ctx = Ctx(self, method, path, [], body, Principal(USER_TYPE_ADMIN, 1), fault=None)
        return route.handler(ctx, **params)


@dataclass
class Ctx:
    state: SandboxState
    method: str
    path: str
    args: list[tuple[str, str]]
    body: Any
    principal: Principal
    fault: str | None

    @property
    def store(self) -> Store:
        return self.state.store

    def stamp(self) -> str:
        return timestamp(self.state.now())
