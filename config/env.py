"""Reading configuration from the environment, with typed helpers."""

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def read_env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines of a file such as var/sandbox.env; blank lines and # comments skipped."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ImproperlyConfigured(f"{path}:{number}: expected NAME=value, got {line!r}")
        values[name.strip()] = value.strip()
    return values


def load_env_file(path: Path) -> None:
    """Put the file's variables into the environment, never overriding one already set."""
    for name, value in read_env_file(path).items():
        os.environ.setdefault(name, value)


def update_env_file(path: Path, values: dict[str, str]) -> None:
    """Set some variables in an env file, keeping the other lines (several writers share it)."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    pending = dict(values)
    out = []
    for line in lines:
        name = line.partition("=")[0].strip()
        if name in pending:
            out.append(f"{name}={pending.pop(name)}")
        else:
            out.append(line)
    out.extend(f"{name}={value}" for name, value in pending.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
    tmp.replace(path)


REDIS_URL_SCHEMES = ("redis", "rediss", "unix")


def env_redis_url(name: str, *, timeout_seconds: float) -> str:
    """A Redis URL from the environment ('' when unset), with socket timeouts added.

    redis-py waits forever on a hung server unless told otherwise, so a worker would hang
    instead of failing; `socket_timeout` / `socket_connect_timeout` already in the URL win.
    The timeout must exceed django-q2's 1-second BLPOP or every idle poll would time out.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in REDIS_URL_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be a redis://, rediss:// or unix:// URL "
            f"(e.g. redis://127.0.0.1:6379/0); got scheme {parts.scheme or 'none'!r}"
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise ImproperlyConfigured(f"{name} names no host (e.g. redis://127.0.0.1:6379/0)")
    if timeout_seconds <= 1:
        raise ImproperlyConfigured(
            "REDIS_TIMEOUT (seconds per Redis call) must exceed django-q2's 1 s poll; "
            f"got {timeout_seconds}"
        )
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("socket_timeout", f"{timeout_seconds:g}")
    query.setdefault("socket_connect_timeout", f"{timeout_seconds:g}")
    return urlunsplit(parts._replace(query=urlencode(query)))
