"""Every lookup key is answered from its index, never by reading every order (EXPLAIN, on
PostgreSQL, the database that holds millions of orders; `make test` runs the suite on it).

The number, email and postcode keys are functional btree indexes, the name keys trigram
(pg_trgm GIN) indexes. The planner is told to avoid sequential scans, so a query that cannot
use its index shows one here, whatever the table size. (SQLite, the single-host development
database, has no trigram index and matches only the email key's index: its expression index
cannot match an expression with bound values.)
"""

import pytest
from django.db import connection

from cx.selectors import order_search
from tests.cx.builders import make_order

pytestmark = pytest.mark.django_db

KEYS = [
    ("EU-000000123", "order_number_key"),
    ("123", "order_number_key"),
    ("jane.smith@example.test", "order_email_key"),
    ("sw1a 1aa", "order_address_postcode_key"),
]
NAMES = [
    ("smith", ("order_name_key_trgm", "order_address_name_key_trgm")),
    ("jo smith", ("order_name_key_trgm", "order_address_name_key_trgm")),
    ("o'brien", ("order_name_key_trgm", "order_address_name_key_trgm")),
]


@pytest.fixture
def some_orders(db):
    for n in range(120, 140):  # 000000123 among them, none with a store prefix
        make_order(f"{n:09d}", postcode="SW1A 1AA" if n % 2 else "EH1 1YZ")


def plan(query: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return order_search(query=query).orders[:25].explain()


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the lookup's plans are checked on PostgreSQL"
)


@postgresql_only
@pytest.mark.parametrize(("query", "index"), KEYS)
def test_each_key_is_read_from_its_index(some_orders, query, index):
    text = plan(query)
    assert index in text, text
    assert "Seq Scan" not in text, text


@postgresql_only
@pytest.mark.parametrize(("query", "indexes"), NAMES)
def test_a_name_is_read_from_the_trigram_indexes(some_orders, query, indexes):
    text = plan(query)
    for index in indexes:
        assert index in text, text
    assert "Seq Scan" not in text, text
