"""POST /V1/integration/admin/token: the admin token, the one public route."""

from __future__ import annotations

from sandbox.magento.auth import issue_admin_token
from sandbox.magento.context import Ctx
from sandbox.magento.routing import route


@route("POST", "/V1/integration/admin/token", "anonymous", public=True)
def admin_token(ctx: Ctx) -> str:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    return issue_admin_token(
        ctx.store, ctx.state.credentials, body.get("username"), body.get("password")
    )
