"""Background tasks that outlive the request or start-up that made them.

``pymongo.timeout`` keeps its deadline in context variables, and ``asyncio.create_task``
copies the current context: a task made inside a request (a bus handler, a cache reload) or a
start-up hook would keep that deadline — 1 s from the request's start, 15 minutes from the
start-up — and its database calls would fail once it passed. Such tasks start here, in a
fresh context.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["spawn"]

T = TypeVar("T")


def spawn(coroutine: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
    """``asyncio.create_task`` without the caller's deadline (or any other context)."""
    return asyncio.create_task(coroutine, name=name, context=contextvars.Context())
