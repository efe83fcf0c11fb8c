"""Test tooling for the Magento sandbox: in-process transport, clients, app factories.

Reusable from any test module (the pytest fixtures in tests/magento_sandbox/conftest.py are thin
wrappers around these):

    app = make_app(tmp_path)                          # fresh db, Luma catalogue loaded
    client = sandbox_client(app)                      # httpx.Client, base_url http://magento.test/rest
    client.get("/V1/orders", params={...}, headers=bearer_headers())

Every response that passes through `sandbox_client(..., validate=True)` is validated against
the Magento 2.4.8 schema (sandbox/magento/data/schema/), so conformance covers every test
that uses the client, not a chosen few. Violations raise `SchemaViolation` (conformance.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from flask import Flask
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from oauthlib.oauth1 import Client as OAuthClient

from sandbox.magento.app import create_app, sandbox_state
from sandbox.magento.auth import Credentials
from sandbox.magento.conformance import validate_response
from sandbox.magento.faults import Faults, SimulatedDrop, SimulatedHang

BASE_URL = "http://magento.test/rest"
EXAMPLES_DIR = Path(__file__).resolve().parent / "data" / "examples"


# --- transport ---------------------------------------------------------------------------------


class SandboxTransport(httpx.WSGITransport):
    """httpx's WSGI transport, with the sandbox's simulated network faults surfaced the way a
    real socket would: a hang becomes httpx.ReadTimeout (at once: no test waits for it), a
    dropped connection becomes httpx.RemoteProtocolError."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = super().handle_request(request)
            response.read()
            return response
        except SimulatedHang as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except SimulatedDrop as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc


def sandbox_transport(app: Flask) -> httpx.WSGITransport:
    return SandboxTransport(app=app)


# --- auth helpers ------------------------------------------------------------------------------


def bearer_headers(credentials: Credentials | None = None) -> dict[str, str]:
    """Integration access token as Bearer (sandbox default allows it)."""
    creds = credentials or Credentials.from_env()
    return {"Authorization": f"Bearer {creds.access_token}"}


class OAuth1Auth(httpx.Auth):
    """Signs each request with OAuth 1.0a HMAC-SHA256, as a Magento integration must."""

    def __init__(self, credentials: Credentials | None = None):
        creds = credentials or Credentials.from_env()
        self._client = OAuthClient(
            creds.consumer_key,
            client_secret=creds.consumer_secret,
            resource_owner_key=creds.access_token,
            resource_owner_secret=creds.access_token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
        )

    def auth_flow(self, request: httpx.Request):
        _, headers, _ = self._client.sign(str(request.url), http_method=request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


# --- app and client factories ------------------------------------------------------------------


@dataclass
class ValidationLog:
    """Counts of validated responses, so a test can prove the hook ran."""

    validated: int = 0
    responses: list[tuple[str, str, int]] = field(default_factory=list)


def make_app(
    tmp_path: Path | str,
    *,
    faults: Faults | None = None,
    clock: Callable[[], datetime] | None = None,
    **kwargs: Any,
) -> Flask:
    """A sandbox on a fresh database file in `tmp_path`, catalogue loaded, no env faults."""
    db = Path(tmp_path) / "magento-sandbox.sqlite3"
    return create_app(
        str(db),
        faults=faults if faults is not None else Faults(),
        credentials=kwargs.pop("credentials", Credentials()),
        clock=clock,
        **kwargs,
    )


def sandbox_client(
    app: Flask,
    *,
    validate: bool = True,
    log: ValidationLog | None = None,
    auth: httpx.Auth | None = None,
    timeout: float = 5.0,
) -> httpx.Client:
    """An httpx.Client on the app through the WSGI transport, base_url http://magento.test/rest.
    With `validate`, every response is checked against the 2.4.8 schema (SchemaViolation)."""

    def hook(response: httpx.Response) -> None:
        response.read()
        validate_response(response)
        if log is not None:
            log.validated += 1
            log.responses.append(
                (response.request.method, response.request.url.path, response.status_code)
            )

    return httpx.Client(
        transport=sandbox_transport(app),
        base_url=BASE_URL,
        auth=auth,
        timeout=timeout,
        event_hooks={"response": [hook]} if validate else {},
    )


def seed_app(app: Flask, **kwargs: Any) -> Any:
    """Seed orders into an app's database (see sandbox.magento.seed.seed_orders)."""
    from sandbox.magento.seed import seed_orders

    state = sandbox_state(app)
    return seed_orders(state.store, now=state.now(), **kwargs)


def load_example(name: str) -> Any:
    return json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
