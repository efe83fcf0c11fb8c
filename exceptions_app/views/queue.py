"""The queue: filter, sort, page, and bulk actions. htmx asks for the queue fragment only."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from accounts.roles import can_act
from exceptions_app import forms, services
from exceptions_app.filters import ExceptionFilter
from exceptions_app.models import Resolution
from exceptions_app.selectors import (
    exception_counts,
    exception_queue,
    exceptions_visible,
    team_members,
    visible_teams,
)
from exceptions_app.tables import ExceptionTable

PAGE_SIZES = (25, 50, 100)


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("per_page", 25))
    except ValueError:
        return 25
    return size if size in PAGE_SIZES else 25


def _queue_context(request: HttpRequest, *, outcomes=None, bulk_form=None) -> dict[str, Any]:
    user = request.user
    members = list(team_members(teams=visible_teams(user)))
    queue_filter = ExceptionFilter(
        request.GET, queryset=exception_queue(user=user), user=user, members=members
    )
    teams = visible_teams(user)
    # One team's queue needs no team column; an admin's does.
    table = ExceptionTable(queue_filter.qs, exclude=("team",) if len(teams) == 1 else ())
    RequestConfig(
        request,
        paginate={"per_page": _page_size(request), "paginator_class": LazyPaginator},
    ).configure(table)
    return {
        "filter": queue_filter,
        "table": table,
        "counts": exception_counts(user=user),
        "bulk_form": bulk_form or forms.BulkForm(members=members),
        "outcomes": outcomes,
        "page_sizes": PAGE_SIZES,
        "per_page": _page_size(request),
        # The page is already read; only an empty page asks whether anything exists at all.
        "has_any": outcomes is not None
        or bool(table.page.object_list)
        or exceptions_visible(user=user).exists(),
    }


@require_http_methods(["GET", "POST"])
def exception_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _bulk(request)
    context = _queue_context(request)
    if request.htmx and request.htmx.target == "queue":
        return render(request, "exceptions_app/_queue.html", context)
    return render(request, "exceptions_app/exception_list.html", context)


def _bulk(request: HttpRequest) -> HttpResponse:
    if not can_act(request.user, "exception.bulk"):
        raise PermissionDenied("Your role may not run bulk actions.")
    members = list(team_members(teams=visible_teams(request.user)))
    form = forms.BulkForm(request.POST, members=members)
    outcomes = None
    if form.is_valid():
        data = form.cleaned_data
        outcomes = services.exceptions_bulk(
            actor=request.user,
            ids=data["ids"],
            action=data["action"],
            assignee=data.get("assignee"),
            resolution=data.get("resolution") or Resolution.FIXED,
            note=data.get("note") or "",
        )
    if request.htmx:
        context = _queue_context(request, outcomes=outcomes, bulk_form=None if outcomes else form)
        return render(request, "exceptions_app/_queue.html", context)
    if outcomes is None:
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    else:
        for row in outcomes:
            level = messages.SUCCESS if row.ok else messages.ERROR
            messages.add_message(request, level, f"{row.label}: {row.detail}")
    return redirect(request.get_full_path())
