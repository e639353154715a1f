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


@pytest.mark.parametrize("name", ["mongodb_url", "redis_url", "jwt_private_key", "sms_key"])
def test_a_secret_is_read_from_its_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ONESTOP_X_FILE`` (a mounted Docker or Kubernetes secret) fills ``ONESTOP_X``; the
    file's final newline is not part of the secret."""
    secret = tmp_path / name
    secret.write_text(f"value-of-{name}\n")
    monkeypatch.setenv(f"ONESTOP_{name.upper()}_FILE", str(secret))
    assert getattr(load_settings(), name) == f"value-of-{name}"


def test_every_secret_file_setting_is_listed() -> None:
    from gateway.config import secret_file_settings

    assert set(secret_file_settings()) == {
        "mongodb_url",
        "redis_url",
        "jwt_private_key",
        "sms_key",
        "upload_url_secret",
    }


def test_a_prod_configuration_can_hold_every_secret_in_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "MONGODB_URL": "mongodb://onestop:pw@mongo:27017/onestop?replicaSet=rs0",
        "REDIS_URL": "redis://default:pw@redis:6379/0",
        "JWT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----",
        "SMS_KEY": "k" * 24,
        "UPLOAD_URL_SECRET": "u" * 64,
    }
    for name, value in values.items():
        (tmp_path / name).write_text(value + "\n")
        monkeypatch.setenv(f"ONESTOP_{name}_FILE", str(tmp_path / name))
    monkeypatch.setenv("ONESTOP_ENV", "prod")
    monkeypatch.setenv("ONESTOP_JWT_KID", "prod-1")
    monkeypatch.setenv("ONESTOP_LOGIN_CODE_SENDER", "http")
    monkeypatch.setenv("ONESTOP_SMS_URL", "https://sms.example/v1/messages")
    settings = load_settings()
    assert settings.mongodb_url == values["MONGODB_URL"]
    assert settings.jwt_private_key == values["JWT_PRIVATE_KEY"]  # inner newlines kept
    assert settings.upload_url_secret == values["UPLOAD_URL_SECRET"]


def test_a_secret_in_both_places_or_in_a_missing_or_empty_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONESTOP_REDIS_URL_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match=r"ONESTOP_REDIS_URL_FILE: cannot read .*absent"):
        load_settings()
    (tmp_path / "empty").write_text("\n")
    monkeypatch.setenv("ONESTOP_REDIS_URL_FILE", str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match=r"ONESTOP_REDIS_URL_FILE: .* is empty"):
        load_settings()
    (tmp_path / "url").write_text("redis://redis:6379/0")
    monkeypatch.setenv("ONESTOP_REDIS_URL_FILE", str(tmp_path / "url"))
    monkeypatch.setenv("ONESTOP_REDIS_URL", "redis://other:6379/0")
    with pytest.raises(ConfigError, match="ONESTOP_REDIS_URL or ONESTOP_REDIS_URL_FILE, not both"):
        load_settings()


def test_the_http_sms_sender_needs_a_url_and_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_LOGIN_CODE_SENDER", "http")
    with pytest.raises(ConfigError, match="ONESTOP_SMS_URL and ONESTOP_SMS_KEY"):
        load_settings()
    monkeypatch.setenv("ONESTOP_SMS_KEY", "k" * 24)
    monkeypatch.setenv("ONESTOP_SMS_URL", "sms.example/send")
    with pytest.raises(ConfigError, match="ONESTOP_SMS_URL must be an http"):
        load_settings()
    monkeypatch.setenv("ONESTOP_SMS_URL", "https://sms.example/send")
    assert load_settings().sms_url == "https://sms.example/send"


def test_without_a_database_url_or_the_embedded_extra_serve_says_what_to_do(
    tmp_path: Path,
) -> None:
    """The production image has no nx-27017 (the ``embedded`` extra): forgetting
    ONESTOP_MONGODB_URL there is one clear line, not a traceback from the lifespan."""
    without_nx = (
        "import sys; sys.modules['nx_27017'] = None; "  # as if the extra were not installed
        "from gateway.cli import main; sys.exit(main(['serve', '--port', '1']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", without_nx],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "ONESTOP_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "ONESTOP_MONGODB_URL is not set" in result.stderr
    assert "pip install 'onestop[embedded]'" in result.stderr
    assert "Traceback" not in result.stderr
