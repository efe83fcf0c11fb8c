"""`python manage.py sandbox erp-bootstrap | erp-serve | warehouse`: the Tryton sandbox."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from config.env import update_env_file
from sandbox.erp.bootstrap import (
    Bootstrapped,
    ensure_bootstrapped,
    read_state,
    sandbox_env_values,
)
from sandbox.erp.conf import DEFAULT_PORT, ROUNDINGS, ErpSandbox, sandbox_from_env
from sandbox.erp.rest import TrytonRest, TrytonRestError
from sandbox.erp.server import trytond_command, trytond_env
from sandbox.erp.template_build import BootstrapError
from sandbox.erp.warehouse import receive_returns, ship


def register(subparsers) -> None:
    boot = subparsers.add_parser(
        "erp-bootstrap",
        help="Create (or restore from cache) the Tryton ERP sandbox and write var/sandbox.env.",
    )
    _database_options(boot)
    boot.add_argument(
        "--reset",
        action="store_true",
        help="Replace the ERP database with the pristine bootstrap (drops sales and shipments).",
    )
    boot.set_defaults(handler=bootstrap_handler)

    serve = subparsers.add_parser(
        "erp-serve", help="Bootstrap if needed, then run trytond on 127.0.0.1:PORT."
    )
    _database_options(serve)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.set_defaults(handler=serve_handler)

    warehouse = subparsers.add_parser(
        "warehouse",
        help="Pick, pack and dispatch waiting Tryton customer shipments; receive returns.",
    )
    warehouse.add_argument("--ship", type=int, default=0, metavar="N")
    warehouse.add_argument(
        "--part",
        action="store_true",
        help="ship each only in part now; the rest follows in a new shipment on a later run",
    )
    warehouse.add_argument(
        "--receive-returns",
        type=int,
        default=0,
        metavar="N",
        help="receive up to N customer returns (refunds) into stock",
    )
    warehouse.add_argument(
        "--base-url", default="", help="trytond URL (default ERP_BASE_URL, else :8082)"
    )
    warehouse.set_defaults(handler=warehouse_handler)


def _database_options(parser) -> None:
    parser.add_argument(
        "--rounding",
        choices=ROUNDINGS,
        default=None,
        help="VAT rounding of the company (default ERP_TAX_ROUNDING, else document).",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://user:pw@host:port for PostgreSQL (default ERP_DATABASE_URL; "
        "empty means SQLite under var/tryton/).",
    )


def _sandbox(options, port: int = DEFAULT_PORT) -> ErpSandbox:
    try:
        return sandbox_from_env(
            var_dir=Path(settings.VAR_DIR),
            rounding=options.get("rounding"),
            database_url=options.get("database_url"),
            port=port,
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def _bootstrap(command, sandbox: ErpSandbox, reset: bool = False) -> Bootstrapped:
    def log(message: str) -> None:
        command.stdout.write(message)
        command.stdout.flush()

    try:
        booted = ensure_bootstrapped(sandbox, reset=reset, log=log)
    except BootstrapError as exc:
        raise CommandError(str(exc)) from exc
    update_env_file(Path(settings.VAR_DIR) / "sandbox.env", sandbox_env_values(booted))
    return booted


def bootstrap_handler(command, options) -> None:
    sandbox = _sandbox(options)
    booted = _bootstrap(command, sandbox, reset=options["reset"])
    where = sandbox.sqlite_file if sandbox.backend == "sqlite" else sandbox.database_url
    command.stdout.write(
        f"ERP sandbox ready ({booted.source}, {booted.seconds:.1f}s): database "
        f"{sandbox.database} on {sandbox.backend} ({where}), tax rounding "
        f"{booted.state['rounding']}, {booted.state['items']} items; connection settings "
        f"in {Path(settings.VAR_DIR) / 'sandbox.env'}"
    )


def serve_handler(command, options) -> None:
    sandbox = _sandbox(options, port=options["port"])
    booted = _bootstrap(command, sandbox)
    sandbox.write_config()
    command.stdout.write(
        f"trytond on {sandbox.base_url}/{sandbox.database}/rest/ ({booted.source} database)"
    )
    command.stdout.flush()
    # Become trytond: honcho's signals and exit status then reach the real server.
    cmd = trytond_command(sandbox)
    os.execve(cmd[0], cmd, trytond_env(sandbox))  # noqa: S606 - fixed argv, no shell


def warehouse_handler(command, options) -> None:
    sandbox = _sandbox(options)
    # The warehouse works on whatever database trytond serves now: never bootstrap (which
    # could replace it) from here.
    state = read_state(sandbox)
    if not state.get("warehouse_api_key"):
        raise CommandError(
            f"no ERP sandbox state at {sandbox.state_file}: run `sandbox erp-bootstrap` first"
        )
    base_url = options["base_url"] or os.environ.get("ERP_BASE_URL") or sandbox.base_url
    if not options["ship"] and not options["receive_returns"]:
        raise CommandError("say what to do: --ship N [--part] and/or --receive-returns N")
    try:
        with TrytonRest(base_url, sandbox.database, state["warehouse_api_key"]) as rest:
            if options["ship"]:
                shipped = ship(
                    rest, options["ship"], part=options["part"], log=command.stdout.write
                )
                command.stdout.write(f"dispatched {len(shipped)} shipment(s)")
            if options["receive_returns"]:
                back = receive_returns(rest, options["receive_returns"], log=command.stdout.write)
                command.stdout.write(f"received {len(back)} return(s)")
    except (TrytonRestError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
