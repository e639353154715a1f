"""OpenTelemetry traces: request → operation → root field → MongoDB and Redis calls.

Off unless the standard ``OTEL_*`` variables ask for it (:func:`tracing_requested`):
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``…_TRACES_ENDPOINT``) set, or ``OTEL_TRACES_EXPORTER``
``otlp``/``console``; ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` keep it
off. The exporter is OTLP over HTTP/protobuf and reads every ``OTEL_EXPORTER_OTLP_*``
variable itself; the sampler (``OTEL_TRACES_SAMPLER``, default parent-based always-on),
the batch processor (``OTEL_BSP_*``), the resource (``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``) and the propagators (``OTEL_PROPAGATORS``, default W3C
``traceparent`` and baggage) are the SDK's, configured the same way.

With tracing off nothing here runs on a request: the callers hold ``None`` instead of a
:class:`Tracing` and test it once. With it on, a request's span is the parent of its
operations' spans, each of those of its root fields' (resolver spans: one per root
field, not per nested field, which would cost more than most fields do), and every
MongoDB command or Redis call made under a recorded span is a client span of its own.
No span carries variables, documents or query values: names, types and codes only.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from inspect import isawaitable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from pymongo.monitoring import CommandStartedEvent

__all__ = [
    "CommandSpans",
    "Tracing",
    "configure_tracing",
    "tracing_requested",
]

SERVICE_NAME = "onestop-gateway"


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the ``OTEL_*`` variables ask for traces (off when none is set)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def _exporter(environ: Mapping[str, str]) -> SpanExporter:
    from gateway.config import ConfigError

    name = environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise ConfigError(f"OTEL_TRACES_EXPORTER: {name!r} is not supported (otlp, console, none)")
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol != "http/protobuf":
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} is not supported (http/protobuf; "
            "point it at the collector's OTLP/HTTP port, 4318)"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure_tracing(version: str, environ: Mapping[str, str] = os.environ) -> Tracing | None:
    """The process's tracing when the environment asks for it, else None.

    Called in each serving process (after uvicorn started its workers): the batch
    processor's export thread belongs to the process that records the spans.

    Raises:
        ConfigError: an exporter or protocol this gateway does not ship.
    """
    if not tracing_requested(environ):
        return None
    attributes: dict[str, Any] = {
        "service.version": version,
        "service.instance.id": f"{socket.gethostname()}:{os.getpid()}",
    }
    named = environ.get("OTEL_SERVICE_NAME") or "service.name=" in environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if not named:
        attributes["service.name"] = SERVICE_NAME
    provider = TracerProvider(resource=Resource.create(attributes), shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(_exporter(environ)))
    return Tracing(provider)


def trace_id_of(span: Span) -> str | None:
    """The span's trace id as in ``traceparent`` (32 hex digits), if it has one."""
    context = span.get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class Tracing:
    """The tracer and the spans the gateway makes with it."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("onestop.gateway")
        self.commands = CommandSpans(self.tracer)
        self._root_fields = RootFieldSpans(self.tracer)

    # -- request --------------------------------------------------------------------

    def start_request(
        self, headers: list[tuple[bytes, bytes]], method: str, route: str, kind: str
    ) -> tuple[Span, object]:
        """The request's server span, child of the caller's ``traceparent`` if any, made
        current. Returns the span and the token :meth:`end_request` detaches."""
        carrier = {key.decode("latin-1"): value.decode("latin-1") for key, value in headers}
        parent = propagate.extract(carrier)
        span = self.tracer.start_span(
            f"{method} {route}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "http.route": route,
                "network.protocol.name": kind,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return span, token

    @staticmethod
    def response_headers(span: Span) -> list[tuple[bytes, bytes]]:
        """``traceparent`` (and ``tracestate``) of the request's span, for the answer."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier, trace.set_span_in_context(span))
        return [(key.encode(), value.encode()) for key, value in carrier.items()]

    @staticmethod
    def end_request(span: Span, token: object, status: int) -> None:
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        otel_context.detach(token)  # type: ignore[arg-type]

    # -- operation and its root fields ------------------------------------------------

    @contextmanager
    def operation(self, operation_type: str, name: str | None) -> Iterator[Span]:
        """The span of one GraphQL operation (``query SearchItems``), current inside."""
        from gateway.observability import scrub  # the name is the client's: no PII in it

        label = scrub(name[:64]) if name else None
        attributes = {"graphql.operation.type": operation_type}
        if label:
            attributes["graphql.operation.name"] = label
        with self.tracer.start_as_current_span(
            f"{operation_type} {label}" if label else operation_type,
            attributes=attributes,
            record_exception=False,
        ) as span:
            yield span

    def root_fields(self) -> list[Any]:
        """graphql-core middleware spanning each root field's resolver (for a recorded
        operation only: the caller passes it then)."""
        return [self._root_fields]

    # -- Redis -----------------------------------------------------------------------

    def redis_call(self, command: str) -> Span | None:
        """A client span for one Redis call under a recorded span (else None); the
        caller ends it."""
        if not trace.get_current_span().is_recording():
            return None
        return self.tracer.start_span(
            f"redis {command}",
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": "redis", "db.operation.name": command},
        )

    def shutdown(self) -> None:
        """Export what is buffered, then stop the export thread."""
        self.provider.shutdown()


class RootFieldSpans:
    """graphql-core middleware (an object with ``resolve``: graphql-core takes plain
    functions or such objects, not bound methods) making each root field a span."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    def resolve(self, next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
        if info.path.prev is not None:  # nested: no span (they are many and mostly cheap)
            return next_(root, info, **args)
        return self._spanned(next_, root, info, args)

    async def _spanned(
        self, next_: Callable[..., Any], root: Any, info: Any, args: dict[str, Any]
    ) -> Any:
        # Started inside the coroutine: graphql-core runs root fields as tasks, so the
        # span must be current where the resolver's body (and its database calls) runs.
        with self.tracer.start_as_current_span(
            f"{info.parent_type.name}.{info.field_name}",
            attributes={
                "graphql.field.name": info.field_name,
                "graphql.field.parent_type": info.parent_type.name,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                result = next_(root, info, **args)
                if isawaitable(result):
                    result = await result
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            return result


class CommandSpans:
    """MongoDB commands as client spans, from the driver's command events."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer
        self._spans: dict[int, Span] = {}

    def start(self, event: CommandStartedEvent, collection: str) -> None:
        if not trace.get_current_span().is_recording():
            return  # background work (probes, bus handlers) outside any request's trace
        attributes: dict[str, Any] = {
            "db.system.name": "mongodb",
            "db.operation.name": event.command_name,
            "db.namespace": event.database_name,
        }
        if collection != "none":
            attributes["db.collection.name"] = collection
        address = event.connection_id
        if isinstance(address, tuple) and len(address) == 2:
            attributes["server.address"], attributes["server.port"] = address
        self._spans[event.request_id] = self.tracer.start_span(
            f"{event.command_name} {collection}", kind=SpanKind.CLIENT, attributes=attributes
        )

    def end(self, request_id: int, failure: Mapping[str, Any] | None) -> None:
        span = self._spans.pop(request_id, None)
        if span is None:
            return
        if failure is not None:
            span.set_status(Status(StatusCode.ERROR, str(failure.get("codeName", "failed"))))
        span.end()
