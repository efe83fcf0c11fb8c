"""The one place that talks to Magento 2 over REST (CONTRACT.md is the reference).

Works unchanged against a real store: base URL, store code and credentials are configuration.
Auth is an admin token (fetched and refreshed before its 4-hour expiry), OAuth 1.0a
HMAC-SHA256 integration credentials, or a plain bearer token (`auth.py`); error bodies are
read in `errors.py`, searchCriteria built in `criteria.py`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from django.conf import settings

from integration.connectors.backoff import (
    CircuitBreaker,
    ConnectorError,
    RetryPolicy,
    breakers,
    call_with_retries,
)
from integration.connectors.errors import send
from integration.connectors.magento.auth import AdminTokenAuth, BearerAuth, OAuth1Auth
from integration.connectors.magento.criteria import MAGENTO_TIME, SearchCriteria
from integration.connectors.magento.errors import (
    SYSTEM,
    MagentoAuthError,
    MagentoError,
    MagentoNotFound,
    MagentoPermanentError,
    MagentoTransientError,
    error_from_response,
    render_message,
)

# The names callers import from here, wherever they now live.
__all__ = [
    "MAGENTO_TIME",
    "SYSTEM",
    "AdminTokenAuth",
    "BearerAuth",
    "MagentoAuthError",
    "MagentoClient",
    "MagentoError",
    "MagentoNotFound",
    "MagentoPermanentError",
    "MagentoTransientError",
    "OAuth1Auth",
    "SearchCriteria",
    "Timeouts",
    "error_from_response",
    "render_message",
]


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

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return send(self._http, method, url, transient=MagentoTransientError, **kwargs)

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
            response = self._send(method, full_url, content=content, headers=headers)
            # An admin token can be revoked before its lifetime; fetch a fresh one once.
            if (
                response.status_code == 401
                and authenticated
                and self.auth is not None
                and self.auth.invalidate()
            ):
                headers.update(self.auth.headers(self, method, full_url))
                self.calls += 1
                response = self._send(method, full_url, content=content, headers=headers)
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

    def creditmemos_updated_between(
        self, since: datetime, until: datetime | None = None
    ) -> Iterator[dict]:
        """Credit memos with since <= updated_at (< until), stable-sorted like orders."""
        criteria = SearchCriteria().where("updated_at", since, "gteq")
        if until is not None:
            criteria.where("updated_at", until, "lt")
        criteria.order_by("updated_at", "ASC").order_by("entity_id", "ASC")
        return self.search("creditmemos", criteria)

    def creditmemos_for_order(self, entity_id: int) -> list[dict]:
        criteria = SearchCriteria().where("order_id", int(entity_id))
        return list(self.search("creditmemos", criteria))

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

    def source_items_save(self, items: list[dict]) -> None:
        """Upsert absolute quantities of source items now (the synchronous endpoint: a replay
        of a few SKUs, where the async queue's delay would hide whether it took effect)."""
        self.request("POST", "inventory/source-items", json_body={"sourceItems": items})

    def source_items_async(self, items: list[dict]) -> dict:
        """Queue an absolute-quantity upsert of source items; returns Magento's 202 body."""
        return self.request(
            "POST", "inventory/source-items", json_body={"sourceItems": items}, prefix="async/"
        )

    def bulk_status(self, bulk_uuid: str) -> dict:
        return self.request("GET", f"bulk/{quote(bulk_uuid, safe='')}/detailed-status")
