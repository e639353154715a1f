"""One query or mutation, run in a single pass: guard, execute, error codes, metrics.

strawberry's ``Schema.execute`` drives every step through its extension runner: per
request it builds each extension, wraps each of their hooks in a context manager
(``contextlib.contextmanager`` → ``functools.update_wrapper``) and enters four exit
stacks. Profiled under ``{ __typename }`` load that machinery was ~14% of the CPU and
``Schema.execute`` 45% in all, three times graphql-core's own ``execute``.
:class:`OperationRunner` does the same steps as plain calls:

1. the document from the guard's cache (:meth:`GuardState.parse`: token count, parse);
2. the operation and its type, as strawberry finds them (first operation unless named;
   a type the transport does not allow raises strawberry's own exception, which its
   view answers with HTTP 400/405);
3. the limits and validation (:meth:`GuardState.check`, cached per document);
4. graphql-core's ``execute`` with strawberry's execution context class;
5. error codes (:class:`ErrorMapping`) and the operation's metrics: its count, latency
   and errors by name and module, each step's time (parse, validate, execute), and the
   request's record (the access line, the gateway's overhead); with tracing on, a span
   for the operation and one per root field.

The schema keeps the equivalent extensions (``DocumentGuard``, ``ErrorCodeMapper``,
``OperationMetricsRecorder``) for the operations strawberry runs itself (over
WebSocket); both paths call the same objects, so the rules are defined once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, execute
from strawberry.exceptions import MissingQueryError
from strawberry.execution import optimized_is_awaitable
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.extensions.errors import ErrorMapping, error_codes
from gateway.extensions.limits import GuardState
from gateway.extensions.metrics import db_commands_extension, root_field
from gateway.mongo import CommandCounter, command_counter
from gateway.observability import UNKNOWN, Metrics, request_record_var
from gateway.tracing import Tracing

if TYPE_CHECKING:
    from gateway.schema import OneStopSchema

__all__ = ["OperationRunner", "operation_definition"]


def operation_definition(
    document: DocumentNode, name: str | None
) -> OperationDefinitionNode | None:
    """The operation to run: the one named, else the first (strawberry's rule)."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name is not None and definition.name.value == name)
        ):
            return definition
    return None


# strawberry's quicker test (typed as returning bool, not graphql-core's TypeGuard).
_IS_AWAITABLE: Any = optimized_is_awaitable


class OperationRunner:
    """Runs queries and mutations for :meth:`OneStopSchema.execute`.

    Example:
        runner = OperationRunner(schema, errors=ErrorMapping(mask_internal=True))
        result = await runner.execute("{ __typename }", context_value=context)
    """

    def __init__(
        self,
        schema: OneStopSchema,
        *,
        errors: ErrorMapping,
        metrics: Metrics | None = None,
        expose_db_commands: bool = False,
        tracing: Tracing | None = None,
    ) -> None:
        self.schema = schema
        self.errors = errors
        self.metrics = metrics
        self.expose_db_commands = expose_db_commands
        self.tracing = tracing  # set by create_app when tracing is on

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """As strawberry's ``Schema.execute``: the same arguments, result and exceptions.

        Raises:
            MissingQueryError: no document.
            CannotGetOperationTypeError: no operation of that name.
            InvalidOperationTypeError: a type ``allowed_operation_types`` excludes.
        """
        if not query:
            raise MissingQueryError
        started = time.perf_counter()
        counter = CommandCounter()
        token = command_counter.set(counter)
        operation_type = "unknown"
        module = UNKNOWN
        steps = _Steps()
        try:
            document = self.guard.parse(query)
            steps.parse = time.perf_counter() - started
            if isinstance(document, GraphQLError):
                result = ExecutionResult(data=None, errors=[document])
            else:
                definition = operation_definition(document, operation_name)
                if definition is None:
                    raise CannotGetOperationTypeError(operation_name)
                if operation_name is None and definition.name is not None:
                    operation_name = definition.name.value  # named in metrics and logs
                kind = OperationType(definition.operation.value)
                if kind not in (allowed_operation_types or OperationType):
                    raise InvalidOperationTypeError(kind)
                operation_type = kind.value
                if self.metrics is not None:
                    first = root_field(document, definition)
                    module = self.metrics.module_of(operation_type, first)
                run = (
                    query,
                    document,
                    operation_name,
                    variable_values,
                    context_value,
                    root_value,
                    operation_extensions,
                    steps,
                )
                if self.tracing is None:
                    result = await self._checked_run(*run)
                else:
                    with self.tracing.operation(operation_type, operation_name) as span:
                        recorded = span.is_recording()
                        middleware = self.tracing.root_fields() if recorded else None
                        result = await self._checked_run(*run, middleware)
        finally:
            command_counter.reset(token)
        if result.errors:
            result.errors = [self.errors.process(error) for error in result.errors]
        codes = error_codes(result.errors)
        if self.metrics is not None:
            self.metrics.record_operation(
                operation_name,
                module,
                operation_type,
                time.perf_counter() - started,
                counter.count,
                codes,
            )
            steps.record(self.metrics)
        record = request_record_var.get()
        if record is not None:
            record.add(operation_name, codes, steps.execute or 0.0)
        result.extensions = db_commands_extension(
            self.expose_db_commands, context_value, counter.count
        )
        return result

    @property
    def guard(self) -> GuardState:
        return self.schema.guard

    async def _checked_run(
        self,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        context: Any,
        root_value: Any,
        operation_extensions: dict[str, Any] | None,
        steps: _Steps,
        middleware: list[Any] | None = None,
    ) -> ExecutionResult:
        started = time.perf_counter()
        refused = self.guard.check(
            query,
            document,
            operation_name,
            variables,
            self.schema.validation_rules,
            # A trusted client's budget for its manifest document (graphql_view).
            getattr(context, "max_cost", None),
        )
        validated = time.perf_counter()
        steps.validate = validated - started
        if refused:
            return ExecutionResult(data=None, errors=refused)
        try:
            outcome = execute(
                self.schema._schema,
                document,
                root_value=root_value,
                context_value=context,
                variable_values=dict(variables) if variables is not None else None,
                operation_name=operation_name,
                **execution_context_class_kwargs(self.schema.execution_context_class),
                is_awaitable=_IS_AWAITABLE,
                operation_extensions=operation_extensions,
                middleware=middleware,
            )
            if isawaitable(outcome):
                outcome = await outcome
        except Exception as exc:
            return ExecutionResult(data=None, errors=[GraphQLError(str(exc), original_error=exc)])
        finally:
            steps.execute = time.perf_counter() - validated
        return ExecutionResult(data=outcome.data, errors=outcome.errors)


class _Steps:
    """How long each step of one operation took (None: it did not run)."""

    __slots__ = ("execute", "parse", "validate")

    def __init__(self) -> None:
        self.parse: float | None = None
        self.validate: float | None = None
        self.execute: float | None = None

    def record(self, metrics: Metrics) -> None:
        for phase in ("parse", "validate", "execute"):
            seconds = getattr(self, phase)
            if seconds is not None:
                metrics.child(metrics.phases, phase).observe(seconds)
