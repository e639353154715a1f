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
5. error codes (:class:`ErrorMapping`) and the operation's metrics.

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
from gateway.extensions.metrics import db_commands_extension
from gateway.mongo import CommandCounter, command_counter
from gateway.observability import Metrics

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
    ) -> None:
        self.schema = schema
        self.errors = errors
        self.metrics = metrics
        self.expose_db_commands = expose_db_commands

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
        try:
            document = self.guard.parse(query)
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
                result = await self._checked_run(
                    query,
                    document,
                    operation_name,
                    variable_values,
                    context_value,
                    root_value,
                    operation_extensions,
                )
        finally:
            command_counter.reset(token)
        if result.errors:
            result.errors = [self.errors.process(error) for error in result.errors]
        if self.metrics is not None:
            self.metrics.record_operation(
                operation_name,
                operation_type,
                time.perf_counter() - started,
                counter.count,
                error_codes(result.errors),
            )
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
    ) -> ExecutionResult:
        refused = self.guard.check(
            query,
            document,
            operation_name,
            variables,
            self.schema.validation_rules,
            # A trusted client's budget for its manifest document (graphql_view).
            getattr(context, "max_cost", None),
        )
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
            )
            if isawaitable(outcome):
                outcome = await outcome
        except Exception as exc:
            return ExecutionResult(data=None, errors=[GraphQLError(str(exc), original_error=exc)])
        return ExecutionResult(data=outcome.data, errors=outcome.errors)
