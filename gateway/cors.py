"""CORS: which browser origins may call the API, and what their scripts may send and read.

H5 pages, the WeChat web view and the district's admin consoles run on other origins than
the API. Browsers ask first (a preflight ``OPTIONS``); the gateway answers from an
allow-list (``ONESTOP_CORS_ORIGINS``; localhost on any port in dev, none in prod) and lets
the browser keep the answer ``ONESTOP_CORS_MAX_AGE`` seconds, so a page pays one preflight
per operation shape, not one per request.

Tokens travel in the ``Authorization`` header, never in cookies, so credentials mode is
off: a page on an allowed origin can send the token it holds, and no page can make a
browser send one it does not.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import origin_regex
from gateway.errors import ErrorCode
from gateway.extensions.metrics import DEBUG_HEADER
from gateway.extensions.persisted_queries import CLIENT_NAME_HEADER
from gateway.idempotency import IDEMPOTENCY_HEADER, REPLAYED_HEADER
from gateway.middleware import header
from gateway.response_cache import CACHE_HEADER
from gateway.uploads.multipart import PREFLIGHT_HEADERS

__all__ = ["OneStopCORS"]

# Request headers a page may send besides the CORS-safelisted ones: the token, JSON, what
# Apollo Client adds (client awareness; the CSRF-prevention headers of its upload link and
# persisted-query GETs, gateway/uploads/multipart.py), the caller's request id, a
# mutation's idempotency key, and the debug header (ignored in prod).
REQUEST_HEADERS = (
    "authorization",
    "content-type",
    CLIENT_NAME_HEADER,
    "apollographql-client-version",
    *PREFLIGHT_HEADERS,
    "x-request-id",
    IDEMPOTENCY_HEADER,
    DEBUG_HEADER,
)
# Response headers a page's script may read: its request id (for support), whether the
# answer came from the cache, how long to wait before retrying, why a token was refused,
# a download's filename.
EXPOSED_HEADERS = (
    "x-request-id",
    "content-disposition",
    CACHE_HEADER,
    REPLAYED_HEADER,
    "retry-after",
    "www-authenticate",
)
_VARY_ORIGIN = (b"vary", b"Origin")


def _varying(send: Send) -> Send:
    async def send_varying(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), _VARY_ORIGIN]
        await send(message)

    return send_varying


class OneStopCORS(CORSMiddleware):
    """Starlette's CORS middleware on the allow-list, with refusals in the gateway's JSON
    error shape (a browser only reads the status; a developer reading it sees why)."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...], max_age: int) -> None:
        self.allows_an_origin = bool(origins)
        super().__init__(
            app,
            allow_origin_regex=origin_regex(origins),
            allow_methods=("GET", "POST"),
            allow_headers=REQUEST_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=max_age,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and header(scope, b"origin") is None:
            # Not a page's cross-origin call (a server, the mini-program, the same origin):
            # all CORS adds is "Vary: Origin", so that a shared cache keeps such an answer
            # apart from a page's, and nothing when no origin is allowed. Starlette's own
            # path (headers parsed, every response's headers rebuilt) cost ~20 µs of CPU a
            # request under load.
            await self.app(scope, receive, _varying(send) if self.allows_an_origin else send)
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        body = {
            "data": None,
            "errors": [
                {
                    "message": f"跨域请求被拒绝 (CORS: {refused} not allowed)",
                    "extensions": {"code": ErrorCode.BAD_REQUEST.value, "cors": refused},
                }
            ],
        }
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        headers.pop("content-type", None)
        return Response(
            json.dumps(body, ensure_ascii=False),
            status_code=400,
            headers=headers,
            media_type="application/json; charset=utf-8",
        )
