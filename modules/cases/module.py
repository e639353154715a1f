"""The cases module value the gateway discovers through the ``onestop.modules`` entry point."""

from __future__ import annotations

from gateway.registry import InterfaceUse, Module
from modules.affairs.interface import CATALOG, ServiceCatalog
from modules.cases.permissions import PERMISSIONS
from modules.cases.repository import APPOINTMENTS, INDEXES, SLOTS
from modules.cases.schema import CasesMutation, CasesQuery

module = Module(
    name="cases",
    version="0.1.0",
    description="办件: appointments (预约取号) — queues, cases and ratings to follow.",
    query=CasesQuery,
    mutation=CasesMutation,
    indexes=INDEXES,
    collections=(APPOINTMENTS, SLOTS),
    permissions=PERMISSIONS,
    uses=(InterfaceUse(CATALOG.name, ServiceCatalog),),
)
