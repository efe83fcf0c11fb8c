"""Reads for the health page: the figures (integration.health), quarantined Magento windows.

The CX screens' reads live in cx.selectors.
"""

from __future__ import annotations

from django.db.models import QuerySet

from integration.health.page import HealthPage, health_page
from integration.models import QuarantinedWindow, QuarantineStatus

__all__ = ["HealthPage", "health_page", "quarantined_windows"]


def quarantined_windows() -> QuerySet[QuarantinedWindow]:
    return QuarantinedWindow.objects.filter(status=QuarantineStatus.OPEN).order_by("window_start")[
        :50
    ]
