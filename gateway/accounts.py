"""Accounts and phone login: users, one-time login codes, and their senders.

A login code is six digits, valid five minutes, at most five guesses, at most
one request a minute and ten a day per phone. Codes and counters are keyed by a
hash of the phone so the cache never holds phone numbers in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import logging
import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.auth import IdentityLevel, Role
from gateway.cache import Cache
from gateway.config import Settings
from gateway.errors import BadUserInput, FieldError, RateLimited, Unauthenticated
from gateway.registry import IndexSpec

__all__ = [
    "ACCOUNT_INDEXES",
    "USERS",
    "AccountRepository",
    "LoginCodeSender",
    "LoginCodes",
    "load_sender",
    "mask_phone",
    "normalize_phone",
]

log = logging.getLogger("onestop.accounts")

USERS = "gateway_users"
ACCOUNT_INDEXES = (
    IndexSpec(USERS, (("phone", 1),), name="phone_unique", unique=True, sparse=True),
)

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(raw: str) -> str:
    """Accept ``138 0013 8000``, ``+86 13800138000``, ``86-138…``; return 11 digits."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not _MOBILE.match(digits):
        raise BadUserInput(
            "手机号格式不正确 (not a mainland mobile number)",
            [FieldError("phone", "must be an 11-digit mainland mobile number", "invalid_phone")],
        )
    return digits


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def _phone_key(phone: str) -> str:
    return hashlib.sha256(b"onestop-phone:" + phone.encode()).hexdigest()[:32]


class LoginCodeSender(Protocol):
    async def send(self, phone: str, code: str) -> None: ...


class LogSender:
    """Development sender: writes the code to the log, with the phone masked."""

    async def send(self, phone: str, code: str) -> None:
        log.info("login code for %s: %s (dev sender)", mask_phone(phone), code)


def load_sender(settings: Settings) -> LoginCodeSender:
    """``log`` (dev default) or ``package.module:factory`` called with the settings."""
    spec = settings.login_code_sender or "log"
    if spec == "log":
        return LogSender()
    module_name, _, attribute = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    sender: LoginCodeSender = factory(settings)
    return sender


class LoginCodes:
    TTL = 300
    RESEND_AFTER = 60
    DAILY_LIMIT = 10
    MAX_ATTEMPTS = 5

    def __init__(self, cache: Cache, sender: LoginCodeSender) -> None:
        self.cache = cache
        self.sender = sender

    async def request(self, phone: str) -> str:
        key = _phone_key(phone)
        if not await self.cache.add(f"auth:code-cooldown:{key}", b"1", self.RESEND_AFTER):
            wait = max(1, await self.cache.ttl(f"auth:code-cooldown:{key}"))
            raise RateLimited(f"请 {wait} 秒后再获取验证码 (retry in {wait}s)", retry_after=wait)
        day = datetime.now(UTC).strftime("%Y%m%d")
        if await self.cache.incr(f"auth:code-daily:{key}:{day}", 86_400) > self.DAILY_LIMIT:
            raise RateLimited("今日验证码次数已用完 (daily limit reached)", retry_after=86_400)
        code = f"{secrets.randbelow(1_000_000):06d}"
        record = {"hash": hashlib.sha256(code.encode()).hexdigest(), "attempts": 0}
        await self.cache.set(f"auth:code:{key}", json.dumps(record), self.TTL)
        await self.cache.delete(f"auth:code-attempts:{key}")
        await self.sender.send(phone, code)
        return code

    async def verify(self, phone: str, code: str) -> None:
        key = _phone_key(phone)
        raw = await self.cache.get(f"auth:code:{key}")
        if raw is None:
            raise Unauthenticated("验证码已失效，请重新获取 (code expired or not requested)")
        attempts = await self.cache.incr(f"auth:code-attempts:{key}", self.TTL)
        if attempts > self.MAX_ATTEMPTS:
            await self.cache.delete(f"auth:code:{key}")
            raise Unauthenticated("验证码错误次数过多，请重新获取 (too many attempts)")
        expected = json.loads(raw)["hash"]
        given = hashlib.sha256(code.strip().encode()).hexdigest()
        if not hmac.compare_digest(expected, given):
            raise Unauthenticated("验证码错误 (wrong code)")
        # Single use: a second login with the same code must fail.
        await self.cache.delete(f"auth:code:{key}", f"auth:code-attempts:{key}")


class AccountRepository:
    """The ``gateway_users`` collection."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.users = db[USERS]

    async def login_by_phone(self, phone: str) -> dict[str, Any]:
        """Find the citizen with this phone, creating one on first login (race-safe upsert)."""
        now = datetime.now(UTC)
        try:
            return await self._upsert_citizen(phone, now)
        except DuplicateKeyError:
            # Two first logins raced; the other one created the account.
            return await self._upsert_citizen(phone, now)

    async def _upsert_citizen(self, phone: str, now: datetime) -> dict[str, Any]:
        # update_one + find_one rather than find_one_and_update(upsert=True): nx-27017
        # drops $setOnInsert on find_one_and_update upserts (pinned in the conformance
        # tests), which would create users without roles.
        await self.users.update_one(
            {"phone": phone},
            {
                "$setOnInsert": {
                    "_id": "u_" + uuid.uuid4().hex[:20],
                    "roles": [Role.CITIZEN.value],
                    "department": None,
                    "identity_level": int(IdentityLevel.PHONE),
                    "display_name": None,
                    "created_at": now,
                },
                # $currentDate, not $set: nx-27017 stores a $set top-level datetime as text.
                "$currentDate": {"last_login_at": True},
            },
            upsert=True,
        )
        user: dict[str, Any] | None = await self.users.find_one({"phone": phone})
        if user is None:  # pragma: no cover - the upsert above guarantees it
            raise RuntimeError("account upsert did not persist")
        return user

    async def get(self, user_id: str) -> dict[str, Any] | None:
        user: dict[str, Any] | None = await self.users.find_one({"_id": user_id})
        return user

    async def claims_for(self, user_id: str) -> Mapping[str, Any] | None:
        user = await self.get(user_id)
        if user is None:
            return None
        return {
            "roles": user.get("roles", []),
            "department": user.get("department"),
            "identity_level": user.get("identity_level", 0),
        }
