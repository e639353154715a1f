"""Document limits that reject abusive queries before anything executes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from gateway.config import Settings

__all__ = ["DocumentParserCache", "document_limits"]


class DocumentParserCache(ParserCache):
    """strawberry's ParserCache, but a syntax error stays inside the operation.

    The stock cache raises from its ``on_parse`` hook, outside strawberry's own
    error handling, so the error skips the operation hooks (no error code, no
    metrics). Leaving the document unset lets strawberry parse it again inside
    its handler and report the syntax error like any other.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLError:
            context.graphql_document = None
        yield


def document_limits(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Parser/validation caches plus depth, alias and token limits.

    The caches come first: a document seen before skips parsing and validation,
    which is most of strawberry's per-request overhead.
    """
    # Factories, not instances: strawberry creates extensions per request.
    return [
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(DocumentParserCache, maxsize=1024),
        partial(ValidationCache, maxsize=1024),
        partial(QueryDepthLimiter, max_depth=settings.max_query_depth),
        partial(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
    ]
