"""The cases module value the gateway discovers through the ``onestop.modules`` entry point."""

from __future__ import annotations

from gateway.registry import InterfaceUse, Module
from modules.affairs.interface import CATALOG, ServiceCatalog
from modules.cases.events import QUEUE_CHANGED
from modules.cases.permissions import PERMISSIONS
from modules.cases.repository import APPOINTMENTS, INDEXES, QUEUE_COUNTERS, SLOTS, TICKETS
from modules.cases.schema import CasesMutation, CasesQuery, CasesSubscription

module = Module(
    name="cases",
    version="0.1.0",
    description="办件: appointments (预约取号) and hall queues (排队叫号); cases to follow.",
    query=CasesQuery,
    mutation=CasesMutation,
    subscription=CasesSubscription,
    indexes=INDEXES,
    collections=(APPOINTMENTS, SLOTS, TICKETS, QUEUE_COUNTERS),
    events=(QUEUE_CHANGED,),
    permissions=PERMISSIONS,
    uses=(InterfaceUse(CATALOG.name, ServiceCatalog),),
)
