"""Settings for the exception desk. Every value comes from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_redis_url, env_str, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DESK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
if DEBUG:
    # Development only: the connection settings the sandboxes' bootstrap wrote (ERP_*,
    # MAGENTO_*). Production never reads this file; the real environment always wins.
    load_env_file(VAR_DIR / "sandbox.env")

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG off the desk refuses to start "
            "without a secret key: set DJANGO_SECRET_KEY to a long random string "
            '(python -c "import secrets; print(secrets.token_urlsafe(64))"), '
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "dev-only-insecure-key-never-used-when-debug-is-off"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "django_q",
    "import_export",
    "axes",
    "csp",
    "accounts",
    "integration",
    "exceptions_app",
    "reconciliation",
    "cx",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.RoleAccessMiddleware",
    # axes must be last: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# Database: DATABASE_URL, default an embedded SQLite file under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'desk.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the task cluster writes; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue on the busy timeout instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("DESK_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Sessions: expire after inactivity; every request slides the window.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Security headers. With debug off these are production values; `check --deploy` is clean.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: only our own origin; no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Login throttling: 5 failures for the same user from the same address locks for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Background tasks: django-q2 on the ORM broker by default (same database, so enqueueing
# inside a transaction is an outbox). `retry` stays above `timeout` plus queue wait.
Q_CLUSTER = {
    "name": "desk",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2),
    # Prefetch no more than one task per worker: the retry clock runs while a task waits.
    "queue_limit": env_int("Q_WORKERS", 2),
    "bulk": 1,
    "timeout": env_int("Q_TIMEOUT", 300),
    # retry > timeout + queue wait (one timeout with queue_limit == workers), plus a margin.
    "retry": env_int("Q_RETRY", 660),
    "max_attempts": 5,
    "ack_failures": False,
    "catch_up": False,
    "poll": 1,
    "recycle": 200,
    "save_limit": 1000,
}
# Scale-out (docs/sync.md): REDIS_URL moves both clusters' queues to Redis (one list per
# cluster). django-q2 takes the URL as is (redis.from_url); the ORM entry must go, it wins.
# Redis delivers at most once: a killed worker's task is lost, not redelivered; the flows
# converge anyway because their schedules fire again and every task is idempotent.
REDIS_URL = env_redis_url("REDIS_URL", timeout_seconds=env_int("REDIS_TIMEOUT", 10))
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = REDIS_URL
# The stock push runs on its own cluster (and queue) so a catalogue push never delays orders.
Q_STOCK_CLUSTER = env_str("Q_STOCK_CLUSTER", "desk-stock")
Q_CLUSTER["ALT_CLUSTERS"] = {Q_STOCK_CLUSTER: {"workers": 1, "queue_limit": 1}}

# Magento (integration/connectors/magento/client.py). Credentials: MAGENTO_TOKEN (bearer), or
# the OAuth 1.0a integration quartet, or an admin username/password (token refreshed < 4 h).
MAGENTO_BASE_URL = env_str("MAGENTO_BASE_URL")
MAGENTO_STORE_CODE = env_str("MAGENTO_STORE_CODE", "default")
MAGENTO_TOKEN = env_str("MAGENTO_TOKEN")
MAGENTO_CONSUMER_KEY = env_str("MAGENTO_CONSUMER_KEY")
MAGENTO_CONSUMER_SECRET = env_str("MAGENTO_CONSUMER_SECRET")
MAGENTO_ACCESS_TOKEN = env_str("MAGENTO_ACCESS_TOKEN")
MAGENTO_ACCESS_TOKEN_SECRET = env_str("MAGENTO_ACCESS_TOKEN_SECRET")
MAGENTO_ADMIN_USERNAME = env_str("MAGENTO_ADMIN_USERNAME")
MAGENTO_ADMIN_PASSWORD = env_str("MAGENTO_ADMIN_PASSWORD")
MAGENTO_SOURCE_CODE = env_str("MAGENTO_SOURCE_CODE", "default")
MAGENTO_CONNECT_TIMEOUT = float(env_str("MAGENTO_CONNECT_TIMEOUT", "5"))
MAGENTO_READ_TIMEOUT = float(env_str("MAGENTO_READ_TIMEOUT", "30"))
MAGENTO_MAX_ATTEMPTS = env_int("MAGENTO_MAX_ATTEMPTS", 5)
MAGENTO_RETRY_BUDGET = float(env_str("MAGENTO_RETRY_BUDGET", "120"))
MAGENTO_PAGE_SIZE = env_int("MAGENTO_PAGE_SIZE", 100)

# ERP (integration/connectors/tryton/client.py): Tryton REST with a user application key.
ERP_BASE_URL = env_str("ERP_BASE_URL")
ERP_DATABASE = env_str("ERP_DATABASE")
ERP_API_KEY = env_str("ERP_API_KEY")
ERP_CONNECT_TIMEOUT = float(env_str("ERP_CONNECT_TIMEOUT", "5"))
ERP_READ_TIMEOUT = float(env_str("ERP_READ_TIMEOUT", "30"))
ERP_MAX_ATTEMPTS = env_int("ERP_MAX_ATTEMPTS", 5)
ERP_RETRY_BUDGET = float(env_str("ERP_RETRY_BUDGET", "120"))
ERP_WAREHOUSE = env_str("ERP_WAREHOUSE", "WH")

# Sync flows (integration/flows/).
SYNC_ORDERS_OVERLAP_SECONDS = env_int("SYNC_ORDERS_OVERLAP_SECONDS", 300)
SYNC_ORDERS_WINDOW_HOURS = env_int("SYNC_ORDERS_WINDOW_HOURS", 24)
SYNC_ORDERS_START = env_str("SYNC_ORDERS_START", "2000-01-01 00:00:00")
SYNC_STREET_LINE_MAX = env_int("SYNC_STREET_LINE_MAX", 35)
SYNC_STREET_LINES = env_int("SYNC_STREET_LINES", 3)
SYNC_STOCK_BATCH = env_int("SYNC_STOCK_BATCH", 500)
SYNC_STOCK_MAX_ATTEMPTS = env_int("SYNC_STOCK_MAX_ATTEMPTS", 5)
SYNC_STOCK_TOLERANCE = env_int("SYNC_STOCK_TOLERANCE", 0)
SYNC_ORDER_STUCK_MINUTES = env_int("SYNC_ORDER_STUCK_MINUTES", 60)
# How long after dispatch Magento may still not know of a shipment before it is status drift.
SYNC_STATUS_DRIFT_GRACE_MINUTES = env_int("SYNC_STATUS_DRIFT_GRACE_MINUTES", 60)
# How long a worker's claim on an order it is posting lasts; longer than the ERP retry budget
# for the three calls of a post, so a slow but live worker is never overtaken.
SYNC_POST_CLAIM_SECONDS = env_int("SYNC_POST_CLAIM_SECONDS", int(ERP_RETRY_BUDGET) * 3 + 60)
# How long a second worker waits for another's claim on the same order before moving on.
SYNC_POST_CLAIM_WAIT_SECONDS = env_int("SYNC_POST_CLAIM_WAIT_SECONDS", 30)
SYNC_DISPATCH_SLA_HOURS = env_int("SYNC_DISPATCH_SLA_HOURS", 48)
SYNC_VARIANCE_TOLERANCE = env_str("SYNC_VARIANCE_TOLERANCE", "0.00")
# Orders Magento had already shipped or closed when the desk first saw them (history at
# go-live) never go to the warehouse: "books" posts each as an ERP sale for the books only
# (invoiced, no shipment), "none" records them without posting (docs/sync.md).
SYNC_HISTORY_POSTING = env_str("SYNC_HISTORY_POSTING", "books")
if SYNC_HISTORY_POSTING not in ("books", "none"):
    raise ImproperlyConfigured(
        f"SYNC_HISTORY_POSTING must be 'books' or 'none', not {SYNC_HISTORY_POSTING!r}"
    )

# Health and monitoring (integration/health/, docs/operations/monitoring.md). /metrics answers
# only a request bearing METRICS_TOKEN; with none set it does not exist (404).
METRICS_TOKEN = env_str("METRICS_TOKEN")
HEALTH_REFRESH_SECONDS = env_int("HEALTH_REFRESH_SECONDS", 30)
HEALTH_PROBE_TIMEOUT = float(env_str("HEALTH_PROBE_TIMEOUT", "2"))
HEALTH_PROBE_CACHE_SECONDS = env_int("HEALTH_PROBE_CACHE_SECONDS", 15)

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "desk@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)

# Exceptions (exceptions_app): audit retention, notification volume, optional chat webhook.
EXCEPTION_RETENTION_DAYS = env_int("EXCEPTION_RETENTION_DAYS", 548)  # 18 months
EXCEPTION_DIGEST_THRESHOLD = env_int("EXCEPTION_DIGEST_THRESHOLD", 20)
EXCEPTION_WEBHOOK_URL = env_str("EXCEPTION_WEBHOOK_URL")
EXCEPTION_WEBHOOK_TIMEOUT = float(env_str("EXCEPTION_WEBHOOK_TIMEOUT", "5"))
# Where people open the desk, for links in emails.
DESK_BASE_URL = env_str("DESK_BASE_URL", "http://127.0.0.1:8000")
# The page an exception's order number links to (a URL name taking the increment id).
DESK_ORDER_URL_NAME = env_str("DESK_ORDER_URL_NAME", "cx:order_detail")

DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo")

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DESK_LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO; our connectors log what matters themselves.
    "loggers": {"axes": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
