"""Navigation for the signed-in user, derived from the role table."""

from django.http import HttpRequest
from django.urls import reverse

from accounts.roles import NAVIGATION, can_open, user_roles


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    items = [
        {"label": item.label, "url": reverse(item.route), "route": item.route}
        for item in NAVIGATION
        if can_open(user, item.route)
    ]
    return {"nav_items": items, "user_roles": sorted(user_roles(user))}
