"""The Magento 2.4.8 REST sandbox as a Flask WSGI app.

    app = create_app("var/magento-sandbox.sqlite3")            # faults from MAGENTO_SANDBOX_FAULTS
    app = create_app(path, faults=Faults(error_rate=1.0))      # per test
    state = app.extensions["magento_sandbox"]                  # SandboxState: store, faults, ...

Paths: /rest/V1/..., /rest/<default|all>/V1/..., /rest[/<store>]/async/V1/... and
/rest[/<store>]/async/bulk/V1/... . See README.md for the routes and what is modelled.

Where things are: dispatch.py answers one request, routing.py holds the route table,
routes/ the handlers by route group, middleware.py the injected faults, context.py the state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, request

import sandbox.magento.routes  # noqa: F401 - registers the web API routes
from sandbox.magento.auth import Credentials
from sandbox.magento.catalogue import load_catalogue
from sandbox.magento.clock import utcnow
from sandbox.magento.context import SandboxState, Settings
from sandbox.magento.dispatch import dispatch
from sandbox.magento.errors import NO_ROUTE, MagentoError, internal_error
from sandbox.magento.faults import Faults
from sandbox.magento.middleware import FAULT_HEADER, FaultMiddleware
from sandbox.magento.msi import DEFAULT_SOURCE
from sandbox.magento.responses import error_response
from sandbox.magento.store import Store

logger = logging.getLogger(__name__)

EXTENSION_KEY = "magento_sandbox"


def create_app(
    db_path: str,
    *,
    faults: Faults | None = None,
    credentials: Credentials | None = None,
    settings: Settings | None = None,
    clock: Callable[[], datetime] | None = None,
    real_server: bool = False,
    load_products: bool = True,
) -> Flask:
    """The sandbox WSGI app over the SQLite file `db_path` (created when missing).

    `faults` default to MAGENTO_SANDBOX_FAULTS; `credentials` and `settings` to their env vars.
    The Luma catalogue is loaded on first use of an empty database.
    """
    store = Store(db_path)
    if load_products and store.meta_get("catalogue_loaded") != "1":
        load_catalogue(store)
    state = SandboxState(
        store=store,
        faults=faults if faults is not None else Faults.from_env(),
        credentials=credentials or Credentials.from_env(),
        settings=settings or Settings.from_env(),
        clock=clock or utcnow,
        real_server=real_server,
    )
    app = Flask("sandbox.magento")
    app.extensions[EXTENSION_KEY] = state

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]

    @app.route("/rest/<path:rest>", methods=methods)
    def rest_api(rest: str) -> Response:
        try:
            return dispatch(state, rest)
        except MagentoError as exc:
            return error_response(exc)
        except Exception:
            logger.exception("magento sandbox: unexpected error on %s %s", request.method, rest)
            return error_response(internal_error())

    @app.errorhandler(404)
    def no_route(_exc: Exception) -> Response:
        return error_response(MagentoError(NO_ROUTE, status=404))

    @app.errorhandler(405)
    def wrong_method(_exc: Exception) -> Response:
        return error_response(MagentoError(NO_ROUTE, status=404))

    app.wsgi_app = FaultMiddleware(app.wsgi_app, state)  # type: ignore[method-assign]
    return app


def sandbox_state(app: Flask) -> SandboxState:
    return app.extensions[EXTENSION_KEY]


__all__ = [
    "DEFAULT_SOURCE",
    "FAULT_HEADER",
    "Faults",
    "SandboxState",
    "Settings",
    "create_app",
    "sandbox_state",
]
