"""Settings from ``ONESTOP_*`` environment variables, validated once at start.

Every setting has a safe development default; ``ONESTOP_ENV=prod`` turns the
defaults that are only acceptable on a developer's machine into errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, FilePath, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gateway.uploads.formats import FileKind

__all__ = ["ConfigError", "Environment", "Settings", "load_settings", "secret_file_settings"]


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


class ConfigError(Exception):
    """Settings could not be loaded; the message lists every bad variable."""


_ORIGIN = re.compile(r"(https?)://([A-Za-z0-9*.-]+)(?::(\d{1,5}|\*))?")
_LABEL = re.compile(r"\*|[A-Za-z0-9-]+")


def origin_regex(patterns: Iterable[str]) -> str | None:
    """One regular expression for a CORS allow-list, or None for an empty one.

    An entry is an origin (``https://h5.luohu.gov.cn``, ``http://localhost:5173``) in which
    a whole host label or the port may be ``*``; ``*`` alone allows every origin. Hosts
    compare in lower case, as browsers send them.
    """
    alternatives = []
    for pattern in patterns:
        if pattern == "*":
            return ".*"
        match = _ORIGIN.fullmatch(pattern)
        labels = match.group(2).split(".") if match else []
        if match is None or not all(_LABEL.fullmatch(label) for label in labels):
            raise ValueError(
                f"{pattern!r} is not an origin: scheme://host[:port], where a whole host "
                "label or the port may be '*'"
            )
        scheme, _, port = match.groups()
        host = r"\.".join(
            "[a-z0-9-]+" if label == "*" else re.escape(label.lower()) for label in labels
        )
        port_part = "" if port is None else ":" + (r"\d{1,5}" if port == "*" else port)
        alternatives.append(f"{scheme}://{host}{port_part}")
    return "|".join(f"(?:{a})" for a in alternatives) or None


class Settings(BaseSettings):
    """Gateway configuration. Field ``x`` is read from ``ONESTOP_X``."""

    model_config = SettingsConfigDict(env_prefix="ONESTOP_", extra="ignore", frozen=True)

    env: Environment = Environment.DEV
    mongodb_url: str | None = Field(
        default=None, description="MongoDB URL; unset = start the embedded nx-27017 server"
    )
    mongodb_url_file: Path | None = Field(
        default=None, description="file holding the MongoDB URL (it carries the password)"
    )
    mongodb_db: str | None = Field(
        default=None, description="database name; default: the URL's path, else 'onestop'"
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL; unset = in-process cache, limits and bus"
    )
    redis_url_file: Path | None = Field(
        default=None, description="file holding the Redis URL (it carries the password)"
    )
    modules: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="comma-separated module names to load; empty = all installed"
    )
    data_dir: Path = Field(default=Path("./var"), description="embedded database, dev keys")
    seeds_dir: Path = Field(default=Path("./seeds"), description="seed JSON, one folder per module")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "INFO"
    seed_on_start: bool = Field(default=True, description="seed an empty database on start")
    seed_history: bool = Field(
        default=True,
        description="with the seeds, load modules' historical data (the cases module's month "
        "of 20,000 cases, seeds/cases/history.json)",
    )

    jwt_algorithm: str = "ES256"
    jwt_private_key: str | None = Field(default=None, description="PEM; prod signing key")
    jwt_private_key_file: Path | None = Field(default=None, description="file holding the PEM")
    jwt_kid: str | None = Field(default=None, description="key id of the signing key")
    jwt_extra_public_keys_file: Path | None = Field(
        default=None, description="JWKS file of older keys still accepted (key rotation)"
    )
    jwt_issuer: str = "onestop"
    jwt_audience: str = "onestop-api"
    access_token_ttl: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl: int = Field(default=30 * 86_400, ge=300)
    login_code_sender: str | None = Field(
        default=None,
        description="'log' (dev), 'http' (an SMS gateway over HTTP: gateway/sms.py) or "
        "'package.module:factory' for SMS login codes",
    )
    # The built-in SMS sender (ONESTOP_LOGIN_CODE_SENDER=http, gateway/sms.py).
    sms_url: str | None = Field(
        default=None, description="endpoint the http sender POSTs {phone, code, template} to"
    )
    sms_key: str | None = Field(default=None, description="the SMS gateway's API key")
    sms_key_file: Path | None = Field(default=None, description="file holding the SMS key")
    sms_key_header: str = Field(
        default="Authorization",
        description="header carrying the key; 'Authorization' sends 'Bearer <key>'",
    )
    sms_template: str = Field(
        default="onestop_login_code", min_length=1, description="the gateway's template id"
    )
    sms_timeout_ms: int = Field(
        default=3000, ge=100, le=30_000, description="whole SMS call, connect to last byte"
    )
    # Login abuse limits (SMS pumping, exhausting someone's codes, guessing codes).
    login_code_ip_window: int = Field(default=600, ge=10, description="per-IP window, seconds")
    login_code_per_ip: int = Field(default=30, ge=1, description="codes per IP per window")
    login_code_per_ip_daily: int = Field(default=200, ge=1, description="codes per IP per day")
    login_code_global_per_minute: int = Field(
        default=300, ge=1, description="codes per minute for the whole service"
    )
    login_failures_per_ip: int = Field(
        default=50, ge=1, description="wrong login codes per IP per window"
    )
    # Request rate limits for the whole API (gateway/extensions/rate_limit.py): a burst, then a
    # sustained rate per minute. Addresses get more: carriers put many phones behind one.
    rate_limit: bool = Field(default=True, description="limit requests per principal and address")
    rate_limit_principal_burst: int = Field(
        default=120, ge=1, description="requests a signed-in caller may make at once"
    )
    rate_limit_principal_per_minute: int = Field(
        default=600, ge=1, description="sustained requests per minute per signed-in caller"
    )
    rate_limit_address_burst: int = Field(
        default=600, ge=1, description="requests an anonymous client address may make at once"
    )
    rate_limit_address_per_minute: int = Field(
        default=3000, ge=1, description="sustained requests per minute per client address"
    )
    # Sign-in from the WeChat mini-program (gateway/wechat.py, README "WeChat").
    wechat_provider: str | None = Field(
        default=None,
        description="'dev' (development only), 'wechat' (jscode2session over HTTPS) or "
        "'package.module:factory'; unset = 'dev' in dev, WeChat sign-in off in prod",
    )
    wechat_appid: str | None = Field(
        default=None, description="the mini-program's AppID (bindings are kept per AppID)"
    )
    wechat_secret_file: FilePath | None = Field(
        default=None, description="file holding the mini-program's AppSecret (never logged)"
    )
    wechat_api_base: str = Field(
        default="https://api.weixin.qq.com",
        description="base URL of WeChat's API (a local fake in tests)",
    )
    wechat_timeout_ms: int = Field(
        default=1500, ge=100, le=30_000, description="whole jscode2session call, milliseconds"
    )
    wechat_sign_in_per_ip: int = Field(
        default=60,
        ge=1,
        description="WeChat sign-in and link attempts per IP per ONESTOP_LOGIN_CODE_IP_WINDOW",
    )
    clock_offset_seconds: float = Field(
        default=0,
        description="move the service's clock (deadlines, booking windows) by this many seconds; "
        "dev and tests only",
    )
    supervision_sweep_seconds: float = Field(
        default=600,
        ge=0,
        description="how often each process looks for newly overdue cases to remind (电子监察); "
        "0: never",
    )
    # Subscriptions over graphql-transport-ws (gateway/subscriptions.py).
    subscriptions_per_connection: int = Field(
        default=20, ge=1, le=1000, description="operations one socket may run at once"
    )
    ws_keepalive_seconds: float = Field(
        default=15, gt=0, le=300, description="seconds between the server's pings on a socket"
    )
    ws_init_timeout_seconds: float = Field(
        default=10, gt=0, le=300, description="seconds a socket may take to send connection_init"
    )
    # Prometheus metrics on an internal port of their own (gateway/metrics_server.py), never
    # on the public one; one listener in the serving command adds up every worker.
    metrics_port: int = Field(
        default=9464, ge=0, le=65535, description="port of /metrics; 0: no metrics served"
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="address the metrics port binds (0.0.0.0 in the image)"
    )
    metrics_token: str | None = Field(
        default=None, description="bearer token /metrics asks for, on top of the internal port"
    )
    known_operations: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="operation names counted under their own label besides the trusted "
        "documents' (comma-separated); every other name is 'unknown'",
    )
    revision: str | None = Field(
        default=None, description="source revision of the build (onestop_build_info)"
    )
    mongodb_timeout_ms: int = Field(
        default=2500, ge=100, le=600_000, description="client-side MongoDB operation timeout"
    )
    redis_timeout_ms: int = Field(
        default=500, ge=50, le=60_000, description="Redis connect and socket timeout"
    )
    # 1 s: the database's server selection overshoots a deadline by up to ~0.5 s (measured
    # on a killed database: 1.2 → 1.5–1.7 s, 1.5 → 2.0 s; more under load) and 2 s is the
    # bound. Catalog reads take under 100 ms at p95 even at 100,000 items.
    request_deadline_ms: int = Field(
        default=1000,
        ge=100,
        le=600_000,
        description="time all MongoDB calls of one HTTP request may take together; past it "
        "the request answers UNAVAILABLE (503)",
    )

    graphiql: bool | None = Field(
        default=None,
        description=(
            "serve GraphiQL to browsers at GET /graphql, every file from the gateway itself "
            "(gateway/ide.py); unset: on in dev, off in prod"
        ),
    )
    introspection: bool | None = None
    max_query_depth: int = Field(default=12, ge=2, le=64)
    max_aliases: int = Field(default=30, ge=1, le=1000)
    max_tokens: int = Field(default=4000, ge=100, le=100_000)
    max_document_chars: int = Field(
        default=65_536, ge=1024, le=1_048_576, description="longest GraphQL document text"
    )
    max_query_cost: int = Field(
        default=3000, ge=10, le=10_000_000, description="largest estimated operation cost"
    )
    cost_limit_mode: Literal["enforce", "warn"] = Field(
        default="enforce", description="warn: log and count operations over the cost, run them"
    )
    max_batch_operations: int = Field(
        default=10, ge=1, le=100, description="operations one batched request (JSON array) may hold"
    )
    max_page_size: int = Field(default=100, ge=1, le=1000)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="largest request body")
    max_string_length: int = Field(
        default=10_000, ge=100, le=1_000_000, description="longest input string, in characters"
    )
    response_cache: bool = Field(
        default=True, description="keep whole responses of public queries (cache hints)"
    )
    response_cache_max_bytes: int = Field(
        default=262_144, ge=1024, description="larger responses are not kept in the cache"
    )
    # Browsers on other origins (H5 pages, the WeChat web view, admin consoles): gateway/cors.py.
    cors_origins: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        default=None,
        description="comma-separated origins allowed to call the API from a browser; '*' in "
        "a host label or the port matches any (https://*.luohu.gov.cn, http://localhost:*); "
        "unset = localhost on any port in dev, none in prod",
    )
    cors_max_age: int = Field(
        default=600, ge=0, le=86_400, description="seconds a browser may cache a preflight answer"
    )

    # Uploads (gateway/uploads/): files in GraphQL multipart requests, kept in GridFS.
    upload_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="largest uploaded file, in bytes",
    )
    upload_max_files: int = Field(
        default=4, ge=1, le=100, description="files one multipart request may carry"
    )
    upload_types: Annotated[tuple[FileKind, ...], NoDecode] = Field(
        default=tuple(FileKind),
        description="comma-separated kinds of file accepted: pdf, jpeg, png, ofd",
    )
    upload_quota_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1024, description="bytes of uploads one user may keep"
    )
    upload_url_ttl: int = Field(
        default=300, ge=10, le=86_400, description="seconds a signed download URL stays valid"
    )
    upload_url_secret: str | None = Field(
        default=None,
        min_length=32,
        description="HMAC key of download URLs, shared by every process; required in prod "
        "(dev: generated once under the data dir)",
    )
    upload_url_secret_file: Path | None = Field(
        default=None, description="file holding ONESTOP_UPLOAD_URL_SECRET"
    )

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """``ONESTOP_X_FILE`` fills ``ONESTOP_X`` from a file, for every secret ``x`` that
        has a ``x_file`` field.

        Secrets belong in files (a Docker or Kubernetes secret mounted read-only), not in
        the environment, which every child process inherits and crash reporters and
        ``/proc/<pid>/environ`` show. Surrounding whitespace (the file's final newline) is
        dropped.
        """
        if not isinstance(data, dict):
            return data
        for name in secret_file_settings():
            path = data.get(f"{name}_file")
            if path in (None, ""):
                continue
            variable = f"ONESTOP_{name.upper()}"
            if data.get(name) not in (None, ""):
                raise ValueError(f"set {variable} or {variable}_FILE, not both")
            try:
                value = Path(path).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise ValueError(f"{variable}_FILE: cannot read {path}: {reason}") from None
            if not value:
                raise ValueError(f"{variable}_FILE: {path} is empty")
            data = {**data, name: value}
        return data

    @field_validator(
        "modules",
        "trusted_clients",
        "cors_origins",
        "upload_types",
        "known_operations",
        mode="before",
    )
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            origin_regex(value)  # raises on an entry that is not an origin pattern
        return value

    @field_validator("jwt_algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        if value not in ("ES256", "EdDSA"):
            raise ValueError("must be ES256 or EdDSA")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @model_validator(mode="after")
    def _production_requirements(self) -> Settings:
        if self.env is Environment.PROD:
            missing = []
            if not self.mongodb_url:
                missing.append("ONESTOP_MONGODB_URL (prod never runs the embedded database)")
            if not (self.jwt_private_key or self.jwt_private_key_file):
                missing.append("ONESTOP_JWT_PRIVATE_KEY or ONESTOP_JWT_PRIVATE_KEY_FILE")
            if not self.jwt_kid:
                missing.append("ONESTOP_JWT_KID")
            if not self.login_code_sender or self.login_code_sender == "log":
                missing.append("ONESTOP_LOGIN_CODE_SENDER (an SMS sender, not 'log')")
            if self.wechat_provider == "dev":
                missing.append(
                    "ONESTOP_WECHAT_PROVIDER other than 'dev' (ONESTOP_WECHAT_PROVIDER=dev is "
                    "for development only: with it anyone signs in as anyone)"
                )
            if not self.upload_url_secret:
                missing.append("ONESTOP_UPLOAD_URL_SECRET (at least 32 characters)")
            if self.clock_offset_seconds:
                missing.append("ONESTOP_CLOCK_OFFSET_SECONDS unset (a moved clock is for tests)")
            if missing:
                raise ValueError("ONESTOP_ENV=prod requires " + "; ".join(missing))
        if self.login_code_sender == "http":
            if not (self.sms_url and self.sms_key):
                raise ValueError(
                    "ONESTOP_LOGIN_CODE_SENDER=http needs ONESTOP_SMS_URL and ONESTOP_SMS_KEY "
                    "(or ONESTOP_SMS_KEY_FILE)"
                )
            if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", self.sms_url):
                raise ValueError(f"ONESTOP_SMS_URL must be an http(s) URL, not {self.sms_url!r}")
        if self.wechat_provider == "wechat" and not (self.wechat_appid and self.wechat_secret_file):
            raise ValueError(
                "ONESTOP_WECHAT_PROVIDER=wechat needs ONESTOP_WECHAT_APPID and "
                "ONESTOP_WECHAT_SECRET_FILE"
            )
        if self.workers > 1 and not self.mongodb_url:
            raise ValueError(
                "ONESTOP_WORKERS > 1 needs ONESTOP_MONGODB_URL: each worker would otherwise "
                "start its own embedded database"
            )
        if self.workers > 1 and not self.redis_url:
            raise ValueError(
                "ONESTOP_WORKERS > 1 needs ONESTOP_REDIS_URL: rate limits, login codes and "
                "token revocation must be shared between worker processes"
            )
        return self

    @property
    def upload_body_bytes(self) -> int:
        """Largest multipart request body: its files at their limit, plus the operations."""
        return self.upload_max_files * self.upload_max_bytes + self.max_body_bytes

    @property
    def is_dev(self) -> bool:
        return self.env is Environment.DEV

    @property
    def wechat_provider_in_force(self) -> str | None:
        """The WeChat session provider to load: the setting, else ``dev`` in dev, else none."""
        if self.wechat_provider:
            return self.wechat_provider
        return "dev" if self.is_dev else None

    @property
    def graphiql_enabled(self) -> bool:
        return self.is_dev if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return self.is_dev if self.introspection is None else self.introspection

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """The CORS allow-list in force (``cors_origins``, else the environment's default)."""
        if self.cors_origins is not None:
            return self.cors_origins
        return ("http://localhost:*", "http://127.0.0.1:*") if self.is_dev else ()

    # Persisted queries: Apollo's automatic persisted queries (APQ) and trusted documents
    # (gateway/extensions/persisted_queries.py, README "Persisted queries").
    apq_ttl: int = Field(
        default=7 * 86_400,
        ge=60,
        le=366 * 86_400,
        description="seconds an automatically persisted document stays in Redis",
    )
    apq_max_document_chars: int = Field(
        default=32_768,
        ge=256,
        le=1_048_576,
        description="longest document APQ stores; a longer one still runs, unstored",
    )
    apq_cache_size: int = Field(
        default=2000,
        ge=10,
        le=1_000_000,
        description="documents APQ keeps in process (LRU) when there is no Redis",
    )
    trusted_documents_file: FilePath | None = Field(
        default=None,
        description="trusted documents: JSON {sha256: document} (graphql-codegen's "
        "persisted-documents.json) or an Apollo persisted query manifest",
    )
    trusted_documents_only: bool = Field(
        default=False,
        description="refuse every document outside the manifest from ONESTOP_TRUSTED_CLIENTS",
    )
    trusted_clients: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="first-party client names (header apollographql-client-name), "
        "comma-separated; '*' = every client",
    )

    trusted_client_max_cost: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        description="cost budgets of trusted documents per client, 'name=cost,…' (header "
        "apollographql-client-name): replaces ONESTOP_MAX_QUERY_COST for that client's "
        "manifest documents",
    )

    @field_validator("trusted_client_max_cost", mode="before")
    @classmethod
    def _split_budgets(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        budgets: dict[str, str] = {}
        for entry in filter(None, (part.strip() for part in value.split(","))):
            name, sep, cost = entry.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"expected 'client=cost' entries, got {entry!r}")
            budgets[name.strip()] = cost.strip()
        return budgets

    @field_validator("trusted_client_max_cost")
    @classmethod
    def _sane_budgets(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [f"{name}={cost}" for name, cost in value.items() if not 10 <= cost <= 10_000_000]
        if bad:
            raise ValueError("each budget must be 10–10,000,000: " + ", ".join(bad))
        return value

    @model_validator(mode="after")
    def _trusted_documents_requirements(self) -> Settings:
        if self.trusted_documents_only and not self.trusted_documents_file:
            raise ValueError(
                "ONESTOP_TRUSTED_DOCUMENTS_ONLY needs ONESTOP_TRUSTED_DOCUMENTS_FILE (the manifest)"
            )
        if self.trusted_documents_only and not self.trusted_clients:
            raise ValueError(
                "ONESTOP_TRUSTED_DOCUMENTS_ONLY needs ONESTOP_TRUSTED_CLIENTS: the client names "
                "it applies to (header apollographql-client-name), or '*' for every client"
            )
        if self.trusted_client_max_cost and not self.trusted_documents_file:
            raise ValueError(
                "ONESTOP_TRUSTED_CLIENT_MAX_COST needs ONESTOP_TRUSTED_DOCUMENTS_FILE: the "
                "budgets apply to the manifest's documents only"
            )
        if self.apq_max_document_chars > self.max_document_chars:
            raise ValueError(
                "ONESTOP_APQ_MAX_DOCUMENT_CHARS must not exceed ONESTOP_MAX_DOCUMENT_CHARS "
                f"({self.max_document_chars}): longer documents are refused anyway"
            )
        return self


def secret_file_settings() -> tuple[str, ...]:
    """The settings that may be read from a file: each ``x`` with an ``x_file`` field."""
    fields = Settings.model_fields
    return tuple(
        name[: -len("_file")]
        for name in fields
        if name.endswith("_file") and name[: -len("_file")] in fields
    )


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (plus ``overrides``), or raise a readable ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            variable = f"ONESTOP_{where.upper()}" if where else "settings"
            lines.append(f"  {variable}: {error['msg']}")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
