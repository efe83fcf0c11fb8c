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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

from sandbox import divergence
from sandbox.erp import setup_tryton
from sandbox.erp.conf import MODULES, ErpSandbox
from sandbox.erp.setup_accounting import fiscal_years
from sandbox.erp.template_backends import backend_for, read_json, write_json

# Bump when the bootstrap changes in a way the hashed sources below do not capture.
BOOTSTRAP_VERSION = 1


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
        ",".join(map(str, fiscal_years(today or date.today()))),
    ]
    for dist in sorted(d.metadata["Name"].lower() for d in metadata.distributions()):
        if dist.startswith(("trytond", "proteus")):
            parts.append(f"{dist}=={metadata.version(dist)}")
    for part in parts:
        digest.update(part.encode() + b"\0")
    for path in (divergence.CATALOGUE_CSV, Path(divergence.__file__), *setup_tryton.SOURCES):
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
        backend = backend_for(sandbox)
        state = read_json(sandbox.state_file)
        if not reset and state.get("key") == key and backend.live_exists():
            return Bootstrapped(sandbox, state, "existing", time.monotonic() - started)
        template, source = _ensure_template(sandbox, backend, log)
        backend.restore(key)
        state = {**template, "key": key, "database": sandbox.database}
        sandbox.tryton_dir.mkdir(parents=True, exist_ok=True)
        write_json(sandbox.state_file, state)
    return Bootstrapped(sandbox, state, source, time.monotonic() - started)


def _ensure_template(sandbox: ErpSandbox, backend, log: Callable[[str], None]) -> tuple[dict, str]:
    """The template for these inputs, built or derived if missing; and where it came from."""
    key = cache_key(sandbox)
    template = read_json(backend.template_state_file(key))
    if template and backend.template_exists(key):
        return template, "cache"
    if sandbox.rounding == "document":
        log(f"ERP sandbox: building the Tryton template {key} (about a minute, once)")
        return backend.build_template(key, log), "built"
    # Another rounding is the document template with one setting switched: seconds, not a
    # second full build.
    base = sandbox.with_rounding("document")
    base_state, base_source = _ensure_template(base, backend_for(base), log)
    log(f"ERP sandbox: deriving the {sandbox.rounding}-rounding template {key}")
    state = backend.derive_template(
        cache_key(base), key, {**base_state, "rounding": sandbox.rounding}
    )
    return state, "built" if base_source == "built" else "derived"


def read_state(sandbox: ErpSandbox) -> dict:
    """What the last bootstrap recorded for the live database ({} if none)."""
    return read_json(sandbox.state_file)


def sandbox_env_values(booted: Bootstrapped, base_url: str | None = None) -> dict[str, str]:
    """What var/sandbox.env says about the ERP: exactly what the desk uses to connect."""
    return {
        "ERP_BASE_URL": base_url or booted.sandbox.base_url,
        "ERP_DATABASE": booted.sandbox.database,
        "ERP_API_KEY": booted.api_key,
    }


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    # The test suite and `make run` may bootstrap at the same time; one builds, one waits.
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
