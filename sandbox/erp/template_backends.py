"""Where the Tryton templates live: a cached SQLite file, or a PostgreSQL template database.

Each backend builds a template (template_build), derives another rounding from it, restores the
live database from it, and keeps the template's JSON state beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sandbox.erp.conf import ErpSandbox
from sandbox.erp.template_build import build_database, switch_rounding, write_build_config


def backend_for(sandbox: ErpSandbox) -> SqliteBackend | PostgresBackend:
    return PostgresBackend(sandbox) if sandbox.database_url else SqliteBackend(sandbox)


class SqliteBackend:
    def __init__(self, sandbox: ErpSandbox):
        self.sandbox = sandbox

    def template_file(self, key: str) -> Path:
        return self.sandbox.cache_dir / f"tryton-{key}.sqlite"

    def template_state_file(self, key: str) -> Path:
        return self.sandbox.cache_dir / f"tryton-{key}.json"

    def live_exists(self) -> bool:
        return self.sandbox.sqlite_file.exists()

    def template_exists(self, key: str) -> bool:
        return self.template_file(key).exists()

    def build_template(self, key: str, log: Callable[[str], None]) -> dict:
        build_dir = self.sandbox.cache_dir / f"build-{key}-{os.getpid()}"
        shutil.rmtree(build_dir, ignore_errors=True)
        build_dir.mkdir(parents=True)
        try:
            db_file = build_dir / f"{self.sandbox.database}.sqlite"
            db_file.touch()  # trytond's SQLite backend opens, it does not create
            conf = write_build_config(build_dir, "sqlite://", build_dir)
            state = build_database(self.sandbox, conf, "sqlite://", log)
            os.replace(db_file, self.template_file(key))
            write_json(self.template_state_file(key), state)
            self.prune()
            return state
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)

    def prune(self, max_idle_days: int = 7) -> None:
        """Drop templates nobody restored for a week (old code, old catalogue): ~7 MB each."""
        cutoff = time.time() - max_idle_days * 86400
        for template in self.sandbox.cache_dir.glob("tryton-*.sqlite"):
            if template.stat().st_mtime < cutoff:
                template.unlink(missing_ok=True)
                template.with_suffix(".json").unlink(missing_ok=True)

    def derive_template(self, base_key: str, key: str, state: dict) -> dict:
        build_dir = self.sandbox.cache_dir / f"build-{key}-{os.getpid()}"
        shutil.rmtree(build_dir, ignore_errors=True)
        build_dir.mkdir(parents=True)
        try:
            db_file = build_dir / f"{self.sandbox.database}.sqlite"
            shutil.copyfile(self.template_file(base_key), db_file)
            conf = write_build_config(build_dir, "sqlite://", build_dir)
            switch_rounding(self.sandbox, conf, "sqlite://", self.sandbox.database)
            os.replace(db_file, self.template_file(key))
            write_json(self.template_state_file(key), state)
            return state
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)

    def restore(self, key: str) -> None:
        target = self.sandbox.sqlite_file
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".sqlite.restoring")
        shutil.copyfile(self.template_file(key), tmp)
        os.utime(self.template_file(key))  # in use: keep it out of prune()
        for stale in (
            target.with_name(target.name + "-wal"),
            target.with_name(target.name + "-shm"),
        ):
            stale.unlink(missing_ok=True)
        os.replace(tmp, target)


class PostgresBackend:
    def __init__(self, sandbox: ErpSandbox):
        self.sandbox = sandbox

    def template_name(self, key: str) -> str:
        return f"tryton_tpl_{key}"

    def template_state_file(self, key: str) -> Path:
        server = hashlib.sha256(self.sandbox.trytond_uri().encode()).hexdigest()[:8]
        return self.sandbox.cache_dir / f"tryton-{key}-pg-{server}.json"

    def _connect(self):
        import psycopg

        parts = urlsplit(self.sandbox.database_url)
        url = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
        return psycopg.connect(url, autocommit=True, connect_timeout=10)

    def _exists(self, name: str) -> bool:
        with self._connect() as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None

    def live_exists(self) -> bool:
        return self._exists(self.sandbox.database)

    def template_exists(self, key: str) -> bool:
        return self._exists(self.template_name(key))

    def _recreate(self, name: str, template: str | None = None) -> None:
        from psycopg import sql

        with self._connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            if template:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
            else:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
                        sql.Identifier(name)
                    )
                )

    def build_template(self, key: str, log: Callable[[str], None]) -> dict:
        name = self.template_name(key)
        self._recreate(name)
        build_dir = self.sandbox.cache_dir / f"build-{key}-{os.getpid()}"
        build_dir.mkdir(parents=True, exist_ok=True)
        try:
            uri = self.sandbox.trytond_uri()
            conf = write_build_config(build_dir, uri, build_dir)
            state = build_database(self.sandbox, conf, uri, log, database=name)
        except BaseException:
            self._drop(name)
            raise
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        write_json(self.template_state_file(key), state)
        return state

    def _drop(self, name: str) -> None:
        from psycopg import sql

        with self._connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def derive_template(self, base_key: str, key: str, state: dict) -> dict:
        name = self.template_name(key)
        self._recreate(name, template=self.template_name(base_key))
        build_dir = self.sandbox.cache_dir / f"build-{key}-{os.getpid()}"
        build_dir.mkdir(parents=True, exist_ok=True)
        try:
            uri = self.sandbox.trytond_uri()
            conf = write_build_config(build_dir, uri, build_dir)
            switch_rounding(self.sandbox, conf, uri, name)
        except BaseException:
            self._drop(name)
            raise
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        write_json(self.template_state_file(key), state)
        return state

    def restore(self, key: str) -> None:
        self._recreate(self.sandbox.database, template=self.template_name(key))


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
