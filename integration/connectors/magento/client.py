"""The one place that talks to Magento 2 over REST (CONTRACT.md is the reference).

Works unchanged against a real store: base URL, store code and credentials are configuration.
Auth is an admin token (fetched and refreshed before its 4-hour expiry), OAuth 1.0a
HMAC-SHA256 integration credentials, or a plain bearer token.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from django.conf import settings
from oauthlib import oauth1

from integration.connectors.backoff import (
    AuthError,
    CircuitBreaker,
    ConnectorError,
    NotFoundError,
    PermanentError,
    RetryPolicy,
    TransientError,
    breakers,
    call_with_retries,
    parse_retry_after,
)

SYSTEM = "magento"
MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"
# Magento surfaces MySQL lock contention on inventory/order tables as 400/500 bodies
# (CONTRACT §11); the same call succeeds once the other writer commits.
_DEADLOCK = re.compile(r"Deadlock found|Lock wait timeout|Duplicate entry|SQLSTATE\[40001\]", re.I)
_PLACEHOLDER = re.compile(r"%(\d+|[A-Za-z_][A-Za-z0-9_]*)")


def render_message(message: str, parameters: object) -> str:
    """Fill Magento's %1 / %name placeholders from `parameters` (list or object)."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.isdigit() and isinstance(parameters, list):
            index = int(key) - 1
            if 0 <= index < len(parameters):
                return str(parameters[index])
        elif isinstance(parameters, dict) and key in parameters:
            value = parameters[key]
            return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        return match.group(0)

    return _PLACEHOLDER.sub(substitute, message or "")


class MagentoError(ConnectorError):
    """A Magento error body, placeholders filled; `errors` holds the aggregate sub-messages."""

    def __init__(self, message: str, *, errors: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(message, system=SYSTEM, **kwargs)
        self.errors = list(errors)


class MagentoTransientError(MagentoError, TransientError):
    pass


class MagentoPermanentError(MagentoError, PermanentError):
    pass


class MagentoAuthError(MagentoError, AuthError):
    pass


class MagentoNotFound(MagentoError, NotFoundError):
    pass


def error_from_response(response: httpx.Response) -> MagentoError:
    """Classify an error response: what Magento said, and whether retrying may help."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = render_message(str(body.get("message", "")), body.get("parameters"))
        errors = [
            render_message(str(e.get("message", "")), e.get("parameters"))
            for e in body.get("errors") or []
            if isinstance(e, dict)
        ]
    else:
        message = (response.text or response.reason_phrase or "")[:500]
        errors = []
    if errors:
        message = f"{message} ({'; '.join(errors)})"
    status = response.status_code
    common = {"status": status, "errors": errors, "body": body}
    if status == 429 or status >= 500 or (status == 400 and _DEADLOCK.search(message)):
        return MagentoTransientError(
            message or f"HTTP {status}",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            **common,
        )
    if status in (401, 403):
        return MagentoAuthError(message, **common)
    if status == 404:
        return MagentoNotFound(message, **common)
    return MagentoPermanentError(message, **common)


# --- auth ------------------------------------------------------------------------------------


class BearerAuth:
    """A fixed bearer token (an integration token with bearer enabled, or an admin token)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def headers(self, client: MagentoClient, method: str, url: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def invalidate(self) -> bool:
        return False


class AdminTokenAuth:
    """Username/password → admin token, refreshed `margin` seconds before its lifetime ends."""

    def __init__(
        self,
        username: str,
        password: str,
        *,
        lifetime: float = 4 * 3600,
        margin: float = 600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.username = username
        self.password = password
        self.lifetime = lifetime
        self.margin = margin
        self.clock = clock
        self.token: str | None = None
        self.fetched_at = 0.0
        self._lock = threading.Lock()

    def headers(self, client: MagentoClient, method: str, url: str) -> dict[str, str]:
        with self._lock:
            if self.token is None or self.clock() - self.fetched_at >= self.lifetime - self.margin:
                self.token = client.admin_token(self.username, self.password)
                self.fetched_at = self.clock()
            return {"Authorization": f"Bearer {self.token}"}

    def invalidate(self) -> bool:
        """Forget the token (Magento revoked it early); the next call fetches a fresh one."""
        had = self.token is not None
        self.token = None
        return had


class OAuth1Auth:
    """Magento integration credentials, every request signed OAuth 1.0a HMAC-SHA256."""

    def __init__(
        self, consumer_key: str, consumer_secret: str, access_token: str, access_token_secret: str
    ) -> None:
        self._client = oauth1.Client(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=access_token,
            resource_owner_secret=access_token_secret,
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,
        )

    def headers(self, client: MagentoClient, method: str, url: str) -> dict[str, str]:
        # JSON bodies are not part of the OAuth 1.0a base string; query parameters are.
        _, signed, _ = self._client.sign(url, http_method=method)
        return {"Authorization": signed["Authorization"]}

    def invalidate(self) -> bool:
        return False


# --- searchCriteria --------------------------------------------------------------------------


@dataclass
class SearchCriteria:
    """Magento searchCriteria: filters in one group are OR'ed, groups are AND'ed."""

    groups: list[list[tuple[str, str, str]]] = field(default_factory=list)
    sort: list[tuple[str, str]] = field(default_factory=list)
    page_size: int | None = None
    current_page: int | None = None

    def where(self, field_name: str, value: object, condition: str = "eq") -> SearchCriteria:
        self.groups.append([(field_name, _criteria_value(value), condition)])
        return self

    def any_of(self, *filters: tuple[str, object, str]) -> SearchCriteria:
        self.groups.append([(f, _criteria_value(v), c) for f, v, c in filters])
        return self

    def order_by(self, field_name: str, direction: str = "ASC") -> SearchCriteria:
        self.sort.append((field_name, direction))
        return self

    def params(self) -> list[tuple[str, str]]:
        """Query parameters in the documented snake_case form."""
        out: list[tuple[str, str]] = []
        for g, group in enumerate(self.groups):
            for f, (name, value, condition) in enumerate(group):
                prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
                out += [
                    (f"{prefix}[field]", name),
                    (f"{prefix}[value]", value),
                    (f"{prefix}[condition_type]", condition),
                ]
        for n, (name, direction) in enumerate(self.sort):
            out += [
                (f"searchCriteria[sortOrders][{n}][field]", name),
                (f"searchCriteria[sortOrders][{n}][direction]", direction),
            ]
        if self.page_size is not None:
            out.append(("searchCriteria[pageSize]", str(self.page_size)))
        if self.current_page is not None:
            out.append(("searchCriteria[currentPage]", str(self.current_page)))
        if not out:
            # A list call without any searchCriteria is a 400 ("searchCriteria" is required).
            out.append(("searchCriteria", ""))
        return out


def _criteria_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime(MAGENTO_TIME)
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)


# --- the client ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 5.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class MagentoClient:
    """Pooled, authenticated, retrying access to one Magento store's REST API."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: BearerAuth | AdminTokenAuth | OAuth1Auth | None,
        store_code: str = "default",
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 100,
        max_connections: int = 10,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.store_code = store_code
        self.auth = auth
        self.policy = policy or RetryPolicy()
        self.breaker = breaker if breaker is not None else breakers.get(SYSTEM)
        self.sleep = sleep
        self.page_size = page_size
        self.calls = 0
        self._http = httpx.Client(
            transport=transport,
            timeout=(timeouts or Timeouts()).httpx(),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"Accept": "application/json", "User-Agent": "exception-desk/1"},
        )

    @classmethod
    def from_settings(cls, *, transport: httpx.BaseTransport | None = None) -> MagentoClient:
        """A client configured from MAGENTO_* settings."""
        base_url = settings.MAGENTO_BASE_URL
        if not base_url:
            raise ConnectorError("MAGENTO_BASE_URL is not set", system=SYSTEM)
        auth: BearerAuth | AdminTokenAuth | OAuth1Auth | None
        if settings.MAGENTO_CONSUMER_KEY:
            auth = OAuth1Auth(
                settings.MAGENTO_CONSUMER_KEY,
                settings.MAGENTO_CONSUMER_SECRET,
                settings.MAGENTO_ACCESS_TOKEN,
                settings.MAGENTO_ACCESS_TOKEN_SECRET,
            )
        elif settings.MAGENTO_TOKEN:
            auth = BearerAuth(settings.MAGENTO_TOKEN)
        elif settings.MAGENTO_ADMIN_USERNAME:
            auth = AdminTokenAuth(settings.MAGENTO_ADMIN_USERNAME, settings.MAGENTO_ADMIN_PASSWORD)
        else:
            raise ConnectorError(
                "no Magento credentials: set MAGENTO_TOKEN, the MAGENTO_CONSUMER_KEY/"
                "CONSUMER_SECRET/ACCESS_TOKEN/ACCESS_TOKEN_SECRET quartet, or "
                "MAGENTO_ADMIN_USERNAME/PASSWORD",
                system=SYSTEM,
            )
        return cls(
            base_url=base_url,
            auth=auth,
            store_code=settings.MAGENTO_STORE_CODE,
            transport=transport,
            timeouts=Timeouts(
                connect=settings.MAGENTO_CONNECT_TIMEOUT, read=settings.MAGENTO_READ_TIMEOUT
            ),
            policy=RetryPolicy(
                max_attempts=settings.MAGENTO_MAX_ATTEMPTS, max_total=settings.MAGENTO_RETRY_BUDGET
            ),
            page_size=settings.MAGENTO_PAGE_SIZE,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MagentoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --

    def url(self, path: str, *, prefix: str = "") -> str:
        """`/rest/<store>/[async/]V1/<path>`."""
        path = path.lstrip("/")
        if not path.startswith("V1/"):
            path = "V1/" + path
        return f"{self.base_url}/rest/{self.store_code}/{prefix}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
        json_body: object = None,
        prefix: str = "",
        authenticated: bool = True,
    ) -> Any:
        """One logical call: retried, breaker-guarded, decoded JSON or a typed MagentoError."""
        url = self.url(path, prefix=prefix)
        query = httpx.QueryParams(params or {})
        full_url = f"{url}?{query}" if str(query) else url
        content = json.dumps(json_body) if json_body is not None else None

        def attempt() -> Any:
            headers = {"Content-Type": "application/json"} if content is not None else {}
            if authenticated and self.auth is not None:
                headers.update(self.auth.headers(self, method, full_url))
            self.calls += 1
            try:
                response = self._http.request(method, full_url, content=content, headers=headers)
            except httpx.TimeoutException as exc:
                raise MagentoTransientError(f"timed out: {exc!r}") from exc
            except httpx.TransportError as exc:
                raise MagentoTransientError(f"connection failed: {exc!r}") from exc
            # An admin token can be revoked before its lifetime; fetch a fresh one once.
            if (
                response.status_code == 401
                and authenticated
                and self.auth is not None
                and self.auth.invalidate()
            ):
                headers.update(self.auth.headers(self, method, full_url))
                self.calls += 1
                response = self._http.request(method, full_url, content=content, headers=headers)
            if response.status_code >= 400:
                raise error_from_response(response)
            if not response.content:
                return None
            try:
                # orjson: an order list page is megabytes of JSON, and decoding it was the
                # largest cost of a pull. Lossless for what Magento (PHP) emits: its integers
                # fit in 64 bits and its floats are shortest-repr doubles.
                return orjson.loads(response.content)
            except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
                raise MagentoTransientError(
                    f"undecodable response body ({len(response.content)} bytes)",
                    status=response.status_code,
                ) from exc

        return call_with_retries(
            attempt, policy=self.policy, breaker=self.breaker, sleep=self.sleep
        )

    def admin_token(self, username: str, password: str) -> str:
        token = self.request(
            "POST",
            "integration/admin/token",
            json_body={"username": username, "password": password},
            authenticated=False,
        )
        if not isinstance(token, str) or not token:
            raise MagentoPermanentError(f"admin token endpoint returned {type(token).__name__}")
        return token

    def search(
        self, path: str, criteria: SearchCriteria, *, key: str = "entity_id"
    ) -> Iterator[dict]:
        """Every item matching `criteria`, paged by total_count.

        Magento repeats the last page for a page past the end and may return a short or empty
        page when rows move under a live sort, so the loop ends on total_count, never on an
        empty page; items already yielded (by `key`) are not yielded twice.
        """
        page_size = criteria.page_size or self.page_size
        page = 1
        seen: set[object] = set()
        total: int | None = None
        max_pages: int | None = None
        while True:
            criteria.page_size, criteria.current_page = page_size, page
            body = self.request("GET", path, params=criteria.params())
            if not isinstance(body, dict) or "total_count" not in body:
                raise MagentoPermanentError(f"{path}: list response without total_count")
            total = int(body["total_count"])
            # Rows inserted while we page can raise total_count; allow for that, but bounded.
            max_pages = max(max_pages or 0, -(-total // page_size))
            for item in body.get("items") or []:
                ident = item.get(key) if key else id(item)
                if ident in seen:
                    continue
                seen.add(ident)
                yield item
            if page * page_size >= total or page >= max_pages:
                return
            page += 1

    # -- orders --

    def orders_updated_between(
        self, since: datetime, until: datetime | None = None
    ) -> Iterator[dict]:
        """Orders with since <= updated_at (< until), stable-sorted by (updated_at, entity_id)."""
        criteria = SearchCriteria().where("updated_at", since, "gteq")
        if until is not None:
            criteria.where("updated_at", until, "lt")
        criteria.order_by("updated_at", "ASC").order_by("entity_id", "ASC")
        return self.search("orders", criteria)

    def order(self, entity_id: int) -> dict:
        return self.request("GET", f"orders/{int(entity_id)}")

    def order_ship(
        self, entity_id: int, *, items: list[dict], tracks: list[dict], notify: bool = False
    ) -> int:
        body: dict[str, Any] = {"items": items, "notify": notify, "tracks": tracks}
        return int(self.request("POST", f"order/{int(entity_id)}/ship", json_body=body))

    def shipments_for_order(self, entity_id: int) -> list[dict]:
        criteria = SearchCriteria().where("order_id", int(entity_id))
        return list(self.search("shipments", criteria))

    def invoices_for_orders(self, entity_ids: Sequence[int]) -> list[dict]:
        if not entity_ids:
            return []
        criteria = SearchCriteria().where("order_id", list(entity_ids), "in")
        return list(self.search("invoices", criteria))

    # -- catalogue and stock --

    def products(self, criteria: SearchCriteria) -> Iterator[dict]:
        return self.search("products", criteria, key="sku")

    def source_items(self, skus: Sequence[str], *, source_code: str = "default") -> list[dict]:
        """Current MSI source items for `skus` (chunked so URLs stay short)."""
        out: list[dict] = []
        # 300 is Magento's largest page when input limits are on: one call per chunk.
        for start in range(0, len(skus), 300):
            chunk = list(skus[start : start + 300])
            criteria = SearchCriteria(page_size=300)
            criteria.where("sku", chunk, "in").where("source_code", source_code)
            out.extend(self.search("inventory/source-items", criteria, key="sku"))
        return out

    def source_items_async(self, items: list[dict]) -> dict:
        """Queue an absolute-quantity upsert of source items; returns Magento's 202 body."""
        return self.request(
            "POST", "inventory/source-items", json_body={"sourceItems": items}, prefix="async/"
        )

    def bulk_status(self, bulk_uuid: str) -> dict:
        return self.request("GET", f"bulk/{quote(bulk_uuid, safe='')}/detailed-status")
