"""One step of a case (办件环节): who moved it from which status to which, when, and why.

Every writer of steps builds them here — staff and applicants (casework), the rules of 秒批,
a lapsed 容缺 promise, and the historical seed — so a step has one shape everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["step"]


def step(
    action: str,
    source: str,
    target: str,
    *,
    actor: str | None,
    department: str | None,
    at: datetime,
    opinion: str | None = None,
) -> dict[str, Any]:
    return {
        "action": action,
        "from": source,
        "to": target,
        "actor": actor,
        "actor_department": department,
        "at": at,
        "opinion": opinion,
    }
