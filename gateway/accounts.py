"""Accounts and phone login: users, one-time login codes, and their senders.

A login code is six digits, valid five minutes, at most five guesses, at most
one request a minute and ten a day per phone. On top of that each client IP may
request only a few codes per window and per day, the whole service only so many
per minute (SMS pumping), and each client IP may send only so many wrong codes.
Codes and counters are keyed by a hash of the phone (and of the IP) so the cache
never holds phone numbers or addresses in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import logging
import re
import secrets
import time
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.auth import IdentityLevel, Role
from gateway.cache import Cache
from gateway.config import Settings
from gateway.errors import BadUserInput, Conflict, FieldError, RateLimited, Unauthenticated
from gateway.kit.ratelimit import client_key
from gateway.registry import IndexSpec
from gateway.sms import HttpSmsSender

__all__ = [
    "ACCOUNT_INDEXES",
    "USERS",
    "AccountRepository",
    "LoginCodeSender",
    "LoginCodes",
    "LoginLimits",
    "count_in_window",
    "load_sender",
    "mask_phone",
    "normalize_phone",
]

log = logging.getLogger("onestop.accounts")

USERS = "gateway_users"
ACCOUNT_INDEXES = (
    IndexSpec(USERS, (("phone", 1),), name="phone_unique", unique=True, sparse=True),
)

# ASCII only: `\d` would also accept full-width and Arabic-Indic digits, each spelling
# of one number becoming its own account with its own cooldown and daily quota.
_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_SEPARATORS = re.compile(r"[ \t\-()]", re.ASCII)
_MAX_PHONE_INPUT = 32
_ASCII_DIGITS = frozenset("0123456789")


def _invalid_phone(
    message: str = "手机号格式不正确 (not a mainland mobile number)",
) -> BadUserInput:
    return BadUserInput(
        message,
        [FieldError("phone", "must be an 11-digit mainland mobile number", "invalid_phone")],
    )


def normalize_phone(raw: str) -> str:
    """Accept ``138 0013 8000``, ``+86 13800138000``, ``86-138…``; return 11 ASCII digits.

    Every digit must be an ASCII digit: ``１３８…`` (full-width) or ``١٣٨…``
    (Arabic-Indic) is refused rather than converted, so one account has one
    spelling. Separators are NFKC-normalised first (a full-width space, plus
    or parenthesis is accepted like its ASCII form).
    """
    raw = raw or ""
    if len(raw) > _MAX_PHONE_INPUT:
        raise _invalid_phone()
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in raw):
        raise _invalid_phone("手机号请使用半角数字 0-9 (use ASCII digits 0-9)")
    normalized = unicodedata.normalize("NFKC", raw)
    if sum(ch in _ASCII_DIGITS for ch in normalized) != sum(ch in _ASCII_DIGITS for ch in raw):
        raise _invalid_phone("手机号请使用半角数字 0-9 (use ASCII digits 0-9)")
    digits = _SEPARATORS.sub("", normalized)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not _MOBILE.fullmatch(digits):
        raise _invalid_phone()
    return digits


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def _phone_key(phone: str) -> str:
    return hashlib.sha256(b"onestop-phone:" + phone.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class LoginLimits:
    """Abuse limits for login codes (``ONESTOP_LOGIN_CODE_*``, ``ONESTOP_LOGIN_FAILURES_PER_IP``).

    Per-IP limits are a compromise: mobile carriers put many subscribers behind one
    address, and a service hall's Wi-Fi signs in dozens of citizens an hour, so the
    defaults leave room for them; the service-wide ceiling bounds the SMS bill.
    """

    ip_window: int = 600
    per_ip: int = 30
    per_ip_daily: int = 200
    global_per_minute: int = 300
    failures_per_ip: int = 50

    @classmethod
    def from_settings(cls, settings: Settings | None) -> LoginLimits:
        if settings is None:
            return cls()
        return cls(
            ip_window=settings.login_code_ip_window,
            per_ip=settings.login_code_per_ip,
            per_ip_daily=settings.login_code_per_ip_daily,
            global_per_minute=settings.login_code_global_per_minute,
            failures_per_ip=settings.login_failures_per_ip,
        )


class LoginCodeSender(Protocol):
    async def send(self, phone: str, code: str) -> None: ...


class LogSender:
    """Development sender: writes the code to the log, with the phone masked."""

    async def send(self, phone: str, code: str) -> None:
        log.info("login code for %s: %s (dev sender)", mask_phone(phone), code)


def load_sender(settings: Settings) -> LoginCodeSender:
    """``log`` (dev default), ``http`` (an SMS gateway over HTTP: gateway/sms.py) or
    ``package.module:factory`` called with the settings."""
    spec = settings.login_code_sender or "log"
    if spec == "log":
        return LogSender()
    if spec == "http":
        return HttpSmsSender.from_settings(settings)
    module_name, _, attribute = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    sender: LoginCodeSender = factory(settings)
    return sender


async def count_in_window(cache: Cache, key: str, ttl: int, limit: int, message: str) -> None:
    """Count one event in a fixed window; RATE_LIMITED (with retryAfter) past ``limit``."""
    if await cache.incr(key, ttl) > limit:
        wait = await cache.ttl(key)
        wait = wait if wait > 0 else ttl
        raise RateLimited(f"{message} (retry in {wait}s)", retry_after=wait)


class LoginCodes:
    TTL = 300
    RESEND_AFTER = 60
    DAILY_LIMIT = 10
    MAX_ATTEMPTS = 5

    def __init__(
        self, cache: Cache, sender: LoginCodeSender, settings: Settings | None = None
    ) -> None:
        self.cache = cache
        self.sender = sender
        self.limits = LoginLimits.from_settings(settings)

    async def _check_client(self, client_ip: str | None) -> None:
        """Per-IP and global limits, counted before anything is spent on the phone.

        A refused request therefore never touches the phone's cooldown or daily
        quota: nobody can use up someone else's codes from one address.
        """
        client = client_key(client_ip)
        limits = self.limits
        await count_in_window(
            self.cache,
            f"auth:code-ip:{client}",
            limits.ip_window,
            limits.per_ip,
            "此网络获取验证码过于频繁，请稍后再试 (too many codes from this address)",
        )
        day = datetime.now(UTC).strftime("%Y%m%d")
        await count_in_window(
            self.cache,
            f"auth:code-ip-daily:{client}:{day}",
            86_400,
            limits.per_ip_daily,
            "此网络今日验证码次数已用完 (daily limit for this address reached)",
        )
        minute = int(time.time()) // 60
        key = f"auth:code-global:{minute}"
        if await self.cache.incr(key, 120) > limits.global_per_minute:
            wait = 60 - int(time.time()) % 60
            raise RateLimited(
                f"验证码服务繁忙，请稍后再试 (login codes busy; retry in {wait}s)",
                retry_after=wait,
            )

    async def request(self, phone: str, client_ip: str | None = None) -> str:
        await self._check_client(client_ip)
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
        try:
            await self.sender.send(phone, code)
        except Exception:
            # Not sent: the citizen may ask again at once rather than wait out a cooldown
            # for a message that never came (the per-address and daily counts stand).
            await self.cache.delete(f"auth:code:{key}", f"auth:code-cooldown:{key}")
            raise
        return code

    async def verify(self, phone: str, code: str, client_ip: str | None = None) -> None:
        """Check a code; wrong codes also count against the client's address."""
        failures = f"auth:login-fail-ip:{client_key(client_ip)}"
        count = await self.cache.get(failures)
        if count is not None and int(count) >= self.limits.failures_per_ip:
            wait = max(1, await self.cache.ttl(failures))
            raise RateLimited(
                f"验证码错误次数过多，请 {wait} 秒后再试 (too many wrong codes; retry in {wait}s)",
                retry_after=wait,
            )
        try:
            await self._verify(phone, code)
        except Unauthenticated:
            await self.cache.incr(failures, self.limits.ip_window)
            raise

    async def _verify(self, phone: str, code: str) -> None:
        key = _phone_key(phone)
        raw = await self.cache.get(f"auth:code:{key}")
        if raw is None:
            raise Unauthenticated("验证码已失效，请重新获取 (code expired or not requested)")
        attempts = await self.cache.incr(f"auth:code-attempts:{key}", self.TTL)
        if attempts > self.MAX_ATTEMPTS:
            await self.cache.delete(f"auth:code:{key}")
            raise Unauthenticated("验证码错误次数过多，请重新获取 (too many attempts)")
        expected = json.loads(raw)["hash"]
        typed = code.strip()
        # Only six ASCII digits can be right; anything else (even unencodable text) is wrong.
        given = (
            hashlib.sha256(typed.encode()).hexdigest()
            if re.fullmatch(r"[0-9]{6}", typed, re.ASCII)
            else ""
        )
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

    async def login_by_id(self, user_id: str) -> dict[str, Any]:
        """Sign in the account ``user_id`` (a WeChat binding's), creating it on first use.

        A new account is a citizen at the lowest identity level with no ``phone`` field at
        all (the phone index is sparse: a missing field is not indexed, a null would be one
        shared value). Upserting by id makes a binding whose account was never written (a
        crash between the two writes) sign in normally the next time.
        """
        try:
            return await self._upsert_by_id(user_id)
        except DuplicateKeyError:
            # Two first sign-ins of one binding raced; the other one created the account.
            return await self._upsert_by_id(user_id)

    async def _upsert_by_id(self, user_id: str) -> dict[str, Any]:
        await self.users.update_one(
            {"_id": user_id},
            {
                "$setOnInsert": {
                    "roles": [Role.CITIZEN.value],
                    "department": None,
                    "identity_level": int(IdentityLevel.NONE),
                    "display_name": None,
                    "created_at": datetime.now(UTC),
                },
                "$currentDate": {"last_login_at": True},
            },
            upsert=True,
        )
        user: dict[str, Any] | None = await self.users.find_one({"_id": user_id})
        if user is None:  # pragma: no cover - the upsert above guarantees it
            raise RuntimeError("account upsert did not persist")
        return user

    async def add_phone(self, user_id: str, phone: str) -> dict[str, Any]:
        """Give an account without a phone this (already proven) phone.

        Never merges accounts: a phone that belongs to another account is CONFLICT, and so
        is an account that already has another phone (changing numbers is another flow).
        Proving the phone raises the identity level to at least PHONE.

        Raises:
            Conflict: the phone is another account's, or this account has another phone.
            LookupError: no account ``user_id``.
        """
        user = await self.get(user_id)
        if user is None:
            raise LookupError(user_id)
        if user.get("phone") == phone:
            return user  # a retry: nothing to do
        if user.get("phone"):
            raise Conflict(
                "此账号已绑定其他手机号 (this account already has another phone)",
                extensions={"reason": "account_has_phone"},
            )
        level = max(int(user.get("identity_level", 0)), int(IdentityLevel.PHONE))
        try:
            # The filter makes two concurrent bindings of different phones end with one.
            result = await self.users.update_one(
                {"_id": user_id, "phone": {"$exists": False}},
                {"$set": {"phone": phone, "identity_level": level}},
            )
        except DuplicateKeyError:
            raise Conflict(
                "该手机号已是另一个账号的登录手机号，不能绑定；请用该手机号登录 (the phone "
                "belongs to another account; sign in with it instead — accounts are never "
                "merged)",
                extensions={"reason": "phone_taken"},
            ) from None
        if result.matched_count == 0:
            return await self.add_phone(user_id, phone)  # someone bound a phone meanwhile
        return await self.get(user_id) or user

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
