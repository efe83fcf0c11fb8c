"""Routing rules for the order-lifecycle kinds: cancelled, edited or held after posting.

Frozen values, like 0002_routing_defaults (a migration must not change when kinds.py does);
an existing rule (an admin made one first) is left as it is.
"""

from django.db import migrations

H = 60
DEFAULTS = [
    # kind, team, SLA minutes, severity, blocks
    ("cancel_after_dispatch", "ops", 2 * H, "high", "shipment"),
    ("edit_after_dispatch", "ops", 4 * H, "high", "order"),
    ("hold_after_posting", "ops", 2 * H, "high", "shipment"),
]


def create_rules(apps, schema_editor):
    RoutingRule = apps.get_model("exceptions_app", "RoutingRule")
    for kind, team, sla, severity, blocks in DEFAULTS:
        RoutingRule.objects.get_or_create(
            kind=kind,
            defaults={"team": team, "sla_minutes": sla, "severity": severity, "blocks": blocks},
        )


def remove_rules(apps, schema_editor):
    RoutingRule = apps.get_model("exceptions_app", "RoutingRule")
    RoutingRule.objects.filter(kind__in=[kind for kind, *_ in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("exceptions_app", "0006_lifecycle_kinds")]

    operations = [migrations.RunPython(create_rules, remove_rules)]
