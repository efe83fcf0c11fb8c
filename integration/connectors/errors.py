"""Failed HTTP exchanges as `ConnectorError`s: the one status-to-error mapping every client uses.

Each system's client reads the message out of its own error bodies and names its own error
classes; what a status means (may a retry help? are the credentials wrong?) is decided here,
and so is how a timeout or a dropped connection is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from integration.connectors.backoff import ConnectorError, parse_retry_after


@dataclass(frozen=True)
class ErrorClasses:
    """The error one system raises for each meaning of a failed answer.

    `blank` is the message for an answer whose body says nothing, by meaning ("transient",
    "auth", "not_found", "refused"), with `{status}` filled in; a meaning left out stays blank.
    """

    transient: type[ConnectorError]
    auth: type[ConnectorError]
    not_found: type[ConnectorError]
    refused: type[ConnectorError]
    blank: Mapping[str, str] = field(default_factory=lambda: {"transient": "HTTP {status}"})


def error_for_status(
    response: httpx.Response,
    message: str,
    *,
    classes: ErrorClasses,
    contention: bool = False,
    **details: Any,
) -> ConnectorError:
    """The error for an answer of 400 or more: 429 and 5xx may pass, nothing else will.

    `contention` says the body of a 400 reports lock contention (a deadlock, a locked
    database), which goes away once the other writer commits: it is retried like a 5xx.
    `details` are passed on to the error class (the system, the body, sub-messages).
    """
    status = response.status_code
    extra: dict[str, Any] = {}
    if status == 429 or status >= 500 or (status == 400 and contention):
        meaning = "transient"
        extra["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
    elif status in (401, 403):
        meaning = "auth"
    elif status == 404:
        meaning = "not_found"
    else:
        meaning = "refused"
    text = message or classes.blank.get(meaning, "").format(status=status)
    error_class: type[ConnectorError] = getattr(classes, meaning)
    return error_class(text, status=status, **extra, **details)


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    transient: Callable[[str], ConnectorError],
    **kwargs: Any,
) -> httpx.Response:
    """One HTTP exchange; a timeout or a failed connection raises `transient(message)`."""
    try:
        return http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise transient(f"timed out: {exc!r}") from exc
    except httpx.TransportError as exc:
        raise transient(f"connection failed: {exc!r}") from exc
