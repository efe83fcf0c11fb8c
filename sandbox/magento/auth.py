"""Who may call the sandbox, and how (CONTRACT §2).

Three ways in, as on a real Magento 2.4.8:

1. Admin token: `POST /V1/integration/admin/token` with `{"username", "password"}` answers a JSON
   string (a JWT signed HS256, like 2.4.4+'s Magento_JwtUserToken) valid 4 hours. Send it as
   `Authorization: Bearer <token>`. Six failed sign-ins lock the user for 30 minutes.
2. Integration, OAuth 1.0a: sign every request with HMAC-SHA256 using the consumer key/secret
   and access token/secret of the sandbox's one integration ("Exception Desk"). This is what a
   real store expects from an integration.
3. Integration access token as Bearer: accepted only when
   MAGENTO_SANDBOX_BEARER_INTEGRATION=1 (the sandbox default, for curl convenience); real
   Magento 2.4.4+ refuses it unless `oauth/consumer/enable_integration_as_bearer` is on, so set
   it to 0 to test a client the way a production store will treat it.

Environment (development defaults; every one is documented in .env.example):

| variable | default |
| --- | --- |
| MAGENTO_SANDBOX_USER / MAGENTO_SANDBOX_PASSWORD | admin / sandbox123 |
| MAGENTO_SANDBOX_INTEGRATION_TOKEN (access token) | sandboxaccesstoken00000000000001 |
| MAGENTO_SANDBOX_ACCESS_TOKEN_SECRET | sandboxtokensecret00000000000001 |
| MAGENTO_SANDBOX_CONSUMER_KEY | sandboxconsumerkey00000000000001 |
| MAGENTO_SANDBOX_CONSUMER_SECRET | sandboxconsumersecret00000000001 |
| MAGENTO_SANDBOX_BEARER_INTEGRATION | 1 |

Any failure (no header, bad or expired token, bad signature, reused nonce) answers 401
`The consumer isn't authorized to access %resources.`, as Magento does once it has fallen
back to the guest context.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from oauthlib.oauth1 import RequestValidator, ResourceEndpoint
from oauthlib.oauth1.rfc5849 import SIGNATURE_HMAC_SHA256

from sandbox.magento.errors import SIGN_IN_FAILED, MagentoError
from sandbox.magento.store import Store

ADMIN_TOKEN_LIFETIME = 4 * 3600
MAX_FAILURES = 6
LOCK_SECONDS = 1800
OAUTH_TIMESTAMP_WINDOW = 600

USER_TYPE_INTEGRATION = 1
USER_TYPE_ADMIN = 2
INTEGRATION_ID = 1
ADMIN_USER_ID = 1


@dataclass(frozen=True)
class Credentials:
    admin_user: str = "admin"
    admin_password: str = "sandbox123"  # noqa: S105 - documented development default
    access_token: str = "sandboxaccesstoken00000000000001"  # noqa: S105
    access_token_secret: str = "sandboxtokensecret00000000000001"  # noqa: S105
    consumer_key: str = "sandboxconsumerkey00000000000001"
    consumer_secret: str = "sandboxconsumersecret00000000001"  # noqa: S105
    bearer_integration: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        base = cls()
        return cls(
            admin_user=env.get("MAGENTO_SANDBOX_USER", base.admin_user),
            admin_password=env.get("MAGENTO_SANDBOX_PASSWORD", base.admin_password),
            access_token=env.get("MAGENTO_SANDBOX_INTEGRATION_TOKEN", base.access_token),
            access_token_secret=env.get(
                "MAGENTO_SANDBOX_ACCESS_TOKEN_SECRET", base.access_token_secret
            ),
            consumer_key=env.get("MAGENTO_SANDBOX_CONSUMER_KEY", base.consumer_key),
            consumer_secret=env.get("MAGENTO_SANDBOX_CONSUMER_SECRET", base.consumer_secret),
            bearer_integration=env.get("MAGENTO_SANDBOX_BEARER_INTEGRATION", "1") != "0",
        )


@dataclass(frozen=True)
class Principal:
    user_type: int
    user_id: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jwt_secret(store: Store) -> bytes:
    secret = store.meta_get("jwt_secret")
    if secret is None:
        store.meta_set("jwt_secret", secrets.token_hex(32))
        secret = store.meta_get("jwt_secret")
    assert secret is not None
    return secret.encode()


def issue_admin_token(
    store: Store,
    credentials: Credentials,
    username: Any,
    password: Any,
    *,
    now: float | None = None,
) -> str:
    """Check admin credentials (with Magento's lockout) and return a JWT admin token."""
    now = time.time() if now is None else now
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise MagentoError(SIGN_IN_FAILED, status=401)
    conn = store.read()
    row = conn.execute(
        "SELECT failures, locked_until FROM auth_failures WHERE username = ?", (username,)
    ).fetchone()
    if row and row["locked_until"] and row["locked_until"] > now:
        raise MagentoError(SIGN_IN_FAILED, status=401)
    user_ok = hmac.compare_digest(username, credentials.admin_user)
    password_ok = hmac.compare_digest(password, credentials.admin_password)
    if not (user_ok and password_ok):
        failures = (row["failures"] if row else 0) + 1
        locked = now + LOCK_SECONDS if failures >= MAX_FAILURES else None
        with store.transaction() as tx:
            tx.execute(
                "INSERT INTO auth_failures (username, failures, locked_until) VALUES (?, ?, ?) "
                "ON CONFLICT(username) DO UPDATE SET failures = excluded.failures, "
                "locked_until = excluded.locked_until",
                (username, 0 if locked else failures, locked),
            )
        raise MagentoError(SIGN_IN_FAILED, status=401)
    with store.transaction() as tx:
        tx.execute("DELETE FROM auth_failures WHERE username = ?", (username,))
    header = {"kid": "1", "alg": "HS256"}
    payload = {
        "uid": ADMIN_USER_ID,
        "utypid": USER_TYPE_ADMIN,
        "iat": int(now),
        "exp": int(now) + ADMIN_TOKEN_LIFETIME,
    }
    compact = (",", ":")
    signing_input = (
        f"{_b64(json.dumps(header, separators=compact).encode())}."
        f"{_b64(json.dumps(payload, separators=compact).encode())}"
    )
    signature = hmac.new(_jwt_secret(store), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def verify_admin_token(store: Store, token: str, *, now: float | None = None) -> Principal | None:
    now = time.time() if now is None else now
    parts = token.split(".")
    if len(parts) != 3:
        return None
    signing_input = f"{parts[0]}.{parts[1]}"
    expected = hmac.new(_jwt_secret(store), signing_input.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            return None
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) <= now:
        return None
    return Principal(USER_TYPE_ADMIN, int(payload.get("uid", ADMIN_USER_ID)))


class _IntegrationValidator(RequestValidator):
    """The one integration the sandbox knows, for oauthlib's resource endpoint."""

    def __init__(self, store: Store, credentials: Credentials, now: float):
        super().__init__()
        self.store = store
        self.credentials = credentials
        self.now = now

    # Magento's keys are 32 lowercase alphanumerics; nonces vary by client library.
    @property
    def client_key_length(self):
        return 16, 64

    @property
    def access_token_length(self):
        return 16, 64

    @property
    def nonce_length(self):
        return 6, 128

    @property
    def enforce_ssl(self):
        return False

    @property
    def allowed_signature_methods(self):
        return (SIGNATURE_HMAC_SHA256,)

    @property
    def dummy_client(self):
        return "dummyclientkey000000000000000000"

    @property
    def dummy_access_token(self):
        return "dummyaccesstoken0000000000000000"

    def check_nonce(self, nonce):
        return bool(nonce) and all(ch.isalnum() or ch in "-_." for ch in nonce)

    def validate_client_key(self, client_key, request):
        return hmac.compare_digest(client_key, self.credentials.consumer_key)

    def validate_access_token(self, client_key, token, request):
        return hmac.compare_digest(token, self.credentials.access_token)

    def get_client_secret(self, client_key, request):
        return self.credentials.consumer_secret

    def get_access_token_secret(self, client_key, token, request):
        return self.credentials.access_token_secret

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        return True

    def validate_timestamp_and_nonce(
        self, client_key, timestamp, nonce, request, request_token=None, access_token=None
    ):
        try:
            stamp = int(timestamp)
        except (TypeError, ValueError):
            return False
        if abs(self.now - stamp) > OAUTH_TIMESTAMP_WINDOW:
            return False
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM oauth_nonces WHERE timestamp < ?",
                       (int(self.now) - 2 * OAUTH_TIMESTAMP_WINDOW,))  # fmt: skip
            seen = tx.execute(
                "SELECT 1 FROM oauth_nonces WHERE consumer_key = ? AND nonce = ?",
                (client_key, nonce),
            ).fetchone()
            if seen:
                return False
            tx.execute(
                "INSERT INTO oauth_nonces (consumer_key, nonce, timestamp) VALUES (?, ?, ?)",
                (client_key, nonce, stamp),
            )
        return True


def verify_oauth(
    store: Store,
    credentials: Credentials,
    *,
    uri: str,
    method: str,
    body: bytes,
    headers: dict[str, str],
    now: float | None = None,
) -> Principal | None:
    """Verify an OAuth 1.0a HMAC-SHA256 signed request with oauthlib."""
    validator = _IntegrationValidator(store, credentials, time.time() if now is None else now)
    endpoint = ResourceEndpoint(validator)
    try:
        valid, _ = endpoint.validate_protected_resource_request(
            uri, http_method=method, body=body.decode("utf-8", "replace") or None, headers=headers
        )
    except ValueError:
        return None
    return Principal(USER_TYPE_INTEGRATION, INTEGRATION_ID) if valid else None


def authenticate(
    store: Store,
    credentials: Credentials,
    *,
    uri: str,
    method: str,
    body: bytes,
    headers: dict[str, str],
) -> Principal | None:
    """The caller of one request, or None (Magento's guest, which gets 401 on every route)."""
    authorization = headers.get("Authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        token = value.strip()
        if credentials.bearer_integration and hmac.compare_digest(token, credentials.access_token):
            return Principal(USER_TYPE_INTEGRATION, INTEGRATION_ID)
        return verify_admin_token(store, token)
    if scheme.lower() == "oauth":
        return verify_oauth(store, credentials, uri=uri, method=method, body=body, headers=headers)
    return None
