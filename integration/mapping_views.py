"""The ERP item master search the SKU fix uses (htmx fragment), ranked like the suggestion."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from integration.fixers.ranking import items_ranked

QUERY_MAX = 100


@require_GET
def erp_item_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:QUERY_MAX]
    sku = request.GET.get("sku", "").strip()[:QUERY_MAX]
    return render(
        request,
        "integration/fixes/_erp_item_results.html",
        {
            "erp_items": items_ranked(sku=sku or query, query=query, limit=20),
            "erp_query": query,
            # Keep the item already picked checked when a later search redraws the list.
            "selected": request.GET.get("erp_item_code", "")[:QUERY_MAX],
        },
    )
