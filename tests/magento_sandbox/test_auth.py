"""Admin token, integration bearer token and OAuth 1.0a signed requests."""

from __future__ import annotations

import base64
import json

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from oauthlib.oauth1 import Client as OAuthClient

from sandbox.magento.app import sandbox_state
from sandbox.magento.auth import Credentials
from sandbox.magento.testing import OAuth1Auth, make_app, sandbox_client

LIST = {"searchCriteria[pageSize]": "1"}
UNAUTHORIZED = {
    "message": "The consumer isn't authorized to access %resources.",
    "parameters": {"resources": "Magento_Sales::actions_view"},
}
SIGN_IN = (
    "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
)


def token(client, username="admin", password="sandbox123"):  # noqa: S107
    return client.post(
        "/V1/integration/admin/token", json={"username": username, "password": password}
    )


def test_no_or_bad_credentials_get_401_with_resource(magento_app):
    with sandbox_client(magento_app) as client:
        for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic x"}):
            response = client.get("/V1/orders", params=LIST, headers=headers)
            assert response.status_code == 401
            assert response.json() == UNAUTHORIZED


def test_admin_token_is_a_jwt_string_valid_four_hours(magento_app, magento_clock):
    with sandbox_client(magento_app) as client:
        response = token(client)
        assert response.status_code == 200
        jwt = response.json()
        assert isinstance(jwt, str) and jwt.startswith("eyJraWQiOiIxIiwiYWxnIjoiSFMyNTYifQ.")
        payload = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
        assert payload["exp"] - payload["iat"] == 4 * 3600 and payload["utypid"] == 2
        ok = client.get("/V1/orders", params=LIST, headers={"Authorization": f"Bearer {jwt}"})
        assert ok.status_code == 200
        tampered = jwt[:-2] + ("AA" if not jwt.endswith("AA") else "BB")
        bad = client.get("/V1/orders", params=LIST, headers={"Authorization": f"Bearer {tampered}"})
        assert bad.status_code == 401


def test_expired_admin_token_is_refused(tmp_path, monkeypatch):
    import sandbox.magento.auth as auth

    app = make_app(tmp_path)
    with sandbox_client(app) as client:
        monkeypatch.setattr(auth.time, "time", lambda: 1_000_000.0)
        jwt = token(client).json()
        monkeypatch.setattr(auth.time, "time", lambda: 1_000_000.0 + 4 * 3600 + 1)
        response = client.get("/V1/orders", params=LIST, headers={"Authorization": f"Bearer {jwt}"})
        assert response.status_code == 401
    sandbox_state(app).store.close()


def test_bad_password_and_lockout_after_six_failures(magento_app):
    with sandbox_client(magento_app) as client:
        for _ in range(6):
            response = token(client, password="wrong")  # noqa: S106
            assert response.status_code == 401
            assert response.json() == {"message": SIGN_IN}
        locked = token(client)  # right password, but locked for 30 minutes
        assert locked.status_code == 401
        assert token(client, username="someone-else").status_code == 401


def test_integration_bearer_can_be_disabled_like_magento_244(tmp_path):
    app = make_app(tmp_path, credentials=Credentials(bearer_integration=False))
    with sandbox_client(app) as client:
        headers = {"Authorization": "Bearer sandboxaccesstoken00000000000001"}
        assert client.get("/V1/orders", params=LIST, headers=headers).status_code == 401
    with sandbox_client(app, auth=OAuth1Auth(Credentials())) as client:
        assert client.get("/V1/orders", params=LIST).status_code == 200
    sandbox_state(app).store.close()


def test_oauth1_hmac_sha256_signed_requests(magento_app):
    with sandbox_client(magento_app, auth=OAuth1Auth(Credentials())) as client:
        assert client.get("/V1/orders", params=LIST).status_code == 200
        post = client.post(
            "/V1/inventory/source-items",
            json={"sourceItems": [{"sku": "24-MB01", "source_code": "default", "quantity": 7,
                                   "status": 1}]},
        )  # fmt: skip
        assert post.status_code == 200 and post.json() == []


def _signed(creds: Credentials, url: str, **overrides):
    client = OAuthClient(
        overrides.get("consumer_key", creds.consumer_key),
        client_secret=overrides.get("consumer_secret", creds.consumer_secret),
        resource_owner_key=creds.access_token,
        resource_owner_secret=creds.access_token_secret,
        signature_method=overrides.get("method", SIGNATURE_HMAC_SHA256),
        nonce=overrides.get("nonce"),
    )
    _, headers, _ = client.sign(url, http_method="GET")
    return headers


def test_oauth1_wrong_secret_replayed_nonce_and_sha1_are_refused(magento_app):
    creds = Credentials()
    url = "http://magento.test/rest/V1/orders?searchCriteria%5BpageSize%5D=1"
    with sandbox_client(magento_app) as client:
        wrong = _signed(creds, url, consumer_secret="not-the-secret")  # noqa: S106
        assert client.get(url, headers=wrong).status_code == 401
        once = _signed(creds, url, nonce="fixednonce12345678901234")
        assert client.get(url, headers=once).status_code == 200
        assert client.get(url, headers=once).status_code == 401  # nonce reused
        sha1 = _signed(creds, url, method="HMAC-SHA1")
        assert client.get(url, headers=sha1).status_code == 401
        other_url = _signed(
            creds, "http://magento.test/rest/V1/orders?searchCriteria%5BpageSize%5D=2"
        )
        assert client.get(url, headers=other_url).status_code == 401  # signature covers the query


def test_token_endpoint_rejects_bad_json(magento_app):
    with sandbox_client(magento_app) as client:
        response = client.post(
            "/V1/integration/admin/token",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["message"].startswith("Decoding error")
