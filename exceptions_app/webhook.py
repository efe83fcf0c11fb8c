"""The one outbound HTTP chokepoint for chat-tool webhooks (EXCEPTION_WEBHOOK_URL).

Slack, Teams and Mattermost incoming webhooks all accept a JSON body with a `text` field.
Every call has a timeout; connection failures and 5xx answers are retried with backoff;
a 4xx answer is a configuration error and is not retried.
"""

import logging
import time

import httpx

logger = logging.getLogger(__name__)


class WebhookError(Exception):
    """The webhook could not be delivered (after retries, or refused)."""


def webhook_post(
    *,
    url: str,
    payload: dict,
    timeout: float = 5.0,
    attempts: int = 3,
    backoff: float = 0.5,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """POST `payload` as JSON; returns the status code, raises WebhookError on failure."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    last_error = ""
    with httpx.Client(timeout=httpx.Timeout(timeout), transport=transport) as client:
        for attempt in range(1, attempts + 1):
            try:
                response = client.post(url, json=payload)
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response.status_code
                last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code < 500 and response.status_code != 429:
                    raise WebhookError(f"webhook refused the message: {last_error}")
            logger.warning("webhook attempt %s/%s failed: %s", attempt, attempts, last_error)
            if attempt < attempts:
                time.sleep(backoff * 2 ** (attempt - 1))
    raise WebhookError(f"webhook failed after {attempts} attempts: {last_error}")
