"""The CX screens: order lookup and the order's path (DESIGN §5). They only read; the few
actions an agent takes from the order page are in cx.actions."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from accounts.roles import can_open
from cx.exception_panel import DirectAction, exception_rows
from cx.freshness import order_freshness
from cx.order_path import order_path
from cx.path_steps import StepState
from cx.selectors import (
    MATCHES_SHOWN,
    QUERY_MAX_CHARS,
    SearchKey,
    cx_exceptions_open,
    order_rows_annotate,
    order_search,
)
from cx.tables import OrderResultTable
from exceptions_app.selectors import visible_teams

ORDERS_PER_PAGE = 25


@require_GET
def order_lookup(request: HttpRequest) -> HttpResponse:
    """Customer service: find an order by number, email, postcode or name (DESIGN §5)."""
    search = order_search(query=request.GET.get("q", ""))
    if search.key == SearchKey.ORDER_NUMBER and not search.problem and "page" not in request.GET:
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
        "cx/order_lookup.html",
        {
            "search": search,
            "query": search.query,
            "table": table,
            "cx_exceptions": cx_open,
            "cx_exceptions_total": cx_total,
            "query_max_chars": QUERY_MAX_CHARS,
            "matches_shown": MATCHES_SHOWN,
        },
    )


def order_page(
    request: HttpRequest, increment_id: str, *, refresh=None, flash: str = "", error: str = ""
) -> HttpResponse:
    """The order page as it reads now, with the outcome of an action just taken, if any."""
    # Ops open this page from their exceptions but not the lookup: no link that answers 403.
    may_search = can_open(request.user, "cx:order_lookup")
    now = timezone.now()
    path = order_path(increment_id=increment_id, now=now)
    if path is None:
        return render(
            request,
            "cx/order_not_found.html",
            {
                "increment_id": increment_id,
                "may_search": may_search,
                "may_refresh": can_open(request.user, "cx:order_refresh"),
                "refresh": refresh,
            },
            status=404,
        )
    if path.order.increment_id != increment_id:
        # "42" for "000000042": one address per order.
        return redirect("cx:order_detail", increment_id=path.order.increment_id)
    return render(
        request,
        "cx/order_detail.html",
        {
            "path": path,
            "order": path.order,
            "freshness": order_freshness(order=path.order),
            "exception_rows": exception_rows(path=path, user=request.user, now=now),
            "readable_teams": visible_teams(request.user),
            "may_search": may_search,
            "may_refresh": can_open(request.user, "cx:order_refresh"),
            "refresh": refresh,
            "flash": flash,
            "error": error,
            "StepState": StepState,
            "DirectAction": DirectAction,
        },
    )


@require_GET
def order_detail(request: HttpRequest, increment_id: str) -> HttpResponse:
    """The order's path through Magento, the desk, the ERP and the warehouse, in plain words."""
    return order_page(request, increment_id)
