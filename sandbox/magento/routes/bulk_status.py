"""/V1/bulk/{bulkUuid}/...: what became of queued async and bulk operations."""

from __future__ import annotations

from typing import Any

from sandbox.magento import bulk
from sandbox.magento.context import Ctx
from sandbox.magento.routing import route

BULK_RESOURCE = "Magento_Logging::system_magento_logging_bulk_operations"


@route("GET", "/V1/bulk/{bulkUuid}/status", BULK_RESOURCE)
def bulk_status(ctx: Ctx, bulkUuid: str) -> dict[str, Any]:  # noqa: N803
    return bulk.status(ctx.store, bulkUuid, detailed=False)


@route("GET", "/V1/bulk/{bulkUuid}/detailed-status", BULK_RESOURCE)
def bulk_detailed_status(ctx: Ctx, bulkUuid: str) -> dict[str, Any]:  # noqa: N803
    return bulk.status(ctx.store, bulkUuid, detailed=True)


@route("GET", "/V1/bulk/{bulkUuid}/operation-status/{status}", BULK_RESOURCE)
def bulk_operation_count(ctx: Ctx, bulkUuid: str, status: str) -> int:  # noqa: N803
    return bulk.count_with_status(ctx.store, bulkUuid, int(status))
