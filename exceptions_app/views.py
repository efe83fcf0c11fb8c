"""The ops queue and exception detail. Thin: parse input, call a selector or a service, render.

htmx requests get a fragment (the queue, or the detail panel); plain form posts get a redirect
with the outcome as a message, so every action also works without JavaScript.
"""

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from accounts.roles import can_act, can_open
from exceptions_app import forms, services
from exceptions_app.filters import ExceptionFilter
from exceptions_app.kinds import KINDS, FixAction
from exceptions_app.models import DeskException
from exceptions_app.replay import ReplayNotAvailable, has_replayer
from exceptions_app.selectors import (
    exception_counts,
    exception_for_user,
    exception_queue,
    exception_timeline,
    exceptions_visible,
    may_act,
    team_members,
    visible_teams,
)
from exceptions_app.tables import ExceptionTable
from exceptions_app.workflow import TransitionNotAllowed, allowed_actions
from integration.models import ErpItem, OrderAddress, System

PAGE_SIZES = (25, 50, 100)


# --- the queue -------------------------------------------------------------------------


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
            resolution=data.get("resolution") or "fixed",
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


# --- the detail page ----------------------------------------------------------------------


class _Fields(dict):
    """str.format_map source that never raises on a missing or empty field."""

    def __missing__(self, key: str) -> str:
        return "—"


def what_happened(exception: DeskException) -> str:
    """The kind's one plain-English sentence, filled with this exception's references."""
    order = f"#{exception.order_increment_id}" if exception.order_increment_id else "(no order)"
    if exception.order_increment_id:
        subject_ref = f"order #{exception.order_increment_id}"
    elif exception.period:
        subject_ref = f"period {exception.period}"
    else:
        subject_ref = exception.subject
    field = exception.evidence.get("field_path") if isinstance(exception.evidence, dict) else ""
    values = _Fields(
        sku=exception.sku or exception.subject,
        order=order,
        subject=exception.subject,
        subject_ref=subject_ref,
        field=field or "see the evidence",
    )
    return KINDS[exception.kind].what.format_map(values)


def compared_rows(evidence: dict) -> tuple[list[str], list[dict]]:
    """Evidence["compared"] as side-by-side rows: {field: {system: value}} or a list of dicts."""
    compared = evidence.get("compared") if isinstance(evidence, dict) else None
    rows: list[dict] = []
    if isinstance(compared, dict):
        for field, values in compared.items():
            if isinstance(values, dict):
                rows.append({"field": field, **values})
            else:
                rows.append({"field": field, "value": values})
    elif isinstance(compared, list):
        rows = [dict(r) for r in compared if isinstance(r, dict)]
    found = {key for row in rows for key in row if key != "field"}
    # PostgreSQL's jsonb does not keep key order: systems in their usual order, then the rest.
    known = [s for s in System.values if s in found]
    keys = known + sorted(found - set(known))
    table = [
        {
            "field": row.get("field", ""),
            "values": [_show(row.get(k)) for k in keys],
            "differs": len({json.dumps(row.get(k), default=str) for k in keys}) > 1,
        }
        for row in rows
    ]
    # Column headings: the system's name where the key is one ("erp" → "ERP").
    labels = dict(System.choices)
    return [labels.get(k, k.replace("_", " ").capitalize()) for k in keys], table


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, default=str, ensure_ascii=False)
    return str(value)


def _cx_order_url(exception: DeskException, user) -> str:
    """The order's CX page, only for users whose role opens it (no link that answers 403)."""
    if not exception.order_increment_id or not can_open(user, "cx:order_detail"):
        return ""
    try:
        return reverse("cx:order_detail", args=[exception.order_increment_id])
    except NoReverseMatch:
        return ""


def _detail_context(
    request: HttpRequest,
    exception: DeskException,
    *,
    result: services.FixResult | None = None,
    error: str = "",
    bound: dict | None = None,
) -> dict[str, Any]:
    info = KINDS[exception.kind]
    evidence = exception.evidence if isinstance(exception.evidence, dict) else {}
    systems, compared = compared_rows(evidence)
    rest = {k: v for k, v in evidence.items() if k not in ("compared", "payload", "field_path")}
    acting = may_act(request.user, exception)
    possible = allowed_actions(exception.status) if acting else frozenset()
    bound = bound or {}
    members = team_members(teams=[exception.team])
    context: dict[str, Any] = {
        "exception": exception,
        "info": info,
        "what": what_happened(exception),
        "timeline": exception_timeline(exception=exception),
        "payload": json.dumps(evidence.get("payload"), indent=2, default=str, ensure_ascii=False)
        if "payload" in evidence
        else "",
        "other_evidence": json.dumps(rest, indent=2, default=str, ensure_ascii=False)
        if rest
        else "",
        "field_path": evidence.get("field_path", ""),
        "systems": systems,
        "compared": compared,
        "cx_url": _cx_order_url(exception, request.user),
        "queue_url": reverse("ops:exception_list")
        if exception.team in visible_teams(request.user) and can_act(request.user, "exception.bulk")
        else "",
        "may_act": acting,
        "can": {
            action: action in possible
            for action in (
                "start",
                "resolve",
                "ignore",
                "assign",
                "unassign",
                "comment",
                "escalate",
                "replay",
                "fix",
            )
        },
        "replayable": info.replayable and has_replayer(exception.kind),
        "fix_action": info.fix_action if "fix" in possible else "",
        "result": result,
        "error": error,
        "assign_form": bound.get("assign") or forms.AssignForm(members=members),
        "resolve_form": bound.get("resolve") or forms.ResolveForm(),
        "ignore_form": bound.get("ignore") or forms.IgnoreForm(),
        "comment_form": bound.get("comment") or forms.CommentForm(),
        "escalate_form": bound.get("escalate") or forms.EscalateForm(),
    }
    if context["fix_action"] == FixAction.SKU_MAPPING:
        sku = exception.sku or exception.subject
        context["fix_form"] = bound.get("fix") or forms.SkuMappingForm()
        # Catalogues that differ usually share the style code (Luma's "MH01" of MH01-XS-Black).
        context["erp_query"] = sku.split("-")[0]
        context["erp_items"] = erp_items_matching(context["erp_query"])
    elif context["fix_action"] == FixAction.CARRIER_MAPPING:
        context["fix_form"] = bound.get("fix") or forms.CarrierMappingForm()
    elif context["fix_action"] == FixAction.ADDRESS:
        address = (
            OrderAddress.objects.filter(
                order_id=exception.order_id, address_type="shipping"
            ).first()
            if exception.order_id
            else None
        )
        context["address"] = address
        if address is not None:
            context["fix_form"] = bound.get("fix") or forms.AddressForm(
                initial=forms.AddressForm.initial_from(address)
            )
    return context


@require_GET
def exception_detail(request: HttpRequest, pk: int) -> HttpResponse:
    exception = exception_for_user(user=request.user, pk=pk)
    return render(
        request, "exceptions_app/exception_detail.html", _detail_context(request, exception)
    )


# --- actions: POST /ops/exceptions/<id>/<action>/ ------------------------------------------


def _act_start(request, exception):
    services.exception_start(exception=exception, actor=request.user)
    return "Started: it is yours now.", None


def _act_assign(request, exception):
    form = forms.AssignForm(request.POST, members=team_members(teams=[exception.team]))
    if not form.is_valid():
        return None, {"assign": form}
    user = form.cleaned_data["assignee"]
    services.exception_assign(exception=exception, assignee=user, actor=request.user)
    return f"Assigned to {user.get_full_name() or user.get_username()}.", None


def _act_unassign(request, exception):
    services.exception_unassign(exception=exception, actor=request.user)
    return "Unassigned.", None


def _act_resolve(request, exception):
    form = forms.ResolveForm(request.POST)
    if not form.is_valid():
        return None, {"resolve": form}
    services.exception_resolve(
        exception=exception,
        actor=request.user,
        resolution=form.cleaned_data["resolution"],
        note=form.cleaned_data["note"],
    )
    return "Resolved.", None


def _act_ignore(request, exception):
    form = forms.IgnoreForm(request.POST)
    if not form.is_valid():
        return None, {"ignore": form}
    services.exception_ignore(
        exception=exception,
        actor=request.user,
        reason=form.cleaned_data["reason"],
        until=form.cleaned_data["until"],
    )
    return "Ignored.", None


def _act_comment(request, exception):
    form = forms.CommentForm(request.POST)
    if not form.is_valid():
        return None, {"comment": form}
    services.exception_comment(
        exception=exception, actor=request.user, note=form.cleaned_data["note"]
    )
    return "Comment added.", None


def _act_escalate(request, exception):
    form = forms.EscalateForm(request.POST)
    if not form.is_valid():
        return None, {"escalate": form}
    services.exception_escalate(
        exception=exception, actor=request.user, reason=form.cleaned_data["reason"]
    )
    return "Escalated: the team lead has been told.", None


def _act_replay(request, exception):
    outcome = services.exception_replay(exception=exception, actor=request.user)
    if not outcome.ok:
        raise _Failed(f"Replay failed: {outcome.detail}")
    return f"Replayed: {outcome.detail}", None


def _act_map_sku(request, exception):
    form = forms.SkuMappingForm(request.POST)
    if not form.is_valid():
        return None, {"fix": form}
    return services.exception_fix_sku(
        exception=exception,
        actor=request.user,
        erp_item_code=form.cleaned_data["erp_item_code"],
        note=form.cleaned_data["note"],
    ), None


def _act_map_carrier(request, exception):
    form = forms.CarrierMappingForm(request.POST)
    if not form.is_valid():
        return None, {"fix": form}
    data = form.cleaned_data
    return services.exception_fix_carrier(
        exception=exception,
        actor=request.user,
        courier=data["courier"],
        service=data["service"],
        erp_carrier_id=data["erp_carrier_id"],
        note=data["note"],
    ), None


def _act_correct_address(request, exception):
    form = forms.AddressForm(request.POST)
    if not form.is_valid():
        return None, {"fix": form}
    return services.exception_fix_address(
        exception=exception, actor=request.user, changes=form.changes()
    ), None


class _Failed(Exception):  # noqa: N818
    """An action ran but did not achieve its goal (a failed replay): shown, not a 500."""


ACTIONS = {
    "start": _act_start,
    "assign": _act_assign,
    "unassign": _act_unassign,
    "resolve": _act_resolve,
    "ignore": _act_ignore,
    "comment": _act_comment,
    "escalate": _act_escalate,
    "replay": _act_replay,
    FixAction.SKU_MAPPING: _act_map_sku,
    FixAction.CARRIER_MAPPING: _act_map_carrier,
    FixAction.ADDRESS: _act_correct_address,
}


@require_POST
def exception_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404(f"No action {action!r}.")
    exception = exception_for_user(user=request.user, pk=pk)
    if not may_act(request.user, exception):
        raise PermissionDenied(
            f"Only the {exception.get_team_display()} team (or an admin) may act on this."
        )
    result = error = None
    bound = None
    try:
        result, bound = handler(request, exception)
    except (TransitionNotAllowed, ValidationError, ReplayNotAvailable, _Failed) as exc:
        error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    exception.refresh_from_db()
    fix = result if isinstance(result, services.FixResult) else None
    text = fix.summary if fix else result
    if request.htmx:
        context = _detail_context(request, exception, result=fix, error=error or "", bound=bound)
        context["flash"] = text or ""
        if bound and not error:
            context["error"] = "Check the form below: some fields need attention."
        return render(request, "exceptions_app/_exception_panel.html", context)
    if error:
        messages.error(request, error)
    elif bound:
        for form in bound.values():
            for field, errors in form.errors.items():
                messages.error(request, f"{field}: {' '.join(errors)}")
    else:
        messages.success(request, text)
        for row in fix.outcomes if fix else []:
            level = messages.SUCCESS if row.ok else messages.ERROR
            messages.add_message(request, level, f"Replay {row.label}: {row.detail}")
    return redirect("ops:exception_detail", pk=exception.pk)


# --- the ERP item master search (sku mapping) ---------------------------------------------


def erp_items_matching(query: str, limit: int = 20) -> list[ErpItem]:
    query = query.strip()
    items = ErpItem.objects.all()
    if query:
        items = items.filter(Q(code__icontains=query) | Q(name__icontains=query))
    return list(items.order_by("-active", "code")[:limit])


@require_GET
def erp_item_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    return render(
        request,
        "exceptions_app/_erp_item_results.html",
        {
            "erp_items": erp_items_matching(query),
            "erp_query": query,
            # Keep the item already picked checked when a later search redraws the list.
            "selected": request.GET.get("erp_item_code", ""),
        },
    )


__all__ = ["exception_list", "exception_detail", "exception_action", "erp_item_search"]
