"""The Tryton ERP adapter: the one place that talks to Tryton, over its REST API.

`/<db>/rest/model/<model>` with a user application key (`Authorization: Bearer`). Domains,
orders and context travel base64url-encoded JSON; Decimal and dates use Tryton's JSON
`__class__` encoding both ways. A Tryton UserError answers 400 with its message: that is an
ERP rejection, shown to people as the ERP wrote it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings

from integration.connectors.backoff import (
    AuthError,
    CircuitBreaker,
    ConnectorError,
    NotFoundError,
    PermanentError,
    RetryPolicy,
    TransientError,
    breakers,
    call_with_retries,
    parse_retry_after,
)
from integration.connectors.erp import (
    ErpAdapter,
    ErpInvoice,
    ErpItemInfo,
    ErpRejected,
    ErpSale,
    ErpShipment,
    SaleRequest,
)

SYSTEM = "erp"
CHUNK = 200


class TrytonRejected(PermanentError, ErpRejected):
    """Tryton refused the call with a user error (400)."""


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode_hook(obj: dict) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return datetime(
            obj["year"],
            obj["month"],
            obj["day"],
            obj["hour"],
            obj["minute"],
            obj["second"],
            obj.get("microsecond", 0),
        )
    return obj


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(_encode(value)).encode()).decode()


def _dec(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


class TrytonAdapter(ErpAdapter):
    """ErpAdapter over Tryton REST: pooled, timed out, retried, breaker-guarded."""

    def __init__(
        self,
        *,
        base_url: str,
        database: str,
        api_key: str,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        warehouse_code: str = "WH",
    ) -> None:
        self.base = f"{base_url.rstrip('/')}/{database}/rest"
        self.policy = policy or RetryPolicy()
        self.breaker = breaker if breaker is not None else breakers.get(SYSTEM)
        self.sleep = sleep
        self.warehouse_code = warehouse_code
        self.calls = 0
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout or httpx.Timeout(30.0, connect=5.0),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
        )

    @classmethod
    def from_settings(cls, *, transport: httpx.BaseTransport | None = None) -> TrytonAdapter:
        if not (settings.ERP_BASE_URL and settings.ERP_DATABASE and settings.ERP_API_KEY):
            raise ConnectorError(
                "ERP_BASE_URL, ERP_DATABASE and ERP_API_KEY must all be set", system=SYSTEM
            )
        return cls(
            base_url=settings.ERP_BASE_URL,
            database=settings.ERP_DATABASE,
            api_key=settings.ERP_API_KEY,
            transport=transport,
            timeout=httpx.Timeout(settings.ERP_READ_TIMEOUT, connect=settings.ERP_CONNECT_TIMEOUT),
            policy=RetryPolicy(
                max_attempts=settings.ERP_MAX_ATTEMPTS, max_total=settings.ERP_RETRY_BUDGET
            ),
            warehouse_code=settings.ERP_WAREHOUSE,
        )

    def close(self) -> None:
        """Close the pooled connections; httpx makes a second close a no-op."""
        self._http.close()

    # -- plumbing --

    def _error(self, response: httpx.Response) -> ConnectorError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            message = str(body.get("message") or "")
            if body.get("description"):
                message = f"{message} {body['description']}".strip()
        else:
            message = (response.text or response.reason_phrase or "")[:500]
        status = response.status_code
        if status == 429 or status >= 500:
            return TransientError(
                message or f"HTTP {status}",
                system=SYSTEM,
                status=status,
                body=body,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            return AuthError(message or "ERP refused the API key", system=SYSTEM, status=status)
        if status == 404:
            return NotFoundError(message or "not found", system=SYSTEM, status=status)
        if status == 400 and "locked" in message.lower():
            # SQLite's "database is locked" under concurrent writers: retry like a deadlock.
            return TransientError(message, system=SYSTEM, status=status, body=body)
        return TrytonRejected(message or f"HTTP {status}", system=SYSTEM, status=status, body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: Any = None,
        context: dict | None = None,
    ) -> Any:
        url = f"{self.base}/{path.lstrip('/')}"
        headers = {}
        if method != "GET" or context:
            # REST calls carry no user preferences: say which company writes are for, or
            # Tryton's defaults (company, currency) and record rules see none.
            context = {**self._company_context(), **(context or {})}
        if context:
            headers["X-Tryton-Context"] = _b64(context)
        content = json.dumps(_encode(body)) if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"

        def attempt() -> Any:
            self.calls += 1
            try:
                response = self._http.request(
                    method, url, params=params, content=content, headers=headers
                )
            except httpx.TimeoutException as exc:
                raise TransientError(f"timed out: {exc!r}", system=SYSTEM) from exc
            except httpx.TransportError as exc:
                raise TransientError(f"connection failed: {exc!r}", system=SYSTEM) from exc
            if response.status_code >= 400:
                raise self._error(response)
            if not response.content:
                return None
            try:
                return json.loads(response.content, object_hook=_decode_hook)
            except ValueError as exc:
                raise TransientError("undecodable ERP response", system=SYSTEM) from exc

        return call_with_retries(
            attempt, policy=self.policy, breaker=self.breaker, sleep=self.sleep
        )

    def _company_context(self) -> dict:
        if "company" not in self._cache:
            rows = self.request(
                "GET",
                "model/company.company",
                params=[("d", _b64([])), ("s", "2"), ("f", "id")],
            )
            if not rows:
                raise TrytonRejected("the ERP has no company", system=SYSTEM)
            self._cache["company"] = rows[0]["id"]
        company = self._cache["company"]
        return {"company": company, "companies": [company]}

    def search(
        self,
        model: str,
        domain: list,
        fields: Sequence[str],
        *,
        order: list | None = None,
        context: dict | None = None,
        page: int = 1000,
    ) -> list[dict]:
        """Every matching record (paged by offset, stable order by id)."""
        out: list[dict] = []
        offset = 0
        while True:
            params = [
                ("d", _b64(domain)),
                ("s", str(page)),
                ("p", str(offset)),
                ("o", _b64(order or [["id", "ASC"]])),
            ]
            params += [("f", f) for f in fields]
            rows = self.request("GET", f"model/{model}", params=params, context=context) or []
            out.extend(rows)
            if len(rows) < page:
                return out
            offset += page

    def _id_of(self, model: str, domain: list, what: str) -> int:
        key = f"{model}:{json.dumps(domain)}"
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        rows = self.search(model, domain, ["id"], page=2)
        if not rows:
            raise TrytonRejected(f"the ERP has no {what}", system=SYSTEM)
        with self._lock:
            self._cache[key] = rows[0]["id"]
        return rows[0]["id"]

    def _warehouse_id(self) -> int:
        return self._id_of(
            "stock.location",
            [["code", "=", self.warehouse_code], ["type", "=", "warehouse"]],
            f"warehouse {self.warehouse_code}",
        )

    # -- items and stock --

    def _products(self, codes: Iterable[str], fields: Sequence[str]) -> list[dict]:
        codes = sorted(set(codes))
        rows: list[dict] = []
        for start in range(0, len(codes), CHUNK):
            rows += self.search(
                "product.product",
                [["code", "in", codes[start : start + CHUNK]]],
                fields,
                context={"active_test": False},
            )
        return rows

    def items_by_codes(self, codes: Iterable[str]) -> dict[str, ErpItemInfo]:
        rows = self._products(codes, ["code", "name", "active", "type"])
        return {
            r["code"]: ErpItemInfo(
                code=r["code"],
                erp_id=str(r["id"]),
                name=r.get("name") or "",
                active=bool(r.get("active")),
                goods=r.get("type") == "goods",
            )
            for r in rows
            if r.get("code")
        }

    def items_active_codes(self) -> set[str]:
        rows = self.search("product.product", [["salable", "=", True]], ["code"])
        return {r["code"] for r in rows if r.get("code")}

    def availability(self, codes: Sequence[str] | None = None) -> dict[str, Decimal]:
        """Forecast quantity at the warehouse up to today: on hand minus what is promised."""
        context = {
            "locations": [self._warehouse_id()],
            "with_childs": True,
            "stock_date_end": date.today(),
        }
        domain: list = [["type", "=", "goods"]]
        if codes is not None:
            out: dict[str, Decimal] = {}
            codes = sorted(set(codes))
            for start in range(0, len(codes), CHUNK):
                rows = self.search(
                    "product.product",
                    [*domain, ["code", "in", codes[start : start + CHUNK]]],
                    ["code", "forecast_quantity"],
                    context=context,
                )
                out.update({r["code"]: _dec(r["forecast_quantity"]) for r in rows})
            return out
        rows = self.search(
            "product.product", domain, ["code", "forecast_quantity"], context=context
        )
        return {r["code"]: _dec(r["forecast_quantity"]) for r in rows if r.get("code")}

    # -- sales --

    SALE_FIELDS = ("reference", "state", "number", "untaxed_amount", "tax_amount", "total_amount")

    def _sale(self, row: dict) -> ErpSale:
        return ErpSale(
            erp_id=str(row["id"]),
            reference=row.get("reference") or "",
            state=row.get("state") or "",
            number=row.get("number") or "",
            untaxed_amount=_dec(row.get("untaxed_amount")),
            tax_amount=_dec(row.get("tax_amount")),
            total_amount=_dec(row.get("total_amount")),
        )

    def sale_find(self, reference: str) -> ErpSale | None:
        rows = self.search("sale.sale", [["reference", "=", reference]], self.SALE_FIELDS)
        live = [r for r in rows if r.get("state") != "cancelled"] or rows
        return self._sale(live[0]) if live else None

    def sales_by_references(self, references: Sequence[str]) -> dict[str, ErpSale]:
        out: dict[str, ErpSale] = {}
        refs = sorted(set(references))
        for start in range(0, len(refs), CHUNK):
            for row in self.search(
                "sale.sale", [["reference", "in", refs[start : start + CHUNK]]], self.SALE_FIELDS
            ):
                if row.get("state") != "cancelled" or row["reference"] not in out:
                    out[row["reference"]] = self._sale(row)
        return out

    def _party_id(self, request: SaleRequest) -> int:
        if request.customer_email:
            rows = self.search(
                "party.contact_mechanism",
                [["type", "=", "email"], ["value", "=", request.customer_email]],
                ["party"],
                page=2,
            )
            if rows:
                party = rows[0]["party"]
                return party["id"] if isinstance(party, dict) else int(party)
        mechanisms = []
        if request.customer_email:
            mechanisms.append({"type": "email", "value": request.customer_email})
        if request.telephone:
            mechanisms.append({"type": "phone", "value": request.telephone})
        created = self.request(
            "POST",
            "model/party.party",
            body={
                "name": request.customer_name or request.customer_email or request.reference,
                "contact_mechanisms": [["create", mechanisms]],
            },
        )
        return created["id"]

    def _address_id(self, party: int, request: SaleRequest) -> int:
        country = self._id_of(
            "country.country",
            [["code", "=", request.country or "GB"]],
            f"country {request.country}",
        )
        created = self.request(
            "POST",
            "model/party.address",
            body={
                "party": party,
                "party_name": request.customer_name,
                "street": "\n".join(request.street),
                "postal_code": request.postcode,
                "city": request.city,
                "country": country,
            },
        )
        return created["id"]

    def _product_terms(self, codes: Iterable[str]) -> dict[str, dict]:
        """Unit and customer taxes per product: what Tryton's on_change_product would set."""
        rows = self._products(
            codes,
            [
                "code",
                "template.sale_uom",
                "template.default_uom",
                "template.account_category.customer_taxes_used",
            ],
        )
        for row in rows:
            template = row.get("template") or {}
            category = template.get("account_category") or {}
            row["sale_uom"] = template.get("sale_uom")
            row["default_uom"] = template.get("default_uom")
            row["customer_taxes_used"] = category.get("customer_taxes_used") or []
        return {r["code"]: r for r in rows}

    def _carrier(self, code: str) -> tuple[int, dict] | None:
        if not code:
            return None
        rows = self.search(
            "carrier",
            [["carrier_product.code", "=", code]],
            ["carrier_product", "carrier_product.code"],
            page=2,
        )
        if not rows:
            rows = self.search(
                "carrier",
                [["rec_name", "ilike", f"%{code}%"]],
                ["carrier_product", "carrier_product.code"],
                page=2,
            )
        if not rows:
            raise TrytonRejected(f"the ERP has no carrier service {code!r}", system=SYSTEM)
        product = rows[0]["carrier_product"]
        product_code = product.get("code") if isinstance(product, dict) else None
        return rows[0]["id"], {"code": product_code}

    @staticmethod
    def _id(value: Any) -> int | None:
        if isinstance(value, dict):
            return value.get("id")
        return value

    def sale_create(self, request: SaleRequest) -> ErpSale:
        carrier = self._carrier(request.carrier)
        codes = {line.item_code for line in request.lines}
        if carrier and carrier[1].get("code"):
            codes.add(carrier[1]["code"])
        terms = self._product_terms(codes)
        lines = []
        for line in request.lines:
            term = terms.get(line.item_code)
            if term is None:
                raise TrytonRejected(f"the ERP has no item {line.item_code}", system=SYSTEM)
            lines.append(
                {
                    "type": "line",
                    "product": term["id"],
                    "quantity": float(line.quantity),
                    "unit": self._id(term.get("sale_uom")) or self._id(term.get("default_uom")),
                    "unit_price": line.unit_price,
                    "description": line.description,
                    "taxes": [
                        ["add", [self._id(t) for t in term.get("customer_taxes_used") or []]]
                    ],
                }
            )
        if carrier and request.shipping_amount:
            term = terms.get(carrier[1].get("code") or "")
            if term is not None:
                lines.append(
                    {
                        "type": "line",
                        "product": term["id"],
                        "quantity": 1.0,
                        "unit": self._id(term.get("sale_uom")) or self._id(term.get("default_uom")),
                        "unit_price": request.shipping_amount.quantize(Decimal("0.0001")),
                        "description": "Shipping (as charged in Magento)",
                        "taxes": [
                            ["add", [self._id(t) for t in term.get("customer_taxes_used") or []]]
                        ],
                    }
                )
        party = self._party_id(request)
        address = self._address_id(party, request)
        body: dict[str, Any] = {
            "party": party,
            "invoice_address": address,
            "shipment_address": address,
            "reference": request.reference,
            "description": request.comment[:250],
            "sale_date": request.sale_date,
            "lines": [["create", lines]],
        }
        # Magento's shipping charge is already a line: no second charge computed by the
        # carrier (and an order with nothing to ship has no carrier at all).
        body["shipment_cost_method"] = None
        if carrier:
            body["carrier"] = carrier[0]
        created = self.request("POST", "model/sale.sale", body=body)
        sale = ErpSale(erp_id=str(created["id"]), reference=request.reference, state="draft")
        return self.sale_confirm(sale)

    def sale_confirm(self, sale: ErpSale) -> ErpSale:
        state = sale.state
        if state == "draft":
            self.request("POST", f"model/sale.sale/{sale.erp_id}/quote", body={})
            state = "quotation"
        if state == "quotation":
            self.request("POST", f"model/sale.sale/{sale.erp_id}/confirm", body={})
        row = self.request(
            "GET", f"model/sale.sale/{sale.erp_id}", params=[("f", f) for f in self.SALE_FIELDS]
        )
        return self._sale(row)

    # -- shipments, invoices, payments --

    SHIPMENT_FIELDS = (
        "number",
        "state",
        "effective_date",
        "shipping_reference",
        "carrier.carrier_product.name",
        "write_date",
        "outgoing_moves.product.code",
        "outgoing_moves.quantity",
    )

    def _shipments(self, rows: list[dict]) -> list[ErpShipment]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        reference_of: dict[int, str] = {}
        for start in range(0, len(ids), CHUNK):
            for sale in self.search(
                "sale.sale",
                [["shipments", "in", ids[start : start + CHUNK]]],
                ["reference", "shipments"],
            ):
                for shipment in sale.get("shipments") or []:
                    reference_of[self._id(shipment)] = sale.get("reference") or ""
        out = []
        for r in rows:
            carrier = r.get("carrier") or {}
            product = carrier.get("carrier_product") if isinstance(carrier, dict) else None
            lines = tuple(
                ((m.get("product") or {}).get("code") or "", _dec(m.get("quantity")))
                for m in r.get("outgoing_moves") or []
                if isinstance(m, dict)
            )
            write = r.get("write_date")
            out.append(
                ErpShipment(
                    erp_id=str(r["id"]),
                    sale_reference=reference_of.get(r["id"], ""),
                    state=r.get("state") or "",
                    effective_date=r.get("effective_date"),
                    tracking_number=r.get("shipping_reference") or "",
                    courier=(product or {}).get("name") or "",
                    updated_at=write if isinstance(write, datetime) else None,
                    lines=lines,
                )
            )
        return out

    def shipments_done_since(self, since: datetime | None) -> list[ErpShipment]:
        domain: list = [["state", "=", "done"]]
        if since is not None:
            domain.append(["effective_date", ">=", since.date()])
        return self._shipments(self.search("stock.shipment.out", domain, self.SHIPMENT_FIELDS))

    def shipments_for_references(self, references: Sequence[str]) -> list[ErpShipment]:
        refs = sorted(set(references))
        ids: list[int] = []
        for start in range(0, len(refs), CHUNK):
            for sale in self.search(
                "sale.sale", [["reference", "in", refs[start : start + CHUNK]]], ["shipments"]
            ):
                ids += [self._id(s) for s in sale.get("shipments") or []]
        rows: list[dict] = []
        for start in range(0, len(ids), CHUNK):
            rows += self.search(
                "stock.shipment.out",
                [["id", "in", ids[start : start + CHUNK]]],
                self.SHIPMENT_FIELDS,
            )
        return self._shipments(rows)

    def invoices_for_references(self, references: Sequence[str]) -> list[ErpInvoice]:
        refs = sorted(set(references))
        out: list[ErpInvoice] = []
        for start in range(0, len(refs), CHUNK):
            sales = self.search(
                "sale.sale",
                [["reference", "in", refs[start : start + CHUNK]]],
                ["reference", "invoices"],
            )
            ref_of = {
                self._id(i): s.get("reference") or ""
                for s in sales
                for i in s.get("invoices") or []
            }
            if not ref_of:
                continue
            rows = self.search(
                "account.invoice",
                [["id", "in", list(ref_of)], ["state", "in", ["posted", "paid"]]],
                [
                    "number",
                    "state",
                    "invoice_date",
                    "currency.code",
                    "untaxed_amount",
                    "tax_amount",
                    "total_amount",
                    "amount_to_pay",
                ],
            )
            for r in rows:
                currency = r.get("currency") or {}
                out.append(
                    ErpInvoice(
                        erp_id=str(r["id"]),
                        sale_reference=ref_of.get(r["id"], ""),
                        number=r.get("number") or "",
                        state=r.get("state") or "",
                        invoice_date=r.get("invoice_date"),
                        currency=currency.get("code", "") if isinstance(currency, dict) else "",
                        untaxed_amount=_dec(r.get("untaxed_amount")),
                        tax_amount=_dec(r.get("tax_amount")),
                        total_amount=_dec(r.get("total_amount")),
                        amount_to_pay=_dec(r.get("amount_to_pay")),
                    )
                )
        return out

    def payment_record(
        self, *, invoice: ErpInvoice, amount: Decimal, paid_on: date, reference: str
    ) -> str:
        """A statement line on the Magento payments journal, one statement per payment.

        The statement's name is the reference, so a second call finds the first statement.
        """
        found = self.search("account.statement", [["name", "=", reference]], ["state"], page=2)
        if found:
            return str(found[0]["id"])
        journal = self._id_of(
            "account.statement.journal",
            [["name", "=", "Magento payments"]],
            "statement journal 'Magento payments'",
        )
        row = self.request(
            "GET",
            f"model/account.invoice/{invoice.erp_id}",
            params=[("f", "party"), ("f", "account")],
        )
        statement = self.request(
            "POST",
            "model/account.statement",
            body={
                "name": reference,
                "journal": journal,
                "date": paid_on,
                "start_balance": Decimal(0),
                "end_balance": amount,
                "lines": [
                    [
                        "create",
                        [
                            {
                                "number": reference,
                                "date": paid_on,
                                "amount": amount,
                                "party": self._id(row.get("party")),
                                "account": self._id(row.get("account")),
                                "related_to": f"account.invoice,{invoice.erp_id}",
                                "description": f"Magento payment {reference}",
                            }
                        ],
                    ]
                ],
            },
        )
        self.request(
            "POST", f"model/account.statement/{statement['id']}/validate_statement", body={}
        )
        return str(statement["id"])
