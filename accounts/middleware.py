"""Enforces accounts.roles.ROUTES on every request: deny by default."""

import logging
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from accounts.roles import BEARER, allows, bearer_allows, rule_for

logger = logging.getLogger(__name__)


class RoleAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None:
            return None
        rule = rule_for(match.view_name, match.namespaces)
        if rule is None:
            logger.error("route %s is not classified in accounts.roles; refused", match.view_name)
            raise PermissionDenied("This page is not open to any role.")
        if rule == BEARER:
            return _bearer_check(match.view_name, request)
        if allows(rule, request.user):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied("Your role does not include this page.")


def _bearer_check(route: str, request: HttpRequest) -> HttpResponse | None:
    """A token route: hidden without a configured token, refused without the right one."""
    header = request.headers.get("Authorization", "")
    verdict = bearer_allows(route, header)
    if verdict is None:
        raise Http404("Not configured.")
    if verdict:
        return None
    if not header:
        response = HttpResponse("Bearer token required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="desk"'
        return response
    return HttpResponse("Wrong token.\n", status=403, content_type="text/plain")
