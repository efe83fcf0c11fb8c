"""A loopback reverse proxy in front of trytond that misbehaves on purpose.

The desk's ERP client talks HTTP; put this between it and trytond to see what it does with
latency, 500/503, 429 with Retry-After (seconds or an HTTP date), a request that hangs past
the client's timeout, and a connection dropped without an answer.

Faults are rules `kind[=arg][@probability]`, comma-separated, for example
`latency=0.3@0.5,503@0.1,429=2@0.05,drop@0.02`:

    latency=S   wait S seconds, then forward
    500, 503    answer that status
    429=S       429 with `Retry-After: S`
    429date=S   429 with Retry-After as an HTTP date S seconds ahead
    hang=S      hold the request S seconds (default 60), then close without answering
    drop        close the connection without answering (TCP reset)

Probabilities draw from a random.Random(seed), so a run is reproducible. Tests queue exact
faults for the next requests with `inject()`. From the environment (ERP_SANDBOX_FAULTS,
ERP_SANDBOX_FAULTS_SEED):

    python -m sandbox.erp.faultproxy --port 8083 --upstream http://127.0.0.1:8082
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

KINDS = {"latency", "500", "503", "429", "429date", "hang", "drop"}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-encoding",
    "host",
}


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: float | None = None
    probability: float = 1.0


def parse_faults(spec: str) -> list[Fault]:
    """`latency=0.2@0.5,503@0.1` -> [Fault('latency', 0.2, 0.5), Fault('503', None, 0.1)]."""
    faults = []
    for raw in filter(None, (part.strip() for part in spec.split(","))):
        body, _, probability = raw.partition("@")
        kind, _, arg = body.partition("=")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise ValueError(
                f"unknown fault {kind!r} in {spec!r}; known: {', '.join(sorted(KINDS))}"
            )
        try:
            value = float(arg) if arg else None
            chance = float(probability) if probability else 1.0
        except ValueError as exc:
            raise ValueError(f"bad number in fault {raw!r}") from exc
        if not 0.0 <= chance <= 1.0:
            raise ValueError(f"probability must be within 0..1 in fault {raw!r}")
        faults.append(Fault(kind, value, chance))
    return faults


class FaultProxy:
    """Forward 127.0.0.1:<port> to `upstream`, applying queued and random faults."""

    def __init__(self, upstream: str, *, port: int = 0, faults: str = "", seed: int = 0):
        self.upstream = upstream.rstrip("/")
        self.rules = parse_faults(faults)
        self._random = random.Random(seed)  # noqa: S311 - reproducible, not secret
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.seen: list[str] = []  # "<fault or ok> <METHOD> <path>", for assertions and demos
        self._client = httpx.Client(timeout=httpx.Timeout(120.0, connect=5.0))
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @classmethod
    def from_env(cls, upstream: str, *, port: int = 0) -> FaultProxy:
        """Faults and seed from ERP_SANDBOX_FAULTS and ERP_SANDBOX_FAULTS_SEED."""
        return cls(
            upstream,
            port=port,
            faults=os.environ.get("ERP_SANDBOX_FAULTS", ""),
            seed=int(os.environ.get("ERP_SANDBOX_FAULTS_SEED") or 0),
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(self, spec: str, times: int = 1) -> None:
        """Apply these faults (in order) to the next `times` requests, before any rule."""
        faults = parse_faults(spec)
        with self._lock:
            for _ in range(times):
                self._queue.extend(faults)

    def set_rules(self, spec: str, seed: int | None = None) -> None:
        with self._lock:
            self.rules = parse_faults(spec)
            if seed is not None:
                self._random = random.Random(seed)  # noqa: S311

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.rules = []

    def _next_faults(self) -> list[Fault]:
        with self._lock:
            if self._queue:
                first = self._queue.popleft()
                chosen = [first]
                # latency combines with whatever comes next in the queue
                if first.kind == "latency" and self._queue:
                    chosen.append(self._queue.popleft())
                return chosen
            return [rule for rule in self.rules if self._random.random() < rule.probability]

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's name
                return

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                faults = proxy._next_faults()
                label = "+".join(f.kind for f in faults) or "ok"
                proxy.seen.append(f"{label} {self.command} {self.path}")
                for fault in faults:
                    if fault.kind == "latency":
                        time.sleep(fault.arg or 0.5)
                    elif fault.kind in {"500", "503"}:
                        return self._answer(int(fault.kind), {}, b'{"error": "injected fault"}')
                    elif fault.kind == "429":
                        retry = str(int(fault.arg if fault.arg is not None else 1))
                        return self._answer(429, {"Retry-After": retry}, b"Too Many Requests")
                    elif fault.kind == "429date":
                        when = formatdate(time.time() + (fault.arg or 1), usegmt=True)
                        return self._answer(429, {"Retry-After": when}, b"Too Many Requests")
                    elif fault.kind == "hang":
                        time.sleep(fault.arg if fault.arg is not None else 60)
                        return self._drop()
                    elif fault.kind == "drop":
                        return self._drop()
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                try:
                    upstream = proxy._client.request(
                        self.command, proxy.upstream + self.path, headers=headers, content=body
                    )
                except httpx.HTTPError as exc:
                    return self._answer(502, {}, f"upstream error: {exc}".encode())
                passed = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
                self._answer(upstream.status_code, passed, upstream.content)

            def _answer(self, status: int, headers: dict, body: bytes):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drop(self):
                # RST instead of FIN: the client sees a reset, as with a crashed upstream.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fault-injecting proxy in front of trytond.")
    parser.add_argument("--port", type=int, default=8083)
    parser.add_argument("--upstream", default="http://127.0.0.1:8082")
    parser.add_argument("--faults", default=os.environ.get("ERP_SANDBOX_FAULTS", ""))
    parser.add_argument(
        "--seed", type=int, default=int(os.environ.get("ERP_SANDBOX_FAULTS_SEED", "0"))
    )
    args = parser.parse_args(argv)
    proxy = FaultProxy(args.upstream, port=args.port, faults=args.faults, seed=args.seed)
    print(f"fault proxy {proxy.base_url} -> {args.upstream} faults={args.faults or 'none'}")
    proxy._server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
