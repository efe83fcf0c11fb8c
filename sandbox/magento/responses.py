"""JSON responses as Magento's web API writes them."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from sandbox.magento.errors import MagentoError


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # PHP's json_encode escapes non-ASCII as \uXXXX; clients must decode, as for Magento.
    return Response(
        json.dumps(body, ensure_ascii=True, separators=(",", ":")),
        status=status,
        headers=headers or {},
        mimetype="application/json",
    )


def error_response(exc: MagentoError) -> Response:
    return json_response(exc.body(), exc.status, exc.headers)
