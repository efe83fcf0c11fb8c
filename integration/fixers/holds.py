"""Which orders an exception holds, and how many a fix would release (the holds table)."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from exceptions_app.fixers import HeldOrder
from integration.models import Order, OrderHold

HELD_ORDERS_SHOWN = 200


def orders_held(*, kinds: tuple[str, ...], subject: str) -> QuerySet[Order]:
    """Orders with an open hold of one of `kinds` on `subject`."""
    return Order.objects.filter(
        Exists(
            OrderHold.objects.filter(
                order=OuterRef("pk"), kind__in=kinds, subject=subject, released_at__isnull=True
            )
        )
    )


def held_order_rows(*, kinds: tuple[str, ...], subject: str) -> list[HeldOrder]:
    rows = (
        orders_held(kinds=kinds, subject=subject)
        .order_by("magento_created_at", "pk")
        .values_list("increment_id", "grand_total", "currency_code")[:HELD_ORDERS_SHOWN]
    )
    return [HeldOrder(increment_id, total, currency) for increment_id, total, currency in rows]


def orders_released_by(*, kinds: tuple[str, ...], subject: str) -> int:
    """Held orders a fix of (kinds, subject) would release: those held by nothing else."""
    other = OrderHold.objects.filter(order=OuterRef("pk"), released_at__isnull=True).exclude(
        Q(kind__in=kinds) & Q(subject=subject)
    )
    return orders_held(kinds=kinds, subject=subject).exclude(Exists(other)).count()
