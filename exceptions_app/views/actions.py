"""POST /ops/exceptions/<id>/<action>/: one handler per workflow action, one for every fix.

htmx requests get the detail panel back (with the outcome in place); plain form posts get a
redirect with the outcome as a message, so every action also works without JavaScript.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from exceptions_app import forms, services
from exceptions_app.fixers import FixNotAvailable, fixer_for_action
from exceptions_app.models import DeskException
from exceptions_app.presenters import detail_context
from exceptions_app.replay import ReplayNotAvailable
from exceptions_app.selectors import exception_for_user, may_act, team_members
from exceptions_app.workflow import Action, TransitionNotAllowed

# (message on success, bound forms that failed validation); a fix returns its FixResult.
Handled = tuple[str | services.FixResult | None, dict | None]


class _Failed(Exception):  # noqa: N818
    """An action ran but did not achieve its goal (a failed replay): shown, not a 500."""


def _start(request: HttpRequest, exception: DeskException) -> Handled:
    services.exception_start(exception=exception, actor=request.user)
    return "Started: it is yours now.", None


def _assign(request: HttpRequest, exception: DeskException) -> Handled:
    form = forms.AssignForm(
        request.POST, members=team_members(teams=[exception.team]), auto_id="assign_%s"
    )
    if not form.is_valid():
        return None, {"assign": form}
    user = form.cleaned_data["assignee"]
    services.exception_assign(exception=exception, assignee=user, actor=request.user)
    return f"Assigned to {user.get_full_name() or user.get_username()}.", None


def _unassign(request: HttpRequest, exception: DeskException) -> Handled:
    services.exception_unassign(exception=exception, actor=request.user)
    return "Unassigned.", None


def _resolve(request: HttpRequest, exception: DeskException) -> Handled:
    form = forms.ResolveForm(request.POST, auto_id="resolve_%s")
    if not form.is_valid():
        return None, {"resolve": form}
    services.exception_resolve(
        exception=exception,
        actor=request.user,
        resolution=form.cleaned_data["resolution"],
        note=form.cleaned_data["note"],
    )
    return "Resolved.", None


def _ignore(request: HttpRequest, exception: DeskException) -> Handled:
    form = forms.IgnoreForm(request.POST, auto_id="ignore_%s")
    if not form.is_valid():
        return None, {"ignore": form}
    services.exception_ignore(
        exception=exception,
        actor=request.user,
        reason=form.cleaned_data["reason"],
        until=form.cleaned_data["until"],
    )
    return "Ignored.", None


def _comment(request: HttpRequest, exception: DeskException) -> Handled:
    form = forms.CommentForm(request.POST, auto_id="comment_%s")
    if not form.is_valid():
        return None, {"comment": form}
    services.exception_comment(
        exception=exception, actor=request.user, note=form.cleaned_data["note"]
    )
    return "Comment added.", None


def _escalate(request: HttpRequest, exception: DeskException) -> Handled:
    form = forms.EscalateForm(request.POST, auto_id="escalate_%s")
    if not form.is_valid():
        return None, {"escalate": form}
    services.exception_escalate(
        exception=exception, actor=request.user, reason=form.cleaned_data["reason"]
    )
    return "Escalated: the team lead has been told.", None


def _replay(request: HttpRequest, exception: DeskException) -> Handled:
    outcome = services.exception_replay(exception=exception, actor=request.user)
    if not outcome.ok:
        raise _Failed(f"Replay failed: {outcome.detail}")
    return f"Replayed: {outcome.detail}", None


WORKFLOW: dict[str, Callable[[HttpRequest, DeskException], Handled]] = {
    Action.START: _start,
    Action.ASSIGN: _assign,
    Action.UNASSIGN: _unassign,
    Action.RESOLVE: _resolve,
    Action.IGNORE: _ignore,
    Action.COMMENT: _comment,
    Action.ESCALATE: _escalate,
    Action.REPLAY: _replay,
}


def _fix(request: HttpRequest, exception: DeskException, action: str) -> Handled:
    fixer = fixer_for_action(action)
    if fixer is None:
        raise Http404(f"No action {action!r}.")
    form = fixer.form(exception, data=request.POST)
    if not form.is_valid():
        return None, {"fix": form}
    data = form.cleaned_data
    # "Accept" posts the suggestion's own data; it counts as accepted only if unchanged.
    accepted = request.POST.get("suggestion") == "accept" and any(
        s.matches(data) for s in fixer.suggestions(exception)
    )
    return services.exception_fix(
        exception=exception,
        actor=request.user,
        action=action,
        data=data,
        note=data.get("note", ""),
        suggestion_accepted=accepted,
    ), None


ERRORS = (TransitionNotAllowed, ValidationError, ReplayNotAvailable, FixNotAvailable, _Failed)


@require_POST
def exception_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    handler = WORKFLOW.get(action)
    if handler is None and fixer_for_action(action) is None:
        raise Http404(f"No action {action!r}.")
    exception = exception_for_user(user=request.user, pk=pk)
    if not may_act(request.user, exception):
        raise PermissionDenied(
            f"Only the {exception.get_team_display()} team (or an admin) may act on this."
        )
    result = bound = None
    error = ""
    try:
        result, bound = handler(request, exception) if handler else _fix(request, exception, action)
    except ERRORS as exc:
        error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    exception.refresh_from_db()
    fix = result if isinstance(result, services.FixResult) else None
    text = fix.summary if fix else result
    if request.htmx:
        context = detail_context(request.user, exception, result=fix, error=error, bound=bound)
        context["flash"] = text or ""
        if bound and not error:
            context["error"] = "Check the form below: some fields need attention."
        return render(request, "exceptions_app/_exception_panel.html", context)
    if error:
        messages.error(request, error)
    elif bound:
        for form in bound.values():
            for name, errors in form.errors.items():
                messages.error(request, f"{name}: {' '.join(errors)}")
    else:
        messages.success(request, text)
        for row in fix.outcomes if fix else []:
            level = messages.SUCCESS if row.ok else messages.ERROR
            messages.add_message(request, level, f"Replay {row.label}: {row.detail}")
    return redirect("ops:exception_detail", pk=exception.pk)
