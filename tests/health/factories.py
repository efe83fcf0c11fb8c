"""Factories for the health figures' inputs: runs, stock outbox rows (others: tests.factories)."""

from datetime import timedelta

import factory
from django.utils import timezone

from integration.models import RunStatus


class SyncRunFactory(factory.django.DjangoModelFactory):
    """A finished run; pass `ago=timedelta(...)` to place it in time."""

    class Meta:
        model = "integration.SyncRun"
        exclude = ("ago",)

    ago = timedelta(minutes=1)
    flow = "orders_in"
    status = RunStatus.SUCCEEDED
    started_at = factory.LazyAttribute(lambda r: timezone.now() - r.ago)
    finished_at = factory.LazyAttribute(lambda r: r.started_at + timedelta(seconds=3))


class StockPushFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integration.StockPush"

    sku = factory.Sequence(lambda n: f"24-MB{n:02d}")
    quantity = 5
    status = "pending"
    created_at = factory.LazyFunction(timezone.now)


def fresh_runs(*, ago: timedelta = timedelta(minutes=1)) -> None:
    """One recent successful run of every flow: the baseline a healthy desk has."""
    from integration.models import Flow

    for flow in Flow:
        SyncRunFactory(flow=flow, ago=ago)
