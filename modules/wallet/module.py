"""The wallet module value the gateway discovers through the ``onestop.modules`` entry point."""

from __future__ import annotations

from gateway.registry import Interface, InterfaceUse, Module
from modules.cases.interface import CASE_RESULTS, CaseResults
from modules.wallet.handlers import HANDLERS
from modules.wallet.held import HeldLicensesService
from modules.wallet.interface import LICENSE_EXPIRING, LICENSES, HeldLicenses
from modules.wallet.keys import WalletKeys
from modules.wallet.permissions import PERMISSIONS
from modules.wallet.reminders import start_reminders
from modules.wallet.repository import COLLECTIONS, INDEXES
from modules.wallet.schema import WalletMutation, WalletQuery
from modules.wallet.seeds import load_holders, load_issuers

module = Module(
    name="wallet",
    version="0.1.0",
    description="移动钥匙包: signed e-licenses (SD-JWT), 亮证 with single-use codes, 授权用证, "
    "offline verification with a trust list.",
    query=WalletQuery,
    mutation=WalletMutation,
    indexes=INDEXES,
    collections=COLLECTIONS,
    seeds=(load_issuers, load_holders),
    permissions=PERMISSIONS,
    state=WalletKeys,
    interfaces=(
        Interface(
            LICENSES,
            HeldLicenses,
            HeldLicensesService,
            "Does a holder hold a valid e-license of a type (秒批); a verified, masked copy of "
            "one for a case, recorded as a grant (免证办).",
        ),
    ),
    uses=(InterfaceUse(CASE_RESULTS.name, CaseResults),),
    events=(LICENSE_EXPIRING,),
    event_handlers=HANDLERS,
    on_startup=(start_reminders,),
)
