"""Settings: defaults, parsing, and readable errors for bad or unsafe configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness import ROOT

from gateway.config import ConfigError, Environment, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("ONESTOP_"):
            monkeypatch.delenv(key)


def test_defaults_are_a_working_dev_setup() -> None:
    settings = load_settings()
    assert settings.env is Environment.DEV
    assert settings.port == 8000
    assert str(settings.data_dir) == "var"
    assert settings.mongodb_url is None and settings.redis_url is None
    assert settings.graphiql_enabled and settings.introspection_enabled


def test_modules_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_MODULES", " affairs, wallet ,")
    assert load_settings().modules == ("affairs", "wallet")


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_PORT", "eighty")
    monkeypatch.setenv("ONESTOP_ENV", "staging")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "ONESTOP_PORT" in str(raised.value)
    assert "ONESTOP_ENV" in str(raised.value)


def test_prod_refuses_dev_only_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_ENV", "prod")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    for variable in (
        "ONESTOP_MONGODB_URL",
        "ONESTOP_JWT_PRIVATE_KEY",
        "ONESTOP_JWT_KID",
        "ONESTOP_LOGIN_CODE_SENDER",
        "ONESTOP_UPLOAD_URL_SECRET",
    ):
        assert variable in message


def test_prod_refuses_the_dev_wechat_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_ENV", "prod")
    monkeypatch.setenv("ONESTOP_WECHAT_PROVIDER", "dev")
    with pytest.raises(ConfigError, match="ONESTOP_WECHAT_PROVIDER=dev is for development only"):
        load_settings()


def test_wechat_sign_in_defaults_to_the_dev_provider_in_dev_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().wechat_provider_in_force == "dev"
    prod = load_settings(
        env="prod",
        mongodb_url="mongodb://db/onestop",
        jwt_private_key="pem",
        jwt_kid="k",
        login_code_sender="sms:factory",
        upload_url_secret="u" * 32,
    )
    assert prod.wechat_provider_in_force is None


def test_the_wechat_provider_needs_an_appid_and_a_secret_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ONESTOP_WECHAT_PROVIDER", "wechat")
    with pytest.raises(ConfigError, match="ONESTOP_WECHAT_APPID and ONESTOP_WECHAT_SECRET_FILE"):
        load_settings()
    monkeypatch.setenv("ONESTOP_WECHAT_APPID", "wx0123456789abcdef")
    monkeypatch.setenv("ONESTOP_WECHAT_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="ONESTOP_WECHAT_SECRET_FILE"):
        load_settings()
    (tmp_path / "secret").write_text("s")
    monkeypatch.setenv("ONESTOP_WECHAT_SECRET_FILE", str(tmp_path / "secret"))
    assert load_settings().wechat_provider_in_force == "wechat"


def test_several_workers_need_shared_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_WORKERS", "4")
    monkeypatch.setenv("ONESTOP_MONGODB_URL", "mongodb://db:27017/onestop")
    with pytest.raises(ConfigError, match="ONESTOP_REDIS_URL"):
        load_settings()


def test_cli_prints_config_errors_without_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "modules"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "ONESTOP_PORT": "0", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "ONESTOP_PORT" in result.stderr
    assert "Traceback" not in result.stderr
