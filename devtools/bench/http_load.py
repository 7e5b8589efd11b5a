"""End-to-end figures through gunicorn: requests per second, and items kept out of N concurrent adds.

gunicorn serves devtools/bench/wsgi.py with four sync workers on a free loopback
port; a threaded HTTP client (one new connection per request, as sync workers close
them) drives it. The client shares the machine's cores with the workers.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from devtools.redis_servers import free_port

COOKIE = "sessionid"


@dataclass
class Browser:
    """One client's cookie jar (just the session cookie) against one server."""

    port: int
    cookie: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    cookie_changed_at: float = 0.0

    def request(self, method: str, path: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "127.0.0.1", "User-Agent": "bench_sessions"}
        with self.lock:
            cookie = self.cookie
        if cookie:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        try:
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            # One header per cookie: joined into one line, "expires=Wed, ..." would split them wrongly.
            for header in response.msg.get_all("Set-Cookie") or []:
                self._remember(header)
            return response.status, body
        finally:
            connection.close()

    def _remember(self, header: str | None) -> None:
        # The browser keeps whichever Set-Cookie arrived last, as a real one would.
        if not header:
            return
        parsed = SimpleCookie()
        parsed.load(header)
        if COOKIE in parsed:
            with self.lock:
                self.cookie = parsed[COOKIE].value or None
                self.cookie_changed_at = time.monotonic()


@contextmanager
def gunicorn(environment: dict[str, str], directory: Path, workers: int = 4) -> Iterator[int]:
    """Serve the bench app with ``environment``; yield the port; stop it afterwards."""
    port = free_port()
    log = open(directory / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 - closed when the server stops
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "devtools.bench.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    # The working directory holds no gunicorn.conf.py: the bench runs without telemetry export.
    process = subprocess.Popen(command, cwd=directory, env=environment, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_until_serving(port, process, directory / f"gunicorn-{port}.log")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def wait_until_serving(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start; see {log}:\n{log.read_text()[-2000:]}")
        try:
            status, _ = Browser(port).request("GET", "/bench/untouched")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not serve /bench/untouched within {timeout} s; see {log}.")


def throughput(port: int, method: str, path: str, seconds: float, threads: int = 8) -> dict[str, Any]:
    """Requests per second for ``threads`` browsers, each with its own session, for ``seconds``."""
    counts = [0] * threads
    failures = [0] * threads
    browsers = [Browser(port) for _ in range(threads)]
    for browser in browsers:
        browser.request("POST", "/bench/write")  # every browser starts with a session
    deadline = time.monotonic() + seconds

    def run(index: int) -> None:
        browser = browsers[index]
        while time.monotonic() < deadline:
            status, _ = browser.request(method, path)
            if status == 200:
                counts[index] += 1
            else:
                failures[index] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    return {"requests_per_s": round(sum(counts) / elapsed, 1), "failed": sum(failures), "seconds": round(elapsed, 2)}


def concurrent_adds(port: int, adds: int, threads: int = 32) -> dict[str, Any]:
    """One browser session, ``adds`` concurrent "add 1" requests; how many items did the cart keep?"""
    browser = Browser(port)
    browser.request("POST", "/bench/write")
    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = list(pool.map(lambda _: browser.request("POST", "/bench/add")[0], range(adds)))
    status, body = browser.request("GET", "/bench/cart")
    items = json.loads(body)["items"] if status == 200 else {}
    return {
        "adds": adds,
        "succeeded": sum(1 for status in statuses if status == 200),
        "failed": sum(1 for status in statuses if status != 200),
        "kept": sum(items.values()),
    }


def concurrent_adds_on_two_devices(port: int, adds: int, threads: int = 32) -> dict[str, Any]:
    """One user signed in on two browsers, ``adds`` concurrent "add 1" split between them: how many
    does either device's cart show? An engine whose cart is the session's shows only its own half."""
    devices = [Browser(port), Browser(port)]
    sku = f"TWO-DEVICES-{port}"
    for device in devices:
        device.request("POST", "/bench/login")
    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = list(
            pool.map(lambda index: devices[index % 2].request("POST", f"/bench/add?sku={sku}")[0], range(adds))
        )
    seen = []
    for device in devices:
        status, body = device.request("GET", "/bench/cart")
        seen.append(json.loads(body)["items"].get(sku, 0) if status == 200 else 0)
    return {
        "adds": adds,
        "succeeded": sum(1 for status in statuses if status == 200),
        "failed": sum(1 for status in statuses if status != 200),
        "kept": min(seen),
    }
