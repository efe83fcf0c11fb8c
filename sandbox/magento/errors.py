"""Magento's web API error bodies (CONTRACT §8).

`message` is the raw phrase with `%1` / `%name` placeholders; the values travel separately in
`parameters` (a list for positional, an object for named placeholders). Clients substitute.
"""

from __future__ import annotations

import secrets
from typing import Any

NOT_FOUND_ENTITY = "The entity that was requested doesn't exist. Verify the entity and try again."
NOT_FOUND_PRODUCT = (
    "The product that was requested doesn't exist. Verify the product and try again."
)
NO_ROUTE = "Request does not match any route."
REQUIRED_FIELD = '"%fieldName" is required. Enter and try again.'
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
SIGN_IN_FAILED = (
    "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
)
SHIPMENT_VALIDATION = "Shipment Document Validation Error(s):\n"
DEADLOCK = "Database deadlock found when trying to get lock"


class MagentoError(Exception):
    """An error the sandbox answers the way Magento's ErrorProcessor renders it."""

    def __init__(
        self,
        message: str,
        parameters: list[Any] | dict[str, Any] | None = None,
        *,
        status: int = 400,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.parameters = parameters
        self.status = status
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        if self.parameters:
            body["parameters"] = self.parameters
        body.update(self.extra)
        return body


def not_found(message: str = NOT_FOUND_ENTITY, parameters: Any = None) -> MagentoError:
    return MagentoError(message, parameters, status=404)


def unauthorized(resources: str) -> MagentoError:
    return MagentoError(NOT_AUTHORIZED, {"resources": resources}, status=401)


def internal_error() -> MagentoError:
    """Production mode masks unexpected exceptions behind a report id."""
    report = secrets.token_hex(6)
    return MagentoError(
        f"Internal Error. Details are available in Magento log file. Report ID: webapi-{report}",
        status=500,
    )


def render(message: str, parameters: list[Any] | dict[str, Any] | None) -> str:
    """Substitute placeholders as a client would (used in logs and tests)."""
    if not parameters:
        return message
    if isinstance(parameters, list):
        for index, value in reversed(list(enumerate(parameters, start=1))):
            message = message.replace(f"%{index}", str(value))
        return message
    for name in sorted(parameters, key=len, reverse=True):
        message = message.replace(f"%{name}", str(parameters[name]))
    return message
