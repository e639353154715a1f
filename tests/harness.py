"""Real servers for the test suite: nx-27017, redis-server and gateway processes.

Integration tests talk HTTP to a gateway started exactly like production
(``python -m gateway.cli serve``), backed by a real wire-protocol MongoDB server
and a real Redis. Setting ``ONESTOP_TEST_MONGODB_URL`` / ``ONESTOP_TEST_REDIS_URL``
runs the same suite against other servers (e.g. real MongoDB).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pymongo.database import Database

from gateway.auth import SigningKeys, TokenService
from gateway.cache import MemoryCache
from gateway.config import Settings
from gateway.embedded import free_port

ROOT = Path(__file__).resolve().parents[1]


UNTHROTTLED = {
    "ONESTOP_RATE_LIMIT_PRINCIPAL_BURST": "1000000",
    "ONESTOP_RATE_LIMIT_PRINCIPAL_PER_MINUTE": "1000000",
    "ONESTOP_RATE_LIMIT_ADDRESS_BURST": "1000000",
    "ONESTOP_RATE_LIMIT_ADDRESS_PER_MINUTE": "1000000",
    # Sign-in limits per address count across every gateway of the suite (one Redis, one
    # address): the tests of those limits set their own (test_login_limits, test_wechat).
    "ONESTOP_LOGIN_CODE_PER_IP": "1000000",
    "ONESTOP_LOGIN_CODE_PER_IP_DAILY": "1000000",
    "ONESTOP_LOGIN_FAILURES_PER_IP": "1000000",
    "ONESTOP_WECHAT_SIGN_IN_PER_IP": "1000000",
}


class RedisServer:
    """A throw-away redis-server on a free loopback port (or ``port``: a restart), no persistence."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server not found: `make test` installs Debian's redis-server, "
                "or set ONESTOP_TEST_REDIS_URL to a reachable Redis"
            )
        self.port = port or free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 10
        import redis

        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


# What GatewayProcess runs after the interpreter: the gateway exactly as in production.
SERVE = ("-m", "gateway.cli", "serve")


class GatewayProcess:
    """``onestop serve`` in a subprocess, reachable at ``self.url``.

    ``command`` replaces ``-m gateway.cli serve`` with another server that takes
    ``--port`` and answers ``GET /healthz`` (the benchmarks' reference servers).
    """

    def __init__(
        self,
        workdir: Path,
        env: Mapping[str, str],
        startup_timeout: float = 90,
        command: Sequence[str] = SERVE,
    ) -> None:
        self.port = free_port()
        # Metrics on an internal port of their own (ONESTOP_METRICS_PORT), one per gateway.
        self.metrics_port = int(env.get("ONESTOP_METRICS_PORT") or free_port())
        self.workdir = workdir
        self.data_dir = workdir / "var"
        self.log_path = workdir / "gateway.log"
        workdir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")},
            "ONESTOP_DATA_DIR": str(self.data_dir),
            "ONESTOP_SEEDS_DIR": str(ROOT / "seeds"),
            "ONESTOP_LOG_LEVEL": "INFO",
            # A month of historical cases costs seconds per seeded database; the tests that
            # read statistics load it (tests/modules/cases/test_statistics.py).
            "ONESTOP_SEED_HISTORY": "false",
            # Every test gateway shares one Redis, and the suite's requests all come from
            # 127.0.0.1: with production limits the suite would throttle itself. The rate
            # limit tests set their own (tests/gateway/test_rate_limit.py).
            **UNTHROTTLED,
            "ONESTOP_METRICS_PORT": str(self.metrics_port),
            **env,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *command, "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=self.url, timeout=30)
        self._wait(startup_timeout)

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited at start:\n{self.log()[-4000:]}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gateway did not start in {timeout}s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def graphql(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        operation_name: str | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = dict(variables)
        if operation_name:
            body["operationName"] = operation_name
        return self.client.post("/graphql", json=body, headers=sent)

    def data(self, query: str, variables: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        """POST and return ``data``, failing loudly on any error."""
        response = self.graphql(query, variables, **kw)
        payload = response.json()
        assert response.status_code == 200, payload
        assert not payload.get("errors"), payload["errors"]
        return payload["data"]

    def errors(
        self, query: str, variables: Mapping[str, Any] | None = None, **kw: Any
    ) -> list[Any]:
        response = self.graphql(query, variables, **kw)
        payload = response.json()
        assert payload.get("errors"), payload
        errors: list[Any] = payload["errors"]
        return errors

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def scrape(self, *, token: str | None = None) -> str:
        """``/metrics`` from the internal metrics port (``token``: ONESTOP_METRICS_TOKEN)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.get(self.metrics_url, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.text

    def metric(self, name: str, labels: str = "", *, token: str | None = None) -> float:
        """The value of one series on ``/metrics`` (0 when absent); ``labels`` as
        Prometheus prints them (``'{limit="cost"}'``), ``token`` when one is set."""
        text = self.scrape(token=token)
        pattern = rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+]+)$"
        found = re.search(pattern, text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    def token(
        self,
        sub: str = "test-user",
        roles: tuple[str, ...] = ("citizen",),
        *,
        department: str | None = None,
        identity_level: int = 1,
        scopes: list[str] | None = None,
        ttl: int | None = None,
    ) -> str:
        """An access token signed with this gateway's (dev) key, as `onestop token` would."""
        settings = Settings(data_dir=self.data_dir)
        service = TokenService(SigningKeys.from_settings(settings), settings, MemoryCache())
        return service.issue_access_token(
            sub,
            roles=list(roles),
            department=department,
            identity_level=identity_level,
            scopes=scopes,
            ttl=ttl,
        )

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def prod_env(external_module_path: Path, **extra: str) -> dict[str, str]:
    """Settings for a production gateway (fresh signing key, the weather module's SMS
    sender, no seeding), plus ``extra``."""
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    return {
        "ONESTOP_ENV": "prod",
        "ONESTOP_JWT_PRIVATE_KEY": pem,
        "ONESTOP_JWT_KID": "prod-test",
        "ONESTOP_LOGIN_CODE_SENDER": "onestop_weather.module:CollectingSender",
        "ONESTOP_SEED_ON_START": "false",
        "ONESTOP_UPLOAD_URL_SECRET": secrets.token_hex(32),
        "PYTHONPATH": os.pathsep.join([str(external_module_path), os.environ["PYTHONPATH"]]),
        **extra,
    }


def unique_db(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class OwnGateway:
    """A gateway on a database of its own, and a PyMongo handle on that database."""

    gateway: GatewayProcess
    db: Database[Any]
