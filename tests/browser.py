"""A real browser for the tests: Debian's headless Chromium, cut off from every network but
loopback, driven over the Chrome DevTools Protocol (its websocket, with `websockets`).

``make test`` installs ``chromium`` when it is missing; without it the tests that need it
fail saying so (they are never skipped).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

# Nothing but 127.0.0.1 resolves, and anything that would still leave goes to a proxy on a
# port where nothing listens (the discard port): a page that needs a CDN cannot get it.
OFFLINE = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
)


def chromium_binary() -> str:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail(
            "chromium not found: this test runs GraphiQL in a real headless browser; "
            "`make test` (or `make chromium`) installs Debian's chromium package",
            pytrace=False,
        )
    return binary


class DevToolsPage:
    """One page of the browser: commands, and the events they caused."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 10) -> Any:
        sent = next(self._ids)
        self.socket.send(json.dumps({"id": sent, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0)))
            if message.get("id") == sent:
                assert "error" not in message, (method, message["error"])
                return message["result"]
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited when a promise)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15) -> Any:
        """Poll until ``expression`` is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"not true after {timeout}s: {expression}")

    def requested_urls(self) -> list[str]:
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event["method"] == "Network.requestWillBeSent"
        ]


@contextmanager
def offline_chromium(workdir: Path) -> Iterator[DevToolsPage]:
    """A headless Chromium without network beyond loopback, and its blank first page."""
    profile = workdir / "profile"
    log_path = workdir / "chromium.log"
    command = [
        chromium_binary(),
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        *OFFLINE,
        "about:blank",
    ]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with it
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        port = _devtools_port(profile, process, log_path)
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
        page = next(t for t in targets if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            yield DevToolsPage(socket)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], log_path: Path) -> int:
    # Chromium writes the port it chose for --remote-debugging-port=0 into this file.
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited:\n{log_path.read_text(errors='replace')}")
        if active.exists() and active.read_text().strip():
            return int(active.read_text().split()[0])
        time.sleep(0.05)
    raise RuntimeError(f"chromium did not start:\n{log_path.read_text(errors='replace')}")
