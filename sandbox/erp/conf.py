"""Where the Tryton sandbox keeps its files and how it is configured (environment only)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The Tryton modules the item master, sales, shipments, invoices and payments need; their
# dependencies (company, currency, party, product, account, ...) are activated with them.
MODULES = (
    "sale",
    "sale_shipment_cost",
    "stock",
    "stock_package_shipping",
    "account_invoice",
    "account_invoice_stock",
    "account_statement",
    "carrier",
)
ROUNDINGS = ("document", "line")
DEFAULT_DATABASE = "luma_uk"
DEFAULT_PORT = 8082


@dataclass(frozen=True)
class ErpSandbox:
    """One Tryton sandbox: its database, files and HTTP port."""

    var_dir: Path
    database: str = DEFAULT_DATABASE
    # "" means SQLite under var/tryton/db; otherwise a postgresql:// server URL (no database).
    database_url: str = ""
    rounding: str = "document"
    port: int = DEFAULT_PORT
    # Templates live here (default var/cache); tests share the developer's cache.
    cache_path: Path | None = None

    def __post_init__(self):
        if self.rounding not in ROUNDINGS:
            raise ValueError(
                f"tax rounding must be one of {', '.join(ROUNDINGS)}; got {self.rounding!r}"
            )
        if self.database_url and urlsplit(self.database_url).scheme not in {
            "postgresql",
            "postgres",
        }:
            raise ValueError(
                f"ERP database URL must be postgresql://...; got {self.database_url!r} "
                "(leave it empty for SQLite)"
            )
        if not self.database.isidentifier():
            raise ValueError(f"ERP database name must be an identifier; got {self.database!r}")

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    @property
    def tryton_dir(self) -> Path:
        return self.var_dir / "tryton"

    @property
    def sqlite_dir(self) -> Path:
        return self.tryton_dir / "db"

    @property
    def sqlite_file(self) -> Path:
        return self.sqlite_dir / f"{self.database}.sqlite"

    @property
    def cache_dir(self) -> Path:
        return self.cache_path or self.var_dir / "cache"

    @property
    def state_file(self) -> Path:
        """What the bootstrap produced (cache key, API keys) for the live database."""
        return self.tryton_dir / f"{self.database}.json"

    @property
    def config_file(self) -> Path:
        return self.tryton_dir / f"trytond-{self.database}-{self.port}.conf"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def with_port(self, port: int) -> ErpSandbox:
        return replace(self, port=port)

    def with_rounding(self, rounding: str) -> ErpSandbox:
        return replace(self, rounding=rounding)

    def trytond_uri(self) -> str:
        if not self.database_url:
            return "sqlite://"
        parts = urlsplit(self.database_url)
        # trytond takes the server URI without a database; the database is named per request.
        return f"postgresql://{parts.netloc}/"

    def write_config(self) -> Path:
        """Write the trytond configuration file for this sandbox and return its path."""
        self.tryton_dir.mkdir(parents=True, exist_ok=True)
        self.sqlite_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "[database]",
            f"uri = {self.trytond_uri()}",
            f"path = {self.sqlite_dir}",
            "",
            "[web]",
            f"listen = 127.0.0.1:{self.port}",
            "",
            "[session]",
            # The desk authenticates with an application key; no interactive logins expected.
            "max_attempt = 5",
            "",
        ]
        self.config_file.write_text("\n".join(lines), encoding="utf-8")
        return self.config_file


def sandbox_from_env(
    *,
    var_dir: Path | None = None,
    rounding: str | None = None,
    database_url: str | None = None,
    port: int | None = None,
) -> ErpSandbox:
    """The sandbox as configured by the environment, with explicit arguments taking precedence.

    ERP_TAX_ROUNDING (document|line), ERP_DATABASE_URL (postgresql://user:pw@host:port, empty for
    SQLite), ERP_SANDBOX_DATABASE (database name), DESK_VAR_DIR (default ./var),
    ERP_SANDBOX_CACHE_DIR (templates; default <var>/cache).
    """
    var = var_dir or Path(os.environ.get("DESK_VAR_DIR") or BASE_DIR / "var")
    return ErpSandbox(
        var_dir=Path(var).resolve(),
        database=os.environ.get("ERP_SANDBOX_DATABASE") or DEFAULT_DATABASE,
        database_url=(
            database_url if database_url is not None else os.environ.get("ERP_DATABASE_URL", "")
        ),
        rounding=rounding or os.environ.get("ERP_TAX_ROUNDING") or "document",
        port=port or DEFAULT_PORT,
        cache_path=Path(cache) if (cache := os.environ.get("ERP_SANDBOX_CACHE_DIR")) else None,
    )
