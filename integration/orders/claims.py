"""The post claim: a lease on the order row, taken and given back in one short statement each.

A worker posting an order claims it instead of locking it, so no database transaction is held
across the ERP's HTTP calls; a claim whose worker died simply lapses.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection
from django.utils import timezone

from integration.bulk_sql import model_names
from integration.models import Order, OrderErpStatus


class ClaimSql:
    """The statements of a claim, written once per backend from the model's meta."""

    def __init__(self) -> None:
        table, col = model_names(
            Order,
            "pk",
            "erp_status",
            "erp_sale_id",
            "erp_posted_at",
            "post_claimed_by",
            "post_claimed_until",
        )
        pk, status, sale = col["pk"], col["erp_status"], col["erp_sale_id"]
        posted_at, by, until = (
            col["erp_posted_at"],
            col["post_claimed_by"],
            col["post_claimed_until"],
        )
        # names come from the model's meta, values are parameters
        self.claim = (
            f"UPDATE {table} SET {by} = %s, {until} = %s WHERE {pk} = %s "  # noqa: S608
            f"AND {status} <> %s AND ({until} IS NULL OR {until} < %s)"
        )
        self.read = f"SELECT {status}, {sale}, {until} FROM {table} WHERE {pk} = %s"  # noqa: S608
        self.record = (
            f"UPDATE {table} SET {status} = %s, {sale} = %s, {posted_at} = %s, "  # noqa: S608
            f"{by} = '', {until} = NULL WHERE {pk} = %s AND {by} = %s"
        )
        self.release = (
            f"UPDATE {table} SET {by} = '', {until} = NULL "  # noqa: S608
            f"WHERE {pk} = %s AND {by} = %s"
        )


@cache
def _claim_sql(vendor: str) -> ClaimSql:
    return ClaimSql()


def _sql() -> ClaimSql:
    return _claim_sql(connection.vendor)


def _when(value: datetime):
    return Order._meta.get_field("post_claimed_until").get_db_prep_save(value, connection)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def claim_read(pk: int) -> tuple[str, str, bool]:
    """(erp_status, erp_sale_id, claimed by a live worker) of the order."""
    with connection.cursor() as cursor:
        cursor.execute(_sql().read, [pk])
        row = cursor.fetchone()
    if row is None:
        raise Order.DoesNotExist(f"order pk {pk} is gone")
    until = row[2]
    if isinstance(until, str):  # SQLite hands back text
        until = datetime.fromisoformat(until)
    if until is not None and timezone.is_naive(until):
        until = timezone.make_aware(until, UTC)
    return row[0], row[1], until is not None and until > timezone.now()


def claim_take(pk: int, owner: str) -> bool:
    """Claim the order for this worker (one short statement); False if posted or claimed."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.SYNC_POST_CLAIM_SECONDS)
    return bool(
        _execute(_sql().claim, [owner, _when(lease), pk, OrderErpStatus.POSTED.value, _when(now)])
    )


def claim_or_wait(pk: int, owner: str) -> tuple[bool, str, str]:
    """Claim the order, or wait for the worker that holds it to finish.

    Returns (claimed, erp_status, erp_sale_id); a post never waits on a database lock, so
    the web and the other flows keep writing while the ERP answers.
    """
    deadline = time.monotonic() + settings.SYNC_POST_CLAIM_WAIT_SECONDS
    while True:
        if claim_take(pk, owner):
            status, sale_id, _live = claim_read(pk)
            return True, status, sale_id
        status, sale_id, live = claim_read(pk)
        if status == OrderErpStatus.POSTED or time.monotonic() >= deadline:
            return False, status, sale_id
        if live:
            time.sleep(0.1)  # another worker is posting it; a lapsed claim is retried at once


def claim_record_posted(pk: int, owner: str, *, sale_id: str, posted_at: datetime) -> bool:
    """Mark the order posted as `sale_id` and end the claim; False if the claim was lost."""
    return bool(
        _execute(
            _sql().record,
            [OrderErpStatus.POSTED.value, sale_id, _when(posted_at), pk, owner],
        )
    )


def claim_release(pk: int, owner: str) -> None:
    """End the claim without posting (the post failed); the next run may claim it again."""
    _execute(_sql().release, [pk, owner])
