"""The one outbound HTTP chokepoint for chat-tool webhooks (EXCEPTION_WEBHOOK_URL).

Slack, Teams and Mattermost incoming webhooks all accept a JSON body with a `text` field.
Every call has a timeout; connection failures, 5xx and 429 answers are retried with the
shared backoff (a Retry-After is honoured); any other 4xx is a configuration error and is
not retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from integration.connectors.backoff import (
    ConnectorError,
    PermanentError,
    RetriesExhausted,
    RetryPolicy,
    TransientError,
    call_with_retries,
)
from integration.connectors.errors import ErrorClasses, error_for_status, send

SYSTEM = "webhook"
# Backoff starts at half a second; a Retry-After beyond the budget gives up rather than
# holding the delivery task for longer.
BASE_DELAY = 0.5
MAX_DELAY = 10.0
RETRY_BUDGET = 60.0


class WebhookError(Exception):
    """The webhook could not be delivered (after retries, or refused)."""


class _Retryable(TransientError):
    def __init__(self, message: str, **kwargs: object) -> None:
        super().__init__(message, system=SYSTEM, **kwargs)


class _Refused(PermanentError):
    def __init__(self, message: str, **kwargs: object) -> None:
        super().__init__(message, system=SYSTEM, **kwargs)


ERRORS = ErrorClasses(transient=_Retryable, auth=_Refused, not_found=_Refused, refused=_Refused)


def _described(error: ConnectorError) -> str:
    """The failure as the desk records it: the HTTP answer, or the network error's name."""
    network = error.__cause__
    if isinstance(network, httpx.TransportError):
        return f"{type(network).__name__}: {network}"
    return error.message


def webhook_post(
    *,
    url: str,
    payload: dict,
    timeout: float = 5.0,
    attempts: int = 3,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST `payload` as JSON; returns the status code, raises WebhookError on failure."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    policy = RetryPolicy(
        max_attempts=attempts, base_delay=BASE_DELAY, max_delay=MAX_DELAY, max_total=RETRY_BUDGET
    )
    tried = 0
    with httpx.Client(timeout=httpx.Timeout(timeout), transport=transport) as client:

        def attempt() -> int:
            nonlocal tried
            tried += 1
            response = send(client, "POST", url, transient=_Retryable, json=payload)
            if response.status_code < 400:
                return response.status_code
            message = f"HTTP {response.status_code}: {response.text[:200]}"
            raise error_for_status(response, message, classes=ERRORS)

        try:
            return call_with_retries(attempt, policy=policy, sleep=sleep)
        except PermanentError as exc:
            raise WebhookError(f"webhook refused the message: {exc.message}") from exc
        except RetriesExhausted as exc:
            last = exc.__cause__
            detail = _described(last) if isinstance(last, ConnectorError) else exc.message
            raise WebhookError(f"webhook failed after {tried} attempts: {detail}") from exc
