"""The wallet's Query and Mutation parts: holders, issuers' staff, verifiers, grantees."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError, Forbidden, NotFound
from gateway.kit.connections import After, First
from gateway.permissions import requires, signed_in
from modules.wallet import grants, issuing, presentations
from modules.wallet.core import HOLDER, Actor, Wallet, effective_status
from modules.wallet.license_types import LICENSE_TYPES, license_type
from modules.wallet.permissions import (
    GRANT_FETCH,
    ISSUER_KEYS,
    LICENSE_ISSUE,
    PRESENTATION_REDEEM,
)
from modules.wallet.reminders import remind_expiring
from modules.wallet.sdjwt import jwk_of, parse
from modules.wallet.types import (
    DisclosedClaim,
    IssuerKey,
    LicenseAuditConnection,
    LicenseAuditEntry,
    LicenseGrant,
    LicenseGrantConnection,
    LicenseIssuer,
    LicensePresentation,
    PresentationCheck,
    SharedLicenseCopy,
    WalletLicense,
    WalletLicenseConnection,
    WalletLicenseType,
    WalletTrustList,
)
from modules.wallet.vocabulary import (
    OUTCOME_LABELS,
    AuditAction,
    GranteeKind,
    LicenseClaim,
)

__all__ = ["WalletMutation", "WalletQuery"]

WalletInfo = Info[Context, None]
LicenseId = Annotated[strawberry.ID, strawberry.argument(description="The license's wallet id.")]
GrantId = Annotated[strawberry.ID, strawberry.argument(description="The grant's id.")]


def _subject(info: WalletInfo) -> str:
    return str(info.context.principal.subject)


def view(wallet: Wallet, doc: dict[str, Any], *, unmasked: bool = False) -> WalletLicense:
    parsed = parse(doc["document"])
    status = effective_status(doc, wallet.today())
    return WalletLicense.from_doc(
        doc, parsed.payload.get("license", {}), parsed.claims, status, unmasked=unmasked
    )


async def _own(wallet: Wallet, info: WalletInfo, license_id: str) -> dict[str, Any]:
    doc = await wallet.repository.license(license_id)
    if doc is None or doc["holder_key"] != wallet.keys.holder_key(_subject(info)):
        raise NotFound("证照不存在 (no such license)")
    return doc


def _epoch(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


@strawberry.type
class WalletQuery:
    @strawberry.field(
        description="E-license types (电子证照类型): the one list, owned by the wallet."
    )
    def wallet_license_types(self) -> list[WalletLicenseType]:
        return [WalletLicenseType.from_spec(spec) for spec in LICENSE_TYPES]

    @strawberry.field(
        description="The caller's licenses in their own order (masked); hidden ones only "
        "with `includeHidden`.",
        extensions=[signed_in()],
    )
    async def my_licenses(
        self,
        info: WalletInfo,
        include_hidden: Annotated[
            bool, strawberry.argument(description="Also the licenses hidden from the list.")
        ] = False,
        first: First = None,
        after: After = None,
    ) -> WalletLicenseConnection:
        wallet = Wallet.of(info.context)
        listing = wallet.repository.mine(wallet.keys.holder_key(_subject(info)), include_hidden)
        return await info.context.page(
            WalletLicenseConnection,
            listing,
            first=first,
            after=after,
            node=lambda d: view(wallet, d),
        )

    @strawberry.field(
        description="One of the caller's licenses; sensitive fields masked unless `unmasked` "
        "(which is recorded in the audit list).",
        extensions=[signed_in()],
    )
    async def my_license(
        self,
        info: WalletInfo,
        id: LicenseId,
        unmasked: Annotated[
            bool, strawberry.argument(description="Show sensitive fields in full.")
        ] = False,
    ) -> WalletLicense:
        wallet = Wallet.of(info.context)
        doc = await _own(wallet, info, str(id))
        if unmasked:
            await wallet.record(doc["holder_key"], doc["_id"], AuditAction.VIEWED_IN_FULL, HOLDER)
        return view(wallet, doc, unmasked=unmasked)

    @strawberry.field(
        description="The signed license (SD-JWT with every disclosure) to keep or check "
        "offline (`onestop wallet verify`); recorded in the audit list.",
        extensions=[signed_in()],
    )
    async def my_license_document(self, info: WalletInfo, id: LicenseId) -> str:
        wallet = Wallet.of(info.context)
        doc = await _own(wallet, info, str(id))
        await wallet.record(doc["holder_key"], doc["_id"], AuditAction.EXPORTED, HOLDER)
        return str(doc["document"])

    @strawberry.field(
        description="The caller's audit list: who issued, checked, fetched or changed which "
        "license, when and why — newest first.",
        extensions=[signed_in()],
    )
    async def my_license_audit(
        self,
        info: WalletInfo,
        license_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this license.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> LicenseAuditConnection:
        wallet = Wallet.of(info.context)
        holder_key = wallet.keys.holder_key(_subject(info))
        listing = wallet.repository.audit_of(holder_key, str(license_id) if license_id else None)
        return await info.context.page(
            LicenseAuditConnection,
            listing,
            first=first,
            after=after,
            node=LicenseAuditEntry.from_doc,
        )

    @strawberry.field(description="The caller's grants, newest first.", extensions=[signed_in()])
    async def my_license_grants(
        self, info: WalletInfo, first: First = None, after: After = None
    ) -> LicenseGrantConnection:
        wallet = Wallet.of(info.context)
        listing = wallet.repository.grants_of(wallet.keys.holder_key(_subject(info)))
        return await info.context.page(
            LicenseGrantConnection, listing, first=first, after=after, node=LicenseGrant.from_doc
        )

    @strawberry.field(
        description="用证: the copy of a license shared with the caller's organisation, stamped "
        "for its purpose; refused (FORBIDDEN with a `reason`) once revoked or expired.",
        extensions=[requires(GRANT_FETCH.name)],
    )
    async def shared_license(self, info: WalletInfo, grant_id: GrantId) -> SharedLicenseCopy:
        wallet = Wallet.of(info.context)
        principal = info.context.principal
        kind = "verifier" if principal.has_role("verifier") else "department"
        copy = await grants.fetch(
            wallet, str(grant_id), Actor.of(info.context, kind), principal.roles
        )
        license_ = view(wallet, copy.license, unmasked=True)
        return SharedLicenseCopy(
            stamp=copy.stamp,
            authentic=copy.authentic,
            license=license_,
            document=str(copy.license["document"]),
        )

    @strawberry.field(
        description="A license the caller's department issued (issuer staff; admins any).",
        extensions=[requires(LICENSE_ISSUE.name)],
    )
    async def issued_license(self, info: WalletInfo, id: LicenseId) -> WalletLicense:
        wallet = Wallet.of(info.context)
        principal = info.context.principal
        doc = await issuing.issued_by(
            wallet, str(id), principal.department, principal.has_role("admin")
        )
        await wallet.record(
            doc["holder_key"],
            doc["_id"],
            AuditAction.READ_BY_ISSUER,
            Actor.of(info.context, "issuer"),
        )
        return view(wallet, doc)

    @strawberry.field(description="Issuing departments and their public keys (JWKS per issuer).")
    async def license_issuers(self, info: WalletInfo) -> list[LicenseIssuer]:
        entries = await Wallet.of(info.context).trust_entries()
        return [
            LicenseIssuer(
                code=e["code"],
                name=e["name"],
                license_types=e["license_types"],
                keys=[
                    IssuerKey(
                        kid=k["jwk"]["kid"],
                        jwk=k["jwk"],
                        in_use_from=_epoch(k["not_before"]) or datetime.now(UTC),
                        retired_at=_epoch(k["not_after"]),
                    )
                    for k in e["keys"]
                ],
            )
            for e in entries
        ]

    @strawberry.field(description="The signed trust list of issuers, for offline verification.")
    async def wallet_trust_list(self, info: WalletInfo) -> WalletTrustList:
        wallet = Wallet.of(info.context)
        return WalletTrustList(
            document=await wallet.signed_trust_list(),
            anchor_thumbprint=jwk_of(wallet.keys.anchor().public_key())["kid"],
        )


@strawberry.input(description="A license an issuing department puts into a holder's wallet.")
class IssueLicenseInput:
    type_code: str = strawberry.field(description="E-license type code (walletLicenseTypes).")
    holder: str = strawberry.field(description="The holder's account subject.")
    holder_name: str = strawberry.field(description="持证主体名称.")
    holder_id_number: str = strawberry.field(
        description="持证主体代码: 公民身份号码 or 统一社会信用代码 (by the type's holder kind)."
    )
    number: str | None = strawberry.field(default=None, description="证照编号 (default: made).")
    valid_until: date | None = strawberry.field(
        default=None, description="有效期截止 (default: the type's validity)."
    )
    birth_date: date | None = strawberry.field(
        default=None, description="A person's birth date when the id number does not give it."
    )
    extension: JSON | None = strawberry.field(
        default=None, description="The type's extension fields by key (walletLicenseTypes)."
    )


@strawberry.input(description="亮证: which license, disclosing what.")
class ShowLicenseInput:
    license_id: strawberry.ID = strawberry.field(description="The license to show.")
    disclose: list[LicenseClaim] = strawberry.field(
        default_factory=lambda: [LicenseClaim.HOLDER_NAME],
        description="What to disclose (default: the name; type, issuer and validity always show). "
        "Only AGE_OVER_18 proves age without name or id.",
    )


@strawberry.input(description="授权用证: share a license with an organisation.")
class ShareLicenseInput:
    license_id: strawberry.ID = strawberry.field(description="The license to share.")
    grantee_kind: GranteeKind = strawberry.field(description="A department or a verifier.")
    grantee_code: str = strawberry.field(description="The organisation's code.")
    purpose: str = strawberry.field(description="办理事项: what the copy is for.")
    until: datetime = strawberry.field(description="Until when (at most a year).")


def _issuer_actor(info: WalletInfo) -> Actor:
    return Actor.of(info.context, "issuer")


async def _issued(info: WalletInfo, license_id: str) -> dict[str, Any]:
    principal = info.context.principal
    return await issuing.issued_by(
        Wallet.of(info.context), license_id, principal.department, principal.has_role("admin")
    )


Reason = Annotated[str | None, strawberry.argument(description="Why (required but to reinstate).")]


@strawberry.type
class WalletMutation:
    @strawberry.mutation(
        description="签发: sign an e-license into a holder's wallet (staff of a department that "
        "issues the type).",
        extensions=[requires(LICENSE_ISSUE.name)],
    )
    async def issue_license(
        self,
        info: WalletInfo,
        input: Annotated[IssueLicenseInput, strawberry.argument(description="The license.")],
    ) -> WalletLicense:
        principal = info.context.principal
        spec = license_type(input.type_code)
        if spec is None:
            raise BadUserInput("未知证照类型 (unknown type)", [FieldError("typeCode", "unknown")])
        if not issuing.issuer_may_act(principal.department, False, spec):
            raise Forbidden("本部门不签发此类证照 (your department does not issue this type)")
        extension: dict[str, Any] = input.extension if isinstance(input.extension, dict) else {}
        wallet = Wallet.of(info.context)
        doc = await issuing.issue(
            wallet,
            issuing.NewLicense(
                type_code=spec.code,
                issuer_code=str(principal.department),
                holder_subject=input.holder,
                holder_name=input.holder_name,
                holder_id=input.holder_id_number,
                number=input.number,
                valid_until=input.valid_until,
                birth_date=input.birth_date,
                extension=extension,
            ),
            _issuer_actor(info),
        )
        return view(wallet, doc)

    @strawberry.mutation(
        description="换发: the next version of a license, valid from today (issuer staff).",
        extensions=[requires(LICENSE_ISSUE.name)],
    )
    async def renew_license(
        self,
        info: WalletInfo,
        id: LicenseId,
        valid_until: Annotated[
            date | None, strawberry.argument(description="Default: the type's validity.")
        ] = None,
    ) -> WalletLicense:
        wallet = Wallet.of(info.context)
        doc = await issuing.renew(
            wallet, await _issued(info, str(id)), valid_until, _issuer_actor(info)
        )
        return view(wallet, doc)

    @strawberry.mutation(
        description="暂扣 (02): suspend a valid license (issuer staff).",
        extensions=[requires(LICENSE_ISSUE.name)],
    )
    async def suspend_license(
        self, info: WalletInfo, id: LicenseId, reason: Reason = None
    ) -> WalletLicense:
        return await _move(info, str(id), "suspend", reason)

    @strawberry.mutation(
        description="恢复有效 (01): lift a suspension (issuer staff).",
        extensions=[requires(LICENSE_ISSUE.name)],
    )
    async def reinstate_license(
        self, info: WalletInfo, id: LicenseId, reason: Reason = None
    ) -> WalletLicense:
        return await _move(info, str(id), "reinstate", reason)

    @strawberry.mutation(
        description="撤销 (03): revoke a license for good (issuer staff).",
        extensions=[requires(LICENSE_ISSUE.name)],
    )
    async def revoke_license(
        self, info: WalletInfo, id: LicenseId, reason: Reason = None
    ) -> WalletLicense:
        return await _move(info, str(id), "revoke", reason)

    @strawberry.mutation(
        description="Start an issuer's next signing key; older keys stay published, retired "
        "(admins).",
        extensions=[requires(ISSUER_KEYS.name)],
    )
    async def rotate_issuer_key(
        self,
        info: WalletInfo,
        issuer_code: Annotated[str, strawberry.argument(description="The issuer's code.")],
    ) -> IssuerKey:
        wallet = Wallet.of(info.context)
        if await wallet.repository.issuer(issuer_code) is None:
            raise NotFound("发证机构不存在 (no such issuer)")
        key = await wallet.rotate(issuer_code)
        return IssuerKey(
            kid=key["_id"],
            jwk=key["jwk"],
            in_use_from=_epoch(key["not_before"]) or datetime.now(UTC),
            retired_at=_epoch(key["not_after"]),
        )

    @strawberry.mutation(
        description="到期提醒: tell holders whose licenses end within `withinDays` (once per "
        "license and validity); returns how many were told (admins; also run hourly).",
        extensions=[requires(ISSUER_KEYS.name)],
    )
    async def remind_expiring_licenses(
        self,
        info: WalletInfo,
        within_days: Annotated[int, strawberry.argument(description="Days ahead (1–90).")] = 30,
    ) -> int:
        if not 1 <= within_days <= 90:
            raise BadUserInput("1–90 天 (1 to 90 days)", [FieldError("withinDays", "1 to 90")])
        return await remind_expiring(Wallet.of(info.context), info.context.bus, within_days)

    @strawberry.mutation(description="Put one's licenses in this order.", extensions=[signed_in()])
    async def arrange_my_licenses(
        self,
        info: WalletInfo,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="License ids, first first.")
        ],
    ) -> WalletLicenseConnection:
        wallet = Wallet.of(info.context)
        holder_key = wallet.keys.holder_key(_subject(info))
        mine = set(await wallet.repository.holder_license_ids(holder_key))
        wanted = [str(i) for i in ids]
        if len(wanted) > 200 or not set(wanted) <= mine or len(set(wanted)) != len(wanted):
            raise BadUserInput(
                "证照列表有误 (unknown or repeated ids)", [FieldError("ids", "your licenses, once")]
            )
        rest = sorted(mine - set(wanted))
        await wallet.repository.set_positions(holder_key, wanted + rest)
        listing = wallet.repository.mine(holder_key, True)
        return await info.context.page(
            WalletLicenseConnection, listing, first=None, after=None, node=lambda d: view(wallet, d)
        )

    @strawberry.mutation(
        description="Hide a license from one's list (or show it again).", extensions=[signed_in()]
    )
    async def set_my_license_hidden(
        self,
        info: WalletInfo,
        id: LicenseId,
        hidden: Annotated[bool, strawberry.argument(description="Hide it (false: show).")],
    ) -> WalletLicense:
        wallet = Wallet.of(info.context)
        doc = await _own(wallet, info, str(id))
        await wallet.repository.set_hidden(doc["holder_key"], doc["_id"], hidden)
        return view(wallet, {**doc, "hidden": hidden})

    @strawberry.mutation(
        description="亮证: a single-use presentation of one's license, valid 180 s, as a QR "
        "payload (also an SVG/PNG image) and a 12-digit fallback code.",
        extensions=[signed_in()],
    )
    async def show_license(
        self,
        info: WalletInfo,
        input: Annotated[ShowLicenseInput, strawberry.argument(description="What to show.")],
    ) -> LicensePresentation:
        shown = await presentations.show(
            Wallet.of(info.context), _subject(info), str(input.license_id), input.disclose
        )
        return LicensePresentation(
            token=shown.token,
            numeric_code=shown.numeric_code,
            qr_payload=shown.qr_payload,
            expires_at=shown.expires_at,
            disclosed=[LicenseClaim(c) for c in shown.claims],
        )

    @strawberry.mutation(
        description="核验: redeem a presentation once — by its QR payload, token or numeric "
        "code — and learn its authenticity, the license's status now and what was disclosed.",
        extensions=[requires(PRESENTATION_REDEEM.name)],
    )
    async def redeem_license_presentation(
        self,
        info: WalletInfo,
        purpose: Annotated[str, strawberry.argument(description="Why the check (recorded).")],
        qr_payload: Annotated[
            str | None, strawberry.argument(description="What the QR code carries.")
        ] = None,
        token: Annotated[str | None, strawberry.argument(description="The token.")] = None,
        numeric_code: Annotated[
            str | None, strawberry.argument(description="The 12-digit code.")
        ] = None,
    ) -> PresentationCheck:
        if not purpose.strip() or len(purpose) > 100:
            raise BadUserInput("请说明核验目的 (state a purpose)", [FieldError("purpose", "1–100")])
        check = await presentations.redeem(
            Wallet.of(info.context),
            Actor.of(info.context, "verifier"),
            qr_payload=qr_payload,
            token=token,
            numeric_code=numeric_code,
            purpose=purpose.strip(),
        )
        facts = check.license
        return PresentationCheck(
            outcome=check.outcome,
            message=OUTCOME_LABELS[check.outcome],
            authentic=check.authentic,
            status=check.status,
            type_code=facts.get("type_code"),
            type_name=facts.get("type_name"),
            issuer_name=facts.get("issuer_name"),
            identifier=facts.get("identifier"),
            valid_from=facts.get("valid_from"),
            valid_until=facts.get("valid_until"),
            disclosed=[
                DisclosedClaim(claim=LicenseClaim(name), value=value)
                for name, value in sorted(check.disclosed.items())
            ],
        )

    @strawberry.mutation(
        description="授权用证: let an organisation fetch a copy of one's license for a purpose "
        "until a time.",
        extensions=[signed_in()],
    )
    async def share_license(
        self,
        info: WalletInfo,
        input: Annotated[ShareLicenseInput, strawberry.argument(description="The grant.")],
    ) -> LicenseGrant:
        grant = await grants.share(
            Wallet.of(info.context),
            _subject(info),
            str(input.license_id),
            input.grantee_kind,
            input.grantee_code,
            input.purpose,
            input.until,
        )
        return LicenseGrant.from_doc(grant)

    @strawberry.mutation(
        description="Withdraw a grant: the next fetch is refused.", extensions=[signed_in()]
    )
    async def revoke_license_grant(self, info: WalletInfo, id: GrantId) -> LicenseGrant:
        grant = await grants.revoke(Wallet.of(info.context), _subject(info), str(id))
        return LicenseGrant.from_doc(grant)


async def _move(
    info: WalletInfo, license_id: str, action: str, reason: str | None
) -> WalletLicense:
    wallet = Wallet.of(info.context)
    doc = await issuing.change_status(
        wallet, await _issued(info, license_id), action, reason, _issuer_actor(info)
    )
    return view(wallet, doc)
