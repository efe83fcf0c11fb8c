"""Two (or more) workers racing: threads released together, each on its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection, connections

T = TypeVar("T")


def skip_without_row_locks() -> None:
    """Skip on SQLite: its shared in-memory test database serialises writers with one lock,
    so threads can never race there; the PostgreSQL pass of `make test` runs the race."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "needs PostgreSQL: SQLite's shared in-memory test database has no row locks across "
            "threads, so the workers cannot race (the PostgreSQL pass runs this test)"
        )


def race(worker: Callable[[], T], *, workers: int = 2, timeout: float = 60) -> list[T]:
    """Run `worker` in `workers` threads that start at the same instant; their results.

    Any error a worker raised is raised here, in the test's thread; a worker that does not
    finish within `timeout` seconds fails the test rather than hanging it.
    """
    barrier = threading.Barrier(workers)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(worker())
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if any(thread.is_alive() for thread in threads):
        raise AssertionError(f"a racing worker did not finish within {timeout} s")
    if errors:
        raise errors[0]
    return results
