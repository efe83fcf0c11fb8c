"""A minimal Tryton REST caller for the sandbox's own tooling (warehouse stand-in, tests).

The desk's real client lives in integration/connectors/tryton/client.py; this one exists so
the sandbox does not depend on the product. It speaks the same wire format documented in
sandbox/erp/README.md: Tryton's JSON with tagged Decimal/date values, a base64url JSON domain
in `d`, the company in the `X-Tryton-Context` header and a Bearer application key.
"""

from __future__ import annotations

import datetime as dt
import json
from base64 import urlsafe_b64encode
from decimal import Decimal
from typing import Any

import httpx


class TrytonRestError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(
            f"Tryton answered {status}: {message}" if status else f"Tryton unreachable: {message}"
        )
        self.status = status
        self.message = message


def encode(value: Any) -> Any:
    """Python values to Tryton's JSON (Decimal and dates travel as tagged objects)."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def _decode_object(obj: dict) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return dt.datetime(
            obj["year"],
            obj["month"],
            obj["day"],
            obj.get("hour", 0),
            obj.get("minute", 0),
            obj.get("second", 0),
            obj.get("microsecond", 0),
        )
    return obj


def decode(text: str) -> Any:
    return json.loads(text, object_hook=_decode_object)


def b64json(value: Any) -> str:
    return urlsafe_b64encode(json.dumps(encode(value)).encode()).decode()


class TrytonRest:
    """Calls /<database>/rest/model/... on one trytond with one application key."""

    def __init__(
        self,
        base_url: str,
        database: str,
        api_key: str,
        *,
        company: int = 1,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self.root = f"{base_url.rstrip('/')}/{database}/rest/model"
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            headers={
                "Authorization": f"Bearer {api_key}",
                "X-Tryton-Context": b64json({"company": company}),
            },
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> TrytonRest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method: str, path: str, *, params=None, body=None, context=None) -> Any:
        headers = {}
        if context is not None:
            headers["X-Tryton-Context"] = b64json({"company": 1, **context})
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._client.request(
                method,
                f"{self.root}/{path}",
                params=params,
                content=json.dumps(encode(body)) if body is not None else None,
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise TrytonRestError(0, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 204:
            return None
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text[:500]
            raise TrytonRestError(response.status_code, message)
        return decode(response.text)

    def search(
        self,
        model: str,
        domain: list,
        fields: list[str],
        *,
        limit: int | None = None,
        offset: int = 0,
        order: list | None = None,
        context: dict | None = None,
    ) -> list[dict]:
        params: list[tuple[str, str]] = [("d", b64json(domain))]
        params += [("f", name) for name in fields]
        if limit is not None:
            params.append(("s", str(limit)))
        if offset:
            params.append(("p", str(offset)))
        if order:
            params.append(("o", b64json(order)))
        return self._call("GET", model, params=params, context=context)

    def read(self, model: str, record_id: int, fields: list[str]) -> dict:
        return self._call("GET", f"{model}/{record_id}", params=[("f", f) for f in fields])

    def create(self, model: str, values: dict, fields: list[str] = ()) -> dict:
        return self._call("POST", model, params=[("f", f) for f in fields], body=values)

    def write(self, model: str, record_id: int, values: dict, fields: list[str] = ()) -> dict:
        return self._call(
            "PUT", f"{model}/{record_id}", params=[("f", f) for f in fields], body=values
        )

    def action(
        self, model: str, record_id: int, action: str, fields: list[str] = (), data=None
    ) -> Any:
        return self._call(
            "POST",
            f"{model}/{record_id}/{action}",
            params=[("f", f) for f in fields],
            body=data,
        )
