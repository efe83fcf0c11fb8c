"""Fault injection for the Magento sandbox: the failures a connector meets in production.

Switch faults per test (`create_app(db, faults=Faults(error_rate=1.0))`, or mutate
`app.extensions["magento_sandbox"].faults`) or by environment for a running server:

    MAGENTO_SANDBOX_FAULTS="latency_ms=100,error_rate=0.2,status=503,rate_limit=0.1,
                            retry_after=http-date,hang_rate=0.05,drop_rate=0.05,
                            deadlock_rate=0.1,seed=7,paths=/V1/inventory"

| key | meaning |
| --- | --- |
| latency_ms | added to every matching request |
| error_rate, status | share of requests answered 500 (masked, Magento style) or 503 |
| rate_limit | share answered 429 `Too Many Requests` |
| retry_after, retry_after_s | Retry-After as `seconds` (default) or `http-date`; 2 s |
| hang_rate, hang_s | share that hang: the server sleeps hang_s (default 30) first; in |
|  | process the test transport raises httpx.ReadTimeout at once |
| drop_rate | share whose connection drops mid-response (httpx.RemoteProtocolError) |
| deadlock_rate | share of source-item saves failing with Magento's deadlock 400 |
|  | (async: the operation ends in status 2, retriably failed) |
| seed | the random sequence; the same seed gives the same faults for the same requests |
| paths | one path prefix (after /rest/<store>), e.g. /V1/orders; |
|  | default: every route but the token ones |

`script` (per test, not env) forces the next outcomes in order, e.g.
`faults.script = ["429", "503", "ok"]`; values: ok, 500, 503, 429, hang, drop, deadlock.

The token endpoint is never faulted unless `paths` names it, so a client can always sign in.
"""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass, field

OUTCOMES = ("ok", "500", "503", "429", "hang", "drop", "deadlock")


@dataclass
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    status: int = 500
    rate_limit: float = 0.0
    retry_after: str = "seconds"
    retry_after_s: int = 2
    hang_rate: float = 0.0
    hang_s: float = 30.0
    drop_rate: float = 0.0
    deadlock_rate: float = 0.0
    seed: int = 0
    paths: str = ""
    script: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - fault simulation, not security
        self._lock = threading.Lock()
        if self.status not in (500, 503):
            raise ValueError("faults status must be 500 or 503")
        if self.retry_after not in ("seconds", "http-date"):
            raise ValueError("faults retry_after must be 'seconds' or 'http-date'")
        for outcome in self.script:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown scripted fault {outcome!r}; use one of {OUTCOMES}")

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """`key=value,key=value` (the MAGENTO_SANDBOX_FAULTS format)."""
        kwargs: dict[str, object] = {}
        types = {
            "latency_ms": int, "error_rate": float, "status": int, "rate_limit": float,
            "retry_after": str, "retry_after_s": int, "hang_rate": float, "hang_s": float,
            "drop_rate": float, "deadlock_rate": float, "seed": int, "paths": str,
        }  # fmt: skip
        for part in spec.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or key not in types:
                raise ValueError(
                    f"bad MAGENTO_SANDBOX_FAULTS entry {part!r}; keys: {sorted(types)}"
                )
            try:
                kwargs[key] = types[key](value.strip())
            except ValueError:
                raise ValueError(f"bad value for {key}: {value!r}") from None
        return cls(**kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> Faults:
        return cls.parse(os.environ.get("MAGENTO_SANDBOX_FAULTS", ""))

    def reset(self, **changes: object) -> None:
        """Switch every fault off (then apply `changes`) and restart the random sequence."""
        fresh = Faults(**changes)  # type: ignore[arg-type]
        for name in fresh.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))
        self._random = random.Random(self.seed)  # noqa: S311

    def applies_to(self, path: str) -> bool:
        if self.paths:
            return path.startswith(self.paths)
        return not path.startswith("/V1/integration/")

    def draw(self, *, source_items_write: bool) -> str:
        """The outcome for one request: ok or one of the faults."""
        with self._lock:
            if self.script:
                # a scripted deadlock waits for the next source-items write
                if self.script[0] == "deadlock" and not source_items_write:
                    return "ok"
                return self.script.pop(0)
            roll = self._random.random()
        threshold = 0.0
        for outcome, rate in (
            ("hang", self.hang_rate),
            ("drop", self.drop_rate),
            ("429", self.rate_limit),
            (str(self.status), self.error_rate),
            ("deadlock", self.deadlock_rate if source_items_write else 0.0),
        ):
            threshold += rate
            if roll < threshold:
                return outcome
        return "ok"

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms or self.error_rate or self.rate_limit or self.hang_rate
            or self.drop_rate or self.deadlock_rate or self.script
        )  # fmt: skip


class SimulatedHang(Exception):
    """Raised in process instead of sleeping; the test transport turns it into ReadTimeout."""


class SimulatedDrop(ConnectionResetError):
    """The connection went away mid-response; the test transport raises RemoteProtocolError."""
