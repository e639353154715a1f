"""Document limits that reject abusive queries before anything executes, and caches.

:class:`DocumentGuard` owns the whole pre-execution path of a request:

1. a token count by one regular expression (C speed) refuses an oversized
   document before graphql-core's pure-Python lexer sees it (~12 µs a token);
2. parsing, cached per document text — failures too, so a bad document sent
   again costs nothing and is never parsed twice in one request;
3. depth, aliases, fields, duplicates and cost from the linear walk of
   :mod:`gateway.extensions.cost`, so an abusive document never reaches the
   super-linear validation rules;
4. graphql-core validation, cached per document text.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from graphql import DocumentNode, GraphQLError, parse, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from gateway.config import Settings
from gateway.errors import ErrorCode
from gateway.extensions.cost import CostAnalyzer, OperationShape
from gateway.observability import Metrics

__all__ = ["DocumentGuard", "DocumentLimits", "GuardState", "document_limits"]

log = logging.getLogger("onestop.limits")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# GraphQL's lexical tokens as graphql-core counts them: comments and commas are
# skipped, a string (block or plain) is one token. Characters it does not know
# are not counted, so the estimate never exceeds graphql-core's own count.
_TOKEN = re.compile(
    # Inside a string each alternative starts with a different character (no
    # backtracking), and the closing quote is optional: an unterminated string is
    # one token to the end of its line instead of a failed match that the engine
    # would retry from every later quote (quadratic on `"\"\"\…`).
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*(?:"""|$)'
    r'|"(?:\\.|[^"\\\n])*"?'
    r"|(?P<skip>#[^\n\r]*|,)"
    r"|[_A-Za-z][_0-9A-Za-z]*"
    r"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
    r"|\.\.\."
    r"|[!$&():=@\[\]{}|]"
)
# Stands in for a document refused before or at parsing: strawberry needs some
# document to read the operation type from; the guard reports the real error.
_REFUSED = parse("{ __typename }")


def count_tokens(text: str, limit: int) -> int:
    """Tokens in ``text``, counting no further than ``limit + 1``."""
    count = 0
    for match in _TOKEN.finditer(text):
        if match.lastgroup != "skip":
            count += 1
            if count > limit:
                break
    return count


class BoundedCache(Generic[K, V]):
    """A small LRU map; bounded so unique query texts cannot grow memory."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)


@dataclass(frozen=True)
class DocumentLimits:
    """The per-operation maxima, from settings."""

    max_tokens: int
    max_chars: int
    max_depth: int
    max_aliases: int
    max_cost: int
    # A document may not spread out to more field selections than it could spell
    # out within the token limit: beyond that, fragments are being used as an amplifier.
    max_fields: int
    hide_suggestions: bool
    # "warn": an operation over the cost limit runs and is logged and counted instead of
    # refused — for rolling a new limit out against real traffic. The other limits protect
    # the server itself (validation time, memory) and are always enforced.
    cost_mode: str = "enforce"
    # Measured: graphql-core compares such pairs at ~3 µs each (790 copies of
    # `me { id }` = 311,655 pairs took 0.93 s to validate). 1,000 pairs is ~3 ms,
    # far above what a hand-written document has.
    max_merge_pairs: int = 1000


class DocumentGuard(SchemaExtension):
    """Token limit, cached parse, limits from the linear walk, cached validation.

    One instance per request (strawberry's factory pattern); the analyzer and the
    caches are shared by all of them through ``state``.
    """

    def __init__(self, *, state: GuardState) -> None:
        self.state = state
        self._refusal: GraphQLError | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            parsed = self.state.parse(context.query)
            if isinstance(parsed, GraphQLError):
                self._refusal = parsed
                context.graphql_document = _REFUSED
            else:
                context.graphql_document = parsed
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if self._refusal is not None:
            context.pre_execution_errors = [self._refusal]
        elif document is not None and context.query is not None:
            context.pre_execution_errors = self.state.check(
                context.query,
                document,
                context.operation_name,
                context.variables,
                context.validation_rules,
                # A trusted client's budget for its manifest document (graphql_view).
                getattr(context.context, "max_cost", None),
            )
        yield


class GuardState:
    """What every request's :class:`DocumentGuard` shares: limits, analyzer, caches."""

    def __init__(
        self, limits: DocumentLimits, metrics: Metrics | None = None, maxsize: int = 1024
    ) -> None:
        self.limits = limits
        self.metrics = metrics
        self.analyzer: CostAnalyzer | None = None  # set once the schema exists
        # (query, operation) -> names of the variables its cost depends on
        self._cost_variables: BoundedCache[tuple[str, str | None], frozenset[str]] = BoundedCache(
            maxsize
        )
        self.shapes: BoundedCache[tuple[Any, ...], OperationShape] = BoundedCache(maxsize)
        self.documents: BoundedCache[str, DocumentNode | GraphQLError] = BoundedCache(maxsize)
        self.validations: BoundedCache[tuple[str, tuple[Any, ...]], list[GraphQLError]] = (
            BoundedCache(maxsize)
        )
        self.validation_runs = 0  # how often graphql-core validation actually ran

    def parse(self, query: str) -> DocumentNode | GraphQLError:
        """The document for ``query``, or the error refusing it (both cached)."""
        if len(query) > self.limits.max_chars:
            # Checked first (even counting tokens is linear in the text) and not
            # cached: a cache of megabyte keys would be a memory leak of its own.
            if self.metrics is not None:
                self.metrics.document_refusals.labels("characters").inc()
            return _limit_error(
                f"文档过长 (the document has more than {self.limits.max_chars} characters)",
                ErrorCode.GRAPHQL_PARSE_FAILED,
                "characters",
                len(query),
                self.limits.max_chars,
            )
        cached = self.documents.get(query)
        if cached is not None:
            return cached
        result: DocumentNode | GraphQLError
        if (tokens := count_tokens(query, self.limits.max_tokens)) > self.limits.max_tokens:
            result = _limit_error(
                f"文档过长 (the document has more than {self.limits.max_tokens} tokens)",
                ErrorCode.GRAPHQL_PARSE_FAILED,
                "tokens",
                tokens,
                self.limits.max_tokens,
            )
        else:
            try:
                result = parse(query, max_tokens=self.limits.max_tokens)
            except GraphQLError as error:
                result = GraphQLError(
                    error.message,
                    source=error.source,
                    positions=error.positions,
                    extensions={"code": ErrorCode.GRAPHQL_PARSE_FAILED.value},
                )
        if isinstance(result, GraphQLError) and self.metrics is not None:
            limit = (result.extensions or {}).get("limit", "syntax")
            self.metrics.document_refusals.labels(limit).inc()
        self.documents.put(query, result)
        return result

    def shape(
        self, query: str, document: Any, operation: str | None, variables: Any
    ) -> OperationShape:
        assert self.analyzer is not None, "GuardState.analyzer is set by build_schema"
        values = variables if isinstance(variables, dict) else {}
        names = self._cost_variables.get((query, operation))
        if names is not None:
            key = (query, operation, *(_cost_key(values.get(n)) for n in sorted(names)))
            cached = self.shapes.get(key)
            if cached is not None:
                return cached
        shape = self.analyzer.analyze(document, operation, values)
        self._cost_variables.put((query, operation), shape.cost_variables)
        key = (query, operation, *(_cost_key(values.get(n)) for n in sorted(shape.cost_variables)))
        self.shapes.put(key, shape)
        return shape

    def admit(
        self, shape: OperationShape, operation: str | None, max_cost: int | None = None
    ) -> GraphQLError | None:
        """The refusal of an operation, if any; its cost is recorded either way.

        ``max_cost`` replaces the cost limit for this operation (a trusted client's budget).
        In the cost limit's warn mode an operation over it is logged and counted but runs.
        """
        refusal = self.refusal(shape, max_cost)
        if self.metrics is not None:
            label = self.metrics.operation_label(operation)
            self.metrics.child(self.metrics.operation_cost, label).observe(shape.cost)
        if refusal is not None and self._only_warned(refusal):
            log.warning(
                "operation over the cost limit (warn mode: run anyway)",
                extra={
                    "operation": operation,
                    "cost": shape.cost,
                    "max": max_cost or self.limits.max_cost,
                },
            )
            if self.metrics is not None:
                self.metrics.cost_limit_warnings.inc()
            return None
        return refusal

    def check(
        self,
        query: str,
        document: DocumentNode,
        operation: str | None,
        variables: Any,
        rules: tuple[Any, ...],
        max_cost: int | None = None,
    ) -> list[GraphQLError]:
        """A parsed document's refusal by the limits, else its validation errors (cached)."""
        shape = self.shape(query, document, operation, variables)
        refusal = self.admit(shape, operation, max_cost)
        if refusal is not None:
            if self.metrics is not None:
                self.metrics.document_refusals.labels((refusal.extensions or {})["limit"]).inc()
            return [refusal]
        return self.validate(query, document, rules)

    def refuses(
        self, query: str, operation: str | None, variables: Any, max_cost: int | None = None
    ) -> bool:
        """Whether :meth:`parse` or :meth:`admit` would refuse the request (from the cached
        steps after the first time); asked before the response cache answers, so a
        request is refused or served the same whether or not a kept answer exists."""
        parsed = self.parse(query)
        if isinstance(parsed, GraphQLError):
            return True
        refusal = self.refusal(self.shape(query, parsed, operation, variables), max_cost)
        return refusal is not None and not self._only_warned(refusal)

    def _only_warned(self, refusal: GraphQLError) -> bool:
        return self.limits.cost_mode == "warn" and (refusal.extensions or {}).get("limit") == "cost"

    def refusal(self, shape: OperationShape, max_cost: int | None = None) -> GraphQLError | None:
        """The first limit ``shape`` breaks (the cost limit replaced by ``max_cost`` when
        given), as the error to answer with."""
        limits = self.limits
        for check in _SHAPE_CHECKS:
            value: int = getattr(shape, check.measure)
            maximum: int = getattr(limits, check.maximum)
            if max_cost is not None and check.maximum == "max_cost":
                maximum = max_cost
            if value > maximum:
                message = f"{check.message} ({check.measure} {_bounded(value)} > {maximum})"
                return _limit_error(message, check.code, check.limit, value, maximum)
        return None

    def validate(self, query: str, document: Any, rules: Any) -> list[GraphQLError]:
        # Keyed by the rules themselves, not their id(): a tuple built per request would
        # miss (and a freed one's id can be reused). The schema's tuple is one object, so
        # the comparison is an identity check.
        key = (query, rules)
        cached = self.validations.get(key)
        if cached is not None:
            return cached
        assert self.analyzer is not None
        self.validation_runs += 1
        if self.metrics is not None:
            self.metrics.document_validations.inc()
        errors = validate(
            self.analyzer.schema,
            document,
            (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
            hide_suggestions=self.limits.hide_suggestions,
        )
        self.validations.put(key, errors)
        return errors


@dataclass(frozen=True)
class _ShapeCheck:
    limit: str  # extensions.limit, as documented in README "Query cost"
    measure: str  # OperationShape attribute
    maximum: str  # DocumentLimits attribute
    code: ErrorCode
    message: str


# In this order: the first broken limit is the one reported.
_SHAPE_CHECKS = (
    _ShapeCheck(
        "depth",
        "depth",
        "max_depth",
        ErrorCode.GRAPHQL_VALIDATION_FAILED,
        "查询嵌套过深 (query too deep)",
    ),
    _ShapeCheck(
        "aliases",
        "aliases",
        "max_aliases",
        ErrorCode.GRAPHQL_VALIDATION_FAILED,
        "别名过多 (too many aliases)",
    ),
    _ShapeCheck(
        "fields",
        "fields",
        "max_fields",
        ErrorCode.QUERY_TOO_COMPLEX,
        "片段展开后字段过多 (too many field selections once fragments are spread in)",
    ),
    _ShapeCheck(
        "duplicates",
        "merge_pairs",
        "max_merge_pairs",
        ErrorCode.QUERY_TOO_COMPLEX,
        "重复字段过多 (fields or fragments repeated too often in one selection set)",
    ),
    _ShapeCheck(
        "cost",
        "cost",
        "max_cost",
        ErrorCode.QUERY_TOO_COMPLEX,
        "查询代价过高，请减少每页数量或嵌套列表 (query cost too high)",
    ),
)


def _cost_key(value: Any) -> str:
    """A variable's part of a cached shape's key: what the cost depends on.

    Page sizes are numbers; for a list of keys (``nodes(ids:)``) only its length
    counts, so a hundred different ids share one entry instead of a 50 kB key each.
    """
    return f"list of {len(value)}" if isinstance(value, list) else repr(value)


def _bounded(value: int) -> str:
    # Fan-out numbers can have dozens of digits; the message stays readable.
    return str(value) if value < 10**12 else f">{10**12:.0e}"


def _limit_error(
    message: str, code: ErrorCode, limit: str, value: int, maximum: int
) -> GraphQLError:
    return GraphQLError(
        message,
        extensions={
            "code": code.value,
            "limit": limit,
            "value": value if value < 2**53 else 2**53,  # still a JSON-safe number
            "maximum": maximum,
        },
    )


def document_limits(settings: Settings, state: GuardState) -> list[Callable[[], SchemaExtension]]:
    """The guard; a factory, since strawberry creates extensions per request."""
    return [partial(DocumentGuard, state=state)]
