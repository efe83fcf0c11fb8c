"""The chat webhook connector against httpx.MockTransport: retries, backoff and refusals."""

import json

import httpx
import pytest

from integration.connectors.webhook import WebhookError, webhook_post

URL = "http://127.0.0.1:9/hook"


def post(handler, sleeps=None, **kwargs):
    return webhook_post(
        url=URL,
        payload={"text": "hi"},
        transport=httpx.MockTransport(handler),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        **kwargs,
    )


def test_the_payload_is_posted_as_json_and_the_status_returned():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(204)

    assert post(handler) == 204
    assert seen[0].method == "POST" and str(seen[0].url) == URL
    assert seen[0].headers["Content-Type"] == "application/json"
    assert json.loads(seen[0].content) == {"text": "hi"}


def test_server_errors_are_retried_with_backoff_then_succeed():
    answers = iter([503, 502, 200])
    seen, sleeps = [], []

    def handler(request):
        seen.append(request.read())
        return httpx.Response(next(answers))

    assert post(handler, sleeps) == 200
    assert len(seen) == 3 and b'"text"' in seen[0]
    assert len(sleeps) == 2 and all(0 <= s <= 1.0 for s in sleeps)


def test_timeouts_are_retried_until_the_attempts_run_out():
    calls = []

    def handler(request):
        calls.append(request.extensions.get("timeout"))
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(WebhookError, match="after 3 attempts: ReadTimeout"):
        post(handler, timeout=2.5)
    assert len(calls) == 3
    assert calls[0]["read"] == 2.5


def test_a_dropped_connection_is_retried():
    answers = iter([httpx.ConnectError("refused"), httpx.Response(200)])

    def handler(request):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert post(handler) == 200


def test_a_server_that_stays_down_is_reported_with_its_last_answer():
    def handler(request):
        return httpx.Response(503, text="maintenance")

    with pytest.raises(WebhookError, match="after 2 attempts: HTTP 503: maintenance"):
        post(handler, attempts=2)


def test_429_waits_at_least_as_long_as_retry_after_says():
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200)])
    sleeps = []
    assert post(lambda request: next(answers), sleeps) == 200
    assert sleeps and sleeps[0] >= 3


def test_a_retry_after_beyond_the_budget_gives_up_at_once():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(429, headers={"Retry-After": "3600"})

    sleeps = []
    with pytest.raises(WebhookError, match="after 1 attempts: HTTP 429"):
        post(handler, sleeps)
    assert calls == [1] and sleeps == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_a_refusal_is_not_retried(status):
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(status, text="no such hook")

    with pytest.raises(WebhookError, match=f"refused the message: HTTP {status}: no such hook"):
        post(handler)
    assert calls == [1]


def test_at_least_one_attempt_is_required():
    with pytest.raises(ValueError, match="at least 1"):
        post(lambda request: httpx.Response(200), attempts=0)
