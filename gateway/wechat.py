"""Sign-in from the WeChat mini-program: a ``wx.login`` code becomes an account.

The mini-program calls ``wx.login()`` and sends the short-lived code it gets; a
:class:`WeChatSessionProvider` exchanges it for the user's openid (and unionid when
the mini-program belongs to an Open Platform account). The openid is bound to one
account per AppID in ``gateway_wechat_bindings``, under a unique index, so two
concurrent first sign-ins create one account. The ``session_key`` WeChat also
returns is dropped at once: nothing here decrypts user data with it.

An openid is personal data: it is stored (later notifications are sent to it) but
never logged, never put in an error and never returned; the code is a credential and
is treated the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from opentelemetry import propagate
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.accounts import count_in_window
from gateway.cache import Cache
from gateway.config import Settings
from gateway.errors import (
    BadUserInput,
    Conflict,
    FieldError,
    Forbidden,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from gateway.kit.ratelimit import client_key
from gateway.registry import IndexSpec

__all__ = [
    "WECHAT_BINDINGS",
    "WECHAT_INDEXES",
    "DevSessionProvider",
    "JsCode2SessionProvider",
    "WeChatBindings",
    "WeChatSession",
    "WeChatSessionProvider",
    "WeChatSignIn",
    "load_session_provider",
]

log = logging.getLogger("onestop.wechat")

WECHAT_BINDINGS = "gateway_wechat_bindings"
WECHAT_INDEXES = (
    # One account per WeChat user of a mini-program: the race of two first sign-ins
    # ends here, with a DuplicateKeyError for the loser.
    IndexSpec(
        WECHAT_BINDINGS, (("appid", 1), ("openid", 1)), name="appid_openid_unique", unique=True
    ),
    # One WeChat per account per mini-program: linking a second one is a CONFLICT.
    IndexSpec(
        WECHAT_BINDINGS, (("user_id", 1), ("appid", 1)), name="user_appid_unique", unique=True
    ),
)

# wx.login codes are 32 URL-safe characters; the dev provider's are `dev:<name>`.
_CODE = re.compile(r"[A-Za-z0-9_.:\-]{1,128}", re.ASCII)
# What jscode2session's errcodes mean for the caller (developers.weixin.qq.com,
# "code2Session"): the code is bad or spent, WeChat throttles us, or it is busy.
_INVALID_CODE = frozenset({40029, 40163})
_RATE_LIMITED = 45011
_HIGH_RISK = 40226
_BUSY = -1
# WeChat's quota for this call is per minute.
_RATE_LIMIT_RETRY_AFTER = 60
_UNAVAILABLE = "微信服务暂不可用，请稍后再试 (WeChat unavailable)"


@dataclass(frozen=True)
class WeChatSession:
    """Who a ``wx.login`` code belongs to. ``session_key`` is deliberately not kept."""

    openid: str
    unionid: str | None = None


class WeChatSessionProvider(Protocol):
    """Exchanges a ``wx.login`` code for a session (``ONESTOP_WECHAT_PROVIDER``).

    ``exchange`` raises :class:`~gateway.errors.Unauthenticated` for a bad or used code,
    :class:`~gateway.errors.RateLimited` when WeChat throttles, and
    :class:`~gateway.errors.Unavailable` (quickly) when WeChat cannot be reached.
    """

    appid: str

    async def exchange(self, code: str) -> WeChatSession: ...

    async def close(self) -> None: ...


class DevSessionProvider:
    """Development only: every code is accepted and always gives the same openid
    (``dev:alice`` is one user, ``dev:bob`` another), so local frontends and tests sign in
    without WeChat. Config refuses it in prod."""

    def __init__(self, appid: str = "dev") -> None:
        self.appid = appid

    async def exchange(self, code: str) -> WeChatSession:
        digest = hashlib.sha256(b"onestop-wechat-dev:" + code.encode()).hexdigest()
        return WeChatSession(openid="dev_" + digest[:24])

    async def close(self) -> None:
        return None


class JsCode2SessionProvider:
    """WeChat's ``GET /sns/jscode2session`` over HTTPS.

    The whole call (connect, send, every byte of the answer) has one deadline
    (``ONESTOP_WECHAT_TIMEOUT_MS``): httpx's own timeouts are per phase, and a server
    trickling its answer would pass each of them. The request URL carries the AppSecret
    and the code, so neither it nor httpx's errors ever reach a log line.
    """

    def __init__(self, appid: str, secret: str, base_url: str, timeout: float) -> None:
        self.appid = appid
        self._secret = secret
        self.timeout = timeout
        # trust_env: an egress proxy (HTTPS_PROXY, NO_PROXY) is honoured, as ops set it.
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout, follow_redirects=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> JsCode2SessionProvider:
        if not (settings.wechat_appid and settings.wechat_secret_file):
            raise ValueError("ONESTOP_WECHAT_APPID and ONESTOP_WECHAT_SECRET_FILE are required")
        secret = settings.wechat_secret_file.read_text().strip()
        if not secret:
            raise ValueError("ONESTOP_WECHAT_SECRET_FILE is empty")
        return cls(
            settings.wechat_appid,
            secret,
            settings.wechat_api_base,
            settings.wechat_timeout_ms / 1000,
        )

    async def exchange(self, code: str) -> WeChatSession:
        params = {
            "appid": self.appid,
            "secret": self._secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        headers: dict[str, str] = {}
        propagate.inject(headers)  # the request's traceparent, when tracing is on
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.get(
                    "/sns/jscode2session", params=params, headers=headers
                )
        except (httpx.HTTPError, TimeoutError) as exc:
            log.warning("jscode2session failed: %s", type(exc).__name__)
            raise _unavailable() from None
        if response.status_code != 200:
            log.warning("jscode2session answered HTTP %d", response.status_code)
            raise _unavailable()
        try:
            # WeChat sends JSON as text/plain: parse the body whatever its content type.
            body: Any = json.loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            log.warning("jscode2session answered something that is not a JSON object")
            raise _unavailable()
        return self._session(body)

    def _session(self, body: dict[str, Any]) -> WeChatSession:
        errcode = body.get("errcode") or 0
        if errcode in _INVALID_CODE:
            raise Unauthenticated(
                "微信登录凭证无效或已使用，请重新调用 wx.login (invalid or used wx.login code)",
                extensions={"reason": "invalid_wechat_code"},
            )
        if errcode == _RATE_LIMITED:
            raise RateLimited(
                "微信登录过于频繁，请稍后再试 (WeChat rate limit; retry in "
                f"{_RATE_LIMIT_RETRY_AFTER}s)",
                retry_after=_RATE_LIMIT_RETRY_AFTER,
            )
        if errcode == _HIGH_RISK:
            raise Forbidden("微信已拦截此用户的登录 (sign-in blocked by WeChat risk control)")
        if errcode != 0:
            # -1 is WeChat busy; anything else (40013 bad AppID, 40125 bad secret) is our
            # configuration: logged by code for ops, the same honest answer for the user.
            level = logging.WARNING if errcode == _BUSY else logging.ERROR
            log.log(level, "jscode2session refused", extra={"errcode": errcode})
            raise _unavailable()
        openid, unionid = body.get("openid"), body.get("unionid")
        if not (isinstance(openid, str) and 0 < len(openid) <= 128):
            log.error("jscode2session answered without an openid")
            raise _unavailable()
        return WeChatSession(
            openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None
        )

    async def close(self) -> None:
        await self.client.aclose()


def _unavailable() -> Unavailable:
    return Unavailable(_UNAVAILABLE, extensions={"dependency": "wechat"})


def load_session_provider(settings: Settings) -> WeChatSessionProvider | None:
    """The provider ``ONESTOP_WECHAT_PROVIDER`` names (``dev``, ``wechat`` or
    ``package.module:factory`` called with the settings); None: WeChat sign-in is off."""
    spec = settings.wechat_provider_in_force
    if spec is None:
        return None
    if spec == "dev":
        return DevSessionProvider(settings.wechat_appid or "dev")
    if spec == "wechat":
        return JsCode2SessionProvider.from_settings(settings)
    module_name, _, attribute = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    provider: WeChatSessionProvider = factory(settings)
    return provider


class WeChatBindings:
    """The ``gateway_wechat_bindings`` collection: (appid, openid) → account."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.bindings = db[WECHAT_BINDINGS]

    async def account_for(self, appid: str, session: WeChatSession) -> str:
        """The account bound to this WeChat user, binding a new account id on first use."""
        found = await self.bindings.find_one({"appid": appid, "openid": session.openid})
        if found is not None:
            return str(found["user_id"])
        user_id = "u_" + uuid.uuid4().hex[:20]
        try:
            await self._insert(appid, session, user_id)
        except DuplicateKeyError:
            # A concurrent first sign-in bound it first: its account is the one.
            found = await self.bindings.find_one({"appid": appid, "openid": session.openid})
            if found is None:  # pragma: no cover - the unique index said it exists
                raise
            return str(found["user_id"])
        return user_id

    async def link(self, appid: str, session: WeChatSession, user_id: str) -> None:
        """Bind this WeChat user to an existing account; linking again is a no-op.

        Raises:
            Conflict: the WeChat user is another account's, or the account has another WeChat.
        """
        try:
            await self._insert(appid, session, user_id)
        except DuplicateKeyError:
            found = await self.bindings.find_one({"appid": appid, "openid": session.openid})
            if found is None:
                raise Conflict(
                    "此账号已绑定另一个微信 (this account is bound to another WeChat user)",
                    extensions={"reason": "account_has_wechat"},
                ) from None
            if found["user_id"] != user_id:
                raise Conflict(
                    "此微信已绑定另一个账号，不能再绑定 (this WeChat user is bound to another "
                    "account; accounts are never merged)",
                    extensions={"reason": "wechat_taken"},
                ) from None

    async def is_bound(self, user_id: str, appid: str) -> bool:
        return await self.bindings.find_one({"user_id": user_id, "appid": appid}) is not None

    async def _insert(self, appid: str, session: WeChatSession, user_id: str) -> None:
        await self.bindings.insert_one(
            {
                "_id": uuid.uuid4().hex,
                "appid": appid,
                "openid": session.openid,
                "unionid": session.unionid,
                "user_id": user_id,
                "created_at": datetime.now(UTC),
            }
        )


class WeChatSignIn:
    """What the sign-in mutations use: the code checked and counted, then exchanged."""

    def __init__(
        self,
        provider: WeChatSessionProvider | None,
        bindings: WeChatBindings,
        cache: Cache,
        settings: Settings,
    ) -> None:
        self.provider = provider
        self.bindings = bindings
        self.cache = cache
        self.window = settings.login_code_ip_window
        self.per_ip = settings.wechat_sign_in_per_ip

    @property
    def appid(self) -> str | None:
        return self.provider.appid if self.provider is not None else None

    async def session(self, code: str, client_ip: str | None) -> tuple[str, WeChatSession]:
        """(appid, session) for a ``wx.login`` code, after the per-address limit.

        Every attempt counts, good or bad: each one costs a call against the
        mini-program's WeChat quota, which one address must not be able to spend.
        """
        provider = self.provider
        if provider is None:
            raise Unavailable(
                "微信登录未开通 (WeChat sign-in is not configured on this server)",
                extensions={"dependency": "wechat"},
            )
        typed = code.strip()
        if not _CODE.fullmatch(typed):
            raise BadUserInput(
                "微信登录凭证格式不正确 (not a wx.login code)",
                [FieldError("code", "must be the code wx.login returned", "invalid_code")],
            )
        await count_in_window(
            self.cache,
            f"auth:wechat-ip:{client_key(client_ip)}",
            self.window,
            self.per_ip,
            "此网络微信登录过于频繁，请稍后再试 (too many WeChat sign-ins from this address)",
        )
        return provider.appid, await provider.exchange(typed)

    async def close(self) -> None:
        if self.provider is not None:
            await self.provider.close()
