"""What the cases module publishes to other modules: ``cases.results`` and its event.

The wallet listens for :data:`CASE_CHANGED` and, when a case reaches ``result_issued``
with e-license results, asks ``cases.results`` for what it needs to issue them into the
applicant's wallet — no direct coupling, and no personal data on the bus.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from gateway.registry import Interface
from gateway.runtime import Runtime
from modules.cases.events import CASE_CHANGED, CaseChanged
from modules.cases.repository import CaseRepository
from modules.cases.statuses import RESULT_OUT

__all__ = ["CASE_CHANGED", "CASE_RESULTS", "CaseChanged", "CaseResults", "IssuedCase"]


@dataclass(frozen=True)
class IssuedCase:
    """A case whose result is out, as other modules see it."""

    case_id: str
    citizen: str  # the applicant's account subject (the license holder)
    item_code: str
    item_name: str
    department_code: str  # the issuing department
    license_types: tuple[str, ...]  # e-license types the item issues
    form: Mapping[str, Any]  # what the applicant filled in (names, numbers for the license)
    issued_at: str  # ISO time of the result_issued step


@runtime_checkable
class CaseResults(Protocol):
    async def issued(self, case_id: str) -> IssuedCase | None:
        """The case if its result is out (result issued, delivered or closed), else None."""
        ...


class _Results:
    def __init__(self, runtime: Runtime) -> None:
        self._cases = CaseRepository(runtime.db)

    async def issued(self, case_id: str) -> IssuedCase | None:
        doc = await self._cases.get(case_id)
        if doc is None or doc["status"] not in RESULT_OUT:
            return None
        at = next(
            (s["at"] for s in reversed(doc["steps"]) if s.get("to") == "result_issued"),
            doc["submitted_at"],
        )
        return IssuedCase(
            case_id=doc["_id"],
            citizen=doc["citizen"],
            item_code=doc["item_code"],
            item_name=doc["item_name"],
            department_code=doc["department_code"],
            license_types=tuple(doc.get("result_licenses") or ()),
            form=dict(doc.get("form") or {}),
            issued_at=at.isoformat() if hasattr(at, "isoformat") else str(at),
        )


CASE_RESULTS = Interface(
    "cases.results",
    CaseResults,
    _Results,
    "A case whose result is out: holder, item, issuing department, e-license types, form.",
)
