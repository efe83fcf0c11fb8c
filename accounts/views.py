from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.context_processors import navigation


def home(request: HttpRequest) -> HttpResponse:
    """Send each user to their first screen; a user with no role sees why they have none."""
    items = navigation(request)["nav_items"]
    if items:
        return redirect(items[0]["url"])
    return render(request, "accounts/no_role.html", status=403)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if exception else ""
    return render(request, "403.html", {"reason": reason}, status=403)
