"""Test tooling for the Magento sandbox: in-process transport, clients, schema conformance.

Reusable from any test module (the pytest fixtures in tests/magento_sandbox/conftest.py are thin
wrappers around these):

    app = make_app(tmp_path)                          # fresh db, Luma catalogue loaded
    client = sandbox_client(app)                      # httpx.Client, base_url http://magento.test/rest
    client.get("/V1/orders", params={...}, headers=bearer_headers())

Every response that passes through `sandbox_client(..., validate=True)` is validated against
the Magento 2.4.8 schema (sandbox/magento/data/schema/), so conformance covers every test
that uses the client, not a chosen few. Violations raise `SchemaViolation`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from flask import Flask
from jsonschema import Draft4Validator
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from oauthlib.oauth1 import Client as OAuthClient

from sandbox.magento.app import create_app, sandbox_state
from sandbox.magento.auth import Credentials
from sandbox.magento.faults import Faults, SimulatedDrop, SimulatedHang
from sandbox.magento.middleware import FAULT_HEADER
from sandbox.magento.routing import split_rest_path
from sandbox.magento.schema import SCHEMA_PATH

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


# --- schema conformance ------------------------------------------------------------------------


class SchemaViolation(AssertionError):
    pass


def _loosen(node: Any) -> Any:
    """Swagger 2.0 cannot say nullable, and Magento answers null in typed fields: accept null
    for every typed value; `custom_attributes[].value` is Magento's anyType."""
    if isinstance(node, list):
        return [_loosen(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: _loosen(v)
        for k, v in node.items()
        if not (k in ("description", "example") and not isinstance(v, dict))
    }
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    # A $ref accepts null through its definition's own loosened "type".
    return out


@cache
def _schema() -> dict[str, Any]:
    raw = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    definitions = _loosen(raw["definitions"])
    # custom attribute values are anyType
    framework = definitions.get("framework-attribute-interface")
    if framework:
        framework["properties"]["value"] = {}
    # The schema calls error `parameters` an array of items, but Magento renders named
    # placeholders as an object ({"fieldName": ...}) and positional ones as a list of scalars
    # (Webapi/Rest/Response.php, error_catalogue.json).
    definitions["error-parameters"] = {"type": ["array", "object", "null"]}
    return {"paths": raw["paths"], "definitions": definitions}


@cache
def _path_templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in _schema()["paths"]:
        regex = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template.rstrip("/")) + "/?$"
        out.append((re.compile(regex), template))
    # literal segments before parameters (e.g. /V1/orders/items before /V1/orders/{id})
    out.sort(key=lambda pair: pair[1].count("{"))
    return out


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The schema the 2.4.8 spec gives for this operation's status (or `default`)."""
    for regex, template in _path_templates():
        if regex.match(path):
            operation = _schema()["paths"][template].get(method.lower())
            if not operation:
                return None
            responses = operation.get("responses", {})
            spec = responses.get(str(status)) or (
                responses.get("default") if status >= 400 else None
            )
            if spec is None:
                return None
            return spec.get("schema")
    return None


def validate_against(schema: dict[str, Any], data: Any, *, partial: bool = False) -> list[str]:
    """Validation errors of `data` against a (loosened) schema fragment. Properties the 2.4.8
    definition does not have are rejected, so the sandbox cannot invent fields; `partial`
    (a `fields=` response) drops the required lists."""
    validator = _validator(json.dumps(schema, sort_keys=True), partial)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(data)
    ]


@cache
def _validator(schema_json: str, partial: bool) -> Draft4Validator:
    definitions = _partial_definitions() if partial else _closed_definitions()
    return Draft4Validator({"definitions": definitions, **_loosen(json.loads(schema_json))})


@cache
def _partial_definitions() -> dict[str, Any]:
    partial = json.loads(json.dumps(_closed_definitions()))
    for definition in partial.values():
        definition.pop("required", None)
    return partial


@cache
def _closed_definitions() -> dict[str, Any]:
    closed = json.loads(json.dumps(_schema()["definitions"]))
    for definition in closed.values():
        if definition.get("properties"):
            definition["additionalProperties"] = False
    return closed


def validate_response(response: httpx.Response) -> None:
    """Raise SchemaViolation if a sandbox response does not match Magento 2.4.8's schema."""
    if FAULT_HEADER in response.headers:
        return  # injected transport faults are not web API responses
    split = split_rest_path(response.request.url.path.removeprefix("/rest/"))
    if split is None:
        return
    _, mode, path = split
    if response.status_code == 202 and mode != "sync":
        errors = validate_against(_ASYNC_ACCEPTED, response.json())
    else:
        schema = response_schema(response.request.method, path, response.status_code)
        if schema is None and response.status_code >= 400:
            schema = {"$ref": "#/definitions/error-response"}  # e.g. "does not match any route"
        if schema is None:
            if response.content.strip() not in (b"", b"[]"):
                raise SchemaViolation(
                    f"{response.request.method} {path} answered {response.status_code}, "
                    "which the 2.4.8 schema does not describe"
                )
            return
        fields = response.request.url.params.get("fields")
        if fields:
            schema = {k: v for k, v in schema.items() if k != "required"}
        errors = validate_against(schema, response.json(), partial=bool(fields))
    if errors:
        raise SchemaViolation(
            f"{response.request.method} {response.request.url} -> {response.status_code}:\n"
            + "\n".join(errors[:20])
        )


# async 202 body (served by /rest/<store>/async/schema in Magento, not in the admin schema)
_ASYNC_ACCEPTED = {
    "type": "object",
    "required": ["bulk_uuid", "request_items", "errors"],
    "additionalProperties": False,
    "properties": {
        "bulk_uuid": {"type": "string"},
        "errors": {"type": "boolean"},
        "request_items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "status"],
                "properties": {
                    "id": {"type": "integer"},
                    "data_hash": {"type": "string"},
                    "status": {"type": "string", "enum": ["accepted", "rejected"]},
                    "error_message": {"type": "string"},
                },
            },
        },
    },
}


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
