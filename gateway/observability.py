"""Structured JSON logs with a request id, PII scrubbing, and the Prometheus metrics.

Personal data must never reach a log line. Besides not logging variables, the
formatter scrubs anything shaped like a mainland mobile number or a resident ID
number, and the value of an ``openid``/``unionid`` key, so an exception message
quoting a document cannot leak one either.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any, cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "AccessLog",
    "Metrics",
    "configure_logging",
    "current_request_id",
    "request_id_var",
    "scrub",
]

request_id_var: ContextVar[str | None] = ContextVar("onestop_request_id", default=None)

# 18-digit resident IDs (last char may be X) and 11-digit mobiles, not inside longer digit runs.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


# Both need a run of at least 11 digits: one search rules most lines out at once.
_LONG_DIGITS = re.compile(r"\d{11}")
# WeChat ids have no shape of their own (letters, digits, - and _), so they are masked by
# the key in front of them, as a duplicate-key error or a document's repr quotes them:
# `openid: "oAbc…"`, `'unionid': 'uAbc…'`. Both keys contain "nid", a cheap first test.
_WECHAT_ID = re.compile(
    r"""((?:open|union)id['"]?\s*[:=]\s*['"]?)([A-Za-z0-9_-]{1,4})[A-Za-z0-9_-]*"""
)


def scrub(text: str) -> str:
    """Mask resident ID numbers, mobile numbers and WeChat openids/unionids in free text."""
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


class Metrics:
    """The gateway's Prometheus series, in a registry owned by one app instance."""

    # Operation names come from clients; cap them so a hostile client cannot
    # explode the label cardinality.
    MAX_OPERATION_NAMES = 500
    _OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "onestop_http_requests_total",
            "HTTP requests by route and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.operations = Counter(
            "onestop_graphql_operations_total",
            "GraphQL operations by operation name and type",
            ["operation", "type"],
            registry=self.registry,
        )
        self.operation_latency = Histogram(
            "onestop_graphql_operation_duration_seconds",
            "GraphQL operation latency by operation name",
            ["operation"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.errors = Counter(
            "onestop_graphql_errors_total",
            "GraphQL errors by operation name and error code",
            ["operation", "code"],
            registry=self.registry,
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
            "onestop_modules_loaded", "Modules composed into the schema", registry=self.registry
        )
        self.gc_frozen_objects = Gauge(
            "onestop_gc_frozen_objects",
            "Objects built at start-up and frozen out of the garbage collector's full "
            "collections (gc.freeze); 0 means every full collection walks them again",
            registry=self.registry,
        )
        self._seen_operations: set[str] = set()
        # Labelled children by (series, label values): labels() takes a lock and builds a
        # key on every call (~0.8 µs), several times per request. Bounded with the labels.
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def child(self, series: Counter | Histogram | Gauge, *values: str) -> Any:
        """``series.labels(*values)``, remembered."""
        key = (id(series), values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = series.labels(*values)
        return found

    def record_operation(
        self,
        name: str | None,
        operation_type: str,
        seconds: float,
        db_commands: int,
        error_codes: Iterable[str],
    ) -> None:
        """One operation's series: count, latency, database commands, errors by code."""
        label = self.operation_label(name)
        self.child(self.operations, label, operation_type).inc()
        self.child(self.operation_latency, label).observe(seconds)
        self.db_commands.observe(db_commands)
        for code in error_codes:
            self.child(self.errors, label, code).inc()

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._seen_operations:
            return name
        if not self._OPERATION_NAME.match(name) or len(self._seen_operations) >= (
            self.MAX_OPERATION_NAMES
        ):
            return "other"
        self._seen_operations.add(name)
        return name
