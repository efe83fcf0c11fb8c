from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def order_lookup(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    return render(request, "integration/order_lookup.html", {"query": query})


def health_dashboard(request: HttpRequest) -> HttpResponse:
    from integration import selectors

    return render(
        request,
        "integration/health.html",
        {
            "flows": selectors.flow_health(),
            "outbox": selectors.outbox_counts(),
            "quarantined": selectors.quarantined_windows(),
        },
    )
