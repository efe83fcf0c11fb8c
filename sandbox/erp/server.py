"""Run the real `trytond` HTTP server for a bootstrapped sandbox database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from base64 import urlsafe_b64encode
from pathlib import Path

from sandbox.erp.conf import ErpSandbox


class ServerError(RuntimeError):
    """trytond did not come up; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def trytond_command(sandbox: ErpSandbox) -> list[str]:
    return [str(Path(sys.executable).parent / "trytond"), "-c", str(sandbox.config_file)]


def trytond_env(sandbox: ErpSandbox) -> dict[str, str]:
    env = {**os.environ, "TRYTOND_DATABASE_URI": sandbox.trytond_uri()}
    env.pop("TRYTOND_CONFIG", None)
    return env


class TrytonServer:
    """A trytond process on 127.0.0.1:<port>, started and stopped by the caller."""

    def __init__(self, sandbox: ErpSandbox, api_key: str):
        self.sandbox = sandbox
        self.api_key = api_key
        self.process: subprocess.Popen | None = None
        self.log_file = sandbox.tryton_dir / f"trytond-{sandbox.port}.log"

    @property
    def base_url(self) -> str:
        return self.sandbox.base_url

    @property
    def database(self) -> str:
        return self.sandbox.database

    def start(self, timeout: float = 60) -> TrytonServer:
        self.sandbox.write_config()
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            trytond_command(self.sandbox),
            env=trytond_env(self.sandbox),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            wait_until_ready(self.sandbox, self.api_key, timeout=timeout, process=self.process)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)

    def __enter__(self) -> TrytonServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def wait_until_ready(
    sandbox: ErpSandbox,
    api_key: str,
    *,
    timeout: float,
    process: subprocess.Popen | None = None,
) -> None:
    """Poll an authenticated REST read until trytond answers it (the pool loads on first use)."""
    domain = urlsafe_b64encode(json.dumps([["code", "=", "WH"]]).encode()).decode()
    url = f"{sandbox.base_url}/{sandbox.database}/rest/model/stock.location?d={domain}&f=name"
    # http:// on loopback only: base_url is built from 127.0.0.1 and a port.
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {api_key}"})  # noqa: S310
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerError(f"trytond exited with {process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last_error = f"HTTP {exc.code}"
            if exc.code in (401, 403):
                raise ServerError(f"trytond refused the API key ({last_error})") from exc
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.2)
    raise ServerError(f"trytond not ready on {sandbox.base_url} after {timeout}s: {last_error}")
