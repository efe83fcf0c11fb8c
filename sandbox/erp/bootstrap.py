"""Create the Tryton sandbox database once, cache it as a template, restore it in seconds.

The first bootstrap runs `trytond-admin` (create, activate modules) and the proteus setup of
setup_tryton.py in subprocesses, then keeps the result under var/cache/ keyed by a hash of
everything that shapes it. Later bootstraps with the same inputs copy the template (SQLite) or
`CREATE DATABASE ... TEMPLATE` (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sandbox import divergence
from sandbox.erp import setup_tryton
from sandbox.erp.conf import MODULES, ErpSandbox

# Bump when the bootstrap changes in a way the hashed sources below do not capture.
BOOTSTRAP_VERSION = 1
ADMIN_EMAIL = "admin@sandbox.invalid"


class BootstrapError(RuntimeError):
    """A bootstrap step failed; the message carries the step's output."""


@dataclass(frozen=True)
class Bootstrapped:
    """The live sandbox database and what the bootstrap produced for it."""

    sandbox: ErpSandbox
    state: dict
    # "existing" (already in place), "cache" (restored from the template), "derived" (from
    # the document-rounding template), "built" (full run)
    source: str
    seconds: float

    @property
    def api_key(self) -> str:
        return self.state["api_key"]

    @property
    def warehouse_api_key(self) -> str:
        return self.state["warehouse_api_key"]


def cache_key(sandbox: ErpSandbox, today: date | None = None) -> str:
    """Hash of the bootstrap inputs: modules and their versions, catalogue, rounding, code."""
    digest = hashlib.sha256()
    parts = [
        f"v{BOOTSTRAP_VERSION}",
        sandbox.backend,
        sandbox.rounding,
        ",".join(MODULES),
        ",".join(map(str, setup_tryton.fiscal_years(today or date.today()))),
    ]
    for dist in sorted(d.metadata["Name"].lower() for d in metadata.distributions()):
        if dist.startswith(("trytond", "proteus")):
            parts.append(f"{dist}=={metadata.version(dist)}")
    for part in parts:
        digest.update(part.encode() + b"\0")
    for path in (divergence.CATALOGUE_CSV, Path(divergence.__file__), Path(setup_tryton.__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def ensure_bootstrapped(
    sandbox: ErpSandbox, *, reset: bool = False, log: Callable[[str], None] = print
) -> Bootstrapped:
    """Make sure the sandbox database exists and matches the current bootstrap inputs.

    Idempotent: a database already built from the same inputs is left alone (with its sales,
    shipments and invoices) unless `reset` is set, which restores the pristine template.
    """
    started = time.monotonic()
    key = cache_key(sandbox)
    sandbox.cache_dir.mkdir(parents=True, exist_ok=True)
    with _lock(sandbox.cache_dir / "tryton.lock"):
        backend = _backend(sandbox)
        state = _read_json(sandbox.state_file)
        if not reset and state.get("key") == key and backend.live_exists():
            return Bootstrapped(sandbox, state, "existing", time.monotonic() - started)
        template, source = _ensure_template(sandbox, backend, log)
        backend.restore(key)
        state = {**template, "key": key, "database": sandbox.database}
        sandbox.tryton_dir.mkdir(parents=True, exist_ok=True)
        _write_json(sandbox.state_file, state)
    return Bootstrapped(sandbox, state, source, time.monotonic() - started)


def _ensure_template(sandbox: ErpSandbox, backend, log: Callable[[str], None]) -> tuple[dict, str]:
    """The template for these inputs, built or derived if missing; and where it came from."""
    key = cache_key(sandbox)
    template = _read_json(backend.template_state_file(key))
    if template and backend.template_exists(key):
        return template, "cache"
    if sandbox.rounding == "document":
        log(f"ERP sandbox: building the Tryton template {key} (about a minute, once)")
        return backend.build_template(key, log), "built"
    # Another rounding is the document template with one setting switched: seconds, not a
    # second full build.
    base = sandbox.with_rounding("document")
    base_state, base_source = _ensure_template(base, _backend(base), log)
    log(f"ERP sandbox: deriving the {sandbox.rounding}-rounding template {key}")
    state = backend.derive_template(
        cache_key(base), key, {**base_state, "rounding": sandbox.rounding}
    )
    return state, "built" if base_source == "built" else "derived"


def read_state(sandbox: ErpSandbox) -> dict:
    """What the last bootstrap recorded for the live database ({} if none)."""
    return _read_json(sandbox.state_file)


def sandbox_env_values(booted: Bootstrapped, base_url: str | None = None) -> dict[str, str]:
    """What var/sandbox.env says about the ERP: exactly what the desk uses to connect."""
    return {
        "ERP_BASE_URL": base_url or booted.sandbox.base_url,
        "ERP_DATABASE": booted.sandbox.database,
        "ERP_API_KEY": booted.api_key,
    }


# --- backends ---------------------------------------------------------------------------


def _backend(sandbox: ErpSandbox) -> _SqliteBackend | _PostgresBackend:
    return _PostgresBackend(sandbox) if sandbox.database_url else _SqliteBackend(sandbox)


class _SqliteBackend:
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
            conf = _write_build_config(build_dir, "sqlite://", build_dir)
            state = _build(self.sandbox, conf, "sqlite://", log)
            os.replace(db_file, self.template_file(key))
            _write_json(self.template_state_file(key), state)
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
            conf = _write_build_config(build_dir, "sqlite://", build_dir)
            _set_rounding(self.sandbox, conf, "sqlite://", self.sandbox.database)
            os.replace(db_file, self.template_file(key))
            _write_json(self.template_state_file(key), state)
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


class _PostgresBackend:
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
            conf = _write_build_config(build_dir, uri, build_dir)
            state = _build(self.sandbox, conf, uri, log, database=name)
        except BaseException:
            self._drop(name)
            raise
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        _write_json(self.template_state_file(key), state)
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
            conf = _write_build_config(build_dir, uri, build_dir)
            _set_rounding(self.sandbox, conf, uri, name)
        except BaseException:
            self._drop(name)
            raise
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        _write_json(self.template_state_file(key), state)
        return state

    def restore(self, key: str) -> None:
        self._recreate(self.sandbox.database, template=self.template_name(key))


# --- the build itself ---------------------------------------------------------------------


def _write_build_config(build_dir: Path, uri: str, sqlite_dir: Path) -> Path:
    conf = build_dir / "trytond.conf"
    conf.write_text(f"[database]\nuri = {uri}\npath = {sqlite_dir}\n", encoding="utf-8")
    return conf


def _build(
    sandbox: ErpSandbox,
    conf: Path,
    uri: str,
    log: Callable[[str], None],
    database: str | None = None,
) -> dict:
    database = database or sandbox.database
    bindir = Path(sys.executable).parent
    passfile = conf.parent / "admin.pass"
    # The administrator is only used by the bootstrap; REST access goes through keys.
    passfile.write_text(hashlib.sha256(os.urandom(32)).hexdigest(), encoding="utf-8")
    env = {**os.environ, "TRYTONPASSFILE": str(passfile), "TRYTOND_DATABASE_URI": uri}
    env.pop("TRYTOND_CONFIG", None)
    started = time.monotonic()
    _run(
        [str(bindir / "trytond-admin"), "-c", str(conf), "-d", database, "--all"]
        + ["--email", ADMIN_EMAIL],
        env,
        "create the database",
    )
    log(f"  database created ({time.monotonic() - started:.0f}s)")
    _run(
        [str(bindir / "trytond-admin"), "-c", str(conf), "-d", database, "-u", *MODULES]
        + ["--activate-dependencies"],
        env,
        "activate the modules",
    )
    log(f"  modules activated ({time.monotonic() - started:.0f}s)")
    out = conf.parent / "setup.json"
    _run(
        [sys.executable, "-m", "sandbox.erp.setup_tryton", "--config", str(conf)]
        + ["--database", database, "--rounding", sandbox.rounding, "--out", str(out)],
        env,
        "set up the UK business and item master",
    )
    elapsed = time.monotonic() - started
    log(f"  company, chart, VAT, carriers, items and stock ready ({elapsed:.0f}s)")
    return json.loads(out.read_text(encoding="utf-8"))


def _set_rounding(sandbox: ErpSandbox, conf: Path, uri: str, database: str) -> None:
    env = {**os.environ, "TRYTOND_DATABASE_URI": uri}
    env.pop("TRYTOND_CONFIG", None)
    _run(
        [sys.executable, "-m", "sandbox.erp.setup_tryton", "--config", str(conf)]
        + ["--database", database, "--rounding", sandbox.rounding, "--only-rounding"],
        env,
        f"switch the VAT rounding to {sandbox.rounding}",
    )


def _run(cmd: list[str], env: dict, what: str) -> None:
    result = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=900, cwd=str(_project_dir())
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise BootstrapError(f"could not {what} (exit {result.returncode}):\n{tail}")


def _project_dir() -> Path:
    return Path(__file__).resolve().parent.parent.parent


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    # The test suite and `make run` may bootstrap at the same time; one builds, one waits.
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
