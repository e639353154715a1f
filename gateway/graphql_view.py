"""The ``/graphql`` endpoint: strawberry's ASGI view with our per-request context."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.auth import ANONYMOUS
from gateway.context import Context

__all__ = ["GraphQLView"]


class GraphQLView(GraphQL[Context, None]):
    def encode_json(self, data: object) -> bytes:
        # Chinese as UTF-8 (3 bytes a character), not \uXXXX escapes (6): half the bytes.
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

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
