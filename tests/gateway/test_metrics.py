"""Metrics as ops reads them: one scrape adds up every worker, client-chosen names add no
series, every series of the contract (docs/observability.md) is there, and promtool
accepts the scrape."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import GatewayProcess
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

# The series the dashboard and the alert rules are built on (docs/observability.md).
CONTRACT = (
    "onestop_http_requests_total",
    "onestop_graphql_operations_total",
    "onestop_graphql_operation_duration_seconds",
    "onestop_graphql_errors_total",
    "onestop_response_cache_total",
    "onestop_graphql_persisted_queries_total",
    "onestop_rate_limited_total",
    "onestop_subscriptions_active",
    "onestop_modules_loaded",
    "onestop_graphql_phase_duration_seconds",
    "onestop_gateway_overhead_seconds",
    "onestop_mongodb_command_duration_seconds",
    "onestop_redis_command_duration_seconds",
    "onestop_mongodb_pool_connections",
    "onestop_redis_pool_connections",
    "onestop_http_requests_in_flight",
    "onestop_ready",
    "onestop_build_info",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
)

STATS = "query CatalogStats { affairsCatalogStats { totalItems } }"
TRUSTED = "query TrustedThemes { affairsCatalogStats { totalItems } }"
LOGIN_CODE = "mutation($p: String!) { requestLoginCode(phone: $p) { devCode } }"
LOGIN = "mutation($p: String!, $c: String!) { login(phone: $p, code: $c) { accessToken } }"
GRAPHQL_200 = '{method="POST",route="/graphql",status="200"}'


def series(text: str) -> set[str]:
    """Every series of a scrape, by name and labels (values left out)."""
    found = set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found.add(f"{sample.name}{{{labels}}}")
    return found


def families(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


def value(text: str, name: str, labels: str = "") -> float:
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture(scope="module")
def counted(start_gateway: Any, tmp_path_factory: pytest.TempPathFactory) -> GatewayProcess:
    """A gateway with one known operation by setting and one by its trusted documents."""
    manifest = tmp_path_factory.mktemp("manifest") / "persisted-documents.json"
    manifest.write_text(json.dumps({hashlib.sha256(TRUSTED.encode()).hexdigest(): TRUSTED}))
    gateway: GatewayProcess = start_gateway(
        {
            "ONESTOP_KNOWN_OPERATIONS": "CatalogStats",
            "ONESTOP_TRUSTED_DOCUMENTS_FILE": str(manifest),
            "ONESTOP_RESPONSE_CACHE": "false",  # every request executes
        }
    )
    return gateway


def test_random_operation_names_add_no_series(counted: GatewayProcess) -> None:
    def batch(names: list[str]) -> None:
        body = [
            {"query": f"query {name} {{ affairsCatalogStats {{ totalItems }} }}"} for name in names
        ]
        answers = counted.client.post("/graphql", json=body).json()
        assert all(answer["data"] for answer in answers), answers

    def random_names(count: int) -> list[str]:
        return [f"R{uuid.uuid4().hex}" for _ in range(count)]

    batch(random_names(1))  # the first unknown one makes the "unknown" series
    before = counted.scrape()
    unknown = '{module="affairs",operation="unknown",type="query"}'
    for _ in range(100):
        batch(random_names(10))
    after = counted.scrape()
    assert series(after) == series(before)
    assert value(after, "onestop_graphql_operations_total", unknown) == (
        value(before, "onestop_graphql_operations_total", unknown) + 1000
    )
    assert len(after.splitlines()) == len(before.splitlines())
    # Known operations keep their own series however many names came before them.
    counted.data(STATS)
    counted.data(TRUSTED)
    text = counted.scrape()
    for name in ("CatalogStats", "TrustedThemes"):
        labels = f'{{module="affairs",operation="{name}",type="query"}}'
        assert value(text, "onestop_graphql_operations_total", labels) == 1, name
    anonymous = '{module="affairs",operation="anonymous",type="query"}'
    counted.data("{ affairsCatalogStats { totalItems } }")
    assert counted.metric("onestop_graphql_operations_total", anonymous) == 1


def test_every_series_of_the_contract_and_promtool_accepts_the_scrape(
    counted: GatewayProcess,
) -> None:
    counted.data(STATS)
    counted.errors("query CatalogStats { affairsCatalogStats { nope } }")
    # Pools and readiness are sampled every 5 s by each worker.
    deadline = time.monotonic() + 15
    while True:
        text = counted.scrape()
        if value(text, "onestop_ready") == 1 and "onestop_redis_pool_connections" in text:
            break
        assert time.monotonic() < deadline, text
        time.sleep(0.5)
    missing = [name for name in CONTRACT if name.removesuffix("_total") not in families(text)]
    assert not missing
    stats = '{module="affairs",operation="CatalogStats"}'
    assert value(text, "onestop_graphql_operation_duration_seconds_count", stats) >= 1
    assert (
        value(
            text,
            "onestop_graphql_errors_total",
            '{code="GRAPHQL_VALIDATION_FAILED",module="affairs",operation="CatalogStats"}',
        )
        == 1
    )
    for phase in ("parse", "validate", "execute"):
        assert value(text, "onestop_graphql_phase_duration_seconds_count", f'{{phase="{phase}"}}')
    assert value(text, "onestop_gateway_overhead_seconds_count") >= 2
    # Database time by command and collection, Redis time by command.
    assert re.search(
        r'^onestop_mongodb_command_duration_seconds_count\{collection="affairs_\w+",'
        r'command="(find|aggregate)"\} [1-9]',
        text,
        re.MULTILINE,
    )
    assert value(text, "onestop_redis_command_duration_seconds_count", '{command="evalsha"}') >= 1
    assert value(text, "onestop_mongodb_pool_connections", '{state="idle"}') >= 1
    assert value(text, "onestop_http_requests_in_flight") == 0
    assert value(text, "process_resident_memory_bytes") > 50_000_000
    assert value(text, "process_cpu_seconds_total") > 0
    build = r'^onestop_build_info\{python="3[.\d]+",revision="\w+",version="[^"]+"\} 1.0$'
    assert re.search(build, text, re.MULTILINE)
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: `make test` installs Debian's prometheus package"
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _per_worker(directory: Path, name: str, labels: dict[str, str]) -> dict[int, float]:
    """One counter's value in each worker's own files (prometheus-client's reader)."""
    values: dict[int, float] = {}
    for counter in directory.glob("counter_*.db"):
        pid = int(counter.stem.rsplit("_", 1)[1])
        for family in MultiProcessCollector.merge([str(counter)], accumulate=True):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    values[pid] = values.get(pid, 0.0) + sample.value
    return values


def test_two_workers_one_scrape_shows_both_and_sign_alike(
    start_gateway: Any, redis_url: str, tmp_path: Path
) -> None:
    """`onestop serve --workers 2` on a fresh data directory: the dev signing key is
    made once for both workers (every login's token works on either), and one scrape
    is the sum of what each worker counted."""
    directory = tmp_path / "metrics"
    gateway: GatewayProcess = start_gateway(
        {
            "ONESTOP_WORKERS": "2",
            # A Redis database of its own: the login codes it asks for from 127.0.0.1 must
            # not count against the other tests' (per-address limits live in Redis).
            "ONESTOP_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/9",
            # Signing in needs no catalog: no seeding (tested in test_seeding_workers).
            "ONESTOP_SEED_ON_START": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
            "ONESTOP_LOGIN_CODE_PER_IP": "1000",
            "ONESTOP_LOGIN_CODE_PER_IP_DAILY": "10000",
            "ONESTOP_LOGIN_CODE_GLOBAL_PER_MINUTE": "10000",
        }
    )
    sent = 0

    def sign_in(n: int) -> int:
        # A connection per request, so the kernel hands requests to either worker.
        phone = f"139{int(time.time()) % 10_000:04d}{n:04d}"
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            code = client.post("/graphql", json={"query": LOGIN_CODE, "variables": {"p": phone}})
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            sent_code = code.json()["data"]["requestLoginCode"]["devCode"]
            login = client.post(
                "/graphql", json={"query": LOGIN, "variables": {"p": phone, "c": sent_code}}
            )
        token = login.json()["data"]["login"]["accessToken"]
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            me = client.post(
                "/graphql",
                json={"query": "{ me { id } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert me.status_code == 200, me.text
        assert me.json()["data"]["me"]["id"], me.text
        return 3

    labels = {"method": "POST", "route": "/graphql", "status": "200"}
    try:
        for round_ in range(10):
            with ThreadPoolExecutor(8) as pool:
                sent += sum(pool.map(sign_in, range(round_ * 20, round_ * 20 + 20)))
            workers = _per_worker(directory, "onestop_http_requests_total", labels)
            if len(workers) == 2 and all(workers.values()):
                break
        assert len(workers) == 2 and all(workers.values()), workers
        # A request is counted when its answer has gone out: the last ones a moment later.
        deadline = time.monotonic() + 5
        while sum(workers.values()) < sent and time.monotonic() < deadline:
            time.sleep(0.05)
            workers = _per_worker(directory, "onestop_http_requests_total", labels)
        text = gateway.scrape()
        assert value(text, "onestop_http_requests_total", GRAPHQL_200) == sent
        assert sum(workers.values()) == sent
        # Both workers' processes, summed: more memory than either alone.
        assert value(text, "process_resident_memory_bytes") > 100_000_000
    finally:
        gateway.stop()
