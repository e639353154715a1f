"""Count and time operations by name, count errors by code and database commands."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from gateway.extensions.errors import classify
from gateway.mongo import CommandCounter, command_counter
from gateway.observability import Metrics

__all__ = ["OperationMetricsRecorder"]


class OperationMetricsRecorder(SchemaExtension):
    """Prometheus series per operation; optionally report DB commands in the response.

    With ``expose_db_commands`` (development only) a request sending the header
    ``X-OneStop-Debug: db-commands`` gets ``extensions.dbCommands`` — how many
    MongoDB commands the operation cost — which is how tests prove batching.
    """

    def __init__(self, *, metrics: Metrics, expose_db_commands: bool = False) -> None:
        self.metrics = metrics
        self.expose_db_commands = expose_db_commands
        self._counter = CommandCounter()

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        token = command_counter.set(self._counter)
        try:
            yield
        finally:
            command_counter.reset(token)
        context = self.execution_context
        label = self.metrics.operation_label(context.operation_name)
        try:
            operation_type = context.operation_type.value
        except Exception:  # no parsable document: nothing to name
            operation_type = "unknown"
        self.metrics.operations.labels(label, operation_type).inc()
        self.metrics.operation_latency.labels(label).observe(time.perf_counter() - started)
        self.metrics.db_commands.observe(self._counter.count)
        for error in getattr(context.result, "errors", None) or ():
            code = (error.extensions or {}).get("code") or classify(error)[0].value
            self.metrics.errors.labels(label, code).inc()

    def get_results(self) -> dict[str, Any]:
        if not self.expose_db_commands:
            return {}
        request = getattr(self.execution_context.context, "request", None)
        headers = getattr(request, "headers", {})
        if headers.get("x-onestop-debug") == "db-commands":
            return {"dbCommands": self._counter.count}
        return {}
