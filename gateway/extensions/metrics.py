"""Count and time operations by name, count errors by code and database commands."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from gateway.extensions.errors import error_codes
from gateway.mongo import CommandCounter, command_counter
from gateway.observability import UNKNOWN, Metrics

__all__ = [
    "DB_COMMANDS_DEBUG",
    "DEBUG_HEADER",
    "OperationMetricsRecorder",
    "db_commands_extension",
    "root_field",
]

DEBUG_HEADER = "x-onestop-debug"  # asks for execution details (never a cached answer)
DB_COMMANDS_DEBUG = "db-commands"  # X-OneStop-Debug value asking for extensions.dbCommands


def db_commands_extension(expose: bool, context: Any, count: int) -> dict[str, Any]:
    """``{"dbCommands": n}`` when exposed (development) and the request asks for it."""
    if not expose:
        return {}
    headers = getattr(getattr(context, "request", None), "headers", None) or {}
    return {"dbCommands": count} if headers.get(DEBUG_HEADER) == DB_COMMANDS_DEBUG else {}


def root_field(document: DocumentNode, definition: OperationDefinitionNode) -> str | None:
    """The name of the operation's first root field (through fragments), which names the
    module the operation is counted under."""
    selections = definition.selection_set.selections
    while selections:
        first = selections[0]
        if isinstance(first, FieldNode):
            return first.name.value
        if isinstance(first, InlineFragmentNode):
            selections = first.selection_set.selections
        elif isinstance(first, FragmentSpreadNode):
            fragment = next(
                (
                    d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode) and d.name.value == first.name.value
                ),
                None,
            )
            if fragment is None:
                return None
            selections = fragment.selection_set.selections
        else:
            return None
    return None


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
        module = UNKNOWN
        try:
            operation_type = context.operation_type.value
        except Exception:  # no parsable document: nothing to name
            operation_type = "unknown"
        document = context.graphql_document
        if document is not None and operation_type != "unknown":
            definition = get_operation_ast(document, context.operation_name)
            if definition is not None:
                module = self.metrics.module_of(operation_type, root_field(document, definition))
        self.metrics.record_operation(
            context.operation_name,
            module,
            operation_type,
            time.perf_counter() - started,
            self._counter.count,
            error_codes(getattr(context.result, "errors", None)),
        )

    def get_results(self) -> dict[str, Any]:
        return db_commands_extension(
            self.expose_db_commands, self.execution_context.context, self._counter.count
        )
