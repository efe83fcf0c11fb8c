"""Asynchronous and bulk web API (CONTRACT §7): operations queued, then consumed.

`/rest/<store>/async/V1/<route>` queues one operation; `/rest/<store>/async/bulk/V1/<route>`
queues one per element of a JSON array. Both answer 202 with a `bulk_uuid`. The consumer
(Magento's `async.operations.all`) runs the queued operations through the same handler the
synchronous route uses; when it runs is the app's `async_mode`:

- `next-request` (default): before handling the next request that is not itself an async
  enqueue, so a client polling `/V1/bulk/{uuid}/status` sees the result on its first read;
- `manual`: only when `SandboxState.consume()` is called (tests observing status 4 "open").

Operation status codes: 1 complete, 2 retriably failed, 3 failed (change the input), 4 open,
5 rejected.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from sandbox.magento.errors import DEADLOCK, MagentoError, not_found, render
from sandbox.magento.store import Store

STATUS_COMPLETE = 1
STATUS_RETRIABLY_FAILED = 2
STATUS_FAILED = 3
STATUS_OPEN = 4
STATUS_REJECTED = 5

# Service class names Magento puts in result messages, per topic.
_SERVICES = {
    "async.magento.inventoryapi.api.sourceitemssaveinterface.execute.post": (
        "Magento\\Inventory\\Model\\SourceItem\\Command\\SourceItemsSave\\Interceptor::execute"
    ),
    "async.magento.inventoryapi.api.sourceitemsdeleteinterface.execute.post": (
        "Magento\\Inventory\\Model\\SourceItem\\Command\\SourceItemsDelete\\Interceptor::execute"
    ),
}


def data_hash(element: Any) -> str:
    return hashlib.sha256(json.dumps(element, separators=(",", ":")).encode()).hexdigest()


def enqueue(
    store: Store,
    *,
    topic: str,
    method: str,
    path: str,
    elements: list[Any],
    user_type: int,
    user_id: int | None,
    created: str,
    injected: list[str | None],
) -> dict[str, Any]:
    """Queue one operation per element; the 202 body."""
    bulk_uuid = str(uuid.uuid4())
    items = []
    with store.transaction() as tx:
        for index, element in enumerate(elements):
            serialized = json.dumps(
                {
                    "entity_id": None,
                    "entity_link": "",
                    "meta_information": json.dumps(element, separators=(",", ":")),
                },
                separators=(",", ":"),
            )
            tx.execute(
                "INSERT INTO bulk_operations (bulk_uuid, topic_name, serialized_data, status, "
                "start_time, user_type, user_id, request, injected) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (bulk_uuid, topic, serialized, STATUS_OPEN, created, user_type, user_id,
                 json.dumps({"method": method, "path": path}), injected[index]),
            )  # fmt: skip
            items.append({"id": index, "data_hash": data_hash(element), "status": "accepted"})
    return {"bulk_uuid": bulk_uuid, "request_items": items, "errors": False}


Runner = Callable[[str, str, Any], Any]


def consume(store: Store, run: Runner) -> int:
    """Run every open operation; `run(method, path, body)` is the synchronous handler."""
    rows = (
        store.read()
        .execute("SELECT * FROM bulk_operations WHERE status = ? ORDER BY id", (STATUS_OPEN,))
        .fetchall()
    )
    for row in rows:
        request = json.loads(row["request"])
        body = json.loads(json.loads(row["serialized_data"])["meta_information"])
        service = _SERVICES.get(row["topic_name"], "Magento\\Webapi\\Model\\Service::execute")
        if row["injected"] == "deadlock":
            status, message, error_code, result = STATUS_RETRIABLY_FAILED, DEADLOCK, 1213, None
        else:
            try:
                outcome = run(request["method"], request["path"], body)
            except MagentoError as exc:
                status, error_code, result = STATUS_FAILED, 0, None
                message = render(exc.message, exc.parameters)
                if exc.errors:
                    message += " " + "; ".join(
                        render(e["message"], e.get("parameters")) for e in exc.errors
                    )
            else:
                status, error_code = STATUS_COMPLETE, None
                message = f"Service execution success {service}"
                result = json.dumps(outcome)
        with store.transaction() as tx:
            tx.execute(
                "UPDATE bulk_operations SET status = ?, result_message = ?, error_code = ?, "
                "result_serialized_data = ? WHERE id = ? AND status = ?",
                (status, message, error_code, result, row["id"], STATUS_OPEN),
            )
    return len(rows)


def has_open(store: Store) -> bool:
    row = (
        store.read()
        .execute("SELECT 1 FROM bulk_operations WHERE status = ? LIMIT 1", (STATUS_OPEN,))
        .fetchone()
    )
    return row is not None


def _rows(store: Store, bulk_uuid: str) -> list[Any]:
    rows = (
        store.read()
        .execute("SELECT * FROM bulk_operations WHERE bulk_uuid = ? ORDER BY id", (bulk_uuid,))
        .fetchall()
    )
    if not rows:
        raise not_found("Bulk uuid %bulkUuid not exist", {"bulkUuid": bulk_uuid})
    return rows


def status(store: Store, bulk_uuid: str, *, detailed: bool) -> dict[str, Any]:
    rows = _rows(store, bulk_uuid)
    operations = []
    for row in rows:
        op: dict[str, Any] = {"id": row["id"]}
        if detailed:
            op.update(
                {
                    "bulk_uuid": row["bulk_uuid"],
                    "topic_name": row["topic_name"],
                    "serialized_data": row["serialized_data"],
                    "result_serialized_data": row["result_serialized_data"],
                }
            )
        op.update(
            {
                "status": row["status"],
                "result_message": row["result_message"],
                "error_code": row["error_code"],
            }
        )
        operations.append(op)
    first = rows[0]
    return {
        "operations_list": operations,
        "user_type": first["user_type"],
        "bulk_id": bulk_uuid,
        "description": f"Topic {first['topic_name']}",
        "start_time": first["start_time"],
        "user_id": first["user_id"],
        "operation_count": len(rows),
    }


def count_with_status(store: Store, bulk_uuid: str, status_code: int) -> int:
    _rows(store, bulk_uuid)
    row = (
        store.read()
        .execute(
            "SELECT COUNT(*) FROM bulk_operations WHERE bulk_uuid = ? AND status = ?",
            (bulk_uuid, status_code),
        )
        .fetchone()
    )
    return int(row[0])
