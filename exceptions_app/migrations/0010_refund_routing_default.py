"""The routing rule for refund_post_failed: finance owns it, within a day; it blocks the close.

Frozen values, like 0002_routing_defaults (a migration must not change when kinds.py does);
an existing rule (an admin made one first) is left as it is.
"""

from django.db import migrations

DAY = 24 * 60
DEFAULTS = [
    # kind, team, SLA minutes, severity, blocks
    ("refund_post_failed", "finance", 1 * DAY, "high", "period_close"),
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
    dependencies = [("exceptions_app", "0009_refund_post_failed_kind")]

    operations = [migrations.RunPython(create_rules, remove_rules)]
