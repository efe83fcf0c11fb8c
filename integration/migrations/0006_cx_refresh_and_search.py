"""CX lookup keys and per-system "as of" times.

Functional indexes for the order number, email and postcode keys (both backends), and on
PostgreSQL only, trigram (pg_trgm GIN) indexes on the name keys, so a part of a name is found
without reading every order. SQLite has no trigram index; the lookup still works there.
"""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Concat, Replace

# (model, first-name field, last-name field, index name). The expression is a frozen copy of
# integration.models.name_key: the lookup's query must compile to this very expression for
# PostgreSQL to use the index (tests/cx/test_lookup_plans.py checks with EXPLAIN).
NAME_INDEXES = (
    ("order", "customer_firstname", "customer_lastname", "order_name_key_trgm"),
    ("orderaddress", "firstname", "lastname", "order_address_name_key_trgm"),
)


def _name_key(first, last):
    full = Concat(first, models.Value(" "), last)
    for mark, instead in (("'", ""), ("\u2019", ""), ("-", " ")):
        full = Replace(full, models.Value(mark), models.Value(instead))
    return Concat(models.Value(" "), full)


def _expression_sql(model, expression, schema_editor) -> str:
    """The expression as the ORM compiles it for `model`'s table, values inlined."""
    from django.db.models.sql import Query

    query = Query(model, alias_cols=False)
    compiler = query.get_compiler(connection=schema_editor.connection)
    sql, params = expression.resolve_expression(query).as_sql(compiler, schema_editor.connection)
    return sql % tuple(schema_editor.quote_value(p) for p in params)


def name_indexes_add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    quote = schema_editor.quote_name
    for model_name, first, last, name in NAME_INDEXES:
        model = apps.get_model("integration", model_name)
        key = _expression_sql(model, _name_key(first, last), schema_editor)
        schema_editor.execute(
            f"CREATE INDEX {quote(name)} ON {quote(model._meta.db_table)} "
            f"USING gin (({key}) gin_trgm_ops)"
        )


def name_indexes_remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _model, _first, _last, name in NAME_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("integration", "0005_health_run_figures"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="order",
            name="integration_custome_2e6096_idx",
        ),
        migrations.RemoveIndex(
            model_name="order",
            name="integration_custome_acdab1_idx",
        ),
        migrations.RemoveIndex(
            model_name="orderaddress",
            name="integration_postcod_9f5564_idx",
        ),
        migrations.AddField(
            model_name="order",
            name="erp_read_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="order",
            name="magento_read_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                django.db.models.functions.text.Lower("customer_email"), name="order_email_key"
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                models.Func(
                    models.Func(
                        django.db.models.functions.text.Upper("increment_id"),
                        models.Value("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_/#. "),
                        function="LTRIM",
                    ),
                    models.Value("0"),
                    function="LTRIM",
                ),
                name="order_number_key",
            ),
        ),
        migrations.AddIndex(
            model_name="orderaddress",
            index=models.Index(
                django.db.models.functions.text.Upper(
                    django.db.models.functions.text.Replace(
                        "postcode", models.Value(" "), models.Value("")
                    )
                ),
                name="order_address_postcode_key",
            ),
        ),
        migrations.RunPython(name_indexes_add, name_indexes_remove),
    ]
