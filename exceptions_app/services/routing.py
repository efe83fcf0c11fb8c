"""Who owns a kind, how fast and how bad: the admin's routing rule, else the built-in default."""

from dataclasses import dataclass

from exceptions_app.kinds import KINDS
from exceptions_app.models import RoutingRule


@dataclass(frozen=True)
class Routing:
    team: str
    sla_minutes: int
    severity: str
    blocks: str
    notify_on_raise: bool


def routing_for(kind: str) -> Routing:
    """The admin-edited routing rule, or the built-in default if the rule was deleted."""
    rule = RoutingRule.objects.filter(kind=kind).first()
    if rule is not None:
        return Routing(
            rule.team, rule.sla_minutes, rule.severity, rule.blocks, rule.notify_on_raise
        )
    info = KINDS[kind]
    return Routing(info.team, info.sla_minutes, info.severity, info.blocks, True)
