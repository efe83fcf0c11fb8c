"""The Tryton adapter's transport against httpx.MockTransport: encoding and each fault's error."""

import base64
import json
from datetime import date, datetime
from decimal import Decimal

import httpx
import pytest

from integration.connectors.backoff import (
    AuthError,
    CircuitBreaker,
    NotFoundError,
    RetriesExhausted,
    RetryPolicy,
)
from integration.connectors.erp import ErpRejected
from integration.connectors.tryton.client import TrytonAdapter, TrytonRejected


def adapter(handler, *, sleeps=None, attempts=4):
    return TrytonAdapter(
        base_url="http://erp.test/",
        database="db",
        api_key="secret",
        transport=httpx.MockTransport(handler),
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.05, max_total=60),
        breaker=CircuitBreaker("erp-test", threshold=100),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
    )


def answers(*responses):
    """A handler giving these answers in turn (an exception instance is raised)."""
    seen = []
    queue = list(responses)

    def handler(request):
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def unb64(value: str):
    return json.loads(base64.urlsafe_b64decode(value))


def test_a_search_sends_the_key_and_the_encoded_domain_and_decodes_decimals_and_dates():
    body = [
        {
            "id": 1,
            "price": {"__class__": "Decimal", "decimal": "12.3400"},
            "day": {"__class__": "date", "year": 2026, "month": 3, "day": 2},
            "at": {
                "__class__": "datetime",
                "year": 2026,
                "month": 3,
                "day": 2,
                "hour": 9,
                "minute": 5,
                "second": 7,
                "microsecond": 11,
            },
        }
    ]
    handler, seen = answers(httpx.Response(200, json=body))
    rows = adapter(handler).search(
        "product.product", [["list_price", ">", Decimal("1.50")]], ["code", "name"], page=10
    )
    assert rows == [
        {
            "id": 1,
            "price": Decimal("12.3400"),
            "day": date(2026, 3, 2),
            "at": datetime(2026, 3, 2, 9, 5, 7, 11),
        }
    ]
    request = seen[0]
    assert request.url.path == "/db/rest/model/product.product"
    assert request.headers["Authorization"] == "Bearer secret"
    params = request.url.params
    assert unb64(params["d"]) == [["list_price", ">", {"__class__": "Decimal", "decimal": "1.50"}]]
    assert unb64(params["o"]) == [["id", "ASC"]]
    assert params.get_list("f") == ["code", "name"]
    assert (params["s"], params["p"]) == ("10", "0")


def test_a_search_pages_by_offset_until_a_short_page():
    handler, seen = answers(
        httpx.Response(200, json=[{"id": 1}, {"id": 2}]), httpx.Response(200, json=[{"id": 3}])
    )
    assert [r["id"] for r in adapter(handler).search("sale.sale", [], ["id"], page=2)] == [1, 2, 3]
    assert [r.url.params["p"] for r in seen] == ["0", "2"]


def test_a_write_carries_the_company_context_and_encodes_its_body():
    handler, seen = answers(httpx.Response(200, json=[{"id": 7}]), httpx.Response(200, json=5))
    erp = adapter(handler)
    assert erp.request("POST", "model/party.party", body={"on": date(2026, 1, 31)}) == 5
    post = seen[1]
    assert unb64(post.headers["X-Tryton-Context"]) == {"company": 7, "companies": [7]}
    assert json.loads(post.content) == {
        "on": {"__class__": "date", "year": 2026, "month": 1, "day": 31}
    }
    assert post.headers["Content-Type"] == "application/json"


def test_server_errors_and_429_are_retried_honouring_retry_after():
    sleeps = []
    handler, seen = answers(
        httpx.Response(503, text="down"),
        httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow down"}),
        httpx.Response(200, json=[]),
    )
    assert adapter(handler, sleeps=sleeps).search("sale.sale", [], ["id"]) == []
    assert len(seen) == 3
    assert sleeps[1] >= 7


def test_a_locked_database_is_retried_like_a_deadlock():
    handler, seen = answers(
        httpx.Response(400, json={"message": "database is locked"}), httpx.Response(200, json=[])
    )
    assert adapter(handler).search("sale.sale", [], ["id"]) == []
    assert len(seen) == 2


def test_timeouts_and_dropped_connections_are_retried_then_given_up():
    handler, seen = answers(
        httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.ReadTimeout("slow")
    )
    with pytest.raises(RetriesExhausted, match="timed out") as caught:
        adapter(handler, attempts=3).search("sale.sale", [], ["id"])
    assert len(seen) == 3
    assert caught.value.system == "erp"


def test_a_user_error_is_an_erp_rejection_in_tryton_words_and_is_not_retried():
    handler, seen = answers(
        httpx.Response(400, json={"message": "The sale is not valid.", "description": "No lines."})
    )
    with pytest.raises(TrytonRejected) as caught:
        adapter(handler).request("GET", "model/sale.sale/1")
    assert isinstance(caught.value, ErpRejected)
    assert caught.value.message == "The sale is not valid. No lines."
    assert caught.value.status == 400
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (401, AuthError, "ERP refused the API key"),
        (403, AuthError, "ERP refused the API key"),
        (404, NotFoundError, "not found"),
        (409, TrytonRejected, "HTTP 409"),
    ],
)
def test_refusals_without_a_message_are_named_and_not_retried(status, error, message):
    handler, seen = answers(httpx.Response(status, json={}))
    with pytest.raises(error) as caught:
        adapter(handler).request("GET", "model/sale.sale/1")
    assert caught.value.message == message
    assert caught.value.status == status
    assert len(seen) == 1


def test_an_undecodable_answer_is_transient():
    handler, seen = answers(httpx.Response(200, content=b"<html>"), httpx.Response(200, json=[]))
    assert adapter(handler).search("sale.sale", [], ["id"]) == []
    assert len(seen) == 2
