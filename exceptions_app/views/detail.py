"""The exception detail page: what, why, evidence, timeline, and the fix with its suggestion."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from exceptions_app.presenters import detail_context
from exceptions_app.selectors import exception_for_user


@require_GET
def exception_detail(request: HttpRequest, pk: int) -> HttpResponse:
    exception = exception_for_user(user=request.user, pk=pk)
    return render(
        request,
        "exceptions_app/exception_detail.html",
        detail_context(request.user, exception),
    )
