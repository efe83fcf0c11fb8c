"""Building a Tryton sandbox database: trytond-admin, then the proteus setup, in subprocesses.

trytond keeps process-wide configuration, so each step runs in its own interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sandbox.erp.conf import MODULES, ErpSandbox

ADMIN_EMAIL = "admin@sandbox.invalid"


class BootstrapError(RuntimeError):
    """A bootstrap step failed; the message carries the step's output."""


def write_build_config(build_dir: Path, uri: str, sqlite_dir: Path) -> Path:
    conf = build_dir / "trytond.conf"
    conf.write_text(f"[database]\nuri = {uri}\npath = {sqlite_dir}\n", encoding="utf-8")
    return conf


def build_database(
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


def switch_rounding(sandbox: ErpSandbox, conf: Path, uri: str, database: str) -> None:
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
