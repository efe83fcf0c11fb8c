"""Retries, full-jitter backoff, Retry-After and a circuit breaker shared by every connector.

Transport-free on purpose: each system's client turns a response or a network failure into
a `ConnectorError` that says whether a retry may help (through the one mapping in
`errors.py`); this module decides when, and whether, to try again.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

T = TypeVar("T")

logger = logging.getLogger(__name__)


class ConnectorError(Exception):
    """A failed call to an external system, rendered for a person and classified for retry."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        body: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.body = body

    def __str__(self) -> str:
        prefix = f"{self.system} HTTP {self.status}: " if self.status else f"{self.system}: "
        return prefix + self.message


class TransientError(ConnectorError):
    """A failure that may go away by itself: network, timeout, 5xx, 429, deadlock."""

    def __init__(self, message: str, **kwargs) -> None:
        kwargs.setdefault("retryable", True)
        super().__init__(message, **kwargs)


class PermanentError(ConnectorError):
    """The system understood the request and refused it; retrying the same call won't help."""


class AuthError(PermanentError):
    """Credentials refused (401/403)."""


class NotFoundError(PermanentError):
    """The entity or route does not exist (404)."""


class RetriesExhausted(TransientError):
    """Every attempt failed transiently; a later run may still succeed."""


class CircuitOpenError(TransientError):
    """The breaker for a system is open: calls are refused without touching the network."""


def full_jitter_delay(attempt: int, *, base: float, cap: float, rng: Callable[[], float]) -> float:
    """AWS "full jitter": uniform in [0, min(cap, base·2^attempt)] (attempt counts from 0)."""
    return rng() * min(cap, base * (2**attempt))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts and total time are both capped."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total: float = 120.0


# Somebody is waiting on the answer (a CX refresh, a probe): one quick retry at most, not the
# flows' two-minute budget.
INTERACTIVE_POLICY = RetryPolicy(max_attempts=2, base_delay=0.2, max_delay=1.0, max_total=5.0)
INTERACTIVE_TIMEOUT_SECONDS = 5.0


class CircuitBreaker:
    """Closed → open after `threshold` consecutive transient failures; half-open after `reset`.

    While open, calls fail fast with `CircuitOpenError`, so an outage costs one clear error per
    run instead of thousands of slow timeouts. One probe call is let through when half-open.
    """

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(
        self,
        system: str,
        *,
        threshold: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.system = system
        self.threshold = threshold
        self.reset_after = reset_after
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return self.CLOSED
        if self.clock() - self.opened_at >= self.reset_after:
            return self.HALF_OPEN
        return self.OPEN

    def before_call(self) -> None:
        with self._lock:
            if self.state == self.OPEN:
                wait = self.reset_after - (self.clock() - (self.opened_at or 0.0))
                raise CircuitOpenError(
                    f"circuit open after {self.failures} consecutive failures; "
                    f"calls refused for another {wait:.0f}s",
                    system=self.system,
                    retry_after=max(0.0, wait),
                )

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.state == self.HALF_OPEN or self.failures >= self.threshold:
                self.opened_at = self.clock()

    def reset(self) -> None:
        self.record_success()


@dataclass
class BreakerRegistry:
    """One breaker per system name, shared by every client of that system in the process."""

    threshold: int = 5
    reset_after: float = 30.0
    _breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, system: str) -> CircuitBreaker:
        with self._lock:
            if system not in self._breakers:
                self._breakers[system] = CircuitBreaker(
                    system, threshold=self.threshold, reset_after=self.reset_after
                )
            return self._breakers[system]

    def reset_all(self) -> None:
        with self._lock:
            self._breakers.clear()


breakers = BreakerRegistry()


def call_with_retries(
    operation: Callable[[], T],
    *,
    policy: RetryPolicy,
    breaker: CircuitBreaker | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
) -> T:
    """Run `operation`, retrying `TransientError`s with full-jitter backoff.

    Retry-After is a floor under the jittered delay. Stops at `max_attempts` or when the next
    wait would overrun `max_total`, raising `RetriesExhausted` chained to the last failure.
    A `PermanentError` is raised at once and counts as the system being up for the breaker.
    """
    started = clock()
    attempt = 0
    while True:
        if breaker is not None:
            breaker.before_call()
        try:
            result = operation()
        except PermanentError:
            if breaker is not None:
                breaker.record_success()
            raise
        except TransientError as exc:
            if breaker is not None:
                breaker.record_failure()
            attempt += 1
            delay = full_jitter_delay(
                attempt - 1, base=policy.base_delay, cap=policy.max_delay, rng=rng
            )
            if exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            elapsed = clock() - started
            if attempt >= policy.max_attempts or elapsed + delay > policy.max_total:
                raise RetriesExhausted(
                    f"gave up after {attempt} attempt(s) in {elapsed:.1f}s: {exc.message}",
                    system=exc.system,
                    status=exc.status,
                    body=exc.body,
                ) from exc
            logger.warning(
                "%s call failed (%s); attempt %d, retrying in %.1fs",
                exc.system or "external",
                exc.message,
                attempt,
                delay,
            )
            sleep(delay)
            continue
        if breaker is not None:
            breaker.record_success()
        return result
