"""The gateway's own fields: sign-in, ``me``, ``node``/``nodes`` and the ``modules`` ops query.

They are composed through the same contract as every module (under the name
``gateway``), so a module that tries to define ``me`` fails composition loudly.
``node``/``nodes`` know no module: they dispatch each global id to the resolver that
the composition holds for its type (``Module(nodes=...)``), this module's own
``Viewer`` and ``AuditEvent`` included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.accounts import ACCOUNT_INDEXES, mask_phone, normalize_phone
from gateway.audit import AUDIT_INDEXES, AUDIT_ORDER, AuditOutcome
from gateway.auth import (
    REVOCATION_INDEXES,
    IdentityLevel,
    RefreshTokenReused,
    Role,
    TokenError,
    TokenPair,
)
from gateway.context import Context
from gateway.errors import (
    BadUserInput,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    OneStopError,
    Unauthenticated,
)
from gateway.kit.connections import After, Connection, First, Key, Listing, keyset_page
from gateway.kit.enums import graphql_enum
from gateway.kit.nodes import Node, parse_global_id, resolve_nodes
from gateway.permissions import requires, signed_in
from gateway.registry import CostHint, Module, Permission
from gateway.wechat import WECHAT_INDEXES

__all__ = ["core_module"]

GatewayInfo = Info[Context, None]

# Reading the audit trail, as a list or entry by entry through node(id:).
AUDIT_READ = "gateway.audit.read"

RoleEnum = graphql_enum(
    Role,
    "What a principal acts as.",
    {
        Role.CITIZEN: "市民: a citizen using the app.",
        Role.ENTERPRISE: "企业: someone acting for an enterprise.",
        Role.STAFF: "工作人员: district staff (window, back office), bound to a department.",
        Role.ADMIN: "管理员: administrators of the platform.",
        Role.VERIFIER: "核验方: a checker of shown or shared licences.",
    },
)
AuditOutcomeEnum = graphql_enum(
    AuditOutcome,
    "How an audited action ended.",
    {
        AuditOutcome.OK: "Done.",
        AuditOutcome.DENIED: "Refused (a wrong code, a replayed token, no permission).",
        AuditOutcome.FAILED: "Failed for another reason.",
    },
)
IdentityLevelEnum = graphql_enum(
    IdentityLevel,
    "Real-name assurance (实名等级).",
    {
        IdentityLevel.NONE: "None: not verified.",
        IdentityLevel.PHONE: "手机验证: owns the phone number.",
        IdentityLevel.REAL_NAME: "实名: name and ID number checked against the registry.",
        IdentityLevel.REAL_PERSON: "实人: face checked against the ID photo.",
    },
)


@strawberry.type(
    description="The signed-in principal (当前用户); as a Node, visible only to itself."
)
class Viewer(Node):
    subject_id: strawberry.ID = strawberry.field(
        description="Stable subject id (the token's `sub`), as audit entries name it."
    )
    roles: list[RoleEnum] = strawberry.field(description="Roles held.")  # type: ignore[valid-type]
    department: str | None = strawberry.field(description="Department code, for staff.")
    identity_level: IdentityLevelEnum = strawberry.field(  # type: ignore[valid-type]
        description="Real-name assurance level."
    )
    masked_phone: str | None = strawberry.field(description="Phone with the middle masked.")
    display_name: str | None = strawberry.field(description="Name shown in the app.")
    permissions: list[str] = strawberry.field(description="Permissions currently granted.")

    @strawberry.field(
        description="Whether a WeChat user of this server's mini-program is bound to the "
        "account (signInWithWeChat signs in to it); the openid itself is never shown."
    )
    async def we_chat_bound(self, info: GatewayInfo) -> bool:
        wechat = info.context.runtime.wechat
        appid = wechat.appid
        return appid is not None and await wechat.bindings.is_bound(self.subject_id, appid)

    def node_key(self) -> str:
        return self.subject_id


@strawberry.type(description="A permission a module declares.")
class PermissionInfo:
    name: str = strawberry.field(description="`<module>.<resource>.<action>`.")
    description: str = strawberry.field(description="What it allows.")
    roles: list[str] = strawberry.field(description="Roles granted it by default.")


@strawberry.type(description="A module composed into this gateway (ops).")
class LoadedModule:
    name: str = strawberry.field(description="Module name (entry point name).")
    version: str = strawberry.field(description="Module version.")
    description: str = strawberry.field(description="What the module serves.")
    query_fields: list[str] = strawberry.field(description="Query fields it contributes.")
    mutation_fields: list[str] = strawberry.field(description="Mutation fields it contributes.")
    subscription_fields: list[str] = strawberry.field(
        description="Subscription fields it contributes."
    )
    types: list[str] = strawberry.field(description="GraphQL types it defines.")
    collections: list[str] = strawberry.field(description="MongoDB collections it owns.")
    permissions: list[PermissionInfo] = strawberry.field(description="Permissions it declares.")


@strawberry.type(description="A key/value detail of an audit entry.")
class AuditDetail:
    key: str = strawberry.field(description="Name.")
    value: str = strawberry.field(description="Value (personal data masked).")


@strawberry.type(
    description="One audit-trail entry: a security event or an access to personal data."
)
class AuditEvent(Node):
    event_id: strawberry.ID = strawberry.field(description="Entry id within the audit trail.")
    at: datetime = strawberry.field(description="When.")
    action: str = strawberry.field(description="What, e.g. auth.login, auth.refresh_reuse.")
    actor: str | None = strawberry.field(description="Who acted (subject id), if known.")
    subject: str | None = strawberry.field(description="Whose data or account.")
    outcome: AuditOutcomeEnum = strawberry.field(  # type: ignore[valid-type]
        description="How the action ended."
    )
    request_id: str | None = strawberry.field(description="Request id, to find the log lines.")
    detail: list[AuditDetail] = strawberry.field(description="Extra facts.")

    def node_key(self) -> str:
        return self.event_id

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> AuditEvent:
        return cls(
            event_id=strawberry.ID(doc["_id"]),
            at=doc["at"],
            action=doc["action"],
            actor=doc.get("actor"),
            subject=doc.get("subject"),
            outcome=AuditOutcome(doc.get("outcome", AuditOutcome.OK.value)),
            request_id=doc.get("request_id"),
            detail=[AuditDetail(key=k, value=str(v)) for k, v in doc.get("detail", {}).items()],
        )


@strawberry.type(description="A page of the audit trail, newest first (Relay connection).")
class AuditEventConnection(Connection[AuditEvent]):
    pass


@strawberry.type(description="A login code was sent.")
class LoginCodeRequest:
    masked_phone: str = strawberry.field(description="Where the code went, masked.")
    expires_in: int = strawberry.field(description="Seconds the code stays valid.")
    retry_after: int = strawberry.field(description="Seconds before another code may be sent.")
    dev_code: str | None = strawberry.field(
        description="The code itself, only in development (ONESTOP_ENV=dev); null in production."
    )


@strawberry.type(description="Tokens for a session.")
class AuthPayload:
    access_token: str = strawberry.field(description="Bearer token for the Authorization header.")
    refresh_token: str = strawberry.field(
        description="Single-use token to obtain a new pair; reuse revokes the session."
    )
    token_type: str = strawberry.field(description="Always `Bearer`.")
    expires_in: int = strawberry.field(description="Access token lifetime in seconds.")
    refresh_expires_in: int = strawberry.field(description="Refresh token lifetime in seconds.")
    viewer: Viewer = strawberry.field(description="Who signed in.")


def _account_id(ctx: Context) -> str:
    """The signed-in caller's account id (the field's ``signed_in()`` guaranteed one)."""
    subject = ctx.principal.subject
    if subject is None:  # pragma: no cover - signed_in() ran first
        raise Unauthenticated()
    return subject


PhoneArg = Annotated[
    str, strawberry.argument(description="Mobile number (11 digits; +86 allowed).")
]
LoginCodeArg = Annotated[str, strawberry.argument(description="The six-digit code sent by SMS.")]


def _client_ip(ctx: Context) -> str | None:
    """The caller's address as uvicorn resolved it.

    uvicorn runs with ``proxy_headers``: it takes ``X-Forwarded-For`` only from the
    addresses in ``FORWARDED_ALLOW_IPS`` (uvicorn's default: 127.0.0.1, i.e. a
    reverse proxy on the same host); from anyone else the header is ignored.
    """
    client = ctx.request.client if ctx.request is not None else None
    return client.host if client is not None else None


async def _viewer(ctx: Context, subject: str, claims: dict[str, Any]) -> Viewer:
    user = await ctx.runtime.accounts.get(subject)
    roles = [Role(r) for r in claims.get("roles", []) if r in Role._value2member_map_]
    return Viewer(
        subject_id=strawberry.ID(subject),
        roles=roles,
        department=claims.get("department"),
        identity_level=IdentityLevel(int(claims.get("identity_level", 0))),
        masked_phone=mask_phone(user.get("phone")) if user else None,
        display_name=user.get("display_name") if user else None,
        permissions=sorted(ctx.runtime.composition.grants(claims.get("roles", []))),
    )


async def _new_session(ctx: Context, user_id: str) -> AuthPayload:
    """A fresh token pair for an account that just proved who it is."""
    claims = await ctx.runtime.accounts.claims_for(user_id) or {}
    return await _auth_payload(ctx, user_id, claims, ctx.runtime.tokens.issue_pair(user_id, claims))


async def _auth_payload(
    ctx: Context, subject: str, claims: Mapping[str, Any], pair: TokenPair
) -> AuthPayload:
    """What a sign-in or a refresh answers: the pair, and who it is for."""
    return AuthPayload(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
        refresh_expires_in=pair.refresh_expires_in,
        viewer=await _viewer(ctx, subject, dict(claims)),
    )


async def _account_viewer(ctx: Context, user_id: str) -> Viewer:
    """The account as it is stored now (not as the caller's token still says)."""
    claims = await ctx.runtime.accounts.claims_for(user_id) or {}
    return await _viewer(ctx, user_id, dict(claims))


async def _signed_in_viewer(ctx: Context) -> Viewer | None:
    """The caller as a Viewer (its token's roles, narrowed permissions), or None."""
    principal = ctx.principal
    if not principal.is_authenticated or principal.subject is None:
        return None
    viewer = await _viewer(
        ctx,
        principal.subject,
        {
            "roles": sorted(principal.roles),
            "department": principal.department,
            "identity_level": principal.identity_level,
        },
    )
    viewer.permissions = sorted(ctx.permissions)
    return viewer


async def viewers_by_subject(ctx: Context, subjects: Sequence[str]) -> list[Viewer | None]:
    """Viewer nodes: the caller's own only; anyone else's is null, as if unknown."""
    me = ctx.principal.subject if ctx.principal.is_authenticated else None
    viewer = await _signed_in_viewer(ctx) if me in subjects else None
    return [viewer if subject == me else None for subject in subjects]


async def audit_events_by_id(ctx: Context, ids: Sequence[str]) -> list[AuditEvent | None]:
    """AuditEvent nodes for callers who may read ``auditEvents``; null for anyone else."""
    try:
        ctx.require(AUDIT_READ)  # the very check `requires` makes on the list
    except (Unauthenticated, Forbidden):
        return [None] * len(ids)
    found = await ctx.runtime.audit.by_ids(ids)
    return [AuditEvent.from_doc(found[i]) if i in found else None for i in ids]


@strawberry.type
class GatewayQuery:
    @strawberry.field(description="The signed-in principal, or null when anonymous.")
    async def me(self, info: GatewayInfo) -> Viewer | None:
        return await _signed_in_viewer(info.context)

    @strawberry.field(
        description=(
            "The object with this global id (Relay), or null when it does not exist or "
            "you may not see it. An id that is not one this API issued is BAD_USER_INPUT."
        )
    )
    async def node(
        self,
        info: GatewayInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id (`Node.id`).")],
    ) -> Node | None:
        ctx = info.context
        nodes = ctx.runtime.composition.nodes
        return (await resolve_nodes(ctx, [parse_global_id(id, nodes)], nodes))[0]

    @strawberry.field(
        description=(
            "The objects with these global ids, in the same order, null where one does "
            "not exist or you may not see it; one lookup per type, however many ids."
        )
    )
    async def nodes(
        self,
        info: GatewayInfo,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Global ids (`Node.id`), at most ONESTOP_MAX_PAGE_SIZE."
            ),
        ],
    ) -> list[Node | None]:
        ctx = info.context
        maximum = ctx.settings.max_page_size
        if len(ids) > maximum:
            raise BadUserInput(
                f"最多 {maximum} 个标识 (at most {maximum} ids)",
                [FieldError("ids", f"at most {maximum} ids", "too_many")],
            )
        nodes = ctx.runtime.composition.nodes
        parsed = [parse_global_id(one, nodes, field=f"ids.{i}") for i, one in enumerate(ids)]
        return await resolve_nodes(ctx, parsed, nodes)

    @strawberry.field(description="Modules composed into this gateway, with what each contributes.")
    def modules(self, info: GatewayInfo) -> list[LoadedModule]:
        composition = info.context.runtime.composition
        return [
            LoadedModule(
                name=m.module.name,
                version=m.module.version,
                description=m.module.description,
                query_fields=list(m.query_fields),
                mutation_fields=list(m.mutation_fields),
                subscription_fields=list(m.subscription_fields),
                types=list(m.type_names),
                collections=list(m.collections),
                permissions=[
                    PermissionInfo(name=p.name, description=p.description, roles=list(p.roles))
                    for p in m.module.permissions
                ],
            )
            for m in composition.modules
        ]

    @strawberry.field(
        description="The audit trail, newest first (admins).",
        extensions=[requires(AUDIT_READ)],
    )
    async def audit_events(
        self,
        info: GatewayInfo,
        actor: Annotated[
            str | None, strawberry.argument(description="Only entries by this subject id.")
        ] = None,
        subject: Annotated[
            str | None, strawberry.argument(description="Only entries about this subject id.")
        ] = None,
        action: Annotated[
            str | None, strawberry.argument(description="Only this action, e.g. auth.login.")
        ] = None,
        first: First = 50,
        after: After = None,
    ) -> AuditEventConnection:
        trail = info.context.runtime.audit

        async def fetch(after_key: Key | None, limit: int) -> list[dict[str, Any]]:
            return await trail.page(
                actor=actor, subject=subject, action=action, after=after_key, limit=limit
            )

        async def count() -> int:
            return await trail.count(actor=actor, subject=subject, action=action)

        return await keyset_page(
            AuditEventConnection,
            Listing(AUDIT_ORDER, fetch, count),
            first=first,
            after=after,
            default=50,
            maximum=info.context.settings.max_page_size,
            node=AuditEvent.from_doc,
        )


@strawberry.type
class GatewayMutation:
    @strawberry.mutation(
        description="Send a six-digit login code by SMS (once a minute, ten a day per phone)."
    )
    async def request_login_code(
        self,
        info: GatewayInfo,
        phone: PhoneArg,
    ) -> LoginCodeRequest:
        ctx = info.context
        number = normalize_phone(phone)
        code = await ctx.runtime.login_codes.request(number, _client_ip(ctx))
        return LoginCodeRequest(
            masked_phone=mask_phone(number) or "",
            expires_in=ctx.runtime.login_codes.TTL,
            retry_after=ctx.runtime.login_codes.RESEND_AFTER,
            dev_code=code if ctx.settings.is_dev else None,
        )

    @strawberry.mutation(
        description="Sign in with a phone and its login code; first login registers."
    )
    async def login(
        self,
        info: GatewayInfo,
        phone: PhoneArg,
        code: LoginCodeArg,
    ) -> AuthPayload:
        ctx = info.context
        number = normalize_phone(phone)
        try:
            await ctx.runtime.login_codes.verify(number, code, _client_ip(ctx))
        except OneStopError as exc:
            await ctx.runtime.audit.record(
                "auth.login",
                actor=None,
                subject=f"phone:{mask_phone(number)}",
                outcome=AuditOutcome.DENIED,
                detail={"reason": exc.message},
            )
            raise
        user = await ctx.runtime.accounts.login_by_phone(number)
        await ctx.runtime.audit.record("auth.login", actor=user["_id"], subject=user["_id"])
        return await _new_session(ctx, user["_id"])

    @strawberry.mutation(
        description=(
            "Sign in from the WeChat mini-program with the code wx.login() gave it. The "
            "first sign-in of a WeChat user registers an account bound to it (a citizen, no "
            "phone, identity level NONE; bindPhone adds one). Limited per client address."
        )
    )
    async def sign_in_with_we_chat(
        self,
        info: GatewayInfo,
        code: Annotated[
            str,
            strawberry.argument(description="The code from wx.login() (single use, 5 minutes)."),
        ],
    ) -> AuthPayload:
        ctx = info.context
        wechat = ctx.runtime.wechat
        try:
            appid, session = await wechat.session(code, _client_ip(ctx))
        except (Unauthenticated, Forbidden) as exc:
            await ctx.runtime.audit.record(
                "auth.login",
                actor=None,
                subject=None,
                outcome=AuditOutcome.DENIED,
                detail={"method": "wechat", "reason": exc.message},
            )
            raise
        user = await ctx.runtime.accounts.login_by_id(
            await wechat.bindings.account_for(appid, session)
        )
        await ctx.runtime.audit.record(
            "auth.login", actor=user["_id"], subject=user["_id"], detail={"method": "wechat"}
        )
        return await _new_session(ctx, user["_id"])

    @strawberry.mutation(
        description=(
            "Bind the WeChat user of this wx.login() code to the signed-in account, so "
            "signInWithWeChat signs in to it. CONFLICT when that WeChat user already has "
            "another account or this account another WeChat user: accounts are never merged."
        ),
        extensions=[signed_in()],
    )
    async def link_we_chat(
        self,
        info: GatewayInfo,
        code: Annotated[
            str,
            strawberry.argument(description="The code from wx.login() (single use, 5 minutes)."),
        ],
    ) -> Viewer:
        ctx = info.context
        user_id = _account_id(ctx)
        if await ctx.runtime.accounts.get(user_id) is None:
            raise NotFound("账号不存在 (no such account)")
        wechat = ctx.runtime.wechat
        appid, session = await wechat.session(code, _client_ip(ctx))
        try:
            await wechat.bindings.link(appid, session, user_id)
        except Conflict as exc:
            await ctx.runtime.audit.record(
                "auth.link_wechat",
                actor=user_id,
                subject=user_id,
                outcome=AuditOutcome.DENIED,
                detail={"reason": exc.extra.get("reason", exc.message)},
            )
            raise
        await ctx.runtime.audit.record("auth.link_wechat", actor=user_id, subject=user_id)
        return await _account_viewer(ctx, user_id)

    @strawberry.mutation(
        description=(
            "Add a phone to the signed-in account (one that signed in with WeChat), proven "
            "with a login code from requestLoginCode; raises the identity level to PHONE "
            "(refresh the token to carry it). CONFLICT when the phone is another account's "
            "login phone (sign in with it instead; accounts are never merged) or this account "
            "has another phone."
        ),
        extensions=[signed_in()],
    )
    async def bind_phone(
        self,
        info: GatewayInfo,
        phone: PhoneArg,
        code: LoginCodeArg,
    ) -> Viewer:
        ctx = info.context
        user_id = _account_id(ctx)
        number = normalize_phone(phone)
        await ctx.runtime.login_codes.verify(number, code, _client_ip(ctx))
        try:
            await ctx.runtime.accounts.add_phone(user_id, number)
        except LookupError:
            raise NotFound("账号不存在 (no such account)") from None
        except Conflict as exc:
            await ctx.runtime.audit.record(
                "auth.bind_phone",
                actor=user_id,
                subject=user_id,
                outcome=AuditOutcome.DENIED,
                detail={"phone": mask_phone(number), "reason": exc.extra.get("reason", "")},
            )
            raise
        await ctx.runtime.audit.record(
            "auth.bind_phone", actor=user_id, subject=user_id, detail={"phone": mask_phone(number)}
        )
        return await _account_viewer(ctx, user_id)

    @strawberry.mutation(
        description="Exchange a refresh token for a new pair. Each refresh token works once."
    )
    async def refresh_token(
        self,
        info: GatewayInfo,
        refresh_token: Annotated[
            str, strawberry.argument(description="The refresh token from login.")
        ],
    ) -> AuthPayload:
        ctx = info.context
        accounts = ctx.runtime.accounts
        try:
            subject, claims, pair = await ctx.runtime.tokens.rotate(
                refresh_token, accounts.claims_for
            )
        except TokenError as exc:
            if isinstance(exc, RefreshTokenReused):
                await ctx.runtime.audit.record(
                    "auth.refresh_reuse",
                    actor=None,
                    subject=exc.subject,
                    outcome=AuditOutcome.DENIED,
                    detail={"action": "session revoked"},
                )
            raise Unauthenticated(f"刷新令牌无效 ({exc.reason})") from None
        return await _auth_payload(ctx, subject, claims, pair)

    @strawberry.mutation(description="Sign out: revoke the session of this refresh token.")
    async def logout(
        self,
        info: GatewayInfo,
        refresh_token: Annotated[
            str, strawberry.argument(description="The refresh token from login.")
        ],
    ) -> bool:
        try:
            await info.context.runtime.tokens.revoke(refresh_token)
        except TokenError as exc:
            raise Unauthenticated(f"刷新令牌无效 ({exc.reason})") from None
        return True


core_module = Module(
    name="gateway",
    version="0.1.0",
    description="Sign-in, the current principal and ops introspection (built into the gateway).",
    query=GatewayQuery,
    mutation=GatewayMutation,
    indexes=(*ACCOUNT_INDEXES, *AUDIT_INDEXES, *REVOCATION_INDEXES, *WECHAT_INDEXES),
    nodes={"Viewer": viewers_by_subject, "AuditEvent": audit_events_by_id},
    # A node is a lookup by key; nodes(ids:) multiplies what is selected inside it by
    # the number of ids, not by a guessed list length.
    cost_hints={
        "Query.node": CostHint(2),
        "Query.nodes": CostHint(2, size_argument="ids"),
    },
    permissions=(
        Permission(
            AUDIT_READ,
            "Read the audit trail of access to personal data.",
            roles=(Role.ADMIN.value,),
        ),
    ),
)
