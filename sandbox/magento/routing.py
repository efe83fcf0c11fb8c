"""The web API route table: `@route(...)` registers a handler, `match` finds one for a path.

Handlers live in sandbox.magento.routes, one module per route group; importing that package
registers them all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.magento.errors import REQUIRED_FIELD, MagentoError, internal_error
from sandbox.magento.search import SearchCriteria, UnknownField, apply

if TYPE_CHECKING:
    from sandbox.magento.context import Ctx

logger = logging.getLogger(__name__)


@dataclass
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Callable[..., Any]
    resource: str
    public: bool = False
    topic: str | None = None


ROUTES: list[Route] = []


def route(
    method: str, pattern: str, resource: str, *, public: bool = False, topic: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def to_regex(pat: str) -> re.Pattern[str]:
        def group(m: re.Match[str]) -> str:
            name, _, kind = m.group(1).partition(":")
            return f"(?P<{name}>\\d+)" if kind == "int" else f"(?P<{name}>[^/]+)"

        return re.compile("^" + re.sub(r"\{([^}]+)\}", group, pat) + "$")

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(Route(method, to_regex(pattern), func, resource, public, topic))
        return func

    return register


def match(method: str, path: str) -> tuple[Route, dict[str, Any]] | None:
    for candidate in ROUTES:
        if candidate.method != method:
            continue
        found = candidate.regex.match(path)
        if found:
            params = {
                k: int(v) if v.isdigit() and k.endswith(("id", "Id")) else v
                for k, v in found.groupdict().items()
            }
            return candidate, params
    return None


def split_rest_path(rest: str) -> tuple[str, str, str] | None:
    """`default/async/V1/x` -> ("default", "async", "/V1/x"); None when not a web API path."""
    segments = [s for s in rest.split("/")]
    store_code = "default"
    index = 0
    if segments and segments[0] not in ("V1", "async"):
        store_code = segments[0]
        index = 1
    mode = "sync"
    if index < len(segments) and segments[index] == "async":
        mode = "async"
        index += 1
        if index < len(segments) and segments[index] == "bulk":
            mode = "bulk"
            index += 1
    path = "/" + "/".join(segments[index:])
    if not path.startswith("/V1/"):
        return None
    return store_code, mode, path


# --- what handlers share -----------------------------------------------------------------------


def search_result(ctx: Ctx, docs: list[dict[str, Any]], criteria: SearchCriteria, **kw: Any):
    try:
        page = apply(docs, criteria, input_limits=ctx.state.settings.input_limits, **kw)
    except UnknownField as exc:
        logger.info("searchCriteria names unknown column %s", exc.name)
        raise internal_error() from None
    return {
        "items": page.items,
        "search_criteria": criteria.echo(),
        "total_count": page.total_count,
    }


def require(body: Any, name: str) -> Any:
    if not isinstance(body, dict) or body.get(name) is None:
        raise MagentoError(REQUIRED_FIELD, {"fieldName": name})
    return body[name]
