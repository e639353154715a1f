"""Tokens and principals: ES256/EdDSA JWTs with ``kid``, rotation, revocation, JWKS.

Access tokens are short-lived and carry the principal (roles, department,
identity level). Refresh tokens are single-use: each refresh marks the old one
used and returns a new pair in the same *family*; presenting a used refresh
token again (a stolen copy, or a replay) revokes the whole family.

Revocation is checked on every request from the cache (Redis when configured, so
every replica agrees) and recorded durably in MongoDB (``gateway_revoked_sessions``,
``gateway_used_refresh_tokens``), so a Redis restart or flush cannot bring a
logged-out session back: a marker key says the cache holds every unexpired
revocation; it is read in the same round trip as the session's mark, and when it
is missing the revocations are reloaded from MongoDB once before answering.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import get_default_algorithms
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.cache import Cache
from gateway.config import Settings
from gateway.devkeys import read_or_create
from gateway.registry import IndexSpec

__all__ = [
    "ANONYMOUS",
    "REVOCATION_INDEXES",
    "IdentityLevel",
    "Principal",
    "RefreshTokenReused",
    "Role",
    "SigningKeys",
    "TokenError",
    "TokenPair",
    "TokenService",
]


REVOKED_SESSIONS = "gateway_revoked_sessions"
USED_REFRESH_TOKENS = "gateway_used_refresh_tokens"
REVOCATION_INDEXES = (
    # MongoDB drops each record once no token it concerns can still be valid.
    IndexSpec(
        REVOKED_SESSIONS, (("expires_at", 1),), name="expires_at_ttl", expire_after_seconds=0
    ),
    IndexSpec(
        USED_REFRESH_TOKENS, (("expires_at", 1),), name="expires_at_ttl", expire_after_seconds=0
    ),
)
_FAMILY_MARK = "auth:family-revoked:"
_LOADED_MARK = "auth:revocations-loaded"
# The marker expires now and then so that marks the cache lost one by one (eviction)
# come back within the hour too; a reload is one query over a small collection.
_LOADED_MARK_TTL = 3600
_RELOAD_BATCH = 1000


class Role(StrEnum):
    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"
    STAFF = "staff"
    ADMIN = "admin"
    VERIFIER = "verifier"


class IdentityLevel(IntEnum):
    """Real-name assurance (实名等级)."""

    NONE = 0
    PHONE = 1  # 手机号验证
    REAL_NAME = 2  # 实名认证: name + ID number checked against the registry
    REAL_PERSON = 3  # 实人认证: face verification against the ID photo


@dataclass(frozen=True)
class Principal:
    """Who is calling. Anonymous callers have no subject and no roles."""

    subject: str | None
    roles: frozenset[str] = frozenset()
    department: str | None = None
    identity_level: int = IdentityLevel.NONE
    scopes: frozenset[str] | None = None  # None: not narrowed beyond the roles' grants
    token_id: str | None = None
    family: str | None = None
    expires_at: int | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.subject is not None

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


ANONYMOUS = Principal(subject=None)


class TokenError(Exception):
    """A token is invalid; ``reason`` is safe to return to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenExpired(TokenError):
    """A token that was valid and has expired (past the leeway)."""

    def __init__(self) -> None:
        super().__init__("token expired")


class RefreshTokenReused(TokenError):
    """A used refresh token came back: a replay or a stolen copy. The session is revoked."""

    def __init__(self, subject: str) -> None:
        super().__init__("refresh token already used; session revoked")
        self.subject = subject


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


@dataclass
class SigningKeys:
    """The current signing key plus every public key still accepted, by ``kid``."""

    algorithm: str
    kid: str
    private_key: Any
    public_keys: dict[str, tuple[Any, str]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> SigningKeys:
        if settings.jwt_private_key or settings.jwt_private_key_file:
            pem = (
                settings.jwt_private_key.encode()
                if settings.jwt_private_key
                else Path(settings.jwt_private_key_file or "").read_bytes()
            )
            private_key = serialization.load_pem_private_key(pem, password=None)
            kid = settings.jwt_kid or _thumbprint(private_key)
        else:
            private_key, kid = _dev_key(settings.data_dir, settings.jwt_algorithm)
        _check_key_type(private_key, settings.jwt_algorithm)
        keys = cls(settings.jwt_algorithm, kid, private_key)
        keys.public_keys[kid] = (private_key.public_key(), settings.jwt_algorithm)
        if settings.jwt_extra_public_keys_file:
            data = json.loads(Path(settings.jwt_extra_public_keys_file).read_text())
            for jwk in data.get("keys", []):
                parsed = jwt.PyJWK(jwk)
                keys.public_keys[jwk["kid"]] = (parsed.key, jwk["alg"])
        return keys

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        entries = []
        for kid, (public_key, algorithm) in sorted(self.public_keys.items()):
            jwk = get_default_algorithms()[algorithm].to_jwk(public_key, as_dict=True)
            entries.append({**jwk, "kid": kid, "alg": algorithm, "use": "sig"})
        return {"keys": entries}


def _check_key_type(key: Any, algorithm: str) -> None:
    if algorithm == "ES256" and not (
        isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    ):
        raise ValueError("ONESTOP_JWT_ALGORITHM=ES256 needs a P-256 EC private key")
    if algorithm == "EdDSA" and not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError("ONESTOP_JWT_ALGORITHM=EdDSA needs an Ed25519 private key")


def _thumbprint(private_key: Any) -> str:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def _dev_key(data_dir: Path, algorithm: str) -> tuple[Any, str]:
    """Load or create the development signing key under ``<data dir>/keys`` (one for
    every process on that data dir: gateway.devkeys)."""

    def generate() -> bytes:
        key = (
            ec.generate_private_key(ec.SECP256R1())
            if algorithm == "ES256"
            else ed25519.Ed25519PrivateKey.generate()
        )
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    pem = read_or_create(data_dir / "keys" / f"jwt-{algorithm.lower()}.pem", generate)
    private_key = serialization.load_pem_private_key(pem, password=None)
    return private_key, "dev-" + _thumbprint(private_key)


ClaimsLoader = Callable[[str], Awaitable[Mapping[str, Any] | None]]


class TokenService:
    """Issue, verify, rotate and revoke tokens."""

    LEEWAY = 30  # seconds of clock skew tolerated between replicas and clients

    def __init__(
        self,
        keys: SigningKeys,
        settings: Settings,
        cache: Cache,
        db: AsyncDatabase[Any] | None = None,
    ) -> None:
        self.keys = keys
        self.settings = settings
        self.cache = cache
        # Without a database (token minting in tools and tests) revocations live in the cache only.
        self.db = db
        self._reload_lock = asyncio.Lock()

    def issue_access_token(
        self,
        subject: str,
        *,
        roles: list[str],
        department: str | None = None,
        identity_level: int = IdentityLevel.NONE,
        scopes: list[str] | None = None,
        family: str | None = None,
        ttl: int | None = None,
    ) -> str:
        claims: dict[str, Any] = {
            "roles": sorted(roles),
            "ial": int(identity_level),
        }
        if department:
            claims["dept"] = department
        if scopes is not None:
            claims["scope"] = " ".join(sorted(scopes))
        if family:
            claims["fam"] = family
        return self._sign(subject, "access", ttl or self.settings.access_token_ttl, claims)

    def issue_pair(
        self, subject: str, claims: Mapping[str, Any], family: str | None = None
    ) -> TokenPair:
        family = family or uuid.uuid4().hex
        access = self.issue_access_token(
            subject,
            roles=list(claims.get("roles", [])),
            department=claims.get("department"),
            identity_level=int(claims.get("identity_level", IdentityLevel.NONE)),
            family=family,
        )
        refresh = self._sign(subject, "refresh", self.settings.refresh_token_ttl, {"fam": family})
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=self.settings.access_token_ttl,
            refresh_expires_in=self.settings.refresh_token_ttl,
        )

    def _sign(self, subject: str, token_use: str, ttl: int, claims: dict[str, Any]) -> str:
        now = int(time.time())
        payload = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "typ": token_use,
            **claims,
        }
        return jwt.encode(
            payload,
            self.keys.private_key,
            algorithm=self.keys.algorithm,
            headers={"kid": self.keys.kid},
        )

    def decode(self, token: str, token_use: str) -> dict[str, Any]:
        """Verify signature, ``kid``, algorithm, time, issuer, audience and token use."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("malformed token") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self.keys.public_keys:
            raise TokenError("unknown signing key")
        public_key, algorithm = self.keys.public_keys[kid]
        # The algorithm comes from our key table, never from the token: this is what
        # rejects "alg: none" and HS256-with-the-public-key forgeries.
        if header.get("alg") != algorithm:
            raise TokenError("unexpected signing algorithm")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=[algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.LEEWAY,
                options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired() from None
        except jwt.PyJWTError:
            raise TokenError("invalid token") from None
        if claims.get("typ") != token_use:
            raise TokenError(f"not an {token_use} token")
        return claims

    async def verify_access_token(self, token: str) -> Principal:
        claims = self.decode(token, "access")
        family = claims.get("fam")
        if family and await self.is_family_revoked(family):
            raise TokenError("session revoked")
        scope = claims.get("scope")
        return Principal(
            subject=str(claims["sub"]),
            roles=frozenset(claims.get("roles", [])),
            department=claims.get("dept"),
            identity_level=int(claims.get("ial", 0)),
            scopes=frozenset(scope.split()) if isinstance(scope, str) else None,
            token_id=claims["jti"],
            family=family,
            expires_at=int(claims["exp"]),
        )

    async def rotate(
        self, refresh_token: str, load_claims: ClaimsLoader
    ) -> tuple[str, Mapping[str, Any], TokenPair]:
        """Exchange a refresh token for a new pair; a reused token revokes its family.

        Returns the subject, its current claims and the new pair.
        """
        claims = self.decode(refresh_token, "refresh")
        family = str(claims["fam"])
        if await self.is_family_revoked(family):
            raise TokenError("session revoked")
        subject = str(claims["sub"])
        # Read the claims before spending the token: a database failure here must leave
        # the refresh token usable for the client's retry, not turn that retry into a "reuse".
        current = await load_claims(subject)
        if current is None:
            raise TokenError("account no longer exists")
        remaining = max(1, int(claims["exp"]) - int(time.time()) + self.LEEWAY)
        if not await self._first_use(str(claims["jti"]), remaining):
            await self.revoke_family(family)
            raise RefreshTokenReused(subject)
        return subject, current, self.issue_pair(subject, current, family=family)

    async def _first_use(self, jti: str, ttl: int) -> bool:
        """Spend a refresh token: True exactly once per ``jti``.

        With a database the durable record decides (it outlives a cache restart);
        without one, the cache.
        """
        if self.db is None:
            return await self.cache.add(f"auth:refresh-used:{jti}", b"1", ttl)
        return await self._record_once(USED_REFRESH_TOKENS, jti, ttl)

    async def revoke(self, refresh_token: str) -> None:
        """Log out: revoke the refresh token's whole family (all tokens of the session)."""
        claims = self.decode(refresh_token, "refresh")
        await self.revoke_family(str(claims["fam"]))

    async def revoke_family(self, family: str) -> None:
        # Keep the mark as long as any token of the family can still be valid.
        ttl = max(self.settings.refresh_token_ttl, self.settings.access_token_ttl) + self.LEEWAY
        # The cache mark takes effect at once on every replica; the database record
        # is what survives a cache restart. A failure of either is an error
        # (UNAVAILABLE), never a silent half-logout.
        await self.cache.set(_FAMILY_MARK + family, b"1", ttl)
        await self._record_once(REVOKED_SESSIONS, family, ttl)

    async def is_family_revoked(self, family: str) -> bool:
        mark, loaded = await self.cache.get_many([_FAMILY_MARK + family, _LOADED_MARK])
        if mark is not None:
            return True
        if loaded is not None or self.db is None:
            return False
        await self._reload_revocations()
        return await self.cache.get(_FAMILY_MARK + family) is not None

    async def _record_once(self, collection: str, key: str, ttl: int) -> bool:
        """Insert a durable record; False when it already existed (True without a database)."""
        if self.db is None:
            return True
        expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
        try:
            # An explicit insert (not an upsert, not $set): see README "Database subset".
            await self.db[collection].insert_one({"_id": key, "expires_at": expires_at})
        except DuplicateKeyError:
            return False
        return True

    async def _reload_revocations(self) -> None:
        """Copy every unexpired revocation from MongoDB into the cache, then set the marker.

        Guarded so that concurrent requests wait for one reload instead of each
        running their own; a database failure propagates (UNAVAILABLE), so a
        session is never taken for valid because its revocation could not be read.
        """
        if self.db is None:
            return
        async with self._reload_lock:
            if await self.cache.get(_LOADED_MARK) is not None:
                return  # another request reloaded while this one waited
            # A sentinel written first: if the cache restarts during the reload it is
            # gone, and the marker is not set over a cache that lost the earlier marks.
            sentinel = f"auth:revocations-reloading:{uuid.uuid4().hex}"
            await self.cache.set(sentinel, b"1", 600)
            now = datetime.now(UTC)
            cursor = self.db[REVOKED_SESSIONS].find(
                {"expires_at": {"$gt": now}}, {"expires_at": 1}, batch_size=_RELOAD_BATCH
            )
            batch: dict[str, tuple[bytes | str, int]] = {}
            async for record in cursor:
                expires_at = record.get("expires_at")
                if not isinstance(expires_at, datetime):
                    continue
                batch[_FAMILY_MARK + str(record["_id"])] = (
                    b"1",
                    max(1, int((expires_at - now).total_seconds()) + 1),
                )
                if len(batch) >= _RELOAD_BATCH:
                    await self.cache.set_many(batch)
                    batch = {}
            await self.cache.set_many(batch)
            if await self.cache.delete(sentinel) == 1:
                await self.cache.set(_LOADED_MARK, b"1", _LOADED_MARK_TTL)
