"""The internal metrics port: one listener in ``onestop serve`` that adds up every worker.

Each worker process writes its series to memory-mapped files in one directory
(prometheus-client's multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR``), and the listener
reads them all at each scrape, so one scrape shows the sum of every worker — not, as
with a listener per worker behind one port, whichever worker the connection reached.

Why one listener in the serving command rather than each worker trying the port and
one winning: the winner would serve only while it lives (a restarted worker leaves the
port to chance), and it would spend its event loop's time on scrapes. The listener is
a thread of the command's process — uvicorn's supervisor with several workers, the
serving process itself with one — and costs nothing between scrapes.

The directory is prepared (:func:`prepare_directory`) before anything imports
prometheus-client, which picks its storage once, at import; that is why this module
imports prometheus-client inside :class:`MetricsServer` and not at the top. Workers
inherit the variable (uvicorn spawns them with the command's environment).

Process metrics: each worker's CPU time and resident memory are read from ``/proc`` at
scrape time for every live worker that writes series (ppid-checked), and summed.
"""

from __future__ import annotations

import atexit
import hmac
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["MULTIPROCESS_DIR", "MetricsServer", "WorkerProcesses", "prepare_directory"]

log = logging.getLogger("onestop.metrics")

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_PID_FILE = re.compile(r"_(\d+)\.db$")


def prepare_directory() -> Path:
    """The directory workers write their series to, emptied of earlier runs' files.

    ``PROMETHEUS_MULTIPROC_DIR`` when the operator set it (only its ``*.db`` files are
    removed), else a new temporary directory removed at exit. Sets the variable for
    this process and the workers it starts. Call it before prometheus-client is
    imported, and only in the serving command (a worker must never wipe it).
    """
    given = os.environ.get(MULTIPROCESS_DIR)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="onestop-metrics-"))
        atexit.register(shutil.rmtree, directory, True)
    os.environ[MULTIPROCESS_DIR] = str(directory)
    return directory


def _pids(directory: Path) -> set[int]:
    return {int(m.group(1)) for f in directory.glob("*.db") if (m := _PID_FILE.search(f.name))}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WorkerProcesses:
    """``process_cpu_seconds_total`` and ``process_resident_memory_bytes`` of the
    workers, summed (a prometheus-client collector)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.page = os.sysconf("SC_PAGE_SIZE")

    def workers(self) -> list[int]:
        """The live processes writing series here: this one or its children."""
        me = os.getpid()
        return [pid for pid in _pids(self.directory) if pid == me or self._parent(pid) == me]

    def _parent(self, pid: int) -> int | None:
        fields = self._stat(pid)
        return int(fields[1]) if fields else None

    @staticmethod
    def _stat(pid: int) -> list[str] | None:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        return text.rpartition(")")[2].split()  # after the command name, which may hold spaces

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        cpu = memory = 0.0
        for pid in self.workers():
            fields = self._stat(pid)
            if fields is None:
                continue
            cpu += (int(fields[11]) + int(fields[12])) / self.ticks  # utime + stime
            memory += int(fields[21]) * self.page  # rss, in pages
        yield CounterMetricFamily(
            "process_cpu_seconds_total", "CPU time of the workers, summed", value=cpu
        )
        yield GaugeMetricFamily(
            "process_resident_memory_bytes", "Resident memory of the workers, summed", value=memory
        )


class MetricsServer:
    """``GET /metrics`` on ``host:port`` from a thread, for every worker's series.

    With a token, only ``Authorization: Bearer <token>`` may scrape (404 otherwise, the
    answer to any other path): for ports that cannot be kept internal.
    """

    def __init__(self, host: str, port: int, directory: Path, token: str | None = None) -> None:
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        self.directory = directory
        self.registry = CollectorRegistry(auto_describe=True)
        MultiProcessCollector(self.registry, path=str(directory))  # type: ignore[no-untyped-call]
        self.registry.register(WorkerProcesses(directory))
        self.token = token
        self.httpd = ThreadingHTTPServer((host, port), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="metrics-server", daemon=True
        )
        self._thread.start()
        log.info("metrics served", extra={"port": self.port, "path": "/metrics"})

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def scrape(self) -> bytes:
        """Every worker's series, after forgetting the live gauges of dead workers."""
        from prometheus_client import generate_latest
        from prometheus_client.multiprocess import mark_process_dead

        for pid in _pids(self.directory):
            if not _alive(pid):  # a crashed worker never marked itself dead
                mark_process_dead(pid, str(self.directory))  # type: ignore[no-untyped-call]
        return generate_latest(self.registry)

    def allowed(self, authorization: str | None) -> bool:
        if not self.token:
            return True
        expected = f"Bearer {self.token}".encode()
        return hmac.compare_digest((authorization or "").encode(), expected)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                from prometheus_client import CONTENT_TYPE_LATEST

                path = self.path.partition("?")[0]
                if path != "/metrics" or not server.allowed(self.headers.get("Authorization")):
                    self._answer(404, b"Not Found\n", "text/plain; charset=utf-8")
                    return
                try:
                    body = server.scrape()
                except Exception:
                    log.exception("metrics scrape failed")
                    self._answer(500, b"scrape failed\n", "text/plain; charset=utf-8")
                    return
                self._answer(200, body, CONTENT_TYPE_LATEST)

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # scrapes every few seconds would drown the log

        return Handler
