"""Schema conformance: a sandbox response checked against the Magento 2.4.8 admin schema.

sandbox.magento.testing.sandbox_client(..., validate=True) runs validate_response on every
response, so conformance covers every test that uses the client, not a chosen few.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import httpx
from jsonschema import Draft4Validator

from sandbox.magento.middleware import FAULT_HEADER
from sandbox.magento.routing import split_rest_path
from sandbox.magento.schema import SCHEMA_PATH


class SchemaViolation(AssertionError):
    pass


def _loosen(node: Any) -> Any:
    """Swagger 2.0 cannot say nullable, and Magento answers null in typed fields: accept null
    for every typed value; `custom_attributes[].value` is Magento's anyType."""
    if isinstance(node, list):
        return [_loosen(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: _loosen(v)
        for k, v in node.items()
        if not (k in ("description", "example") and not isinstance(v, dict))
    }
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    # A $ref accepts null through its definition's own loosened "type".
    return out


@cache
def _schema() -> dict[str, Any]:
    raw = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    definitions = _loosen(raw["definitions"])
    # custom attribute values are anyType
    framework = definitions.get("framework-attribute-interface")
    if framework:
        framework["properties"]["value"] = {}
    # The schema calls error `parameters` an array of items, but Magento renders named
    # placeholders as an object ({"fieldName": ...}) and positional ones as a list of scalars
    # (Webapi/Rest/Response.php, error_catalogue.json).
    definitions["error-parameters"] = {"type": ["array", "object", "null"]}
    return {"paths": raw["paths"], "definitions": definitions}


@cache
def _path_templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in _schema()["paths"]:
        regex = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template.rstrip("/")) + "/?$"
        out.append((re.compile(regex), template))
    # literal segments before parameters (e.g. /V1/orders/items before /V1/orders/{id})
    out.sort(key=lambda pair: pair[1].count("{"))
    return out


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The schema the 2.4.8 spec gives for this operation's status (or `default`)."""
    for regex, template in _path_templates():
        if regex.match(path):
            operation = _schema()["paths"][template].get(method.lower())
            if not operation:
                return None
            responses = operation.get("responses", {})
            spec = responses.get(str(status)) or (
                responses.get("default") if status >= 400 else None
            )
            if spec is None:
                return None
            return spec.get("schema")
    return None


def validate_against(schema: dict[str, Any], data: Any, *, partial: bool = False) -> list[str]:
    """Validation errors of `data` against a (loosened) schema fragment. Properties the 2.4.8
    definition does not have are rejected, so the sandbox cannot invent fields; `partial`
    (a `fields=` response) drops the required lists."""
    validator = _validator(json.dumps(schema, sort_keys=True), partial)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(data)
    ]


@cache
def _validator(schema_json: str, partial: bool) -> Draft4Validator:
    definitions = _partial_definitions() if partial else _closed_definitions()
    return Draft4Validator({"definitions": definitions, **_loosen(json.loads(schema_json))})


@cache
def _partial_definitions() -> dict[str, Any]:
    partial = json.loads(json.dumps(_closed_definitions()))
    for definition in partial.values():
        definition.pop("required", None)
    return partial


@cache
def _closed_definitions() -> dict[str, Any]:
    closed = json.loads(json.dumps(_schema()["definitions"]))
    for definition in closed.values():
        if definition.get("properties"):
            definition["additionalProperties"] = False
    return closed


def validate_response(response: httpx.Response) -> None:
    """Raise SchemaViolation if a sandbox response does not match Magento 2.4.8's schema."""
    if FAULT_HEADER in response.headers:
        return  # injected transport faults are not web API responses
    split = split_rest_path(response.request.url.path.removeprefix("/rest/"))
    if split is None:
        return
    _, mode, path = split
    if response.status_code == 202 and mode != "sync":
        errors = validate_against(_ASYNC_ACCEPTED, response.json())
    else:
        schema = response_schema(response.request.method, path, response.status_code)
        if schema is None and response.status_code >= 400:
            schema = {"$ref": "#/definitions/error-response"}  # e.g. "does not match any route"
        if schema is None:
            if response.content.strip() not in (b"", b"[]"):
                raise SchemaViolation(
                    f"{response.request.method} {path} answered {response.status_code}, "
                    "which the 2.4.8 schema does not describe"
                )
            return
        fields = response.request.url.params.get("fields")
        if fields:
            schema = {k: v for k, v in schema.items() if k != "required"}
        errors = validate_against(schema, response.json(), partial=bool(fields))
    if errors:
        raise SchemaViolation(
            f"{response.request.method} {response.request.url} -> {response.status_code}:\n"
            + "\n".join(errors[:20])
        )


# async 202 body (served by /rest/<store>/async/schema in Magento, not in the admin schema)
_ASYNC_ACCEPTED = {
    "type": "object",
    "required": ["bulk_uuid", "request_items", "errors"],
    "additionalProperties": False,
    "properties": {
        "bulk_uuid": {"type": "string"},
        "errors": {"type": "boolean"},
        "request_items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "status"],
                "properties": {
                    "id": {"type": "integer"},
                    "data_hash": {"type": "string"},
                    "status": {"type": "string", "enum": ["accepted", "rejected"]},
                    "error_message": {"type": "string"},
                },
            },
        },
    },
}
