"""Structured JSON logs with request and trace ids, PII scrubbing, and the Prometheus metrics.

Personal data must never reach a log line. Besides not logging variables, the
formatter scrubs anything shaped like a mainland mobile number, a resident ID
number or a signed token (JWT), and the value of an ``openid``/``unionid`` key, so an
exception message quoting a document cannot leak one either.

The metrics are written for Prometheus' multiprocess mode when ``onestop serve`` set
``PROMETHEUS_MULTIPROC_DIR`` (gateway/metrics_server.py): every series adds up across
the workers of one replica, and across replicas by the usual ``sum``. Each gauge says
how its workers' values combine (``multiprocess_mode``); docs/observability.md lists
every series.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import sys
import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from importlib.metadata import PackageNotFoundError, version
from typing import Any, cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "AccessLog",
    "Metrics",
    "RequestRecord",
    "configure_logging",
    "current_request_id",
    "request_id_var",
    "request_record_var",
    "scrub",
    "trace_id_var",
]

request_id_var: ContextVar[str | None] = ContextVar("onestop_request_id", default=None)
# The request's trace id (32 hex digits) while tracing is on (gateway/tracing.py).
trace_id_var: ContextVar[str | None] = ContextVar("onestop_trace_id", default=None)


class RequestRecord:
    """What one HTTP request did, for its access line and its overhead: filled by the
    operations it ran (gateway/execution.py), read by the middleware when it answers."""

    __slots__ = ("error_codes", "execute_seconds", "operations")

    def __init__(self) -> None:
        self.operations: list[str] = []  # names as sent (scrubbed in the line), or anonymous
        self.error_codes: list[str] = []
        self.execute_seconds = 0.0  # time in graphql-core's execute: resolvers, their I/O

    def add(self, name: str | None, codes: Iterable[str], execute_seconds: float) -> None:
        self.operations.append(name[:64] if name else "anonymous")
        for code in codes:
            if code not in self.error_codes:
                self.error_codes.append(code)
        self.execute_seconds += execute_seconds


request_record_var: ContextVar[RequestRecord | None] = ContextVar(
    "onestop_request_record", default=None
)

# 18-digit resident IDs (last char may be X) and 11-digit mobiles, not inside longer digit runs.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


# Both need a run of at least 11 digits: one search rules most lines out at once.
_LONG_DIGITS = re.compile(r"\d{11}")
# A JWT (access or refresh token) in any text: its header always starts "eyJ" ('{"').
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# WeChat ids have no shape of their own (letters, digits, - and _), so they are masked by
# the key in front of them, as a duplicate-key error or a document's repr quotes them:
# `openid: "oAbc…"`, `'unionid': 'uAbc…'`. Both keys contain "nid", a cheap first test.
_WECHAT_ID = re.compile(
    r"""((?:open|union)id['"]?\s*[:=]\s*['"]?)([A-Za-z0-9_-]{1,4})[A-Za-z0-9_-]*"""
)


def scrub(text: str) -> str:
    """Mask resident ID numbers, mobile numbers, tokens and WeChat openids/unionids in
    free text."""
    if "eyJ" in text:
        text = _JWT.sub("eyJ…(token)", text)
    if "nid" in text:
        text = _WECHAT_ID.sub(lambda m: f"{m.group(1)}{m.group(2)}****", text)
    if not _LONG_DIGITS.search(text):
        return text
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def current_request_id() -> str | None:
    return request_id_var.get()


_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    # The last second formatted: thousands of access lines share it.
    _second: tuple[int, str] = (-1, "")

    def _stamp(self, created: float) -> str:
        second = int(created)
        if self._second[0] != second:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return self._second[1]

    def format(self, record: logging.LogRecord) -> str:
        extras = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _RESERVED and not key.startswith("_")
        }
        if record.exc_info:
            extras["exception"] = self.formatException(record.exc_info)
        return self.line(
            record.created, record.levelname.lower(), record.name, record.getMessage(), extras
        )

    def line(
        self, created: float, level: str, logger: str, message: str, extras: dict[str, Any]
    ) -> str:
        """The JSON line of one event: the one place its shape and its scrubbing are."""
        entry: dict[str, Any] = {
            "time": f"{self._stamp(created)}.{int(created % 1 * 1000):03d}Z",
            "level": level,
            "logger": logger,
            "message": scrub(message),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["requestId"] = request_id
        trace_id = trace_id_var.get()
        if trace_id:
            entry["traceId"] = trace_id
        for key, value in extras.items():
            entry[key] = scrub(value) if isinstance(value, str) else value
        return json.dumps(entry, ensure_ascii=False, default=str)


class AccessLog:
    """The one line per request, at INFO, on the ``onestop.access`` logger.

    Through ``logging`` such a line cost ~10 µs (a LogRecord, the handler chain and its
    lock, the formatter): the dearest thing the gateway added to a small request. When
    the configuration is the gateway's own (:func:`configure_logging`: one JSON stream
    handler at the root, nothing on this logger), the line is made by that handler's
    formatter and written to its stream directly — the same bytes, at about a third of
    the cost. Any other configuration (a test's capture, an operator's handler) gets the
    line through ``logging`` as before.
    """

    def __init__(self, name: str = "onestop.access") -> None:
        self.logger = logging.getLogger(name)

    def write(self, message: str, **extras: Any) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        handler = self._json_handler()
        if handler is None:
            self.logger.info(message, extra=extras)
            return
        formatter = cast(JsonFormatter, handler.formatter)
        line = formatter.line(time.time(), "info", self.logger.name, message, extras)
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.stream.flush()
        finally:
            handler.release()

    def _json_handler(self) -> logging.StreamHandler[Any] | None:
        logger, root = self.logger, logging.getLogger()
        if logger.handlers or logger.filters or not logger.propagate or logger.disabled:
            return None
        if len(root.handlers) != 1 or root.filters:
            return None
        handler = root.handlers[0]
        if (
            type(handler) is not logging.StreamHandler
            or not isinstance(handler.formatter, JsonFormatter)
            or handler.filters
            or handler.level > logging.INFO
        ):
            return None
        return handler


def configure_logging(level: str = "INFO") -> None:
    """Send every logger (ours, uvicorn's, the libraries') through the JSON formatter."""
    # Facts of a record the JSON lines never carry (thread, process, calling function):
    # not collecting them is a fifth of an access line's cost (logging HOWTO, "Optimization").
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our access-log middleware replaces uvicorn's (which would log query strings).
    logging.getLogger("uvicorn.access").disabled = True
    # jieba prints its dictionary loading at DEBUG/INFO to stderr by default.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    # httpx logs every request's URL at INFO: jscode2session's carries the mini-program's
    # AppSecret and the user's wx.login code (gateway/wechat.py).
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


# Latency buckets: operations (ms to s), and the gateway's own steps and its database
# calls, which take microseconds to milliseconds.
OPERATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
STEP_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
)
# Labels of client-chosen or open-ended values once the bound is reached.
UNKNOWN = "unknown"
OTHER = "other"


def build_version() -> str:
    try:
        return version("onestop")
    except PackageNotFoundError:  # a checkout on the path, not installed
        return "0+unknown"


class Metrics:
    """The gateway's Prometheus series, in a registry owned by one app instance.

    Every label value is bounded: operation names are those of the trusted documents and
    ``ONESTOP_KNOWN_OPERATIONS`` (anything else a client sends is ``unknown``), modules
    and routes are the composition's, database collections and commands are capped.
    """

    # Distinct MongoDB collection or command names labelled before the rest are "other"
    # (modules declare theirs; GridFS and the driver add a few).
    MAX_DATABASE_NAMES = 200

    def __init__(self, known_operations: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "onestop_http_requests_total",
            "HTTP requests by route and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "onestop_http_requests_in_flight",
            "HTTP requests being answered now (WebSockets while open)",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.operations = Counter(
            "onestop_graphql_operations_total",
            "GraphQL operations by operation name (known ones; else unknown or anonymous), "
            "owning module (of the first root field) and type",
            ["operation", "module", "type"],
            registry=self.registry,
        )
        self.operation_latency = Histogram(
            "onestop_graphql_operation_duration_seconds",
            "GraphQL operation latency by operation name and module",
            ["operation", "module"],
            buckets=OPERATION_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "onestop_graphql_errors_total",
            "GraphQL errors by operation name, module and error code",
            ["operation", "module", "code"],
            registry=self.registry,
        )
        self.phases = Histogram(
            "onestop_graphql_phase_duration_seconds",
            "Time of each step of an operation: parse, validate (limits and validation, "
            "both cached per document), execute (resolvers and their I/O)",
            ["phase"],
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.overhead = Histogram(
            "onestop_gateway_overhead_seconds",
            "Time of a /graphql request outside executing its operations: HTTP, token "
            "check, rate limit, parse, validation, response cache, serialisation",
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.mongodb_commands = Histogram(
            "onestop_mongodb_command_duration_seconds",
            "MongoDB commands by command and collection (the _count is the number run)",
            ["command", "collection"],
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.redis_commands = Histogram(
            "onestop_redis_command_duration_seconds",
            "Redis calls (cache, rate limits, tokens, bus) by command",
            ["command"],
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.mongodb_pool = Gauge(
            "onestop_mongodb_pool_connections",
            "MongoDB connections of the workers' pools: in_use (checked out), idle",
            ["state"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.redis_pool = Gauge(
            "onestop_redis_pool_connections",
            "Redis connections of the workers' cache pools: in_use, idle",
            ["state"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.ready = Gauge(
            "onestop_ready",
            "1 when the last readiness check (MongoDB and Redis answer) passed, else 0",
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.build_info = Gauge(
            "onestop_build_info",
            "Always 1; the labels say which build runs",
            ["version", "revision", "python"],
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.db_commands = Histogram(
            "onestop_db_commands_per_operation",
            "MongoDB commands issued while executing one GraphQL operation",
            buckets=(0, 1, 2, 3, 5, 8, 13, 21, 50),
            registry=self.registry,
        )
        self.document_validations = Counter(
            "onestop_graphql_document_validations_total",
            "Runs of graphql-core validation; a document seen before is not validated again",
            registry=self.registry,
        )
        self.document_refusals = Counter(
            "onestop_graphql_document_refusals_total",
            "Documents refused before validation, by the limit they broke",
            ["limit"],
            registry=self.registry,
        )
        self.operation_cost = Histogram(
            "onestop_graphql_operation_cost",
            "Estimated cost of each operation admitted or refused (README: Query cost)",
            ["operation"],
            buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 3000, 10_000),
            registry=self.registry,
        )
        self.cost_limit_warnings = Counter(
            "onestop_graphql_cost_limit_warnings_total",
            "Operations over the cost limit that ran because the limit is in warn mode",
            registry=self.registry,
        )
        self.response_cache = Counter(
            "onestop_response_cache_total",
            "Response cache: hit (served without executing), miss (executed, then kept)",
            ["result"],
            registry=self.registry,
        )
        self.subscriptions_active = Gauge(
            "onestop_subscriptions_active",
            "Subscriptions listening now (sockets and SSE streams), by event topic",
            ["topic"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.rate_limited = Counter(
            "onestop_rate_limited_total",
            "Requests refused by the request rate limit, by bucket kind (principal, address)",
            ["kind"],
            registry=self.registry,
        )
        self.persisted_queries = Counter(
            "onestop_graphql_persisted_queries_total",
            "Requests naming a persisted query, by outcome: trusted (manifest), hit, miss, "
            "registered, refused (hash mismatch, version, not allowed)",
            ["outcome"],
            registry=self.registry,
        )
        self.modules_loaded = Gauge(
            "onestop_modules_loaded",
            "Modules composed into the schema",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.gc_frozen_objects = Gauge(
            "onestop_gc_frozen_objects",
            "Objects built at start-up and frozen out of the garbage collector's full "
            "collections (gc.freeze), the fewest of any worker; 0 means every full "
            "collection walks them again",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.known_operations = frozenset(known_operations)
        # (operation type, root field) -> the module that owns it (set_modules).
        self._field_modules: dict[tuple[str, str], str] = {}
        self._database_names: set[str] = set()
        # Labelled children by (series, label values): labels() takes a lock and builds a
        # key on every call (~0.8 µs), several times per request. Bounded with the labels.
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def child(self, series: Counter | Histogram | Gauge, *values: str) -> Any:
        """``series.labels(*values)`` (the series itself when it has no labels), remembered."""
        key = (id(series), values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = series.labels(*values) if values else series
        return found

    def start_at_zero(self, topics: Iterable[str]) -> None:
        """The series whose label values are known in advance, at 0 from the start, so
        that they are scraped (and ``rate()`` works) before their first event."""
        for result in ("hit", "miss"):
            self.child(self.response_cache, result)
        for kind in ("principal", "address"):
            self.child(self.rate_limited, kind)
        for outcome in ("trusted", "hit", "miss", "registered", "refused"):
            self.child(self.persisted_queries, outcome)
        for topic in topics:
            self.child(self.subscriptions_active, topic)

    def add_known_operations(self, names: Iterable[str]) -> None:
        """Count these operation names under their own label too (trusted documents)."""
        self.known_operations = self.known_operations | frozenset(names)

    def set_modules(self, fields: Mapping[tuple[str, str], str]) -> None:
        """Which module owns each root field: ``(operation type, field) -> module``."""
        self._field_modules = dict(fields)

    def module_of(self, operation_type: str, root_field: str | None) -> str:
        """The module label of an operation whose first root field is ``root_field``."""
        if root_field is None:
            return UNKNOWN
        if root_field.startswith("__"):
            return "gateway"  # introspection and __typename: the core answers them
        return self._field_modules.get((operation_type, root_field), UNKNOWN)

    def record_operation(
        self,
        name: str | None,
        module: str,
        operation_type: str,
        seconds: float,
        db_commands: int,
        error_codes: Iterable[str],
    ) -> None:
        """One operation's series: count, latency, database commands, errors by code."""
        label = self.operation_label(name)
        self.child(self.operations, label, module, operation_type).inc()
        self.child(self.operation_latency, label, module).observe(seconds)
        self.db_commands.observe(db_commands)
        for code in error_codes:
            self.child(self.errors, label, module, code).inc()

    def operation_label(self, name: str | None) -> str:
        """The name when it is a known operation; ``anonymous`` without one, else
        ``unknown``: names are the client's choice, so only a list fixed at start may
        become label values (no client can add a series)."""
        if not name:
            return "anonymous"
        return name if name in self.known_operations else UNKNOWN

    def database_label(self, name: str) -> str:
        """A MongoDB collection or command name as a label, within MAX_DATABASE_NAMES."""
        if name in self._database_names:
            return name
        if len(self._database_names) >= self.MAX_DATABASE_NAMES:
            return OTHER
        self._database_names.add(name)
        return name

    def set_build_info(self, revision: str | None) -> None:
        self.build_info.labels(build_version(), revision or UNKNOWN, platform.python_version()).set(
            1
        )
