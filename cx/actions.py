"""What an agent does from the order page (POST, CSRF-checked, htmx or plain form): refresh the
order from the systems, comment on any of its exceptions, tell Magento of a shipment.

Each view parses the request, calls one service and shows the order page again: htmx swaps
the page in place with the outcome on it; a plain form post is redirected back to the page
with the outcome as a message. The only module of cx that calls services (DESIGN §7).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cx.selectors import order_records
from cx.views import order_page
from exceptions_app.models import DeskException, ExceptionKind
from exceptions_app.replay import ReplayNotAvailable
from exceptions_app.selectors import may_act
from exceptions_app.services import ReplayRunning, exception_comment, exception_replay
from exceptions_app.workflow import TransitionNotAllowed
from integration.order_refresh import RefreshResult, order_refresh

COMMENT_MAX_CHARS = 2000


def _answer(
    request: HttpRequest, increment_id: str, *, flash: str = "", error: str = "", refresh=None
) -> HttpResponse:
    if request.htmx:
        return order_page(request, increment_id, refresh=refresh, flash=flash, error=error)
    if flash:
        messages.success(request, flash)
    if error:
        messages.error(request, error)
    return redirect("cx:order_detail", increment_id=increment_id)


def _refresh_words(result: RefreshResult) -> tuple[str, str]:
    """(what was read, which system did not answer) as the page's message lines."""
    read = " ".join(s.detail for s in result.systems if s.answered)
    missing = " ".join(s.detail for s in result.unanswered)
    if missing:
        missing += " The page shows what the desk last read from it, at the time it says."
    return read, missing


@require_POST
def order_refresh_now(request: HttpRequest, increment_id: str) -> HttpResponse:
    """Re-read the order from Magento and the ERP now."""
    result = order_refresh(increment_id=increment_id)
    if request.htmx:  # the page says per system what it read or why not
        return order_page(request, increment_id, refresh=result)
    read, missing = _refresh_words(result)
    return _answer(request, increment_id, flash=read, error=missing)


def _order_exception(increment_id: str, pk: int) -> DeskException:
    """One exception of this order (named by it or by one of its holds), else 404."""
    records = order_records(increment_id=increment_id)
    exception = next((e for e in records.exceptions if e.pk == pk), None) if records else None
    if exception is None:
        raise Http404("This order has no such exception.")
    return exception


@require_POST
def exception_comment_add(request: HttpRequest, increment_id: str, pk: int) -> HttpResponse:
    """Any team that opens the order may say what it knows on any of its exceptions."""
    exception = _order_exception(increment_id, pk)
    note = request.POST.get("note", "").strip()
    if len(note) > COMMENT_MAX_CHARS:
        return _answer(
            request,
            increment_id,
            error=f"A comment is at most {COMMENT_MAX_CHARS:,} characters; this one has "
            f"{len(note):,}.",
        )
    try:
        exception_comment(exception=exception, actor=request.user, note=note)
    except ValidationError as exc:
        return _answer(request, increment_id, error=" ".join(exc.messages))
    return _answer(request, increment_id, flash=f"Comment added to exception #{exception.pk}.")


@require_POST
def exception_tell_magento(request: HttpRequest, increment_id: str, pk: int) -> HttpResponse:
    """A status drift CX owns: send the ERP's shipment to Magento now (the kind's replay)."""
    exception = _order_exception(increment_id, pk)
    if exception.kind != ExceptionKind.STATUS_DRIFT:
        raise Http404("Only a status drift is told to Magento from here.")
    if not may_act(request.user, exception):
        raise PermissionDenied(
            f"Only the {exception.get_team_display()} team (or an admin) may act on this."
        )
    try:
        outcome = exception_replay(exception=exception, actor=request.user)
    except (ReplayNotAvailable, ReplayRunning, TransitionNotAllowed) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _answer(request, increment_id, error=text)
    if not outcome.ok:
        return _answer(request, increment_id, error=f"Magento was not told: {outcome.detail}")
    return _answer(request, increment_id, flash=f"Magento has been told: {outcome.detail}")
