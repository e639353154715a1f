"""Ops endpoints: liveness, readiness per dependency, Prometheus metrics, JWKS."""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.mongo import ping
from gateway.runtime import Runtime

__all__ = ["ops_routes"]


async def healthz(request: Request) -> Response:
    """Alive: the process answers. Never touches a dependency."""
    return JSONResponse({"status": "ok"})


async def _check(name: str, probe: Any) -> tuple[str, dict[str, Any]]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe, timeout=2.0)
    except Exception as exc:
        return name, {"status": "down", "error": type(exc).__name__}
    return name, {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


async def readyz(request: Request) -> Response:
    """Ready: MongoDB and Redis answer. 503 when any dependency is down."""
    runtime: Runtime = request.app.state.runtime
    checks = dict(
        await asyncio.gather(
            _check("mongodb", ping(runtime.mongo)),
            _check("redis", runtime.cache.ping()),
        )
    )
    checks["redis"]["backend"] = runtime.cache.backend
    checks["mongodb"]["backend"] = "embedded" if runtime.embedded else "external"
    ready = all(check["status"] == "ok" for check in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


def _metrics_allowed(request: Request) -> bool:
    """With ONESTOP_METRICS_TOKEN set, only ``Authorization: Bearer <token>`` may scrape;
    without one, development is open and production serves no /metrics at all."""
    settings = request.app.state.settings
    expected = settings.metrics_token
    if not expected:
        return bool(settings.is_dev)
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


async def metrics(request: Request) -> Response:
    if not _metrics_allowed(request):
        # The same answer as for any unknown path: nothing to learn from probing.
        return PlainTextResponse("Not Found", status_code=404)
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def jwks(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return JSONResponse(
        runtime.tokens.keys.jwks(), headers={"Cache-Control": "public, max-age=300"}
    )


def ops_routes() -> list[Route]:
    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/.well-known/jwks.json", jwks),
    ]
