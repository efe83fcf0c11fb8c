from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from integration import selectors


def health_dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "integration/health.html",
        {
            "flows": selectors.flow_health(),
            "outbox": selectors.outbox_counts(),
            "quarantined": selectors.quarantined_windows(),
        },
    )
