"""One run of a flow at a time: a lease row claimed with a compare-and-set UPDATE.

Works the same on PostgreSQL and SQLite, across worker processes and hosts; a worker killed
mid-run leaves a lease that simply expires, so the next scheduled run proceeds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from integration.models import FlowLock

DEFAULT_LEASE = timedelta(minutes=10)


class FlowBusy(Exception):  # noqa: N818
    """Another run of the flow holds the lease."""


class Lease:
    def __init__(self, flow: str, owner: str, lease: timedelta) -> None:
        self.flow, self.owner, self.lease = flow, owner, lease

    def release(self) -> None:
        FlowLock.objects.filter(flow=self.flow, owner=self.owner).update(
            owner="", locked_until=None
        )

    def renew(self) -> None:
        """Extend the lease during a long run (called between batches)."""
        FlowLock.objects.filter(flow=self.flow, owner=self.owner).update(
            locked_until=timezone.now() + self.lease
        )


def _claim(flow: str, owner: str, lease: timedelta) -> bool:
    now = timezone.now()
    for _ in range(2):
        claimed = FlowLock.objects.filter(
            Q(flow=flow) & (Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        ).update(owner=owner, locked_until=now + lease)
        if claimed:
            return True
        if FlowLock.objects.filter(flow=flow).exists():
            return False
        try:
            with transaction.atomic():
                FlowLock.objects.create(flow=flow)
        except IntegrityError:
            pass
    return False


def lease_acquire(flow: str, *, lease: timedelta = DEFAULT_LEASE) -> Lease:
    """Claim `flow`'s lease, or raise FlowBusy at once."""
    owner = uuid.uuid4().hex
    if not _claim(flow, owner, lease):
        raise FlowBusy(f"another {flow} run is in progress")
    return Lease(flow, owner, lease)


@contextmanager
def flow_lock(flow: str, *, lease: timedelta = DEFAULT_LEASE) -> Iterator[Lease]:
    """Hold `flow`'s lease for the block, or raise FlowBusy at once."""
    held = lease_acquire(flow, lease=lease)
    try:
        yield held
    finally:
        held.release()
