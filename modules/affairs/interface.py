"""What the affairs module publishes to other modules: the catalog interface and its events.

Other modules (appointments, cases, the wallet) may import this file — it is the
module's public surface — or declare a structural ``Protocol`` of their own with the
methods they call; either way they never import the module's internals or read its
collections. The gateway checks the implementation against ``ServiceCatalog`` (and
against every caller's protocol) at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from gateway.bus import Topic
from gateway.registry import Interface
from gateway.runtime import Runtime
from modules.affairs.flags import FLAG_FIELDS
from modules.affairs.repository import LOCATIONS
from modules.affairs.state import CatalogState

__all__ = [
    "CATALOG",
    "ITEM_CHANGED",
    "CatalogItem",
    "CatalogLocation",
    "CatalogMaterial",
    "CatalogResult",
    "ItemChanged",
    "ServiceCatalog",
]


@dataclass(frozen=True)
class CatalogMaterial:
    """A material an application needs (申请材料), as other modules see it."""

    name: str
    necessity: str  # required / optional / tolerated (容缺后补)
    source: str  # applicant / government (an e-license may replace it: 免证办)
    license_type: str | None  # the e-license type code that replaces it


@dataclass(frozen=True)
class CatalogResult:
    """What the item issues (审批结果)."""

    name: str
    type: str  # license / approval / other
    license_type: str | None  # the e-license type issued, for the wallet


@dataclass(frozen=True)
class CatalogItem:
    """A current service item, as other modules see it (stable; not the stored shape)."""

    code: str
    name: str
    version: int
    status: str  # active / suspended / cancelled
    department_code: str
    type_code: str
    handling_type: str  # instant / promised
    legal_limit_days: int
    promised_limit_days: int
    flags: frozenset[str]  # names of the convenience flags that are set (flags.py)
    location_codes: tuple[str, ...]
    materials: tuple[CatalogMaterial, ...]
    results: tuple[CatalogResult, ...]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> CatalogItem:
        return cls(
            code=str(doc["_id"]),
            name=str(doc["name"]),
            version=int(doc.get("version", 1)),
            status=str(doc["status"]),
            department_code=str(doc["department_code"]),
            type_code=str(doc["type_code"]),
            handling_type=str(doc["handling_type"]),
            legal_limit_days=int(doc.get("legal_limit_days", 0)),
            promised_limit_days=int(doc.get("promised_limit_days", 0)),
            flags=frozenset(name for name in FLAG_FIELDS if doc.get(name)),
            location_codes=tuple(doc.get("location_codes", [])),
            materials=tuple(
                CatalogMaterial(
                    name=str(m["name"]),
                    necessity=str(m.get("necessity", "required")),
                    source=str(m.get("source", "applicant")),
                    license_type=m.get("license_type"),
                )
                for m in doc.get("materials", [])
            ),
            results=tuple(
                CatalogResult(
                    name=str(r["name"]),
                    type=str(r.get("type", "other")),
                    license_type=r.get("license_type"),
                )
                for r in doc.get("results", [])
            ),
        )


@dataclass(frozen=True)
class CatalogLocation:
    """A place where items are handled (服务网点), as other modules see it."""

    code: str
    name: str
    kind: str  # district_hall / sub_hall / street_hall / community_center / bank_branch / …
    window_count: int
    #: weekly periods ``{"days": [1..7], "open": "09:00", "close": "18:00"}`` (kit opening_hours)
    opening_hours: tuple[Mapping[str, Any], ...]
    always_open: bool

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> CatalogLocation:
        return cls(
            code=str(doc["_id"]),
            name=str(doc["name"]),
            kind=str(doc.get("kind", "")),
            window_count=int(doc.get("window_count") or 0),
            opening_hours=tuple(doc.get("opening_hours") or ()),
            always_open=bool(doc.get("always_open")),
        )


@runtime_checkable
class ServiceCatalog(Protocol):
    """The ``affairs.catalog`` interface."""

    async def item(self, code: str) -> CatalogItem | None:
        """The current version of an item (any status), or ``None``."""
        ...

    async def items(self, codes: list[str]) -> dict[str, CatalogItem]:
        """Current items by code, in one round trip; unknown codes are left out."""
        ...

    async def location(self, code: str) -> CatalogLocation | None:
        """A service location by code, or ``None``."""
        ...


class _CatalogDirectory:
    """The implementation: reads items through the module's repository."""

    def __init__(self, runtime: Runtime) -> None:
        self._repository = runtime.state(CatalogState).repository

    async def item(self, code: str) -> CatalogItem | None:
        doc = await self._repository.item(code)
        return CatalogItem.from_doc(doc) if doc else None

    async def items(self, codes: list[str]) -> dict[str, CatalogItem]:
        docs = await self._repository.items_by_codes(codes)
        return {str(d["_id"]): CatalogItem.from_doc(d) for d in docs}

    async def location(self, code: str) -> CatalogLocation | None:
        docs = await self._repository.by_ids(LOCATIONS, [code])
        return CatalogLocation.from_doc(docs[0]) if docs else None


CATALOG = Interface(
    "affairs.catalog",
    ServiceCatalog,
    _CatalogDirectory,
    "Look up service items by code (for appointments, cases, the wallet).",
)


@dataclass(frozen=True)
class ItemChanged:
    """An item got a new version (created, changed, suspended, cancelled, restored)."""

    code: str
    version: int
    change: str  # 新增 / 变更 / 暂停 / 取消 / 恢复


ITEM_CHANGED = Topic(
    "affairs.item.changed", ItemChanged, "A service item got a new version (after it is stored)."
)
