"""The ``/graphql`` endpoint: strawberry's ASGI view with our per-request context.

Everything that arrives over HTTP goes through :mod:`gateway.http_body` before
GraphQL sees it, and every answer — including strawberry's own refusals, which it
would send as plain text — is JSON in the GraphQL error shape with a stable code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import pymongo
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import DocumentNode, OperationType
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.types import QueryParams
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from gateway.auth import ANONYMOUS
from gateway.cache_policy import CachePolicy
from gateway.context import Context
from gateway.errors import UNAVAILABLE_RETRY_AFTER, ErrorCode
from gateway.execution import operation_definition
from gateway.extensions.errors import dependency_unavailable, error_codes
from gateway.extensions.metrics import DEBUG_HEADER
from gateway.extensions.persisted_queries import PersistedQueries
from gateway.http_body import (
    RequestRejected,
    check_request,
    decode_json_body,
    decode_json_object,
    encode_json,
    error_body,
)
from gateway.ide import GraphiQLPage
from gateway.idempotency import IDEMPOTENCY_HEADER, REPLAYED_HEADER, Claim, Idempotency, Replay
from gateway.observability import current_request_id
from gateway.response_cache import CacheableRequest, ResponseCache, cache_headers
from gateway.schema import OneStopSchema
from gateway.subscriptions import OneStopTransportWS, TextFrames, not_a_subscription
from gateway.uploads.multipart import (
    PREFLIGHT_HEADERS,
    UPLOAD_FORM,
    UploadRequestAdapter,
    is_multipart,
)

if TYPE_CHECKING:
    from gateway.schema import OneStopSchema

__all__ = ["GraphQLView"]

log = logging.getLogger("onestop.errors")

DEFAULT_MAX_STRING_LENGTH = 10_000
# Request scope state: the query text strawberry ran, its response-cache identity, and
# what the cache did with it.
EXECUTED_QUERY = "graphql_query"
CACHEABLE = "cacheable"
CACHE_OUTCOME = "cache_outcome"
# Set while the operations of a batch run (they bypass the response cache).
IN_BATCH = "in_batch"


class _ServedFromCache(Exception):
    """A kept response answers the request: unwinds strawberry's run to the view."""

    def __init__(self, body: bytes) -> None:
        super().__init__("served from the response cache")
        self.body = body


# GraphQL over HTTP's own media type, for clients that ask for it (accepts_graphql_response).
GRAPHQL_RESPONSE_MEDIA_TYPE = "application/graphql-response+json; charset=utf-8"


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = OneStopTransportWS
    websocket_adapter_class = TextFrames
    # Seconds between the server's pings on a socket (ONESTOP_WS_KEEPALIVE_SECONDS).
    keepalive_seconds: float = 15.0
    # Set by create_app: turns `extensions.persistedQuery` into the document.
    persisted_queries: PersistedQueries | None = None
    # Set by create_app (ONESTOP_MAX_BATCH_OPERATIONS): operations one batch may hold.
    max_batch_operations: int = 10
    # Set by create_app (ONESTOP_REQUEST_DEADLINE_MS): what one request's database calls
    # may take together, so a stalled database is a 503 within it, whatever the resolvers do.
    deadline_seconds: float | None = None
    # Set by create_app when GraphiQL is on: our self-contained page instead of
    # strawberry's, which loads everything from a CDN.
    graphiql: GraphiQLPage | None = None
    # Multipart bodies (file uploads) read within the upload limits.
    request_adapter_class = UploadRequestAdapter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if self.persisted_queries is not None and self.persisted_queries.restricts(
                Headers(scope=scope)
            ):
                # graphql-transport-ws carries no persisted-query extension: a client
                # held to the trusted manifest could send any document over a socket.
                await WebSocket(scope, receive, send).close(code=4403)
                return
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self._answer(request)
        finally:
            form = scope.get("state", {}).pop(UPLOAD_FORM, None)
            if form is not None:
                await form.close()  # the spooled files
        json_answer = (response.media_type or "").startswith("application/json")
        if json_answer and accepts_graphql_response(request.headers):  # not GraphiQL, a stream
            response.headers["content-type"] = GRAPHQL_RESPONSE_MEDIA_TYPE
        state = request.scope.get("state", {})
        cached: CacheableRequest | None = state.get(CACHEABLE)
        responses = self._responses(request)
        policy, outcome = None, state.get(CACHE_OUTCOME)
        if responses is not None and cached is not None and outcome is None:
            policy = await self._learn(responses, cached, request)
            if policy is not None and await responses.keep(cached, policy, response):
                outcome = "miss"
        elif responses is not None and cached is not None:
            policy = responses.policy(cached)
        cache_headers(response, policy, outcome)
        await response(scope, receive, send)

    @staticmethod
    def _responses(request: Request) -> ResponseCache | None:
        responses: ResponseCache | None = getattr(request.app.state, "responses", None)
        return responses

    async def _learn(
        self, responses: ResponseCache, cacheable: CacheableRequest, request: Request
    ) -> CachePolicy | None:
        """The cache policy of the document just executed (parsed once, from the guard)."""
        query = request.scope.get("state", {}).get(EXECUTED_QUERY)
        guard = cast("OneStopSchema", self.schema).guard
        document = guard.parse(query) if isinstance(query, str) else None
        if not isinstance(document, DocumentNode):
            return None
        return await responses.learn(cacheable, document)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """The plain request — one operation as a JSON body or as GET parameters — by
        the short path (:meth:`_run_plain`); anything else (GraphiQL, streaming, other
        content types, sockets) by strawberry's generic one."""
        if isinstance(request, Request) and context is UNSET and root_value is UNSET:
            if request.method == "POST" and is_multipart(request.headers):
                _check_multipart(request)
            payload = await self._plain_payload(request)
            if isinstance(payload, list):
                return await self._run_batch(request, payload)
            if payload is not None:
                return await self._run_plain(request, payload)
        return await super().run(request, context, root_value)

    async def _plain_payload(self, request: Request) -> dict[str, Any] | list[Any] | None:
        headers = request.headers
        accept = headers.get("accept", "")
        if "text/event-stream" in accept or "multipart/mixed" in accept:
            return None  # a streaming transport: strawberry's
        if request.method == "POST":
            media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
            if media_type != "application/json":
                return None
            return decode_json_body(await request.body())
        if request.method == "GET":
            params = request.query_params
            if "query" not in params and "extensions" not in params:
                return None  # GraphiQL, or strawberry's "no query" answer
            return self.parse_query_params(params)
        return None

    async def _run_plain(self, request: Request, payload: dict[str, Any]) -> Response:
        """What strawberry's ``run`` does for such a request, without its per-request
        generality (content-type parsing, transports, batches, protocol checks):
        measured at ~12% of the CPU of a `{ __typename }` request."""
        data = await self._checked(_request_data(payload), request.headers)
        claim = await self._idempotency_claim(request, data)
        if isinstance(claim, Replay):
            return _json_response(claim.status, claim.body, {REPLAYED_HEADER: "true"})
        try:
            response = await self._execute_plain(request, data)
        except BaseException:
            if claim is not None:  # it failed before an answer: the retry runs again
                await request.app.state.idempotency.release(claim)
            raise
        if claim is not None:
            try:
                await request.app.state.idempotency.keep(
                    claim, response.status_code, bytes(response.body)
                )
            except Exception:  # it ran: answer; a retry within a minute gets 409
                log.warning("idempotency: could not keep an answer", exc_info=True)
        return response

    async def _run_batch(self, request: Request, items: list[Any]) -> Response:
        """Several operations in one request (a JSON array), each answered in turn as if
        sent alone — checks, persisted queries, limits — into one array of answers. A
        refused operation is its own error answer; it does not fail the others.

        Batches bypass the response cache (its bookkeeping is per request) and cannot
        carry an Idempotency-Key (a key names one operation). The rate limit counts the
        request once; ``ONESTOP_MAX_BATCH_OPERATIONS`` bounds what one request can ask.
        """
        limit = self.max_batch_operations
        if not 1 <= len(items) <= limit:
            raise RequestRejected(
                400,
                ErrorCode.BAD_REQUEST,
                f"批量请求须含 1–{limit} 个操作 (a batch holds 1 to {limit} operations; "
                f"got {len(items)})",
            )
        if IDEMPOTENCY_HEADER in request.headers:
            raise RequestRejected(
                400,
                ErrorCode.BAD_REQUEST,
                "Idempotency-Key 只用于单个操作 (an Idempotency-Key names one operation: "
                "send the mutation alone)",
            )
        request.scope.setdefault("state", {})[IN_BATCH] = True
        answers: list[bytes] = []
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise RequestRejected(
                        400,
                        ErrorCode.BAD_REQUEST,
                        "批量请求的每项须为 JSON 对象 (each operation of a batch is a JSON object)",
                    )
                data = await self._checked(_request_data(item), request.headers)
                answers.append(bytes((await self._execute_plain(request, data)).body))
            except RequestRejected as exc:
                answers.append(exc.body())
            except HTTPException as exc:
                answers.append(_refusal_body(exc))
        return _json_response(200, b"[" + b",".join(answers) + b"]")

    async def _idempotency_claim(
        self, request: Request, data: GraphQLRequestData
    ) -> Claim | Replay | None:
        """A mutation sent with an Idempotency-Key: run it (a claim) or replay its answer
        (gateway/idempotency.py). Anything else: None."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None or data.query is None:
            return None
        document = cast("OneStopSchema", self.schema).guard.parse(data.query)
        if not isinstance(document, DocumentNode):
            return None
        definition = operation_definition(document, data.operation_name)
        if definition is None or definition.operation is not OperationType.MUTATION:
            return None  # queries are safe to repeat
        principal = request.scope.get("state", {}).get("principal", ANONYMOUS)
        idempotency: Idempotency = request.app.state.idempotency
        try:
            return await idempotency.claim(
                key,
                principal.subject or "anonymous",
                data.query,
                data.variables,
                data.operation_name,
            )
        except Exception as exc:
            unavailable = dependency_unavailable(exc)
            if unavailable is None:
                raise
            # Without the shared cache a retry cannot be recognised: refuse, never run twice.
            raise RequestRejected(
                503,
                ErrorCode.UNAVAILABLE,
                unavailable.message,
                headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
            ) from exc

    async def _execute_plain(self, request: Request, data: GraphQLRequestData) -> Response:
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        result = await self.execute_single(
            request,
            request_adapter=self.request_adapter_class(request),
            sub_response=sub_response,
            context=context,
            root_value=None,
            request_data=data,
        )
        response_data = await self.process_result(request, result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
            if _nothing_for_an_unavailable_dependency(result):
                # "Retry later", not a bug: the status and header every HTTP client and
                # proxy understands, for both media types.
                sub_response.status_code = 503
                sub_response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
            elif accepts_graphql_response(request.headers) and _never_executed(result):
                # GraphQL over HTTP: a request error (parse, validation, limits, variables)
                # has no `data` and a 4xx status with the newer media type.
                response_data.pop("data", None)
                sub_response.status_code = 400
        return self.create_response(response_data=response_data, sub_response=sub_response)

    async def _answer(self, request: Request) -> Response:
        """Run the request through strawberry; every failure becomes a JSON answer."""
        response: Response
        # Not for a multipart request: how long a phone takes to send 10 MB says nothing
        # about the database, and storing it is many calls in a row. Each of its calls is
        # still bounded by ONESTOP_MONGODB_TIMEOUT_MS, so a stalled database fails it
        # within seconds (test_uploads: a frozen database).
        deadline = None if is_multipart(request.headers) else self.deadline_seconds
        try:
            with pymongo.timeout(deadline):
                response = await self.run(request)
        except _ServedFromCache as hit:  # nothing was executed
            response = _json_response(200, hit.body)
        except RequestRejected as exc:
            response = _json_response(exc.status, exc.body(), exc.headers)
        except HTTPException as exc:  # strawberry's refusals (no query, GET mutation…)
            response = _json_response(exc.status_code, _refusal_body(exc))
        except ClientDisconnect:
            raise  # the body limit answered already, or the client is gone
        except Exception:
            request_id = current_request_id()
            log.exception("unexpected error answering /graphql")
            body = error_body(
                f"服务器内部错误，请稍后重试 (internal error; request id {request_id})",
                {"code": ErrorCode.INTERNAL.value, "requestId": request_id},
            )
            response = _json_response(500, body)
        return response

    async def execute_single(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Look the request up in the response cache, else execute it.

        Here the request has passed every check of the HTTP layer and a persisted query
        has become its document (and been held to the trusted manifest), so a kept answer
        is served exactly where an executed one would be. The query is remembered so the
        cache can learn its policy afterwards. Here too the persisted document is known,
        so a trusted client's cost budget is set on the context for the guard.
        """
        request_data = kwargs.get("request_data")
        if request_data is not None:
            context = kwargs.get("context")
            max_cost = None
            if self.persisted_queries is not None and isinstance(context, Context):
                # A trusted client's cost budget for its manifest document.
                max_cost = self.persisted_queries.budget(request_data, request.headers)
                context.max_cost = max_cost
            state = request.scope.setdefault("state", {})
            state[EXECUTED_QUERY] = request_data.query
            responses = self._responses(request)
            if (
                responses is not None
                and not request.headers.get(DEBUG_HEADER)
                and not state.get(IN_BATCH)
                and not is_multipart(request.headers)  # files: a mutation, never cached
            ):
                cached = CacheableRequest.of(request_data)
                state[CACHEABLE] = cached
                if (
                    cached is not None
                    and (body := await responses.lookup(cached)) is not None
                    and not self._refuses(request_data, max_cost)
                ):
                    state[CACHE_OUTCOME] = "hit"
                    raise _ServedFromCache(body)
        result = await super().execute_single(request, *args, **kwargs)
        sub_response = kwargs.get("sub_response")
        if (
            is_multipart(request.headers)  # strawberry's generic path: its status set here
            and isinstance(result, ExecutionResult)
            and result.errors
            and _nothing_for_an_unavailable_dependency(result)
            and isinstance(sub_response, Response)
        ):
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
        return result

    def _subscription_only(self, data: GraphQLRequestData) -> None:
        """GraphQL over SSE carries subscriptions; queries and mutations are sent as plain
        requests, where idempotency keys and the response cache apply."""
        guard = cast("OneStopSchema", self.schema).guard
        if not_a_subscription(guard, data.query or "", data.operation_name):
            raise RequestRejected(
                400,
                ErrorCode.BAD_REQUEST,
                "事件流只用于订阅 (text/event-stream carries subscriptions; send queries and "
                "mutations as application/json)",
            )

    def _refuses(self, data: GraphQLRequestData, max_cost: int | None) -> bool:
        """A request over its limits is refused even when another client's (with a
        larger budget) answer is kept: the outcome never depends on the cache."""
        assert isinstance(self.schema, OneStopSchema)
        assert data.query is not None
        return self.schema.guard.refuses(data.query, data.operation_name, data.variables, max_cost)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET naming a persisted query has no `query` either, yet it is an operation.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        if self.graphiql is None:  # strawberry asks only when GraphiQL is on
            raise HTTPException(404, "Not Found")
        return self.graphiql.response()

    def encode_json(self, data: object) -> bytes:
        return encode_json(data)

    def parse_json(self, data: str | bytes) -> Any:
        return decode_json_object(data)

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        result: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            value = result.get(name)
            if value == "null":  # as in a body: an object or null
                result[name] = None
            elif isinstance(value, str) and value:
                result[name] = decode_json_object(value, f"`{name}` query parameter")
        return result

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, list):
            for item in data:
                self._check(item)
            return data
        if is_multipart(request.headers):  # checked before its files were put in
            if self.persisted_queries is not None:
                data = await self.persisted_queries.resolve(data, request.headers)
            return data
        data = await self._checked(data, request.headers)
        if data.protocol == "sse":  # strawberry streams it without execute_single
            self._subscription_only(data)
        return data

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        """The operation of a GraphQL multipart request with its files in place.

        Its members are checked like a JSON body's first, while the variables still
        hold the spec's null placeholders (the files are not JSON)."""
        form = (await request.get_form_data()).form
        operations, files_map = form.get("operations"), form.get("map")
        if not isinstance(operations, str) or not isinstance(files_map, str):
            raise HTTPException(400, "a multipart request needs `operations` and `map` fields")
        operations = decode_json_object(operations, "`operations` field")
        files_map = decode_json_object(files_map, "`map` field")
        self._check(_request_data(operations))
        try:
            replaced: dict[str, Any] = replace_placeholders_with_files(operations, files_map, form)
        except (KeyError, IndexError, TypeError, ValueError):
            raise HTTPException(400, "The `map` names a missing file or variable") from None
        return replaced

    async def _checked(
        self, data: GraphQLRequestData, headers: Mapping[str, str]
    ) -> GraphQLRequestData:
        """The request's members checked (gateway.http_body), its persisted query resolved."""
        self._check(data)
        if self.persisted_queries is not None:
            data = await self.persisted_queries.resolve(data, headers)
        return data

    def _check(self, data: GraphQLRequestData) -> None:
        check_request(
            data.query,
            data.variables,
            data.operation_name,
            data.extensions,
            max_string_length=getattr(self.schema, "max_string_length", DEFAULT_MAX_STRING_LENGTH),
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state: dict[str, Any] = request.scope.get("state", {})
        return Context(
            runtime=request.app.state.runtime,
            principal=state.get("principal", ANONYMOUS),
            request_id=state.get("request_id", ""),
            request=request,
            response=response,
        )


def _check_multipart(request: Request) -> None:
    """A multipart request must prove it is no cross-site form (CSRF) and come from a
    signed-in user (only uploads use it) — both before a byte of its body is read."""
    if not any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
        raise RequestRejected(
            400,
            ErrorCode.BAD_REQUEST,
            "multipart 请求须带 Apollo-Require-Preflight 头 (CSRF prevention: send a "
            "non-empty Apollo-Require-Preflight, X-Apollo-Operation-Name or "
            "GraphQL-Require-Preflight header)",
        )
    principal = request.scope.get("state", {}).get("principal", ANONYMOUS)
    if not principal.is_authenticated:
        raise RequestRejected(
            401,
            ErrorCode.UNAUTHENTICATED,
            "请先登录再上传文件 (authentication required to upload)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def accepts_graphql_response(headers: Headers) -> bool:
    """Whether the client takes ``application/graphql-response+json`` (GraphQL over HTTP):
    then a request error is a 400 without ``data``. A client that accepts only
    ``application/json`` gets the legacy answer: 200 and ``data: null``."""
    return "application/graphql-response+json" in headers.get("accept", "")


def _nothing_for_an_unavailable_dependency(result: ExecutionResult) -> bool:
    """No root field has a value and a dependency (database, cache) was unavailable: the
    whole answer is "retry later". With partial data it stays a 200 and the failed fields'
    errors say UNAVAILABLE."""
    data = result.data
    return (data is None or all(value is None for value in data.values())) and (
        ErrorCode.UNAVAILABLE.value in error_codes(result.errors)
    )


def _never_executed(result: ExecutionResult) -> bool:
    """A request error: no data, and no error located in a response path (a field error
    always is; parse, validation, limit and variable errors never are)."""
    return result.data is None and all(error.path is None for error in result.errors or ())


def _refusal_body(exc: HTTPException) -> bytes:
    """strawberry's refusal (no query, a mutation by GET…) in the GraphQL error shape."""
    code = ErrorCode.NOT_FOUND if exc.status_code == 404 else ErrorCode.BAD_REQUEST
    return error_body(f"请求无效 ({exc.reason})", {"code": code.value})


def _request_data(payload: Mapping[str, Any]) -> GraphQLRequestData:
    """The operation in a decoded body, refused as strawberry refuses it."""
    query, variables, extensions = (payload.get(k) for k in ("query", "variables", "extensions"))
    for name, value, kind in (
        ("query", query, "a string"),
        ("variables", variables, "an object"),
        ("extensions", extensions, "an object"),
    ):
        if value is not None and not isinstance(value, str if name == "query" else dict):
            raise HTTPException(
                400, f"The GraphQL operation's `{name}` must be {kind} or null, if provided."
            )
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=payload.get("operationName"),
        extensions=extensions,
        protocol="http",
    )


def _json_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body, status_code=status, headers=headers, media_type="application/json; charset=utf-8"
    )
