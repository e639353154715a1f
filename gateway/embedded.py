"""The embedded database: an nx-27017 wire-protocol server over SQLite.

Started when no ``ONESTOP_MONGODB_URL`` is set, on a free loopback port, with
its files under the data dir; the gateway talks to it through the real PyMongo
driver exactly as it would to MongoDB. nx-27017 is the ``embedded`` extra
(``pip install 'onestop[embedded]'``, which ``make run`` and ``make test`` do): the
production image does not carry it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from gateway.config import ConfigError

__all__ = [
    "EmbeddedMongo",
    "EmbeddedMongoError",
    "EmbeddedMongoMissing",
    "free_port",
    "require_embedded",
]


class EmbeddedMongoError(RuntimeError):
    """The embedded server could not start."""


class EmbeddedMongoMissing(ConfigError):
    """No ``ONESTOP_MONGODB_URL``, and nx-27017 (the ``embedded`` extra) is not installed."""


def require_embedded() -> None:
    """Raise EmbeddedMongoMissing, saying what to do, unless nx-27017 can be imported."""
    if importlib.util.find_spec("nx_27017") is None:
        raise EmbeddedMongoMissing(
            "ONESTOP_MONGODB_URL is not set, and the embedded database it would start "
            "(nx-27017, for development and tests) is not installed: set ONESTOP_MONGODB_URL "
            "(or ONESTOP_MONGODB_URL_FILE) to your MongoDB, or install the extra: "
            "pip install 'onestop[embedded]'"
        )


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the database if the gateway dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedMongo:
    """Run nx-27017 as a child process.

    Example:
        with EmbeddedMongo(Path("var")) as server:
            client = MongoClient(server.url)
    """

    def __init__(self, data_dir: Path, *, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.root = data_dir.resolve() / "mongo"
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    @property
    def pid_file(self) -> Path:
        return self.root / "nx-27017.pid"

    def start(self, timeout: float = 20.0) -> EmbeddedMongo:
        require_embedded()
        self.root.mkdir(parents=True, exist_ok=True)
        self._refuse_if_in_use()
        log_path = self.root / "nx-27017.log"
        with log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "nx_27017.nx_27017",
                    "--data-dir",
                    str(self.root / "data"),
                    "--host",
                    self.host,
                    "--port",
                    str(self.port),
                    "--pid-file",
                    str(self.pid_file),
                    "--log-file",
                    str(log_path),
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Own process group: a Ctrl-C aimed at the gateway must not kill the
                # database before the gateway has closed its connections.
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self._wait_until_ready(timeout, log_path)
        return self

    def _refuse_if_in_use(self) -> None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, 0)
        except OSError:
            self.pid_file.unlink(missing_ok=True)  # stale: its owner died without cleaning up
            return
        raise EmbeddedMongoError(
            f"the embedded database in {self.root} is already used by process {pid}; "
            "stop that gateway or use another ONESTOP_DATA_DIR"
        )

    def _wait_until_ready(self, timeout: float, log_path: Path) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise EmbeddedMongoError(f"nx-27017 exited at start:\n{tail}")
            client: MongoClient[dict[str, object]] = MongoClient(
                self.url, serverSelectionTimeoutMS=300
            )
            try:
                client.admin.command("ping")
                return
            except PyMongoError:
                time.sleep(0.1)
            finally:
                client.close()
        self.stop()
        raise EmbeddedMongoError(f"nx-27017 did not answer on {self.url} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(OSError):
            self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedMongo:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
