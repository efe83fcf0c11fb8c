"""The Magento sandbox's own state: one SQLite file, never the product's database.

Entities (products, orders, shipments, invoices) are stored as the JSON documents the REST API
returns, keyed by their Magento ids; MSI source items, reservations, bulk operations and the
auth bookkeeping get plain tables. The server and `sandbox seed --live` may run at the same
time against one file, so every write is a short IMMEDIATE transaction and the database runs
in WAL mode.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox.magento.search import Getter, KeyIndex, key_index

DEFAULT_DB_PATH = "var/magento-sandbox.sqlite3"
ENTITY_TABLES = ("products", "orders", "shipments", "invoices", "creditmemos")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (entity_id INTEGER PRIMARY KEY, increment_id TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shipments (entity_id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS invoices (entity_id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS creditmemos (entity_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_items (sku TEXT NOT NULL, source_code TEXT NOT NULL,
    quantity REAL NOT NULL, status INTEGER NOT NULL, PRIMARY KEY (sku, source_code));
CREATE TABLE IF NOT EXISTS reservations (reservation_id INTEGER PRIMARY KEY,
    stock_id INTEGER NOT NULL, sku TEXT NOT NULL, quantity REAL NOT NULL, metadata TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reservations_sku ON reservations (sku, stock_id);
CREATE TABLE IF NOT EXISTS bulk_operations (id INTEGER PRIMARY KEY, bulk_uuid TEXT NOT NULL,
    topic_name TEXT NOT NULL, serialized_data TEXT NOT NULL, result_serialized_data TEXT,
    status INTEGER NOT NULL, result_message TEXT, error_code INTEGER, start_time TEXT NOT NULL,
    user_type INTEGER NOT NULL, user_id INTEGER, request TEXT NOT NULL, injected TEXT);
CREATE INDEX IF NOT EXISTS bulk_operations_uuid ON bulk_operations (bulk_uuid);
CREATE TABLE IF NOT EXISTS auth_failures (username TEXT PRIMARY KEY, failures INTEGER NOT NULL,
    locked_until REAL);
CREATE TABLE IF NOT EXISTS oauth_nonces (consumer_key TEXT NOT NULL, nonce TEXT NOT NULL,
    timestamp INTEGER NOT NULL, PRIMARY KEY (consumer_key, nonce));
"""

_KEY_COLUMN = {
    "products": "id",
    "orders": "entity_id",
    "shipments": "entity_id",
    "invoices": "entity_id",
    "creditmemos": "entity_id",
}


def db_path_from_env() -> str:
    return os.environ.get("MAGENTO_SANDBOX_DB", DEFAULT_DB_PATH)


class Store:
    """Access to one sandbox database file. Thread-safe: one connection per thread."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # Parsed documents per table (and their key indexes, built on first use), reused until
        # that table's version counter moves.
        self._cache: dict[str, tuple[int, list[dict[str, Any]], dict[str, KeyIndex | None]]] = {}
        self._cache_lock = threading.Lock()
        self._connection().executescript(SCHEMA)  # executescript manages its own transaction

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        if conn.in_transaction:  # nested: join the outer transaction
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        return self._connection()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- meta and counters -------------------------------------------------------------

    def meta_get(self, key: str, default: str | None = None) -> str | None:
        row = self.read().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def meta_set(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def next_id(self, counter: str) -> int:
        """A new id from a named counter (order item ids, track ids, history ids, ...)."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"seq:{counter}",))
            current = row.fetchone()
            value = int(current["value"]) + 1 if current else 1
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (f"seq:{counter}", str(value)),
            )
        return value

    def _bump_version(self, conn: sqlite3.Connection, table: str) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (f"version:{table}",),
        )

    def _version(self, table: str) -> int:
        return int(self.meta_get(f"version:{table}", "0") or 0)

    # --- entity documents --------------------------------------------------------------

    def put_doc(self, table: str, doc: dict[str, Any]) -> None:
        """Insert or replace one entity document."""
        key = _KEY_COLUMN[table]
        payload = json.dumps(doc, separators=(",", ":"))
        with self.transaction() as conn:
            if table == "products":
                conn.execute(
                    "INSERT OR REPLACE INTO products (id, sku, doc) VALUES (?, ?, ?)",
                    (doc["id"], doc["sku"], payload),
                )
            elif table == "orders":
                conn.execute(
                    "INSERT OR REPLACE INTO orders (entity_id, increment_id, doc) VALUES (?, ?, ?)",
                    (doc["entity_id"], doc["increment_id"], payload),
                )
            else:
                conn.execute(
                    f"INSERT OR REPLACE INTO {table} ({key}, order_id, doc) VALUES (?, ?, ?)",  # noqa: S608 - table from a fixed set
                    (doc[key], doc["order_id"], payload),
                )
            self._bump_version(conn, table)

    def put_docs(self, table: str, docs: list[dict[str, Any]]) -> None:
        with self.transaction():
            for doc in docs:
                self.put_doc(table, doc)

    def get_doc(self, table: str, key: int | str) -> dict[str, Any] | None:
        column = "sku" if table == "products" and isinstance(key, str) else _KEY_COLUMN[table]
        row = (
            self.read()
            .execute(f"SELECT doc FROM {table} WHERE {column} = ?", (key,))  # noqa: S608
            .fetchone()
        )
        return json.loads(row["doc"]) if row else None

    def _cached(self, table: str) -> tuple[int, list[dict[str, Any]], dict[str, KeyIndex | None]]:
        version = self._version(table)
        with self._cache_lock:
            cached = self._cache.get(table)
            if cached and cached[0] == version:
                return cached
        if table == "source_items":
            docs = self._read_source_items()
        else:
            key = _KEY_COLUMN[table]
            rows = self.read().execute(f"SELECT doc FROM {table} ORDER BY {key}").fetchall()  # noqa: S608
            docs = [json.loads(row["doc"]) for row in rows]
        entry: tuple[int, list[dict[str, Any]], dict[str, KeyIndex | None]] = (version, docs, {})
        with self._cache_lock:
            self._cache[table] = entry
        return entry

    def all_docs(self, table: str) -> list[dict[str, Any]]:
        """Every document of a table in primary-key order. Callers must not mutate them."""
        return self._cached(table)[1]

    def indexed_docs(
        self, table: str, names: Iterable[str], get: Getter | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, KeyIndex]]:
        """`all_docs` (or `source_items`) with a lower-cased key index per text field in `names`,
        built once per version of the table, for `search.apply(indexes=...)`."""
        _, docs, indexes = self._cached(table)
        for name in names:
            if name not in indexes:
                built = key_index(docs, name, get) if get else key_index(docs, name)
                with self._cache_lock:
                    indexes[name] = built
        return docs, {n: i for n in names if (i := indexes.get(n)) is not None}

    def count(self, table: str) -> int:
        return self.read().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608

    def max_key(self, table: str) -> int:
        key = _KEY_COLUMN[table]
        value = self.read().execute(f"SELECT MAX({key}) FROM {table}").fetchone()[0]  # noqa: S608
        return int(value or 0)

    # --- MSI ---------------------------------------------------------------------------

    def source_items(self) -> list[dict[str, Any]]:
        """Every source item by (sku, source_code). Callers must not mutate them."""
        return self._cached("source_items")[1]

    def _read_source_items(self) -> list[dict[str, Any]]:
        rows = self.read().execute(
            "SELECT sku, source_code, quantity, status FROM source_items ORDER BY sku, source_code"
        )
        return [
            {
                "sku": row["sku"],
                "source_code": row["source_code"],
                "quantity": _number(row["quantity"]),
                "status": row["status"],
            }
            for row in rows
        ]

    def upsert_source_items(self, items: list[dict[str, Any]]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO source_items (sku, source_code, quantity, status) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(sku, source_code) DO UPDATE SET quantity = excluded.quantity, "
                "status = excluded.status",
                [
                    (i["sku"], i["source_code"], float(i["quantity"]), int(i["status"]))
                    for i in items
                ],
            )
            self._bump_version(conn, "source_items")

    def delete_source_items(self, items: list[dict[str, Any]]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "DELETE FROM source_items WHERE sku = ? AND source_code = ?",
                [(i["sku"], i["source_code"]) for i in items],
            )
            self._bump_version(conn, "source_items")

    def deduct_source(self, sku: str, source_code: str, qty: float) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE source_items SET quantity = quantity - ? WHERE sku = ? AND source_code = ?",
                (qty, sku, source_code),
            )
            self._bump_version(conn, "source_items")

    def source_quantity(self, sku: str) -> float | None:
        """Quantity over in-stock source items of the sku (every source is linked to stock 1)."""
        row = (
            self.read()
            .execute(
                "SELECT COUNT(*) AS n, "
                "COALESCE(SUM(CASE WHEN status = 1 THEN quantity END), 0) AS q "
                "FROM source_items WHERE sku = ?",
                (sku,),
            )
            .fetchone()
        )
        return None if row["n"] == 0 else float(row["q"])

    def add_reservation(self, *, sku: str, quantity: float, metadata: dict[str, Any]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO reservations (stock_id, sku, quantity, metadata) VALUES (1, ?, ?, ?)",
                (sku, quantity, json.dumps(metadata, separators=(",", ":"))),
            )

    def reserved(self, sku: str) -> float:
        row = (
            self.read()
            .execute("SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE sku = ?", (sku,))
            .fetchone()
        )
        return float(row[0])


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
