"""Ops endpoints on the public port: liveness, readiness per dependency, JWKS.

Metrics are not here: they are served on an internal port of their own
(gateway/metrics_server.py, ``ONESTOP_METRICS_PORT``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.health import readiness
from gateway.runtime import Runtime

__all__ = ["ops_routes"]


async def healthz(request: Request) -> Response:
    """Alive: the process answers. Never touches a dependency."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready: MongoDB and Redis answer. 503 when any dependency is down."""
    runtime: Runtime = request.app.state.runtime
    ready, checks = await readiness(runtime)
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


async def jwks(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return JSONResponse(
        runtime.tokens.keys.jwks(), headers={"Cache-Control": "public, max-age=300"}
    )


def ops_routes() -> list[Route]:
    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/.well-known/jwks.json", jwks),
    ]
