"""Fault injection in front of the web API (MAGENTO_SANDBOX_FAULTS, or per test)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any

from sandbox.magento.context import SandboxState
from sandbox.magento.errors import MagentoError, internal_error
from sandbox.magento.faults import SimulatedDrop, SimulatedHang
from sandbox.magento.responses import error_response
from sandbox.magento.routing import split_rest_path

FAULT_HEADER = "X-Sandbox-Fault"


class FaultMiddleware:
    """Applies the configured faults before the request reaches the web API."""

    def __init__(self, app: Callable[..., Any], state: SandboxState):
        self.app = app
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable:
        faults = self.state.faults
        path_info = environ.get("PATH_INFO", "")
        split = (
            split_rest_path(path_info.removeprefix("/rest/"))
            if path_info.startswith("/rest/")
            else None
        )
        if not faults.active or split is None or not faults.applies_to(split[2]):
            return self.app(environ, start_response)
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        source_write = environ.get("REQUEST_METHOD") == "POST" and split[2] == (
            "/V1/inventory/source-items"
        )
        outcome = faults.draw(source_items_write=source_write)
        if outcome == "ok":
            return self.app(environ, start_response)
        if outcome == "deadlock":
            environ["magento_sandbox.fault"] = "deadlock"
            return self.app(environ, start_response)
        if outcome == "hang":
            if not self.state.real_server:
                raise SimulatedHang(f"sandbox hang of {faults.hang_s}s")
            time.sleep(faults.hang_s)
            return self.app(environ, start_response)
        if outcome == "drop":
            if not self.state.real_server:
                raise SimulatedDrop("sandbox dropped the connection")
            return self._drop(start_response)
        return error_response(self._error(outcome))(environ, start_response)

    def _error(self, outcome: str) -> MagentoError:
        faults = self.state.faults
        if outcome == "429":
            if faults.retry_after == "http-date":
                retry_after = formatdate(time.time() + faults.retry_after_s, usegmt=True)
            else:
                retry_after = str(faults.retry_after_s)
            return MagentoError("Too Many Requests", status=429,
                                headers={"Retry-After": retry_after, FAULT_HEADER: "429"},
                                extra={"trace": None})  # fmt: skip
        if outcome == "503":
            return MagentoError("Service Unavailable", status=503,
                                headers={"Retry-After": str(faults.retry_after_s),
                                         FAULT_HEADER: "503"})  # fmt: skip
        exc = internal_error()
        exc.headers[FAULT_HEADER] = "500"
        return exc

    @staticmethod
    def _drop(start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", "4096"),
                       (FAULT_HEADER, "drop")]
        )  # fmt: skip
        yield b'{"items":['
        # Raising after the headers went out makes waitress close the socket mid-body.
        raise SimulatedDrop("sandbox dropped the connection")
