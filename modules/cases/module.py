"""The cases module value the gateway discovers through the ``onestop.modules`` entry point."""

from __future__ import annotations

from gateway.registry import InterfaceUse, Module
from modules.affairs.interface import CATALOG, ServiceCatalog
from modules.cases.bundles import load_bundles
from modules.cases.events import CASE_CHANGED, CASE_OVERDUE, QUEUE_CHANGED
from modules.cases.history import load_history
from modules.cases.instant import load_rules
from modules.cases.interface import CASE_RESULTS
from modules.cases.notifications import HANDLERS
from modules.cases.permissions import PERMISSIONS
from modules.cases.repository import (
    APPOINTMENTS,
    CASES,
    INDEXES,
    QUEUE_COUNTERS,
    RATINGS,
    RULES,
    SLOTS,
    TICKETS,
)
from modules.cases.schema import CasesMutation, CasesQuery, CasesSubscription
from modules.cases.supervision import start_sweep
from modules.wallet.interface import LICENSES, HeldLicenses

module = Module(
    name="cases",
    version="0.1.0",
    description="办件: appointments (预约取号), queues (排队叫号), cases (办件), ratings (好差评).",
    query=CasesQuery,
    mutation=CasesMutation,
    subscription=CasesSubscription,
    indexes=INDEXES,
    collections=(APPOINTMENTS, SLOTS, TICKETS, QUEUE_COUNTERS, CASES, RATINGS, RULES),
    seeds=(load_rules, load_bundles, load_history),
    events=(QUEUE_CHANGED, CASE_CHANGED, CASE_OVERDUE),
    event_handlers=HANDLERS,
    permissions=PERMISSIONS,
    interfaces=(CASE_RESULTS,),
    on_startup=(start_sweep,),
    uses=(InterfaceUse(CATALOG.name, ServiceCatalog), InterfaceUse(LICENSES, HeldLicenses)),
)
