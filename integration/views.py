"""The health page (and its polled fragment), /metrics for Prometheus, /healthz for load balancers.

Access is decided by accounts.roles (the page: any staff role; /healthz: anyone; /metrics:
the bearer token, checked by the role middleware before these views run).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from exceptions_app.delivery import MAX_ATTEMPTS
from integration import selectors
from integration.health.healthz import healthz as healthz_read
from integration.health.metrics import CONTENT_TYPE, metrics_text


def _context() -> dict:
    return {
        "page": selectors.health_page(),
        "quarantined": selectors.quarantined_windows(),
        "refresh_seconds": settings.HEALTH_REFRESH_SECONDS,
        "notification_attempts": MAX_ATTEMPTS,
    }


@never_cache
def health_dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "integration/health.html", _context())


@never_cache
def health_panel(request: HttpRequest) -> HttpResponse:
    """The page's figures alone, for htmx to swap in on every refresh."""
    return render(request, "integration/_health_panel.html", _context())


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    result = healthz_read(now=timezone.now())
    return JsonResponse(
        {"status": result.status, "reasons": result.reasons}, status=result.http_status
    )
