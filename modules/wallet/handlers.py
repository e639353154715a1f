"""Bus handlers: a case whose result is issued puts its e-licenses into the applicant's wallet.

No coupling to the cases module beyond its published surface: the wallet hears
``cases.case.changed`` and, for ``result_issued``, asks ``cases.results`` for the case (the
holder, the issuing department, the license types, the form). The holder's name and id come
from the form when it carries them, else from the holder's wallet profile; without either the
license cannot be made and the case is logged (by id only). A redelivered event issues
nothing twice: each license's source is ``case:<id>:<type>``, unique.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gateway.bus import Event
from gateway.errors import OneStopError
from gateway.runtime import Runtime
from modules.cases.interface import CASE_CHANGED, CASE_RESULTS, CaseResults, IssuedCase
from modules.wallet import issuing
from modules.wallet.core import Actor, Wallet
from modules.wallet.license_types import LicenseTypeSpec, license_type

__all__ = ["HANDLERS"]

log = logging.getLogger("onestop.wallet")

# Form fields (as the catalogue's forms name them) that carry the holder's name and id.
PERSON_NAME = ("姓名", "申请人姓名", "持证人姓名", "新生儿姓名")
PERSON_ID = ("公民身份号码", "身份证号码", "身份证号", "申请人身份证号")
ORGANISATION_NAME = ("企业名称", "单位名称", "机构名称", "名称")
ORGANISATION_ID = ("统一社会信用代码",)
# Form fields that give a license its number (the business licence's is the credit code).
NUMBER_FROM_FORM = {"BUSINESS_LICENSE": "统一社会信用代码"}


def _first(form: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = str(form.get(key) or "").strip()
        if value:
            return value
    return None


async def _holder(
    wallet: Wallet, case: IssuedCase, spec: LicenseTypeSpec
) -> tuple[str, str] | None:
    person = spec.holder_kind == "person"
    name = _first(case.form, PERSON_NAME if person else ORGANISATION_NAME)
    holder_id = _first(case.form, PERSON_ID if person else ORGANISATION_ID)
    if name and holder_id:
        return name, holder_id
    profile = await wallet.repository.holder(wallet.keys.holder_key(case.citizen)) or {}
    prefix = "person" if person else "organisation"
    name = name or profile.get(f"{prefix}_name")
    holder_id = holder_id or profile.get(f"{prefix}_id")
    return (str(name), str(holder_id)) if name and holder_id else None


async def issue_case_licenses(wallet: Wallet, case: IssuedCase) -> list[dict[str, Any]]:
    issued = []
    for type_code in case.license_types:
        spec = license_type(type_code)
        if spec is None:
            log.warning("case %s issues an unknown license type %s", case.case_id, type_code)
            continue
        holder = await _holder(wallet, case, spec)
        if holder is None:
            log.warning("case %s: no holder name and id for %s", case.case_id, type_code)
            continue
        number_field = NUMBER_FROM_FORM.get(type_code)
        new = issuing.NewLicense(
            type_code=type_code,
            issuer_code=case.department_code,
            holder_subject=case.citizen,
            holder_name=holder[0],
            holder_id=holder[1],
            number=_first(case.form, (number_field,)) if number_field else None,
            source_key=f"case:{case.case_id}:{type_code}",
        )
        try:
            doc = await issuing.issue(wallet, new, Actor("issuer", case.department_code))
        except OneStopError as exc:
            log.warning("case %s: %s not issued: %s", case.case_id, type_code, exc.code.value)
            continue
        issued.append(doc)
    return issued


async def on_case_changed(event: Event, runtime: Runtime) -> None:
    change = CASE_CHANGED.payload_of(event)
    if change.status != "result_issued":
        return
    results = runtime.interface(CASE_RESULTS.name, CaseResults)  # type: ignore[type-abstract]
    case = await results.issued(change.case_id)
    if case is None or not case.license_types:
        return
    await issue_case_licenses(Wallet.from_runtime(runtime), case)


HANDLERS = {CASE_CHANGED.name: (on_case_changed,)}
