"""Magento's error bodies: placeholders filled, sub-messages kept, classified for retry."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

import httpx

from integration.connectors.backoff import (
    AuthError,
    ConnectorError,
    NotFoundError,
    PermanentError,
    TransientError,
)
from integration.connectors.errors import ErrorClasses, error_for_status

SYSTEM = "magento"
# Magento surfaces MySQL lock contention on inventory/order tables as 400/500 bodies
# (CONTRACT §11); the same call succeeds once the other writer commits.
_DEADLOCK = re.compile(r"Deadlock found|Lock wait timeout|Duplicate entry|SQLSTATE\[40001\]", re.I)
_PLACEHOLDER = re.compile(r"%(\d+|[A-Za-z_][A-Za-z0-9_]*)")


def render_message(message: str, parameters: object) -> str:
    """Fill Magento's %1 / %name placeholders from `parameters` (list or object)."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.isdigit() and isinstance(parameters, list):
            index = int(key) - 1
            if 0 <= index < len(parameters):
                return str(parameters[index])
        elif isinstance(parameters, dict) and key in parameters:
            value = parameters[key]
            return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        return match.group(0)

    return _PLACEHOLDER.sub(substitute, message or "")


class MagentoError(ConnectorError):
    """A Magento error body, placeholders filled; `errors` holds the aggregate sub-messages."""

    def __init__(self, message: str, *, errors: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(message, system=SYSTEM, **kwargs)
        self.errors = list(errors)


class MagentoTransientError(MagentoError, TransientError):
    pass


class MagentoPermanentError(MagentoError, PermanentError):
    pass


class MagentoAuthError(MagentoError, AuthError):
    pass


class MagentoNotFound(MagentoError, NotFoundError):
    pass


ERRORS = ErrorClasses(
    transient=MagentoTransientError,
    auth=MagentoAuthError,
    not_found=MagentoNotFound,
    refused=MagentoPermanentError,
)


def error_from_response(response: httpx.Response) -> MagentoError:
    """Classify an error response: what Magento said, and whether retrying may help."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = render_message(str(body.get("message", "")), body.get("parameters"))
        errors = [
            render_message(str(e.get("message", "")), e.get("parameters"))
            for e in body.get("errors") or []
            if isinstance(e, dict)
        ]
    else:
        message = (response.text or response.reason_phrase or "")[:500]
        errors = []
    if errors:
        message = f"{message} ({'; '.join(errors)})"
    error = error_for_status(  # the classes in ERRORS are all MagentoErrors
        response,
        message,
        classes=ERRORS,
        contention=bool(_DEADLOCK.search(message)),
        errors=errors,
        body=body,
    )
    return cast(MagentoError, error)
