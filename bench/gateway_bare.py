"""OneStop without its limits, metrics and access log: the "off" side of an overhead ratio.

``bench/gateway.py`` runs this next to OneStop as configured for production (limits,
metrics, the INFO access log) to measure what those three cost together (target: at
most 10%). Everything else is OneStop's own code path: the view, the middleware, the
lean runner, validation (GraphQL itself, not a limit; cached per document either way),
error codes. Only for measuring, never for serving:

* limits — the request rate limit (``ONESTOP_RATE_LIMIT=false``, set by the benchmark),
  the HTTP checks of each request's members (``check_request``) and the guard's admission
  (token, depth, alias, field, cost limits of the document's shape) are skipped; the
  document is still validated (from the validation cache);
* metrics — every series is a no-op (the HTTP and operation counters, histograms, the
  in-flight gauge, the steps' and the database calls' times);
* logging — ``ONESTOP_LOG_LEVEL=WARNING`` (set by the benchmark), so no access line.

    python bench/gateway_bare.py serve --port PORT
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]  # the checkout first, as in gateway_reference.py

from graphql import DocumentNode, GraphQLError  # noqa: E402

import gateway.graphql_view  # noqa: E402
from gateway.cli import main  # noqa: E402
from gateway.extensions.limits import GuardState  # noqa: E402
from gateway.observability import Metrics  # noqa: E402


class _NoSeries:
    """A metric child that records nothing."""

    def inc(self, amount: float = 1) -> None:
        pass

    def observe(self, amount: float) -> None:
        pass

    def dec(self, amount: float = 1) -> None:
        pass


_NO_SERIES = _NoSeries()


def _validate_only(
    self: GuardState,
    query: str,
    document: DocumentNode,
    operation: str | None,
    variables: Any,
    rules: tuple[Any, ...],
    max_cost: int | None = None,
) -> list[GraphQLError]:
    return self.validate(query, document, rules)


def _skip(*args: Any, **kwargs: Any) -> None:
    pass


def _no_series(self: Metrics, series: Any, *values: str) -> _NoSeries:
    return _NO_SERIES


def strip() -> None:
    GuardState.check = _validate_only  # type: ignore[method-assign]
    setattr(gateway.graphql_view, "check_request", _skip)  # noqa: B010 (not exported)
    Metrics.child = _no_series  # type: ignore[method-assign]
    Metrics.record_operation = _skip  # type: ignore[method-assign]


if __name__ == "__main__":
    strip()
    sys.exit(main(sys.argv[1:]))
