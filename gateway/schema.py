"""Build the strawberry schema from a composition, with the gateway's extensions."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from contextlib import aclosing
from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, specified_rules
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.cache_policy import CachePolicies
from gateway.config import Settings
from gateway.core_module import core_module
from gateway.execution import OperationRunner
from gateway.extensions import ErrorCodeMapper, OperationMetricsRecorder, document_limits
from gateway.extensions.cost import CostAnalyzer
from gateway.extensions.errors import ErrorMapping
from gateway.extensions.limits import DocumentLimits, GuardState
from gateway.input_strings import string_literal_rule
from gateway.observability import Metrics
from gateway.permissions import declared_requirements
from gateway.registry import Composition, CompositionError, Module, compose
from gateway.uploads.schema import SCALARS, uploads_module

__all__ = ["OneStopSchema", "build_schema", "compose_with_core", "schema_sdl"]


class OneStopSchema(strawberry.Schema):
    # The document guard's shared state (limits, cost analyzer, validation cache).
    guard: GuardState
    # The modules' cache hints as policies per document (Cache-Control, response cache).
    cache_policies: CachePolicies

    # Every validation rule in one tuple per schema, so cached validations keep hitting:
    # graphql-core's, input strings' literals (graphql_view checks the variables) and, when
    # introspection is off, NoSchemaIntrospectionCustomRule. Not strawberry's
    # DisableIntrospection: it builds a new tuple per request, and under load the document
    # cache missed (42 validations in 100 concurrent identical requests).
    max_string_length: int = 10_000
    validation_rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)

    def set_validation_rules(self, *, max_string_length: int, introspection: bool) -> None:
        self.max_string_length = max_string_length
        hidden = () if introspection else (NoSchemaIntrospectionCustomRule,)
        self.validation_rules = (
            *specified_rules,
            string_literal_rule(max_string_length),
            *hidden,
        )

    # Queries and mutations run by the one-pass runner (gateway/execution.py); set by
    # build_schema. strawberry's own paths (subscriptions) keep the extensions.
    runner: OperationRunner

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
        return await self.runner.execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    # Set by build_schema: the codes and masking every error gets.
    error_mapping: ErrorMapping

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """strawberry's streaming path (subscriptions over a socket or SSE), with codes on
        the errors it makes before execution (validation, variables), which the error
        mapping extension does not see there."""
        results: Any = await super().stream(*args, **kwargs)

        async def coded() -> AsyncGenerator[Any, None]:
            async with aclosing(results):
                async for result in results:
                    errors = getattr(result, "errors", None)
                    if errors and any("code" not in (e.extensions or {}) for e in errors):
                        result.errors = [
                            e if "code" in (e.extensions or {}) else self.error_mapping.process(e)
                            for e in errors
                        ]
                    yield result

        return coded()

    def _create_execution_context(self, *args: Any, **kwargs: Any) -> ExecutionContext:
        context = super()._create_execution_context(*args, **kwargs)
        context.validation_rules = self.validation_rules
        return context

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodeMapper logs the unexpected errors with the request id; strawberry's
        # default would log every user error (wrong code, not found…) as a traceback.
        return None


def compose_with_core(modules: Sequence[Module]) -> Composition:
    """The gateway's own parts first, then the modules, so clashes name the module."""
    return compose([core_module, uploads_module, *modules])


def build_schema(
    composition: Composition,
    settings: Settings,
    metrics: Metrics | None = None,
) -> OneStopSchema:
    """The executable schema; fails if a field requires a permission nobody declares."""
    # Factories: strawberry builds a fresh extension per operation.
    extensions: list[Callable[[], SchemaExtension]] = []
    if metrics is not None:
        # Outermost, so the metrics see the codes the mapper assigned.
        extensions.append(
            partial(OperationMetricsRecorder, metrics=metrics, expose_db_commands=settings.is_dev)
        )
    # Suggestions ("Did you mean 'name'?") reveal the schema exactly when
    # introspection is meant to hide it.
    hide_suggestions = not settings.introspection_enabled
    errors = ErrorMapping(mask_internal=not settings.is_dev, hide_suggestions=hide_suggestions)
    extensions.append(partial(ErrorCodeMapper, mapping=errors))
    guard = GuardState(
        DocumentLimits(
            max_tokens=settings.max_tokens,
            max_chars=settings.max_document_chars,
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_cost=settings.max_query_cost,
            max_fields=settings.max_tokens,
            hide_suggestions=hide_suggestions,
            cost_mode=settings.cost_limit_mode,
        ),
        metrics,
    )
    extensions.extend(document_limits(settings, guard))
    schema = OneStopSchema(
        query=composition.query,
        mutation=composition.mutation,
        subscription=composition.subscription,
        types=list(composition.types),
        extensions=extensions,
        # Not sort_schema=True: strawberry's sorted copy cannot print enum default values.
        config=StrawberryConfig(scalar_map=SCALARS),
    )
    schema.error_mapping = errors
    guard.analyzer = CostAnalyzer(
        schema._schema, composition.cost_hints, max_page_size=settings.max_page_size
    )
    schema.guard = guard
    schema.runner = OperationRunner(
        schema, errors=errors, metrics=metrics, expose_db_commands=settings.is_dev
    )
    unknown_hints = [c for c in composition.cost_hints if not _has_coordinate(schema, c)]
    unknown_hints += [
        c
        for c in composition.cache_hints
        if not (_has_coordinate(schema, c) or ("." not in c and schema._schema.get_type(c)))
    ]
    if unknown_hints:
        raise CompositionError("hints for unknown fields: " + ", ".join(unknown_hints))
    schema.cache_policies = CachePolicies(
        schema._schema,
        composition.cache_hints,
        (coordinate for coordinate, _ in declared_requirements(schema)),
    )
    schema.set_validation_rules(
        max_string_length=settings.max_string_length,
        introspection=settings.introspection_enabled,
    )
    unknown = [
        f"{coordinate} requires {permission!r}"
        for coordinate, permission in declared_requirements(schema)
        if permission not in composition.permissions
    ]
    if unknown:
        raise CompositionError("undeclared permissions: " + "; ".join(unknown))
    return schema


def _has_coordinate(schema: strawberry.Schema, coordinate: str) -> bool:
    type_name, _, field_name = coordinate.partition(".")
    graphql_type = schema._schema.get_type(type_name)
    return field_name in (getattr(graphql_type, "fields", None) or {})


def schema_sdl(schema: strawberry.Schema) -> str:
    """The SDL written to ``schema.graphql``."""
    text: Any = schema.as_str()
    return str(text).rstrip("\n") + "\n"
