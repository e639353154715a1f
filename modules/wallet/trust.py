"""The trust list, and verifying a license or a presentation with it — no database.

The trust list is a JWS signed by the district's wallet trust anchor: every issuer (its
code, name, the license types it may issue) with every key it has signed with — the
current one and the retired ones, each with the time it was in use. A verifier downloads it
(``walletTrustList``) when online and then checks licenses and presentations alone:

* the license's ``kid`` is a key of the issuer the license names, and that issuer may issue
  the license's type;
* the key was in use when the license was issued (a retired key still verifies what it
  signed before its retirement, nothing after);
* the issuer's signature, the disclosures and, for a presentation, the holder's key binding
  and its 180-second lifetime.

The trust list's own signature is checked against the anchor key in its header; pin the
anchor's thumbprint (``--anchor``) to know it is the district's, not anyone's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modules.wallet.sdjwt import (
    FormatError,
    ParsedSdJwt,
    jwk_of,
    parse,
    public_key_of,
    sign_jws,
    split_jws,
    thumbprint,
    verify_jws,
)

__all__ = [
    "TRUST_LIST_TYP",
    "TrustList",
    "TrustedIssuer",
    "TrustedKey",
    "Verification",
    "sign_trust_list",
    "verify_document",
]

TRUST_LIST_TYP = "trust-list+jwt"
#: Seconds of clock difference tolerated between the holder's wallet and the verifier.
CLOCK_SKEW = 30


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    jwk: Mapping[str, Any]
    not_before: int  # epoch seconds: in use from
    not_after: int | None  # retired at (None: current)


@dataclass(frozen=True)
class TrustedIssuer:
    code: str
    name: str
    license_types: frozenset[str]
    keys: tuple[TrustedKey, ...]

    def key(self, kid: str) -> TrustedKey | None:
        return next((k for k in self.keys if k.kid == kid), None)


@dataclass(frozen=True)
class TrustList:
    issued_at: int
    anchor_thumbprint: str
    issuers: Mapping[str, TrustedIssuer]

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], anchor: str) -> TrustList:
        issuers = {}
        for entry in payload.get("issuers", []):
            keys = tuple(
                TrustedKey(
                    kid=str(k["jwk"]["kid"]),
                    jwk=k["jwk"],
                    not_before=int(k["not_before"]),
                    not_after=int(k["not_after"]) if k.get("not_after") is not None else None,
                )
                for k in entry.get("keys", [])
            )
            issuers[str(entry["code"])] = TrustedIssuer(
                code=str(entry["code"]),
                name=str(entry["name"]),
                license_types=frozenset(entry.get("license_types", [])),
                keys=keys,
            )
        return cls(int(payload.get("iat", 0)), anchor, issuers)

    @classmethod
    def load(cls, document: str, *, anchor: str | None = None) -> TrustList:
        """Check a signed trust list (against ``anchor``, a key thumbprint, when pinned)."""
        header, _payload, _sig, _input = split_jws(document.strip())
        if header.get("typ") != TRUST_LIST_TYP or not isinstance(header.get("jwk"), dict):
            raise FormatError("not a trust list")
        found = thumbprint(header["jwk"])
        if anchor is not None and anchor != found:
            raise FormatError(f"the trust list is signed by {found}, not the pinned anchor")
        _header, payload = verify_jws(document.strip(), public_key_of(header["jwk"]))
        return cls.from_payload(payload, found)


def sign_trust_list(
    issuers: Sequence[Mapping[str, Any]], anchor: Ed25519PrivateKey, now: int
) -> str:
    """The signed trust list (``issuers`` as :meth:`TrustList.from_payload` reads them)."""
    anchor_jwk = jwk_of(anchor.public_key())
    payload = {"iss": "urn:onestop:wallet:trust-anchor", "iat": now, "issuers": list(issuers)}
    return sign_jws({"typ": TRUST_LIST_TYP, "jwk": anchor_jwk}, payload, anchor)


@dataclass
class Verification:
    """What a verifier learns from a license or presentation (never an exception)."""

    valid: bool
    kind: str  # license / presentation / unknown
    problem: str | None = None
    issuer_code: str | None = None
    issuer_name: str | None = None
    license: dict[str, Any] = field(default_factory=dict)  # the signed, visible metadata
    disclosed: dict[str, Any] = field(default_factory=dict)
    presentation_id: str | None = None
    expires_at: int | None = None


def verify_document(text: str, trust: TrustList, now: int) -> Verification:
    """Verify a license (SD-JWT) or a presentation (SD-JWT + key binding) at ``now``."""
    try:
        parsed = parse(text.strip())
    except FormatError as exc:
        return Verification(False, "unknown", f"malformed: {exc}")
    kind = "presentation" if parsed.key_binding else "license"
    result = Verification(False, kind)
    try:
        _check(parsed, trust, now, result)
    except FormatError as exc:
        result.problem = str(exc)
        return result
    result.valid = True
    return result


def _check(parsed: ParsedSdJwt, trust: TrustList, now: int, result: Verification) -> None:
    license_ = parsed.payload.get("license")
    if not isinstance(license_, dict):
        raise FormatError("no license metadata")
    issuer = trust.issuers.get(str(license_.get("issuer_code")))
    if issuer is None:
        raise FormatError("the issuer is not on the trust list")
    result.issuer_code, result.issuer_name = issuer.code, issuer.name
    if license_.get("type_code") not in issuer.license_types:
        raise FormatError("the issuer may not issue this type of license")
    key = issuer.key(parsed.kid)
    if key is None:
        raise FormatError("signed with a key the issuer never published")
    signed_at = int(parsed.payload.get("iat", 0))
    if signed_at < key.not_before - CLOCK_SKEW or (
        key.not_after is not None and signed_at > key.not_after + CLOCK_SKEW
    ):
        raise FormatError("signed with a key that was not in use at the time")
    parsed.verify_issuer(public_key_of(key.jwk))
    result.license = dict(license_)
    result.disclosed = parsed.claims
    valid_until = license_.get("valid_until")
    if valid_until and str(valid_until) < _date(now):
        raise FormatError(f"the license expired on {valid_until}")
    if parsed.key_binding is not None:
        binding = parsed.verify_binding()
        result.presentation_id = str(binding.get("jti") or "")
        result.expires_at = int(binding.get("exp", 0))
        if int(binding.get("iat", 0)) > now + CLOCK_SKEW:
            raise FormatError("the presentation is dated in the future")
        if now > result.expires_at:
            raise FormatError("the presentation has expired")


def _date(epoch: int) -> str:
    """The China date of an instant (licenses are valid through a day in China time)."""
    return (datetime.fromtimestamp(epoch, UTC) + timedelta(hours=8)).date().isoformat()
