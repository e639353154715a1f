"""docker-compose.yml without a Docker engine: its shape, its secrets, its SMS stand-in.

The file must load in docker-compose 1.29 (file format 3.x, no top-level ``name:``), run
MongoDB and Redis with authentication, and hand the gateway every secret as a file. The
secrets script is run for real and the gateway's settings are loaded from what it writes,
exactly as the gateway service's environment names them; the stand-in SMS gateway is
started and sent a message by the gateway's own sender.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT

from gateway.auth import SigningKeys
from gateway.config import Environment, load_settings, secret_file_settings
from gateway.embedded import free_port
from gateway.errors import Unavailable
from gateway.sms import HttpSmsSender

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
MAKE_SECRETS = ROOT / "deploy" / "compose" / "make-secrets.sh"
_DIGEST = re.compile(r"^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")
_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def test_the_file_format_is_one_docker_compose_1_29_reads() -> None:
    assert "name" not in COMPOSE  # 1.29: "'name' does not match any of the regexes"
    major, minor = COMPOSE["version"].split(".")
    # 3.4: healthcheck start_period; 3.1: secrets; 1.29 reads up to 3.9.
    assert major == "3" and 4 <= int(minor) <= 9
    assert set(COMPOSE) <= {"version", "services", "secrets", "volumes", "networks"}


def test_every_image_pulled_is_pinned_by_digest() -> None:
    pulled = {name: s["image"] for name, s in SERVICES.items() if "build" not in s}
    assert set(pulled) == {"mongo", "redis", "sms-sink"}
    for name, image in pulled.items():
        assert _DIGEST.match(image), f"{name}: {image} is not pinned by digest"
    # The stand-in runs on the gateway's own base image.
    base = re.search(r"^FROM (\S+) AS runtime", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert base and SERVICES["sms-sink"]["image"] == base.group(1)


def test_mongodb_runs_a_replica_set_with_authentication() -> None:
    mongo = SERVICES["mongo"]
    command = mongo["command"]
    assert command[command.index("--replSet") + 1] == "rs0"
    assert "--keyFile" in command  # implies authorization, for every start
    env = mongo["environment"]
    assert env["MONGO_INITDB_ROOT_PASSWORD_FILE"] == "/run/secrets/mongo_root_password"
    assert "MONGO_INITDB_ROOT_PASSWORD" not in env
    health = (ROOT / "deploy/compose/mongo/healthcheck.sh").read_text()
    assert "rs.initiate(" in health and "isWritablePrimary" in health
    user = (ROOT / "deploy/compose/mongo/initdb/10-onestop-user.sh").read_text()
    assert 'role: "readWrite", db: "onestop"' in user
    assert "mongo_app_password" in user


def test_redis_requires_a_password_kept_off_its_command_line() -> None:
    redis = SERVICES["redis"]
    assert "requirepass" not in " ".join(redis["command"])
    start = (ROOT / "deploy/compose/redis/start.sh").read_text()
    assert "requirepass" in start and "/run/secrets/redis_password" in start
    assert "REDISCLI_AUTH" in (ROOT / "deploy/compose/redis/healthcheck.sh").read_text()


def test_the_gateway_gets_every_secret_as_a_file_and_no_secret_as_a_value() -> None:
    gateway = SERVICES["gateway"]
    env = gateway["environment"]
    for name in secret_file_settings():
        variable = f"ONESTOP_{name.upper()}"
        assert variable not in env, f"{variable} is a secret: use {variable}_FILE"
        path = env[f"{variable}_FILE"]
        assert path.startswith("/run/secrets/")
        assert path.removeprefix("/run/secrets/") in gateway["secrets"]
    assert env["ONESTOP_ENV"] == "prod"
    assert env["ONESTOP_LOGIN_CODE_SENDER"] == "http"


def test_only_the_api_is_published() -> None:
    published = {name: s.get("ports", []) for name, s in SERVICES.items()}
    assert published == {"mongo": [], "redis": [], "sms-sink": [], "gateway": ["8000:8000"]}


def test_every_mounted_file_is_in_the_repository() -> None:
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
    for script in (ROOT / "deploy/compose").rglob("*.sh"):
        shell = "bash" if script.read_text().startswith("#!/bin/bash") else "sh"
        subprocess.run([shell, "-n", script], check=True)


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("compose") / "secrets"
    subprocess.run(["sh", MAKE_SECRETS, directory], check=True, capture_output=True)
    return directory


def test_make_secrets_writes_exactly_the_secrets_compose_mounts(secrets_dir: Path) -> None:
    declared = COMPOSE["secrets"]
    assert {p.name for p in secrets_dir.iterdir()} == set(declared)
    for name, secret in declared.items():
        assert secret["file"] == f"./deploy/compose/secrets/{name}"
    used = {s for service in SERVICES.values() for s in service.get("secrets", [])}
    assert used == set(declared)
    assert secrets_dir.stat().st_mode & 0o777 == 0o700


def test_make_secrets_keeps_what_exists(secrets_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in secrets_dir.iterdir()}
    subprocess.run(["sh", MAKE_SECRETS, secrets_dir], check=True, capture_output=True)
    assert {p.name: p.read_bytes() for p in secrets_dir.iterdir()} == before


def test_the_gateway_service_configuration_loads_from_the_written_secrets(
    secrets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("ONESTOP_")]:
        monkeypatch.delenv(key)
    for variable, value in SERVICES["gateway"]["environment"].items():
        value = _DEFAULT.sub(lambda m: m.group(2), str(value))
        monkeypatch.setenv(variable, value.replace("/run/secrets", str(secrets_dir)))
    settings = load_settings()
    assert settings.env is Environment.PROD and settings.workers == 2
    read = lambda name: (secrets_dir / name).read_text().strip()  # noqa: E731
    assert settings.mongodb_url == (
        f"mongodb://onestop:{read('mongo_app_password')}@mongo:27017/onestop?replicaSet=rs0"
    )
    assert settings.redis_url == f"redis://default:{read('redis_password')}@redis:6379/0"
    assert settings.sms_url == "http://sms-sink:8025/v1/messages"
    assert settings.upload_url_secret is not None and len(settings.upload_url_secret) == 64
    keys = SigningKeys.from_settings(settings)  # the written PEM is a usable ES256 key
    assert keys.kid == "compose-1" and keys.algorithm == "ES256"


def test_the_sms_stand_in_takes_what_the_gateway_sends(secrets_dir: Path) -> None:
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, ROOT / "deploy/compose/sms_sink.py"],
        env={
            "PATH": os.environ["PATH"],
            "SMS_KEY_FILE": str(secrets_dir / "sms_key"),
            "SMS_SINK_HOST": "127.0.0.1",
            "SMS_SINK_PORT": str(port),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert sink.stdout is not None
        assert "listening" in sink.stdout.readline()
        url = f"http://127.0.0.1:{port}/v1/messages"
        key = (secrets_dir / "sms_key").read_text().strip()
        asyncio.run(HttpSmsSender(url, key).send("13800138000", "246810"))
        assert sink.stdout.readline().strip() == "SMS onestop_login_code to 138****8000: 246810"
        with pytest.raises(Unavailable):
            asyncio.run(HttpSmsSender(url, "not-the-key").send("13800138000", "246810"))
    finally:
        sink.terminate()
        sink.communicate(timeout=10)  # reaps it and closes its pipe
