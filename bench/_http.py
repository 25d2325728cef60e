"""SSOps served by gunicorn for the HTTP benchmarks, and clients on keep-alive connections."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _setup import ROOT

WORKERS = 2
# gunicorn's sync workers close every connection after one response; gthread workers keep
# connections alive. One thread each, so that a worker serves one request at a time as a sync
# worker does (and a request's timings do not include waits for another thread's GIL).
THREADS = 1


def start_gunicorn(
    env: dict[str, str], log: Path, port: int, config: Path | None = None
) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:port with WORKERS gthread workers (and a configuration file);
    returns once /healthz answers."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "ssops_site.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        str(THREADS),
        "--keep-alive",
        "30",
        "--backlog",
        "256",
        "--log-level",
        "warning",
        *(["--config", str(config)] if config else []),
    ]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    deadline = time.monotonic() + 60
    client = Client(port)
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            if client.call("GET", "/healthz")[0] == 200:
                client.close()
                return server
        except OSError:
            client.close()
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not start; see {log}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class Client:
    """One keep-alive connection; reconnects (and counts it) when the server closed it."""

    def __init__(self, port: int, headers: dict[str, str] | None = None):
        self.port = port
        self.headers = headers or {}
        self.connection: http.client.HTTPConnection | None = None
        self.connects = 0

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.connects += 1
            try:
                self.connection.request(method, path, body=body, headers=self.headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def phase(
    clients: list[Client],
    make_request: Callable[[int, int], tuple[str, str, bytes | None]],
    seconds: float,
    limit: int,
    expected: int,
) -> dict:
    """Every client calls in its own thread until `seconds` pass or `limit` calls are made in
    all; rps counts answers with the expected status; latencies are in ms."""
    lock = threading.Lock()
    counts = {"done": 0, "errors": 0, "issued": 0}
    latencies: list[float] = []
    unexpected: dict[int, int] = {}
    start = threading.Barrier(len(clients) + 1)
    stop_at = [0.0]

    def run(number: int, client: Client) -> None:
        start.wait()
        sequence = 0
        while time.monotonic() < stop_at[0]:
            with lock:
                if counts["issued"] >= limit:
                    return
                counts["issued"] += 1
            sequence += 1
            method, path, body = make_request(number, sequence)
            began = time.perf_counter()
            status, _ = client.call(method, path, body)
            took = (time.perf_counter() - began) * 1000
            with lock:
                if status == expected:
                    counts["done"] += 1
                    latencies.append(took)
                else:
                    counts["errors"] += 1
                    unexpected[status] = unexpected.get(status, 0) + 1

    threads = [threading.Thread(target=run, args=(n, client)) for n, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + seconds
    started = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        **counts,
        "seconds": elapsed,
        "latencies": latencies,
        "unexpected": unexpected,
    }
