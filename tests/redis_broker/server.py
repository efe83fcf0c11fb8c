"""A throw-away redis-server on loopback for tests, and the desk run as separate processes.

    from tests.redis_broker.server import running_redis, scratch_database, DeskProcesses

`running_redis()` starts Debian's redis-server on a free 127.0.0.1 port with no persistence
(no RDB snapshots, no AOF) in a temporary folder and stops it on exit. A missing binary is an
error that says how to install it (`make test` does, through scripts/ensure_redis.sh): the
Redis broker is a supported configuration, so its tests must not quietly skip.

`DeskProcesses` runs `manage.py` commands and `qcluster` with the production settings
(config.settings) and the given REDIS_URL / DATABASE_URL, exactly as an operator would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

BASE_DIR = Path(__file__).resolve().parents[2]
MISSING_BINARY = (
    "redis-server not found on PATH. The Redis broker is supported and tested: run `make test` "
    "(scripts/ensure_redis.sh installs Debian's redis-server as root) or install it yourself: "
    "sudo apt-get install redis-server"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunningRedis:
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=self.port, db=0, socket_timeout=5, socket_connect_timeout=5
        )


@contextlib.contextmanager
def running_redis(start_timeout: float = 15) -> Iterator[RunningRedis]:
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail(MISSING_BINARY, pytrace=False)
    with tempfile.TemporaryDirectory(prefix="desk-redis-") as tmp:
        port = free_port()
        log_path = Path(tmp) / "redis.log"
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "yes"]
        # No persistence: nothing outlives the test run, and nothing is written but the log.
        argv += ["--save", "", "--appendonly", "no", "--dir", tmp, "--logfile", str(log_path)]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server = RunningRedis(port=port, log_path=log_path)
        try:
            _wait_for_ping(server, process, start_timeout)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            if process.stderr:
                process.stderr.close()


def _wait_for_ping(server: RunningRedis, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    client = server.client()
    while True:
        if process.poll() is not None:
            log = server.log_path.read_text() if server.log_path.exists() else ""
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"redis-server exited with {process.returncode}:\n{stderr}{log}")
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"redis-server did not answer PING on port {server.port} in {timeout}s")
        time.sleep(0.1)


@contextlib.contextmanager
def scratch_database(tmp_dir: Path) -> Iterator[str]:
    """A fresh, empty database URL for the desk's processes, dropped afterwards.

    On the PostgreSQL suite (DATABASE_URL points at scripts/with_postgres.py's server) it is
    a new database on that server, so the scale-out pairing PostgreSQL + Redis is what runs;
    otherwise a SQLite file. Never pytest-django's test database: the processes run outside
    the test's transaction and must see each other's commits.
    """
    current = os.environ.get("DATABASE_URL", "")
    if not current.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_dir / 'desk-redis.sqlite3'}"
        return
    name = f"desk_redis_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(current, autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(current)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(current, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fetch_all(database_url: str, sql: str) -> list[tuple]:
    """Read the desk's database as the processes left it (SQLite file or PostgreSQL)."""
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            return db.execute(sql).fetchall()
    with psycopg.connect(database_url, connect_timeout=10) as db:
        return db.execute(sql).fetchall()


@dataclass
class DeskProcesses:
    """The desk as an operator runs it: `manage.py ...` with config.settings and env vars."""

    redis_url: str
    database_url: str
    secret_key: str
    log_dir: Path
    clusters: list[subprocess.Popen] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            # Whatever the test run has set must not leak into the desk under test.
            if key not in {"DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "Q_CLUSTER_NAME"}
            and not key.startswith(("REDIS_", "DATABASE_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DJANGO_SECRET_KEY=self.secret_key,
            DESK_VAR_DIR=str(self.log_dir),
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def manage(self, *args: str, timeout: float = 120, **extra_env: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(**extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def python(self, code: str, **extra_env: str) -> str:
        """Run code in a `manage.py shell` of the desk; return what it printed."""
        return self.manage("shell", "--no-imports", "-c", code, **extra_env)

    def start_cluster(self, cluster_name: str | None = None) -> subprocess.Popen:
        extra = {"Q_CLUSTER_NAME": cluster_name} if cluster_name else {}
        log = open(self.log_dir / f"qcluster-{cluster_name or 'default'}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=self.env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: its workers go with it on a hard stop
        )
        log.close()
        self.clusters.append(process)
        return process

    def stop_clusters(self) -> None:
        for process in self.clusters:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # graceful: django-q2 drains and joins
        for process in self.clusters:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.clusters.clear()

    def cluster_logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.log_dir.glob("qcluster-*.log"))
        )
