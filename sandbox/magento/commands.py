"""`manage.py sandbox <magento-serve|magento-init|seed>`: run and fill the Magento sandbox."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from sandbox.magento.orders.pricing import TaxBasis

DEFAULT_PORT = 8081


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "magento-serve", help="Serve the Magento 2.4.8 REST sandbox with waitress."
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--db", help="SQLite file (default $MAGENTO_SANDBOX_DB or var/...)")
    serve.add_argument("--threads", type=int, default=4)
    serve.set_defaults(handler=handle_serve)

    init = subparsers.add_parser(
        "magento-init", help="Create the sandbox database and seed it, only when it has no orders."
    )
    init.add_argument("--db")
    init.add_argument("--orders", type=int, default=500)
    init.add_argument("--days", type=float, default=60)
    init.add_argument("--seed", type=int, default=1)
    init.add_argument("--port", type=int, default=DEFAULT_PORT, help="for var/sandbox.env")
    init.set_defaults(handler=handle_init)

    seed = subparsers.add_parser(
        "seed", help="Add realistic UK orders to the Magento sandbox (deterministic by --seed)."
    )
    seed.add_argument("--db")
    seed.add_argument("--orders", type=int, default=100)
    seed.add_argument("--days", type=float, default=30)
    seed.add_argument("--seed", type=int, default=1)
    seed.add_argument(
        "--share",
        action="append",
        metavar="CAUSE=SHARE",
        help="override a cause's share, e.g. --share unknown_sku=0.1 (repeatable)",
    )
    seed.add_argument(
        "--tax-basis",
        choices=[b.value for b in TaxBasis],
        help="Tax Calculation Method Based On (default $MAGENTO_SANDBOX_TAX_BASIS or TOTAL_BASE)",
    )
    seed.add_argument("--live", action="store_true", help="then keep adding orders until Ctrl-C")
    seed.add_argument("--interval", type=float, default=5.0, help="seconds between live orders")
    seed.set_defaults(handler=handle_seed)


def _store(options: dict[str, Any]):
    from sandbox.magento.catalogue import load_catalogue
    from sandbox.magento.store import Store, db_path_from_env

    store = Store(options.get("db") or db_path_from_env())
    if store.meta_get("catalogue_loaded") != "1":
        load_catalogue(store)
    return store


def handle_serve(command: Any, options: dict[str, Any]) -> None:
    import waitress

    from sandbox.magento.app import create_app
    from sandbox.magento.store import db_path_from_env

    db = options.get("db") or db_path_from_env()
    app = create_app(db, real_server=True)
    logging.getLogger("waitress").setLevel(logging.INFO)
    command.stdout.write(
        f"Magento sandbox on http://{options['host']}:{options['port']}/rest/V1/ (db {db})"
    )
    waitress.serve(
        app,
        host=options["host"],
        port=options["port"],
        threads=options["threads"],
        ident="magento-sandbox",
    )


def _basis(options: dict[str, Any]) -> TaxBasis:
    import os

    return TaxBasis(
        options.get("tax_basis") or os.environ.get("MAGENTO_SANDBOX_TAX_BASIS", "TOTAL_BASE")
    )


def _print_report(command: Any, report: Any) -> None:
    causes = ", ".join(f"{k} {len(v)}" for k, v in sorted(report.causes.items()))
    states = ", ".join(f"{k} {v}" for k, v in sorted(report.states.items()))
    command.stdout.write(
        f"seeded {report.orders} orders in {report.seconds:.2f}s; "
        f"states: {states}; causes: {causes}"
    )


def sandbox_env_values(port: int = DEFAULT_PORT) -> dict[str, str]:
    """What var/sandbox.env says about Magento: exactly what the desk uses to connect."""
    from sandbox.magento.auth import Credentials

    creds = Credentials.from_env()
    return {
        "MAGENTO_BASE_URL": f"http://127.0.0.1:{port}",
        "MAGENTO_TOKEN": creds.access_token,
        "MAGENTO_CONSUMER_KEY": creds.consumer_key,
        "MAGENTO_CONSUMER_SECRET": creds.consumer_secret,
        "MAGENTO_ACCESS_TOKEN": creds.access_token,
        "MAGENTO_ACCESS_TOKEN_SECRET": creds.access_token_secret,
    }


def handle_init(command: Any, options: dict[str, Any]) -> None:
    from django.conf import settings

    from config.env import update_env_file
    from sandbox.magento.clock import utcnow
    from sandbox.magento.seed import seed_orders
    from sandbox.magento.seed_lifecycle import seed_lifecycle

    env_path = Path(settings.VAR_DIR) / "sandbox.env"
    env_path.parent.mkdir(parents=True, exist_ok=True)
    update_env_file(env_path, sandbox_env_values(options["port"]))
    store = _store(options)
    if store.count("orders"):
        command.stdout.write(f"Magento sandbox already has {store.count('orders')} orders")
        return
    now = utcnow()
    report = seed_orders(
        store,
        orders=options["orders"],
        days=options["days"],
        seed=options["seed"],
        now=now,
        basis=_basis(options),
    )
    # Edited, cancelled and held orders: some now, the rest live once the desk posted them.
    plan = seed_lifecycle(store, report, seed=options["seed"], now=now, basis=_basis(options))
    _print_report(command, report)
    edited, replacement = report.causes["edited"][0], report.causes["edit_replacement"][0]
    command.stdout.write(
        f"lifecycle: edited {edited} → {replacement}; live events once the desk has posted: "
        + ", ".join(f"{e.event} {e.increment_id}" for e in plan)
    )


def handle_seed(command: Any, options: dict[str, Any]) -> None:
    from sandbox.magento.clock import utcnow
    from sandbox.magento.seed import Shares, live_orders, seed_orders

    if options["orders"] < 0 or options["days"] < 0:
        raise CommandError("--orders and --days must not be negative")
    try:
        shares = Shares.parse(options.get("share"))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    store = _store(options)
    basis = _basis(options)
    if options["orders"]:
        report = seed_orders(
            store,
            orders=options["orders"],
            days=options["days"],
            seed=options["seed"],
            now=utcnow(),
            shares=shares,
            basis=basis,
        )
        _print_report(command, report)
    if options["live"]:
        command.stdout.write(f"adding a live order every {options['interval']}s; Ctrl-C stops")

        def announce(report: Any) -> None:
            command.stdout.write(f"live order entity_id {report.first_entity_id}")

        director = _director(command, store, basis)
        try:
            live_orders(store, seed=options["seed"], interval=options["interval"], shares=shares,
                        basis=basis, on_order=announce, on_tick=director.tick)  # fmt: skip
        except KeyboardInterrupt:
            command.stdout.write("stopped")
        finally:
            director.close()


class _LiveDirector:
    """The lifecycle director with the ERP sandbox connections it opened (closed on exit)."""

    def __init__(self, director: Any, clients: list[Any]) -> None:
        self.director, self.clients = director, clients

    def tick(self) -> None:
        self.director.tick()

    def close(self) -> None:
        for client in self.clients:
            client.close()


def _director(command: Any, store: Any, basis: TaxBasis) -> _LiveDirector:
    """The planned lifecycle events (seed_lifecycle), waiting on the ERP sandbox when it is set
    up; without it they happen when due."""
    import os

    from django.conf import settings

    from sandbox.erp.bootstrap import read_state
    from sandbox.erp.conf import sandbox_from_env
    from sandbox.erp.rest import TrytonRest
    from sandbox.magento.lifecycle_live import Director, TrytonSide

    sandbox = sandbox_from_env(var_dir=Path(settings.VAR_DIR))
    state = read_state(sandbox)
    clients: list[Any] = []
    erp = None
    if state.get("api_key") and state.get("warehouse_api_key"):
        base_url = os.environ.get("ERP_BASE_URL") or sandbox.base_url
        clients = [
            TrytonRest(base_url, sandbox.database, state["api_key"]),
            TrytonRest(base_url, sandbox.database, state["warehouse_api_key"]),
        ]
        erp = TrytonSide(*clients)
    else:
        command.stdout.write("no ERP sandbox state: lifecycle events happen when due")
    log = command.stdout.write
    return _LiveDirector(Director(store, erp, basis=basis, log=log), clients)
