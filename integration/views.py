from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from exceptions_app.selectors import visible_teams
from integration.selectors import (
    SearchKey,
    cx_exceptions_open,
    order_path,
    order_rows_annotate,
    order_search,
)
from integration.tables import OrderResultTable

ORDERS_PER_PAGE = 25


@require_GET
def order_lookup(request: HttpRequest) -> HttpResponse:
    """Customer service: find an order by number, email, postcode or name (DESIGN §5)."""
    search = order_search(query=request.GET.get("q", ""))
    if search.key == SearchKey.ORDER_NUMBER and "page" not in request.GET:
        # "Where is order 42?" goes straight to the order when the number names just one.
        matches = list(search.orders.values_list("increment_id", flat=True)[:2])
        if len(matches) == 1:
            return redirect("cx:order_detail", increment_id=matches[0])
    table = None
    if search.key and not search.problem:
        table = OrderResultTable(search.orders)
        RequestConfig(
            request, paginate={"per_page": ORDERS_PER_PAGE, "paginator_class": LazyPaginator}
        ).configure(table)
        order_rows_annotate([row.record for row in table.page.object_list])
    cx_open, cx_total = cx_exceptions_open(user=request.user)
    return render(
        request,
        "integration/order_lookup.html",
        {
            "search": search,
            "query": search.query,
            "table": table,
            "cx_exceptions": cx_open,
            "cx_exceptions_total": cx_total,
        },
    )


@require_GET
def order_detail(request: HttpRequest, increment_id: str) -> HttpResponse:
    """The order's path through Magento, the desk, the ERP and the warehouse, in plain words."""
    path = order_path(increment_id=increment_id)
    if path is None:
        return render(
            request,
            "integration/order_not_found.html",
            {"increment_id": increment_id},
            status=404,
        )
    if path.order.increment_id != increment_id:
        # "42" for "000000042": one address per order.
        return redirect("cx:order_detail", increment_id=path.order.increment_id)
    return render(
        request,
        "integration/order_detail.html",
        {"path": path, "order": path.order, "readable_teams": visible_teams(request.user)},
    )


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
