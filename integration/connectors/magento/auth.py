"""How the client authenticates to Magento: a bearer token, an admin token it refreshes, or
OAuth 1.0a integration credentials. Each gives the headers for one request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from oauthlib import oauth1

if TYPE_CHECKING:
    from integration.connectors.magento.client import MagentoClient


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
