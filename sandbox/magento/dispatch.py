"""One web API request: resolve store code, mode and route, decode, authenticate, then run the
handler (sync) or queue one operation per element (async, bulk)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import Response, request

from sandbox.magento import bulk
from sandbox.magento.auth import Principal, authenticate
from sandbox.magento.clock import timestamp
from sandbox.magento.context import Ctx, SandboxState
from sandbox.magento.errors import NO_ROUTE, MagentoError, unauthorized
from sandbox.magento.fields import filter_fields, parse_fields
from sandbox.magento.responses import json_response
from sandbox.magento.routing import Route, match, split_rest_path

STORE_CODES = ("default", "all")


def dispatch(state: SandboxState, rest: str) -> Response:
    """Answer `/rest/<rest>` for the current Flask request."""
    split = split_rest_path(rest)
    if split is None:
        raise MagentoError(NO_ROUTE, status=404)
    store_code, mode, path = split
    method = request.method
    if store_code not in STORE_CODES:
        raise MagentoError(NO_ROUTE, status=404)
    if store_code == "all" and method == "GET":
        raise MagentoError("Cannot perform GET operation with store code 'all'")
    if mode != "sync" and method == "GET":
        raise MagentoError(NO_ROUTE, status=404)
    matched = match(method, path)
    if matched is None:
        raise MagentoError(NO_ROUTE, status=404)
    found, params = matched
    raw = request.get_data(cache=True)
    body = _decode(raw)
    principal = None if found.public else _authenticate(state, found, method, raw)
    fault = request.environ.get("magento_sandbox.fault")
    if (
        mode == "sync"
        and state.settings.async_mode == "next-request"
        and bulk.has_open(state.store)
    ):
        state.consume()
    if mode != "sync":
        if found.public or params:
            raise MagentoError(NO_ROUTE, status=404)
        assert principal is not None
        return _enqueue(state, found, mode, method, path, body, principal, fault)
    assert principal is not None or found.public
    ctx = Ctx(
        state,
        method,
        path,
        list(request.args.items(multi=True)),
        body,
        principal or Principal(0, 0),
        fault,
    )
    result = found.handler(ctx, **params)
    fields = request.args.get("fields")
    if fields and method == "GET":
        result = filter_fields(result, parse_fields(fields))
    return json_response(result)


def _decode(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise MagentoError("Decoding error: \nSyntax error") from None


def _authenticate(state: SandboxState, found: Route, method: str, raw: bytes) -> Principal:
    principal = authenticate(
        state.store,
        state.credentials,
        uri=_signed_uri(),
        method=method,
        body=raw,
        headers=dict(request.headers),
    )
    if principal is None:
        raise unauthorized(found.resource)
    return principal


def _signed_uri() -> str:
    """The URL as the client sent it, for the OAuth base string: werkzeug's request.url
    decodes brackets, which oauthlib refuses; quote them back without touching %XX escapes."""
    query = request.environ.get("QUERY_STRING", "")
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    query = quote(query, safe="=&%+~,*@!()/?:;'")
    return request.base_url + (f"?{query}" if query else "")


def _enqueue(
    state: SandboxState,
    found: Route,
    mode: str,
    method: str,
    path: str,
    body: Any,
    principal: Principal,
    fault: str | None,
) -> Response:
    """202 with a bulk_uuid: one operation for async, one per array element for bulk."""
    if mode == "bulk":
        if not isinstance(body, list) or not body:
            raise MagentoError("Input data is empty")
        elements = body
    else:
        elements = [body]
    topic = found.topic or (
        "async.V1." + path.strip("/").replace("/", ".").lower() + "." + method.lower()
    )
    accepted = bulk.enqueue(
        state.store,
        topic=topic,
        method=method,
        path=path,
        elements=elements,
        user_type=principal.user_type,
        user_id=principal.user_id,
        created=timestamp(state.now()),
        injected=[fault] * len(elements),
    )
    return json_response(accepted, 202)
