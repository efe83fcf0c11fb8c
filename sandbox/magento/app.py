"""The Magento 2.4.8 REST sandbox as a Flask WSGI app.

    app = create_app("var/magento-sandbox.sqlite3")            # faults from MAGENTO_SANDBOX_FAULTS
    app = create_app(path, faults=Faults(error_rate=1.0))      # per test
    state = app.extensions["magento_sandbox"]                  # SandboxState: store, faults, ...

Paths: /rest/V1/..., /rest/<default|all>/V1/..., /rest[/<store>]/async/V1/... and
/rest[/<store>]/async/bulk/V1/... . See README.md for the routes and what is modelled.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, request

from sandbox.magento import bulk
from sandbox.magento.auth import (
    USER_TYPE_ADMIN,
    Credentials,
    Principal,
    authenticate,
    issue_admin_token,
)
from sandbox.magento.catalogue import PRODUCT_FIELDS, load_catalogue, product_field
from sandbox.magento.errors import (
    DEADLOCK,
    NO_ROUTE,
    NOT_FOUND_PRODUCT,
    REQUIRED_FIELD,
    MagentoError,
    internal_error,
    not_found,
    unauthorized,
)
from sandbox.magento.faults import Faults, SimulatedDrop, SimulatedHang
from sandbox.magento.orders import (
    CANNOT_SHIP_STATES,
    DEFAULT_SOURCE,
    FINAL_STATES,
    TaxBasis,
    add_history,
    cancel_order,
    get_order,
    invoice_order,
    qty_to_ship,
    save_order,
    set_state,
    ship_order,
    timestamp,
)
from sandbox.magento.search import (
    SearchCriteria,
    UnknownField,
    apply,
    filter_fields,
    parse_fields,
    parse_search_criteria,
)
from sandbox.magento.store import Store

logger = logging.getLogger(__name__)

SCHEMA_PATH = (
    Path(__file__).resolve().parent / "data" / "schema" / ("magento-2.4.8-admin-schema-subset.json")
)
STORE_CODES = ("default", "all")
EXTENSION_KEY = "magento_sandbox"
FAULT_HEADER = "X-Sandbox-Fault"


@dataclass
class Settings:
    """Store configuration the sandbox models (env MAGENTO_SANDBOX_*)."""

    # Magento's default "Tax Calculation Method Based On" is Total.
    tax_basis: TaxBasis = TaxBasis.TOTAL_BASE
    # webapi/validation/input_limit_enabled: default page size 20, maximum 300.
    input_limits: bool = False
    async_mode: str = "next-request"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            tax_basis=TaxBasis(os.environ.get("MAGENTO_SANDBOX_TAX_BASIS", "TOTAL_BASE")),
            input_limits=os.environ.get("MAGENTO_SANDBOX_INPUT_LIMITS", "0") == "1",
            async_mode=os.environ.get("MAGENTO_SANDBOX_ASYNC_MODE", "next-request"),
        )


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass
class SandboxState:
    store: Store
    faults: Faults
    credentials: Credentials
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    real_server: bool = False
    requests_seen: int = field(default=0)

    def now(self) -> datetime:
        return self.clock()

    def consume(self) -> int:
        """Run the queued async operations (Magento's async.operations.all consumer)."""
        return bulk.consume(self.store, self._run_operation)

    def _run_operation(self, method: str, path: str, body: Any) -> Any:
        match = _match(method, path)
        if match is None:
            raise MagentoError(NO_ROUTE, status=404)
        route, params = match
        ctx = Ctx(self, method, path, [], body, Principal(USER_TYPE_ADMIN, 1), fault=None)
        return route.handler(ctx, **params)


@dataclass
class Ctx:
    state: SandboxState
    method: str
    path: str
    args: list[tuple[str, str]]
    body: Any
    principal: Principal
    fault: str | None

    @property
    def store(self) -> Store:
        return self.state.store

    def stamp(self) -> str:
        return timestamp(self.state.now())


# --- routing -----------------------------------------------------------------------------------


@dataclass
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Callable[..., Any]
    resource: str
    public: bool = False
    topic: str | None = None


ROUTES: list[Route] = []


def route(
    method: str, pattern: str, resource: str, *, public: bool = False, topic: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def to_regex(pat: str) -> re.Pattern[str]:
        def group(m: re.Match[str]) -> str:
            name, _, kind = m.group(1).partition(":")
            return f"(?P<{name}>\\d+)" if kind == "int" else f"(?P<{name}>[^/]+)"

        return re.compile("^" + re.sub(r"\{([^}]+)\}", group, pat) + "$")

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(Route(method, to_regex(pattern), func, resource, public, topic))
        return func

    return register


def _match(method: str, path: str) -> tuple[Route, dict[str, Any]] | None:
    for candidate in ROUTES:
        if candidate.method != method:
            continue
        found = candidate.regex.match(path)
        if found:
            params = {
                k: int(v) if v.isdigit() and k.endswith(("id", "Id")) else v
                for k, v in found.groupdict().items()
            }
            return candidate, params
    return None


def split_rest_path(rest: str) -> tuple[str, str, str] | None:
    """`default/async/V1/x` -> ("default", "async", "/V1/x"); None when not a web API path."""
    segments = [s for s in rest.split("/")]
    store_code = "default"
    index = 0
    if segments and segments[0] not in ("V1", "async"):
        store_code = segments[0]
        index = 1
    mode = "sync"
    if index < len(segments) and segments[index] == "async":
        mode = "async"
        index += 1
        if index < len(segments) and segments[index] == "bulk":
            mode = "bulk"
            index += 1
    path = "/" + "/".join(segments[index:])
    if not path.startswith("/V1/"):
        return None
    return store_code, mode, path


# --- schema-derived searchable fields ----------------------------------------------------------


@cache
def _definitions() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["definitions"]


@cache
def scalar_fields(definition: str) -> frozenset[str]:
    """Top-level scalar attributes of a schema definition: what searchCriteria may name."""
    props = _definitions()[definition]["properties"]
    return frozenset(
        name for name, spec in props.items() if spec.get("type") in ("string", "integer", "number")
    )


# --- helpers -----------------------------------------------------------------------------------


def _search_result(ctx: Ctx, docs: list[dict[str, Any]], criteria: SearchCriteria, **kw: Any):
    try:
        page = apply(docs, criteria, input_limits=ctx.state.settings.input_limits, **kw)
    except UnknownField as exc:
        logger.info("searchCriteria names unknown column %s", exc.name)
        raise internal_error() from None
    return {
        "items": page.items,
        "search_criteria": criteria.echo(),
        "total_count": page.total_count,
    }


def _require(body: Any, name: str) -> Any:
    if not isinstance(body, dict) or body.get(name) is None:
        raise MagentoError(REQUIRED_FIELD, {"fieldName": name})
    return body[name]


# --- token -------------------------------------------------------------------------------------


@route("POST", "/V1/integration/admin/token", "anonymous", public=True)
def admin_token(ctx: Ctx) -> str:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    return issue_admin_token(
        ctx.store, ctx.state.credentials, body.get("username"), body.get("password")
    )


# --- orders ------------------------------------------------------------------------------------


@route("GET", "/V1/orders", "Magento_Sales::actions_view")
def orders_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    return _search_result(
        ctx,
        ctx.store.all_docs("orders"),
        criteria,
        fields=scalar_fields("sales-data-order-interface"),
    )


@route("GET", "/V1/orders/{id:int}", "Magento_Sales::actions_view")
def orders_get(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002 - Magento's route param
    return get_order(ctx.store, id)


@route("GET", "/V1/orders/items", "Magento_Sales::actions_view")
def order_items_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    items = [item for order in ctx.store.all_docs("orders") for item in order["items"]]
    return _search_result(
        ctx, items, criteria, fields=scalar_fields("sales-data-order-item-interface")
    )


@route("GET", "/V1/orders/{id:int}/statuses", "Magento_Sales::actions_view")
def orders_status(ctx: Ctx, id: int) -> str:  # noqa: A002
    return get_order(ctx.store, id)["status"]


@route("GET", "/V1/orders/{id:int}/comments", "Magento_Sales::actions_view")
def orders_comments_list(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002
    order = get_order(ctx.store, id)
    return {
        "items": order["status_histories"],
        "search_criteria": {"filter_groups": []},
        "total_count": len(order["status_histories"]),
    }


@route("POST", "/V1/orders/{id:int}/comments", "Magento_Sales::comment",
       topic="async.magento.sales.api.orderstatushistoryrepositoryinterface.save.post")  # fmt: skip
def orders_comment_add(ctx: Ctx, id: int) -> bool:  # noqa: A002
    history = _require(ctx.body, "statusHistory")
    if not isinstance(history, dict):
        raise MagentoError(REQUIRED_FIELD, {"fieldName": "statusHistory"})
    order = get_order(ctx.store, id)
    status = history.get("status")
    add_history(
        ctx.store,
        order,
        comment=None if history.get("comment") is None else str(history["comment"]),
        created=ctx.stamp(),
        status=str(status) if status else None,
        is_customer_notified=history.get("is_customer_notified"),
        is_visible_on_front=int(history.get("is_visible_on_front") or 0),
    )
    order["updated_at"] = ctx.stamp()
    save_order(ctx.store, order)
    return True


@route("POST", "/V1/orders/{id:int}/hold", "Magento_Sales::hold")
def orders_hold(ctx: Ctx, id: int) -> bool:  # noqa: A002
    order = get_order(ctx.store, id)
    if order["state"] not in ("new", "processing"):
        raise MagentoError("A hold action is not available.")
    order["hold_before_state"] = order["state"]
    order["hold_before_status"] = order["status"]
    set_state(order, "holded")
    order["updated_at"] = ctx.stamp()
    save_order(ctx.store, order)
    return True


@route("POST", "/V1/orders/{id:int}/unhold", "Magento_Sales::unhold")
def orders_unhold(ctx: Ctx, id: int) -> bool:  # noqa: A002
    order = get_order(ctx.store, id)
    if order["state"] != "holded":
        raise MagentoError("You cannot remove the hold.")
    set_state(order, order.pop("hold_before_state", "processing"),
              order.pop("hold_before_status", None))  # fmt: skip
    order["updated_at"] = ctx.stamp()
    save_order(ctx.store, order)
    return True


@route("POST", "/V1/orders/{id:int}/cancel", "Magento_Sales::cancel")
def orders_cancel(ctx: Ctx, id: int) -> bool:  # noqa: A002
    order = get_order(ctx.store, id)
    if order["state"] in FINAL_STATES or order["state"] in CANNOT_SHIP_STATES:
        return False
    if not any(qty_to_ship(i) > 0 for i in order["items"]) or order.get("total_paid"):
        return False  # paid orders are refunded (credit memo), not canceled
    cancel_order(ctx.store, order, now=ctx.state.now())
    save_order(ctx.store, order)
    return True


@route("POST", "/V1/order/{orderId:int}/ship", "Magento_Sales::ship",
       topic="async.magento.sales.api.shiporderinterface.execute.post")  # fmt: skip
def order_ship(ctx: Ctx, orderId: int) -> int:  # noqa: N803 - Magento's route param
    body = ctx.body if isinstance(ctx.body, dict) else {}
    with ctx.store.transaction():  # the order mutex: concurrent ships serialise here
        order = get_order(ctx.store, orderId)
        shipment = ship_order(ctx.store, order, body, now=ctx.state.now())
        ctx.store.put_doc("shipments", shipment)
        save_order(ctx.store, order)
    return shipment["entity_id"]


@route("POST", "/V1/order/{orderId:int}/invoice", "Magento_Sales::sales_invoice")
def order_invoice(ctx: Ctx, orderId: int) -> int:  # noqa: N803
    with ctx.store.transaction():
        order = get_order(ctx.store, orderId)
        if order["state"] in CANNOT_SHIP_STATES or order["state"] in FINAL_STATES:
            raise MagentoError("The order does not allow an invoice to be created.")
        invoice = invoice_order(ctx.store, order, now=ctx.state.now())
        ctx.store.put_doc("invoices", invoice)
        save_order(ctx.store, order)
    return invoice["entity_id"]


# --- shipments and invoices --------------------------------------------------------------------


@route("GET", "/V1/shipments", "Magento_Sales::shipment")
def shipments_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    return _search_result(
        ctx,
        ctx.store.all_docs("shipments"),
        criteria,
        fields=scalar_fields("sales-data-shipment-interface"),
    )


@route("GET", "/V1/shipment/{id:int}", "Magento_Sales::shipment")
def shipment_get(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002
    doc = ctx.store.get_doc("shipments", id)
    if doc is None:
        raise not_found()
    return doc


@route("GET", "/V1/invoices", "Magento_Sales::sales_invoice")
def invoices_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    return _search_result(
        ctx,
        ctx.store.all_docs("invoices"),
        criteria,
        fields=scalar_fields("sales-data-invoice-interface"),
    )


@route("GET", "/V1/invoices/{id:int}", "Magento_Sales::sales_invoice")
def invoice_get(ctx: Ctx, id: int) -> dict[str, Any]:  # noqa: A002
    doc = ctx.store.get_doc("invoices", id)
    if doc is None:
        raise not_found()
    return doc


# --- products ----------------------------------------------------------------------------------


@route("GET", "/V1/products", "Magento_Catalog::products")
def products_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    for group in criteria.filter_groups:
        for flt in group:
            if flt.field not in PRODUCT_FIELDS:
                raise MagentoError("Invalid attribute name: %1", [flt.field])
    docs, indexes = ctx.store.indexed_docs("products", ("sku",), product_field)
    return _search_result(
        ctx, docs, criteria, fields=PRODUCT_FIELDS, get=product_field, indexes=indexes
    )


@route("GET", "/V1/products/{sku}", "Magento_Catalog::products")
def products_get(ctx: Ctx, sku: str) -> dict[str, Any]:
    doc = ctx.store.get_doc("products", str(sku))
    if doc is None:
        raise not_found(NOT_FOUND_PRODUCT)
    return doc


# --- MSI ---------------------------------------------------------------------------------------

SOURCE_ITEM_FIELDS = frozenset({"sku", "source_code", "quantity", "status"})
DEFAULT_SOURCE_DOC = {
    "source_code": DEFAULT_SOURCE,
    "name": "Default Source",
    "enabled": True,
    "description": "Default Source",
    "latitude": 0,
    "longitude": 0,
    "country_id": "GB",
    "postcode": "00000",
    "use_default_carrier_config": True,
    "carrier_links": [],
}


def _sources(store: Store) -> dict[str, dict[str, Any]]:
    raw = store.meta_get("msi_sources")
    return json.loads(raw) if raw else {DEFAULT_SOURCE: DEFAULT_SOURCE_DOC}


@route("GET", "/V1/inventory/source-items", "Magento_InventoryApi::source")
def source_items_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    docs, indexes = ctx.store.indexed_docs("source_items", ("sku", "source_code"))
    return _search_result(ctx, docs, criteria, fields=SOURCE_ITEM_FIELDS, indexes=indexes)


def _validate_source_items(store: Store, body: Any) -> list[dict[str, Any]]:
    items = _require(body, "sourceItems")
    if not isinstance(items, list) or not items:
        raise MagentoError("Input data is empty")
    errors: list[dict[str, Any]] = []
    clean = []
    for item in items:
        if not isinstance(item, dict):
            raise MagentoError("Input data is empty")
        for name in ("sku", "source_code"):
            value = item.get(name)
            if value is None or str(value).strip() == "":
                errors.append({"message": '"%field" can not be empty.',
                               "parameters": {"field": name}})  # fmt: skip
            elif re.search(r"\s", str(value)) and name == "source_code":
                errors.append({"message": '"%field" can not contain whitespaces.',
                               "parameters": {"field": name}})  # fmt: skip
        quantity = item.get("quantity")
        if isinstance(quantity, str):
            try:
                quantity = float(quantity)
            except ValueError:
                raise MagentoError(
                    f'Error occurred during "quantity" processing. The "{quantity}" value\'s type'
                    ' is invalid. The "float" type was expected. Verify and try again.'
                ) from None
        if quantity is None or isinstance(quantity, bool) or not isinstance(quantity, int | float):
            errors.append({"message": '"%field" should be numeric.',
                           "parameters": {"field": "quantity"}})  # fmt: skip
        status = item.get("status")
        if status is None:
            errors.append({"message": '"%field" should be numeric.',
                           "parameters": {"field": "status"}})  # fmt: skip
        elif str(status) not in ("0", "1"):
            errors.append({"message": '"%field" should a known status.',
                           "parameters": {"field": "status"}})  # fmt: skip
        clean.append({"sku": item.get("sku"), "source_code": item.get("source_code"),
                      "quantity": quantity, "status": status})  # fmt: skip
    if errors:
        raise MagentoError("Validation Failed", errors=errors)
    sources = _sources(store)
    for item in clean:
        if item["source_code"] not in sources:
            raise MagentoError("Could not save Source Item")
    return clean


@route("POST", "/V1/inventory/source-items", "Magento_InventoryApi::source_item",
       topic="async.magento.inventoryapi.api.sourceitemssaveinterface.execute.post")  # fmt: skip
def source_items_save(ctx: Ctx) -> list[Any]:
    items = _validate_source_items(ctx.store, ctx.body)
    if ctx.fault == "deadlock":
        raise MagentoError(DEADLOCK)
    ctx.store.upsert_source_items(items)
    return []


@route("POST", "/V1/inventory/source-items-delete", "Magento_InventoryApi::source_item",
       topic="async.magento.inventoryapi.api.sourceitemsdeleteinterface.execute.post")  # fmt: skip
def source_items_delete(ctx: Ctx) -> list[Any]:
    items = _require(ctx.body, "sourceItems")
    if not isinstance(items, list) or not items:
        raise MagentoError("Input data is empty")
    ctx.store.delete_source_items(
        [{"sku": i.get("sku"), "source_code": i.get("source_code")} for i in items]
    )
    return []


@route("GET", "/V1/inventory/sources", "Magento_InventoryApi::source")
def sources_list(ctx: Ctx) -> dict[str, Any]:
    criteria = parse_search_criteria(ctx.args)
    return _search_result(ctx, list(_sources(ctx.store).values()), criteria)


@route("POST", "/V1/inventory/sources", "Magento_InventoryApi::source_edit")
def sources_create(ctx: Ctx) -> list[Any]:
    source = _require(ctx.body, "source")
    errors = [
        {"message": '"%field" can not be empty.', "parameters": {"field": name}}
        for name in ("source_code", "name", "postcode", "country_id")
        if not isinstance(source, dict) or not str(source.get(name) or "").strip()
    ]
    if errors:
        raise MagentoError("Validation Failed", errors=errors)
    sources = _sources(ctx.store)
    sources[str(source["source_code"])] = {"carrier_links": [], **source}
    ctx.store.meta_set("msi_sources", json.dumps(sources))
    return []  # void service methods answer [] over REST


@route("GET", "/V1/inventory/sources/{sourceCode}", "Magento_InventoryApi::source")
def sources_get(ctx: Ctx, sourceCode: str) -> dict[str, Any]:  # noqa: N803
    sources = _sources(ctx.store)
    if sourceCode not in sources:
        raise not_found('Source with code "%value" does not exist.', {"value": sourceCode})
    return sources[sourceCode]


def _salable(ctx: Ctx, sku: str, stockId: str) -> float:  # noqa: N803
    if str(stockId) != "1":
        raise not_found('Stock with id "%value" does not exist.', {"value": str(stockId)})
    if ctx.store.get_doc("products", sku) is None:
        raise not_found(NOT_FOUND_PRODUCT)
    quantity = ctx.store.source_quantity(sku)
    if quantity is None:
        raise MagentoError("The requested sku is not assigned to given stock.")
    return quantity + ctx.store.reserved(sku)


@route("GET", "/V1/inventory/get-product-salable-quantity/{sku}/{stockId}",
       "Magento_InventoryApi::stock")  # fmt: skip
def salable_quantity(ctx: Ctx, sku: str, stockId: Any) -> float:  # noqa: N803
    return _salable(ctx, str(sku), stockId)


@route("GET", "/V1/inventory/is-product-salable/{sku}/{stockId}", "Magento_InventoryApi::stock")
def is_salable(ctx: Ctx, sku: str, stockId: Any) -> bool:  # noqa: N803
    try:
        return _salable(ctx, str(sku), stockId) > 0
    except MagentoError:
        return False


# --- bulk status -------------------------------------------------------------------------------

BULK_RESOURCE = "Magento_Logging::system_magento_logging_bulk_operations"


@route("GET", "/V1/bulk/{bulkUuid}/status", BULK_RESOURCE)
def bulk_status(ctx: Ctx, bulkUuid: str) -> dict[str, Any]:  # noqa: N803
    return bulk.status(ctx.store, bulkUuid, detailed=False)


@route("GET", "/V1/bulk/{bulkUuid}/detailed-status", BULK_RESOURCE)
def bulk_detailed_status(ctx: Ctx, bulkUuid: str) -> dict[str, Any]:  # noqa: N803
    return bulk.status(ctx.store, bulkUuid, detailed=True)


@route("GET", "/V1/bulk/{bulkUuid}/operation-status/{status}", BULK_RESOURCE)
def bulk_operation_count(ctx: Ctx, bulkUuid: str, status: str) -> int:  # noqa: N803
    return bulk.count_with_status(ctx.store, bulkUuid, int(status))


# --- the WSGI app ------------------------------------------------------------------------------


def _json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None):
    # PHP's json_encode escapes non-ASCII as \uXXXX; clients must decode, as for Magento.
    return Response(
        json.dumps(body, ensure_ascii=True, separators=(",", ":")),
        status=status,
        headers=headers or {},
        mimetype="application/json",
    )


def _error_response(exc: MagentoError) -> Response:
    return _json_response(exc.body(), exc.status, exc.headers)


def _signed_uri() -> str:
    """The URL as the client sent it, for the OAuth base string: werkzeug's request.url
    decodes brackets, which oauthlib refuses; quote them back without touching %XX escapes."""
    query = request.environ.get("QUERY_STRING", "")
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    query = quote(query, safe="=&%+~,*@!()/?:;'")
    return request.base_url + (f"?{query}" if query else "")


def _dispatch(state: SandboxState, rest: str) -> Response:
    split = split_rest_path(rest)
    if split is None:
        raise MagentoError(NO_ROUTE, status=404)
    store_code, mode, path = split
    method = request.method
    if store_code not in STORE_CODES:
        raise MagentoError(NO_ROUTE, status=404)
    if store_code == "all" and method == "GET":
        raise MagentoError("Cannot perform GET operation with store code 'all'")
    if mode != "sync" and method == "GET":
        raise MagentoError(NO_ROUTE, status=404)
    match = _match(method, path)
    if match is None:
        raise MagentoError(NO_ROUTE, status=404)
    found, params = match
    raw = request.get_data(cache=True)
    body: Any = None
    if raw.strip():
        try:
            body = json.loads(raw)
        except ValueError:
            raise MagentoError("Decoding error: \nSyntax error") from None
    principal: Principal | None = None
    if not found.public:
        principal = authenticate(
            state.store,
            state.credentials,
            uri=_signed_uri(),
            method=method,
            body=raw,
            headers=dict(request.headers),
        )
        if principal is None:
            raise unauthorized(found.resource)
    fault = request.environ.get("magento_sandbox.fault")
    if (
        mode == "sync"
        and state.settings.async_mode == "next-request"
        and bulk.has_open(state.store)
    ):
        state.consume()
    if mode != "sync":
        if found.public or params:
            raise MagentoError(NO_ROUTE, status=404)
        if mode == "bulk":
            if not isinstance(body, list) or not body:
                raise MagentoError("Input data is empty")
            elements = body
        else:
            elements = [body]
        assert principal is not None
        topic = found.topic or (
            "async.V1." + path.strip("/").replace("/", ".").lower() + "." + method.lower()
        )
        accepted = bulk.enqueue(
            state.store,
            topic=topic,
            method=method,
            path=path,
            elements=elements,
            user_type=principal.user_type,
            user_id=principal.user_id,
            created=timestamp(state.now()),
            injected=[fault] * len(elements),
        )
        return _json_response(accepted, 202)
    assert principal is not None or found.public
    ctx = Ctx(
        state,
        method,
        path,
        list(request.args.items(multi=True)),
        body,
        principal or Principal(0, 0),
        fault,
    )
    result = found.handler(ctx, **params)
    fields = request.args.get("fields")
    if fields and method == "GET":
        result = filter_fields(result, parse_fields(fields))
    return _json_response(result)


class FaultMiddleware:
    """Applies the configured faults before the request reaches the web API."""

    def __init__(self, app: Callable[..., Any], state: SandboxState):
        self.app = app
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable:
        faults = self.state.faults
        path_info = environ.get("PATH_INFO", "")
        split = (
            split_rest_path(path_info.removeprefix("/rest/"))
            if path_info.startswith("/rest/")
            else None
        )
        if not faults.active or split is None or not faults.applies_to(split[2]):
            return self.app(environ, start_response)
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        source_write = environ.get("REQUEST_METHOD") == "POST" and split[2] == (
            "/V1/inventory/source-items"
        )
        outcome = faults.draw(source_items_write=source_write)
        if outcome == "ok":
            return self.app(environ, start_response)
        if outcome == "deadlock":
            environ["magento_sandbox.fault"] = "deadlock"
            return self.app(environ, start_response)
        if outcome == "hang":
            if not self.state.real_server:
                raise SimulatedHang(f"sandbox hang of {faults.hang_s}s")
            time.sleep(faults.hang_s)
            return self.app(environ, start_response)
        if outcome == "drop":
            if not self.state.real_server:
                raise SimulatedDrop("sandbox dropped the connection")
            return self._drop(start_response)
        if outcome == "429":
            if faults.retry_after == "http-date":
                retry_after = formatdate(time.time() + faults.retry_after_s, usegmt=True)
            else:
                retry_after = str(faults.retry_after_s)
            exc = MagentoError("Too Many Requests", status=429,
                               headers={"Retry-After": retry_after, FAULT_HEADER: "429"},
                               extra={"trace": None})  # fmt: skip
        elif outcome == "503":
            exc = MagentoError("Service Unavailable", status=503,
                               headers={"Retry-After": str(faults.retry_after_s),
                                        FAULT_HEADER: "503"})  # fmt: skip
        else:
            exc = internal_error()
            exc.headers[FAULT_HEADER] = "500"
        return _error_response(exc)(environ, start_response)

    @staticmethod
    def _drop(start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", "4096"),
                       (FAULT_HEADER, "drop")]
        )  # fmt: skip
        yield b'{"items":['
        # Raising after the headers went out makes waitress close the socket mid-body.
        raise SimulatedDrop("sandbox dropped the connection")


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
            return _dispatch(state, rest)
        except MagentoError as exc:
            return _error_response(exc)
        except Exception:
            logger.exception("magento sandbox: unexpected error on %s %s", request.method, rest)
            return _error_response(internal_error())

    @app.errorhandler(404)
    def no_route(_exc: Exception) -> Response:
        return _error_response(MagentoError(NO_ROUTE, status=404))

    @app.errorhandler(405)
    def wrong_method(_exc: Exception) -> Response:
        return _error_response(MagentoError(NO_ROUTE, status=404))

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
