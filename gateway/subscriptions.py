"""Subscriptions: the graphql-transport-ws socket, and events for modules' resolvers.

A module declares a subscription as an async generator over bus events::

    @strawberry.subscription(description="…")
    async def thing_changed(self, info: Info[Context, None]) -> AsyncGenerator[Thing, None]:
        async for payload in events(info.context, THING_CHANGED):
            yield Thing.of(payload)

``events`` hears the topic on every replica (the bus fans out through Redis pub/sub) and
gives each event fresh DataLoaders: a socket's context lives as long as the socket, and an
event about a changed item must not be answered from what the loaders read before it.

The socket (``OneStopTransportWS``, graphql-transport-ws only; the legacy
subscriptions-transport-ws protocol is not offered):

* ``connection_init`` may carry ``{"Authorization": "Bearer <token>"}`` (browsers cannot set
  headers on a socket); otherwise the upgrade request's own ``Authorization`` header counts.
  A bad token closes the socket with 4403 and the reason (``token expired`` for an expired
  one); graphql-ws clients then reconnect, calling their ``connectionParams`` again, which
  is where the app puts its refreshed token. Anonymous sockets may subscribe to public
  events only (the fields' permissions decide).
* The socket closes (4403, ``token expired``) when the access token it signed in with
  expires, so a revoked or lapsed session does not keep receiving events.
* The server pings every ``ONESTOP_WS_KEEPALIVE_SECONDS`` (clients answer pong), which keeps
  idle sockets open through proxies and load balancers.
* At most ``ONESTOP_SUBSCRIPTIONS_PER_CONNECTION`` operations at once per socket; another
  is an ``error`` message with ``RATE_LIMITED``. Queries and mutations are refused on the
  socket with ``BAD_REQUEST``: they go over HTTP, where rate limits, idempotency keys and
  the response cache apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

from graphql import DocumentNode, GraphQLError, OperationType
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from gateway.auth import TokenError, TokenExpired
from gateway.bus import Topic
from gateway.context import Context
from gateway.errors import ErrorCode, TokenExpiredError
from gateway.execution import operation_definition
from gateway.extensions.errors import dependency_unavailable
from gateway.extensions.limits import GuardState

__all__ = ["OneStopTransportWS", "TextFrames", "events", "not_a_subscription"]

log = logging.getLogger("onestop.subscriptions")
P = TypeVar("P")

# graphql-ws clients reconnect after 4403 (they give up on 4401/4400): with a fresh token
# from connectionParams that is exactly the refresh an expired session needs.
CLOSE_BAD_TOKEN = 4403
# The standard "try again later" close code, for a token that cannot be checked.
CLOSE_UNAVAILABLE = 1013


async def events(
    context: Context, topic: Topic[P], wanted: Callable[[P], bool] | None = None
) -> AsyncIterator[P]:
    """Payloads of ``topic`` published from now on, on any replica, that ``wanted`` keeps.

    Each payload comes with fresh DataLoaders on ``context`` (see the module docstring).
    """
    metrics = context.runtime.metrics
    active = metrics.child(metrics.subscriptions_active, topic.name)
    # Signed in, a subscription lasts as long as its token, then ends with TOKEN_EXPIRED: an
    # SSE stream ends so. A socket is closed at that moment by its own timer (_sign_in), and
    # only that: both timers fire at the same instant, and a TOKEN_EXPIRED result racing the
    # 4403 close broke clients waiting for the close (test_subscriptions, 1 run in 4).
    # Not asyncio.timeout: across a yield it would cancel whatever the consumer is doing.
    on_socket = isinstance(context.request, WebSocket)
    expires_at = None if on_socket else context.principal.expires_at
    stream = context.bus.subscribe(topic.name)
    active.inc()
    try:
        while True:
            wait = None if expires_at is None else expires_at - time.time()
            try:
                event = await asyncio.wait_for(anext(stream), wait)
            except TimeoutError:
                raise TokenExpiredError() from None
            payload = topic.payload_of(event)
            if wanted is None or wanted(payload):
                context.forget_loaders()
                yield payload
    finally:
        active.dec()
        await stream.aclose()


def not_a_subscription(guard: GuardState, query: str, operation_name: str | None) -> bool:
    """Whether the document names a query or mutation (streams carry subscriptions only).
    False for a document that does not parse: its error comes from execution, coded."""
    document = guard.parse(query)
    if not isinstance(document, DocumentNode):
        return False
    definition = operation_definition(document, operation_name)
    return definition is not None and definition.operation is not OperationType.SUBSCRIPTION


class TextFrames(ASGIWebSocketAdapter):
    """Messages as text frames, as graphql-transport-ws requires. strawberry sends binary
    frames when the view encodes JSON to bytes (ours does, for HTTP); the reference
    graphql-ws client then fails with "Message is missing the 'type' property"."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class OneStopTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler with OneStop's sign-in, limits and pings."""

    _expiry: asyncio.TimerHandle | None = None
    _pinger: asyncio.Task[None] | None = None
    _closing: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        first = not self.connection_init_received and isinstance(payload, dict)
        if first and not await self._sign_in(payload):
            return
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping(), name="ws-keepalive")

    async def _sign_in(self, params: dict[str, Any]) -> bool:
        """Verify the connection's token, if any; False when the socket was closed."""
        authorization = _authorization(params) or _header(self.context, "authorization")
        if not authorization:
            return True
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await self.websocket.close(CLOSE_BAD_TOKEN, "expected 'Bearer <token>'")
            return False
        try:
            principal = await self.context.runtime.tokens.verify_access_token(token.strip())
        except TokenExpired:
            await self.websocket.close(CLOSE_BAD_TOKEN, "token expired")
            return False
        except TokenError as exc:
            await self.websocket.close(CLOSE_BAD_TOKEN, exc.reason)
            return False
        except Exception as exc:
            if dependency_unavailable(exc) is None:
                raise
            await self.websocket.close(CLOSE_UNAVAILABLE, "cache unavailable; retry later")
            return False
        self.context.sign_in(principal)
        if principal.expires_at is not None:
            delay = max(0.0, principal.expires_at - time.time())
            self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)
        return True

    def _expire(self) -> None:
        self._closing = asyncio.create_task(self._close_quietly(CLOSE_BAD_TOKEN, "token expired"))

    async def _close_quietly(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):  # already closed by the client
            await self.websocket.close(code, reason)

    async def _ping(self) -> None:
        interval: float = getattr(self.view, "keepalive_seconds", 15.0)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.send_message({"type": "ping"})
            except Exception:  # the socket is gone; shutdown cancels us anyway
                return

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            refusal = self._refusal(message)
            if refusal is not None:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refusal.formatted]}
                )
                return
        await super().handle_subscribe(message)

    def _refusal(self, message: SubscribeMessage) -> GraphQLError | None:
        cap = self.max_subscriptions_per_connection
        if cap is not None and len(self.operations) >= cap:
            return GraphQLError(
                f"每个连接最多 {cap} 个订阅 (at most {cap} subscriptions per connection)",
                extensions={"code": ErrorCode.RATE_LIMITED.value, "limit": cap},
            )
        payload = message.get("payload") or {}
        query = payload.get("query") if isinstance(payload, dict) else None
        if not isinstance(query, str):
            return None  # strawberry answers a malformed message itself
        guard = self.schema.guard  # type: ignore[attr-defined]
        if not_a_subscription(guard, query, payload.get("operationName")):
            return GraphQLError(
                "查询和变更请走 HTTP (queries and mutations go over HTTP, not the socket)",
                extensions={"code": ErrorCode.BAD_REQUEST.value},
            )
        return None

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()


def _authorization(params: dict[str, Any]) -> str | None:
    """``Authorization`` from connection_init's payload, any capitalisation."""
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            return value
    return None


def _header(context: Context, name: str) -> str | None:
    request = context.request
    return request.headers.get(name) if request is not None else None
