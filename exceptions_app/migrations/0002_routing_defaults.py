"""Default routing rules (DESIGN §4): owner, SLA and severity per exception kind.

Frozen here as plain values (a migration must not change when exceptions_app.kinds does);
admins edit them afterwards under Admin → Routing rules.
"""

from django.db import migrations

H = 60
D = 24 * H
DEFAULTS = [
    # kind, team, SLA minutes, severity, blocks
    ("sku_unknown", "ops", 4 * H, "high", "order"),
    ("sku_inactive", "ops", 4 * H, "high", "order"),
    ("carrier_unmapped", "ops", 4 * H, "high", "order"),
    ("address_invalid", "cx", 8 * H, "normal", "order"),
    ("order_post_failed", "ops", 2 * H, "high", "order"),
    ("order_stuck", "ops", 1 * D, "high", ""),
    ("status_drift", "cx", 1 * D, "normal", "shipment"),
    ("stock_drift", "ops", 4 * H, "normal", ""),
    ("stock_push_failed", "ops", 2 * H, "high", "stock"),
    ("tax_variance", "finance", 5 * D, "normal", "period_close"),
    ("total_variance", "finance", 5 * D, "high", "period_close"),
    ("settlement_mismatch", "finance", 3 * D, "high", "period_close"),
]


def create_rules(apps, schema_editor):
    RoutingRule = apps.get_model("exceptions_app", "RoutingRule")
    for kind, team, sla, severity, blocks in DEFAULTS:
        RoutingRule.objects.get_or_create(
            kind=kind,
            defaults={"team": team, "sla_minutes": sla, "severity": severity, "blocks": blocks},
        )


def remove_rules(apps, schema_editor):
    apps.get_model("exceptions_app", "RoutingRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("exceptions_app", "0001_exceptions")]

    operations = [migrations.RunPython(create_rules, remove_rules)]
