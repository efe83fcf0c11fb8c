"""The Magento client against httpx.MockTransport: precise faults, no network."""

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from integration.connectors.backoff import (
    CircuitBreaker,
    CircuitOpenError,
    RetriesExhausted,
    RetryPolicy,
    parse_retry_after,
)
from integration.connectors.magento.client import (
    AdminTokenAuth,
    BearerAuth,
    MagentoAuthError,
    MagentoClient,
    MagentoNotFound,
    MagentoPermanentError,
    OAuth1Auth,
    SearchCriteria,
    render_message,
)


def make_client(handler, *, auth=None, attempts=5, sleeps=None, breaker=None, page_size=2):
    sleeps = [] if sleeps is None else sleeps
    return MagentoClient(
        base_url="http://magento.test",
        auth=auth or BearerAuth("tok"),
        transport=httpx.MockTransport(handler),
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.05, max_total=60),
        breaker=breaker or CircuitBreaker("magento-test", threshold=100),
        sleep=sleeps.append,
        page_size=page_size,
    )


def page_query(request):
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


def test_placeholders_are_filled_positional_and_named():
    assert render_message("%1 is %2", ["a", "b"]) == "a is b"
    assert (
        render_message("The consumer isn't authorized to access %resources.", {"resources": "X"})
        == "The consumer isn't authorized to access X."
    )
    assert render_message("keep %missing", {}) == "keep %missing"


def test_error_body_becomes_typed_error_with_rendered_message():
    def handler(request):
        return httpx.Response(
            404,
            json={
                "message": "No such entity with %fieldName = %fieldValue",
                "parameters": {"fieldName": "orderId", "fieldValue": 7},
            },
        )

    with pytest.raises(MagentoNotFound) as info:
        make_client(handler).order(7)
    assert info.value.message == "No such entity with orderId = 7"
    assert info.value.retryable is False


def test_aggregate_validation_errors_are_listed_and_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(
            400,
            json={
                "message": "Validation Failed",
                "errors": [
                    {"message": '"%field" can not be empty.', "parameters": {"field": "sku"}}
                ],
            },
        )

    with pytest.raises(MagentoPermanentError) as info:
        make_client(handler).source_items_async([{"sku": ""}])
    assert '"sku" can not be empty.' in info.value.message
    assert len(calls) == 1


def test_5xx_and_dropped_connections_are_retried_then_succeed():
    outcomes = iter(["drop", 500, 503, 200])

    def handler(request):
        outcome = next(outcomes)
        if outcome == "drop":
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        if outcome == 200:
            return httpx.Response(200, json={"entity_id": 1})
        return httpx.Response(outcome, json={"message": "Internal Error."})

    sleeps = []
    assert make_client(handler, sleeps=sleeps).order(1) == {"entity_id": 1}
    assert len(sleeps) == 3
    assert all(0 <= s <= 0.05 for s in sleeps)


def test_deadlock_400_is_retried_but_plain_400_is_not():
    outcomes = iter(
        [
            (
                400,
                "SQLSTATE[40001]: 1213 Deadlock found when trying to get lock",
            ),
            (200, None),
        ]
    )

    def handler(request):
        status, message = next(outcomes)
        if status == 200:
            return httpx.Response(202, json={"bulk_uuid": "u", "errors": False})
        return httpx.Response(status, json={"message": message})

    assert make_client(handler).source_items_async([{"sku": "A"}])["bulk_uuid"] == "u"


def test_429_retry_after_seconds_is_a_floor_under_the_backoff():
    outcomes = iter([429, 200])

    def handler(request):
        if next(outcomes) == 429:
            return httpx.Response(
                429,
                headers={"Retry-After": "7"},
                json={"message": "Too Many Requests", "trace": None},
            )
        return httpx.Response(200, json={"entity_id": 1})

    sleeps = []
    make_client(handler, sleeps=sleeps).order(1)
    assert sleeps == [7.0]


def test_retry_after_http_date_is_understood():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=9), usegmt=True)
    assert parse_retry_after(header, now=now) == 9.0
    assert parse_retry_after("garbage") is None


def test_attempts_are_capped():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(502, text="bad gateway")

    with pytest.raises(RetriesExhausted) as info:
        make_client(handler, attempts=3).order(1)
    assert len(calls) == 3
    assert info.value.retryable


def test_total_retry_time_is_capped_by_retry_after():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(429, headers={"Retry-After": "3600"}, json={"message": "slow"})

    with pytest.raises(RetriesExhausted):
        make_client(handler, attempts=10).order(1)
    assert len(calls) == 1


def test_timeout_is_retried():
    outcomes = iter(["hang", "ok"])

    def handler(request):
        if next(outcomes) == "hang":
            raise httpx.ReadTimeout("read timed out", request=request)
        return httpx.Response(200, json={"entity_id": 3})

    assert make_client(handler).order(3)["entity_id"] == 3


def test_breaker_opens_and_fails_fast_then_half_opens():
    now = [0.0]
    breaker = CircuitBreaker("m", threshold=2, reset_after=30, clock=lambda: now[0])
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(503, json={"message": "down"})

    client = make_client(handler, attempts=2, breaker=breaker)
    with pytest.raises(RetriesExhausted):
        client.order(1)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        client.order(1)
    assert len(calls) == 2
    now[0] = 31.0
    assert breaker.state == "half_open"
    with pytest.raises(CircuitOpenError):
        client.order(1)  # the probe fails and re-opens the breaker at once
    assert len(calls) == 3


def test_paging_stops_on_total_count_even_when_magento_repeats_the_last_page():
    rows = [{"entity_id": i, "updated_at": "2026-01-01 00:00:00"} for i in range(1, 6)]
    pages = []

    def handler(request):
        q = page_query(request)
        size, page = int(q["searchCriteria[pageSize]"]), int(q["searchCriteria[currentPage]"])
        pages.append(page)
        last = -(-len(rows) // size)
        page = min(page, last)  # Magento clamps a page past the end to the last page
        return httpx.Response(
            200, json={"items": rows[(page - 1) * size : page * size], "total_count": len(rows)}
        )

    items = list(make_client(handler).orders_updated_between(datetime(2026, 1, 1)))
    assert [i["entity_id"] for i in items] == [1, 2, 3, 4, 5]
    assert pages == [1, 2, 3]


def test_an_empty_page_does_not_end_the_loop_early():
    def handler(request):
        page = int(page_query(request)["searchCriteria[currentPage]"])
        items = {1: [{"entity_id": 1}, {"entity_id": 2}], 2: [], 3: [{"entity_id": 5}]}[page]
        return httpx.Response(200, json={"items": items, "total_count": 5})

    assert [i["entity_id"] for i in make_client(handler).search("orders", SearchCriteria())] == [
        1,
        2,
        5,
    ]


def test_orders_query_uses_stable_sort_and_snake_case_filters():
    seen = {}

    def handler(request):
        seen.update(page_query(request))
        return httpx.Response(200, json={"items": [], "total_count": 0})

    list(make_client(handler).orders_updated_between(datetime(2026, 1, 2, 3, 4, 5)))
    assert seen["searchCriteria[filter_groups][0][filters][0][field]"] == "updated_at"
    assert seen["searchCriteria[filter_groups][0][filters][0][value]"] == "2026-01-02 03:04:05"
    assert seen["searchCriteria[filter_groups][0][filters][0][condition_type]"] == "gteq"
    assert seen["searchCriteria[sortOrders][0][field]"] == "updated_at"
    assert seen["searchCriteria[sortOrders][1][field]"] == "entity_id"


def test_admin_token_is_fetched_once_and_refreshed_before_expiry():
    now = [0.0]
    token_calls = []

    def handler(request):
        if request.url.path.endswith("/integration/admin/token"):
            token_calls.append(json.loads(request.content))
            return httpx.Response(200, json=f"jwt-{len(token_calls)}")
        return httpx.Response(200, json={"auth": request.headers["Authorization"]})

    auth = AdminTokenAuth("admin", "pw", lifetime=4 * 3600, margin=600, clock=lambda: now[0])
    client = make_client(handler, auth=auth)
    assert client.order(1)["auth"] == "Bearer jwt-1"
    now[0] = 3 * 3600
    assert client.order(1)["auth"] == "Bearer jwt-1"
    now[0] = 4 * 3600 - 599
    assert client.order(1)["auth"] == "Bearer jwt-2"
    assert token_calls[0] == {"username": "admin", "password": "pw"}
    assert len(token_calls) == 2


def test_revoked_admin_token_is_replaced_once_then_auth_error_surfaces():
    def handler(request):
        if request.url.path.endswith("/integration/admin/token"):
            return httpx.Response(200, json="jwt")
        return httpx.Response(
            401,
            json={
                "message": "The consumer isn't authorized to access %resources.",
                "parameters": {"resources": "Sales"},
            },
        )

    with pytest.raises(MagentoAuthError) as info:
        make_client(handler, auth=AdminTokenAuth("a", "b")).order(1)
    assert "authorized to access Sales" in info.value.message


def test_a_dropped_connection_on_the_fresh_token_retry_is_retried_like_any_other():
    answers = iter(
        [httpx.Response(401, json={"message": "revoked"}), httpx.ConnectError("reset")]
        + [httpx.Response(200, json={"entity_id": 1})]
    )

    def handler(request):
        if request.url.path.endswith("/integration/admin/token"):
            return httpx.Response(200, json="jwt")
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert make_client(handler, auth=AdminTokenAuth("a", "b")).order(1) == {"entity_id": 1}


def test_oauth1_requests_are_signed_hmac_sha256_and_verify():
    from oauthlib import oauth1

    captured = []

    def handler(request):
        captured.append(request)
        return httpx.Response(200, json={"items": [], "total_count": 0})

    auth = OAuth1Auth("ck", "cs", "at", "ats")
    list(make_client(handler, auth=auth).orders_updated_between(datetime(2026, 1, 1)))
    header = captured[0].headers["Authorization"]
    assert header.startswith("OAuth ")
    assert 'oauth_signature_method="HMAC-SHA256"' in header

    class Validator(oauth1.RequestValidator):
        enforce_ssl = False
        safe_characters = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        client_key_length = access_token_length = (2, 50)
        nonce_length = (10, 60)
        allowed_signature_methods = (oauth1.SIGNATURE_HMAC_SHA256,)

        def validate_client_key(self, k, r):
            return k == "ck"

        def get_client_secret(self, k, r):
            return "cs"

        def validate_access_token(self, k, t, r):
            return t == "at"

        def get_access_token_secret(self, k, t, r):
            return "ats"

        def validate_timestamp_and_nonce(self, *a, **kw):
            return True

        def validate_realms(self, *a, **kw):
            return True

        dummy_client = "dummy"
        dummy_access_token = "dummy"

    endpoint = oauth1.ResourceEndpoint(Validator())
    ok, _ = endpoint.validate_protected_resource_request(
        str(captured[0].url), http_method="GET", headers={"Authorization": header}
    )
    assert ok


def test_a_body_that_is_not_json_is_retried_then_reported_never_taken_as_empty():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(200, content=b"<html>proxy error</html>")
        return httpx.Response(200, content=b'{"items": [{"entity_id": 1, "grand_total": 58.33}]}')

    with make_client(handler) as client:
        assert client.request("GET", "orders") == {
            "items": [{"entity_id": 1, "grand_total": 58.33}]
        }
    assert len(calls) == 2

    broken = make_client(lambda r: httpx.Response(200, content=b"{NaN"), attempts=2)
    with broken, pytest.raises(RetriesExhausted, match="undecodable response body"):
        broken.request("GET", "orders")
