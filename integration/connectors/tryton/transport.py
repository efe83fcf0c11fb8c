"""Calls to Tryton's REST API: the httpx client, auth, timeouts, retries and error mapping.

`/<db>/rest/model/<model>` with a user application key (`Authorization: Bearer`). A Tryton
UserError answers 400 with its message: that is an ERP rejection, shown to people as the ERP
wrote it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar

import httpx

from integration.connectors.backoff import (
    INTERACTIVE_POLICY,
    INTERACTIVE_TIMEOUT_SECONDS,
    AuthError,
    CircuitBreaker,
    ConnectorError,
    NotFoundError,
    PermanentError,
    RetryPolicy,
    TransientError,
    breakers,
    call_with_retries,
)
from integration.connectors.erp import ErpRejected
from integration.connectors.errors import ErrorClasses, error_for_status, send
from integration.connectors.tryton import codec

SYSTEM = "erp"
# Codes, references or ids per `in` domain, so a search URL stays short.
CHUNK = 200

T = TypeVar("T")


class TrytonRejected(PermanentError, ErpRejected):
    """Tryton refused the call with a user error (400)."""


ERRORS = ErrorClasses(
    transient=TransientError,
    auth=AuthError,
    not_found=NotFoundError,
    refused=TrytonRejected,
    blank={
        "transient": "HTTP {status}",
        "auth": "ERP refused the API key",
        "not_found": "not found",
        "refused": "HTTP {status}",
    },
)


def chunks(values: Sequence[T]) -> Iterator[list[T]]:
    """`values` in slices of CHUNK, in order."""
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def error_from_response(response: httpx.Response) -> ConnectorError:
    """What Tryton said (message and description), classified for retry."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        if body.get("description"):
            message = f"{message} {body['description']}".strip()
    else:
        message = (response.text or response.reason_phrase or "")[:500]
    # SQLite's "database is locked" under concurrent writers: retry like a deadlock.
    contention = "locked" in message.lower()
    return error_for_status(
        response, message, classes=ERRORS, contention=contention, system=SYSTEM, body=body
    )


class TrytonTransport:
    """Pooled, timed out, retried, breaker-guarded calls to one Tryton database."""

    def __init__(
        self,
        *,
        base_url: str,
        database: str,
        api_key: str,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = f"{base_url.rstrip('/')}/{database}/rest"
        self.policy = policy or RetryPolicy()
        self.breaker = breaker if breaker is not None else breakers.get(SYSTEM)
        self.sleep = sleep
        self.calls = 0
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout or httpx.Timeout(30.0, connect=5.0),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
        )

    def close(self) -> None:
        """Close the pooled connections; httpx makes a second close a no-op."""
        self._http.close()

    def interactive(self) -> None:
        """Somebody is waiting on the answer: one quick retry and a short timeout."""
        self.policy = INTERACTIVE_POLICY
        self._http.timeout = httpx.Timeout(INTERACTIVE_TIMEOUT_SECONDS, connect=2.0)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: Any = None,
        context: dict | None = None,
    ) -> Any:
        """One logical call: retried, breaker-guarded, decoded JSON or a ConnectorError."""
        url = f"{self.base}/{path.lstrip('/')}"
        headers = {}
        if method != "GET" or context:
            # REST calls carry no user preferences: say which company writes are for, or
            # Tryton's defaults (company, currency) and record rules see none.
            context = {**self._company_context(), **(context or {})}
        if context:
            headers["X-Tryton-Context"] = codec.b64(context)
        content = codec.dumps(body) if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"

        def attempt() -> Any:
            self.calls += 1
            response = send(
                self._http,
                method,
                url,
                transient=partial(TransientError, system=SYSTEM),
                params=params,
                content=content,
                headers=headers,
            )
            if response.status_code >= 400:
                raise error_from_response(response)
            if not response.content:
                return None
            try:
                return codec.loads(response.content)
            except ValueError as exc:
                raise TransientError("undecodable ERP response", system=SYSTEM) from exc

        return call_with_retries(
            attempt, policy=self.policy, breaker=self.breaker, sleep=self.sleep
        )

    def _company_context(self) -> dict:
        if "company" not in self._cache:
            rows = self.request(
                "GET",
                "model/company.company",
                params=[("d", codec.b64([])), ("s", "2"), ("f", "id")],
            )
            if not rows:
                raise TrytonRejected("the ERP has no company", system=SYSTEM)
            self._cache["company"] = rows[0]["id"]
        company = self._cache["company"]
        return {"company": company, "companies": [company]}

    def search(
        self,
        model: str,
        domain: list,
        fields: Sequence[str],
        *,
        order: list | None = None,
        context: dict | None = None,
        page: int = 1000,
    ) -> list[dict]:
        """Every matching record (paged by offset, stable order by id)."""
        out: list[dict] = []
        offset = 0
        while True:
            params = [
                ("d", codec.b64(domain)),
                ("s", str(page)),
                ("p", str(offset)),
                ("o", codec.b64(order or [["id", "ASC"]])),
            ]
            params += [("f", f) for f in fields]
            rows = self.request("GET", f"model/{model}", params=params, context=context) or []
            out.extend(rows)
            if len(rows) < page:
                return out
            offset += page

    def id_of(self, model: str, domain: list, what: str) -> int:
        """The id of the first record matching `domain`, cached for the transport's life."""
        key = f"{model}:{json.dumps(domain)}"
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        rows = self.search(model, domain, ["id"], page=2)
        if not rows:
            raise TrytonRejected(f"the ERP has no {what}", system=SYSTEM)
        with self._lock:
            self._cache[key] = rows[0]["id"]
        return rows[0]["id"]
