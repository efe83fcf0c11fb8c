"""How an exception reads on its detail page: the sentence, the evidence side by side, the fix
panel with the desk's suggestion, and what is at stake. Views pass the result to templates.
"""

import html
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms as django_forms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.urls import NoReverseMatch, reverse

from accounts.roles import can_act, can_open
from exceptions_app import forms
from exceptions_app.fixers import Fixer, HeldOrder, Suggestion, fixer_for_kind
from exceptions_app.kinds import KINDS
from exceptions_app.models import DeskException, SubStatus, System
from exceptions_app.replay import has_replayer
from exceptions_app.selectors import exception_timeline, may_act, team_members, visible_teams
from exceptions_app.workflow import Action, allowed_actions


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
    field_path = (
        exception.evidence.get("field_path") if isinstance(exception.evidence, dict) else ""
    )
    values = _Fields(
        sku=exception.sku or exception.subject,
        order=order,
        subject=exception.subject,
        subject_ref=subject_ref,
        field=field_path or "see the evidence",
    )
    return KINDS[exception.kind].what.format_map(values)


def show_value(value: Any) -> str:
    """One evidence value as text; HTML entities a source system left in names are decoded."""
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, default=str, ensure_ascii=False)
    return html.unescape(str(value))


def compared_rows(evidence: dict) -> tuple[list[str], list[dict]]:
    """Evidence["compared"] as side-by-side rows: {field: {system: value}} or a list of dicts."""
    compared = evidence.get("compared") if isinstance(evidence, dict) else None
    rows: list[dict] = []
    if isinstance(compared, dict):
        for name, values in compared.items():
            if isinstance(values, dict):
                rows.append({"field": name, **values})
            else:
                rows.append({"field": name, "value": values})
    elif isinstance(compared, list):
        rows = [dict(r) for r in compared if isinstance(r, dict)]
    found = {key for row in rows for key in row if key != "field"}
    # PostgreSQL's jsonb does not keep key order: systems in their usual order, then the rest.
    known = [s for s in System.values if s in found]
    keys = known + sorted(found - set(known))
    table = [
        {
            "field": row.get("field", ""),
            "values": [show_value(row.get(k)) for k in keys],
            "differs": len({json.dumps(row.get(k), default=str) for k in keys}) > 1,
        }
        for row in rows
    ]
    # Column headings: the system's name where the key is one ("erp" → "ERP").
    labels = dict(System.choices)
    return [labels.get(k, k.replace("_", " ").capitalize()) for k in keys], table


def order_url(increment_id: str, user: AbstractBaseUser) -> str:
    """The order's page (DESK_ORDER_URL_NAME), only for users whose role opens it."""
    route = settings.DESK_ORDER_URL_NAME
    if not increment_id or not route or not can_open(user, route):
        return ""
    try:
        return reverse(route, args=[increment_id])
    except NoReverseMatch:
        return ""


@dataclass(frozen=True)
class StakeRow:
    increment_id: str
    amount: Decimal | None
    currency: str
    url: str


@dataclass(frozen=True)
class AtStake:
    """Money held by the exception: per currency (never added across currencies)."""

    orders: list[StakeRow]
    totals: list[tuple[str, Decimal]]


def at_stake(exception: DeskException, fixer: Fixer | None, user) -> AtStake | None:
    held: list[HeldOrder] = fixer.held_orders(exception) if fixer is not None else []
    if not held:
        return None
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for order in held:
        if order.amount is not None:
            totals[order.currency] += order.amount
    rows = [
        StakeRow(o.increment_id, o.amount, o.currency, order_url(o.increment_id, user))
        for o in held
    ]
    return AtStake(rows, sorted(totals.items()))


@dataclass
class FixPanel:
    fixer: Fixer
    form: django_forms.Form
    context: dict[str, Any]
    suggestions: list[Suggestion]

    @property
    def suggestion(self) -> Suggestion | None:
        return self.suggestions[0] if self.suggestions else None


def fix_panel(
    exception: DeskException, fixer: Fixer | None, *, bound: django_forms.Form | None = None
) -> FixPanel | None:
    if fixer is None:
        return None
    return FixPanel(
        fixer=fixer,
        form=bound or fixer.form(exception),
        context=fixer.context(exception),
        suggestions=fixer.suggestions(exception),
    )


SHOWN_ACTIONS = (
    Action.START,
    Action.RESOLVE,
    Action.IGNORE,
    Action.ASSIGN,
    Action.UNASSIGN,
    Action.COMMENT,
    Action.ESCALATE,
    Action.REPLAY,
    Action.FIX,
)


def detail_context(
    user: AbstractBaseUser,
    exception: DeskException,
    *,
    result=None,
    error: str = "",
    bound: dict | None = None,
) -> dict[str, Any]:
    """Everything the detail panel shows; `bound` carries forms that failed validation."""
    info = KINDS[exception.kind]
    fixer = fixer_for_kind(exception.kind)
    evidence = exception.evidence if isinstance(exception.evidence, dict) else {}
    rest = {k: v for k, v in evidence.items() if k not in ("compared", "payload", "field_path")}
    if "compared" not in evidence and fixer is not None:
        evidence = {**evidence, **fixer.evidence(exception)}
    systems, compared = compared_rows(evidence)
    acting = may_act(user, exception)
    possible = allowed_actions(exception.status) if acting else frozenset()
    bound = bound or {}
    can = {action.value: action in possible for action in SHOWN_ACTIONS}
    fixing = can[Action.FIX] and fixer is not None and fixer.may_apply(user)
    return {
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
        "order_url": order_url(exception.order_increment_id, user),
        "queue_url": reverse("ops:exception_list")
        if exception.team in visible_teams(user) and can_act(user, "exception.bulk")
        else "",
        "may_act": acting,
        "can": can,
        "replayable": info.replayable and has_replayer(exception.kind),
        "fix": fix_panel(exception, fixer, bound=bound.get("fix")) if fixing else None,
        "stake": at_stake(exception, fixer, user),
        "result": result,
        "error": error,
        "sub_status_new": SubStatus.NEW,
        # Each form its own id prefix: several have a "note" or "reason" field.
        "assign_form": bound.get("assign")
        or forms.AssignForm(members=team_members(teams=[exception.team]), auto_id="assign_%s"),
        "resolve_form": bound.get("resolve") or forms.ResolveForm(auto_id="resolve_%s"),
        "ignore_form": bound.get("ignore") or forms.IgnoreForm(auto_id="ignore_%s"),
        "comment_form": bound.get("comment") or forms.CommentForm(auto_id="comment_%s"),
        "escalate_form": bound.get("escalate") or forms.EscalateForm(auto_id="escalate_%s"),
    }
