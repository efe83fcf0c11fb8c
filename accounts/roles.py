"""The single table of who may open which screen and run which action.

Routes are keyed by URL name (with namespace). A route missing from this table is refused
for everyone and fails the role-matrix test, so a new screen cannot ship unclassified.
"""

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role:
    OPS = "ops"
    FINANCE = "finance"
    CX = "cx"
    ADMIN = "admin"


ROLES: tuple[str, ...] = (Role.OPS, Role.FINANCE, Role.CX, Role.ADMIN)

PUBLIC = frozenset({"public"})  # no login needed (the login page itself, /healthz)
# No session opens these: the request's bearer token must equal the setting TOKEN_ROUTES names.
BEARER = frozenset({"bearer"})
SIGNED_IN = frozenset({"signed_in"})  # any logged-in user, even one with no role yet
STAFF = frozenset(ROLES)  # any of the four roles


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


# URL name -> the roles that may open it. Admin is listed explicitly where admins may open
# another team's screen (DESIGN §5: admin sees all exceptions).
ROUTES: dict[str, frozenset[str]] = {
    "accounts:login": PUBLIC,
    "accounts:logout": SIGNED_IN,
    "accounts:password_change": SIGNED_IN,
    "accounts:password_change_done": SIGNED_IN,
    "home": SIGNED_IN,
    "ops:exception_list": roles(Role.OPS, Role.ADMIN),
    # Detail and actions: any team's screen links here; exceptions_app.selectors and services
    # then allow only the owning team (and admins) to read and act on the record.
    "ops:exception_detail": STAFF,
    "ops:exception_action": STAFF,
    "mappings:erp_item_search": roles(Role.OPS, Role.ADMIN),
    "finance:reconciliation_index": roles(Role.FINANCE, Role.ADMIN),
    "cx:order_lookup": roles(Role.CX, Role.ADMIN),
    # Ops too: an ops exception's detail links to the order page, and stuck orders are
    # chased from it. Read-only for everyone; fixes happen on the exception's page.
    "cx:order_detail": roles(Role.CX, Role.OPS, Role.ADMIN),
    # From the order page: re-read it from the systems, and comment on any of its exceptions,
    # for whoever opens the page; telling Magento of a shipment (status drift) is CX's own.
    "cx:order_refresh": roles(Role.CX, Role.OPS, Role.ADMIN),
    "cx:exception_comment": roles(Role.CX, Role.OPS, Role.ADMIN),
    "cx:exception_tell_magento": roles(Role.CX, Role.ADMIN),
    "health:dashboard": STAFF,
    "health:panel": STAFF,
    # For load balancers: a status word and reason codes, no data (integration.health.healthz).
    "healthz": PUBLIC,
}

# Machine routes -> the setting holding the bearer token that opens them (for a scraper, not a
# person). With the setting empty the route does not exist (404); a wrong or missing token is
# refused (401 without an Authorization header, 403 with a wrong one).
TOKEN_ROUTES: dict[str, str] = {
    "metrics": "METRICS_TOKEN",
}

# Whole namespaces whose views do their own checks on top (Django admin checks is_staff).
NAMESPACES: dict[str, frozenset[str]] = {
    "admin": roles(Role.ADMIN),
}

# Actions (state changes) -> the roles that may run them. Services and views check these.
ACTIONS: dict[str, frozenset[str]] = {
    # Exceptions: on top of the role, only the exception's owning team (or admin) may act.
    "exception.assign": STAFF,
    "exception.unassign": STAFF,
    "exception.start": STAFF,
    "exception.resolve": STAFF,
    "exception.ignore": STAFF,
    "exception.comment": STAFF,
    "exception.escalate": STAFF,
    "exception.replay": STAFF,
    "exception.fix": STAFF,
    "exception.bulk": roles(Role.OPS, Role.ADMIN),
    # Fix in place: the mappings ops keeps, the address CX (or ops) corrects.
    "mapping.sku": roles(Role.OPS, Role.ADMIN),
    "mapping.carrier": roles(Role.OPS, Role.ADMIN),
    "order_address.correct": roles(Role.OPS, Role.CX, Role.ADMIN),
}


@dataclass(frozen=True)
class NavItem:
    route: str
    label: str


# Navigation, in display order; each user sees the items their roles may open.
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("ops:exception_list", "Exceptions"),
    NavItem("finance:reconciliation_index", "Reconciliation"),
    NavItem("cx:order_lookup", "Order lookup"),
    NavItem("health:dashboard", "Health"),
)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The roles a user holds: their groups, and admin for superusers."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_desk_roles", None)
    if cached is not None:
        return cached
    names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    if user.is_superuser:
        names.add(Role.ADMIN)
    result = frozenset(names)
    user._desk_roles = result
    return result


def rule_for(url_name: str | None, namespaces: Iterable[str]) -> frozenset[str] | None:
    """The access rule for a resolved route, or None when it is unclassified."""
    if url_name and url_name in ROUTES:
        return ROUTES[url_name]
    if url_name and url_name in TOKEN_ROUTES:
        return BEARER
    for namespace in namespaces:
        if namespace in NAMESPACES:
            return NAMESPACES[namespace]
    return None


def allows(rule: frozenset[str], user: AbstractBaseUser | AnonymousUser) -> bool:
    if rule == PUBLIC:
        return True
    if rule == BEARER:
        return False  # a session never opens a token route; see bearer_allows
    if not user.is_authenticated:
        return False
    if rule == SIGNED_IN:
        return True
    return bool(rule & user_roles(user))


def can_open(user: AbstractBaseUser | AnonymousUser, route: str) -> bool:
    rule = ROUTES.get(route)
    return rule is not None and allows(rule, user)


def can_act(user: AbstractBaseUser | AnonymousUser, action: str) -> bool:
    rule = ACTIONS.get(action)
    return rule is not None and allows(rule, user)


def bearer_allows(route: str, authorization: str) -> bool | None:
    """Whether an `Authorization` header opens a token route; None when it has no token set."""
    expected = getattr(settings, TOKEN_ROUTES[route], "")
    if not expected:
        return None
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)
