"""SD-JWT (IETF SD-JWT, SD-JWT VC) over Ed25519: issue, present, verify — no database.

A license is an SD-JWT: a JWS (compact, ``alg: EdDSA``) by the issuer over a canonical JSON
payload whose personal claims are replaced by salted digests (``_sd``), followed by the
disclosures (``base64url([salt, name, value])``), ``~``-separated::

    <issuer-signed JWT>~<disclosure>~<disclosure>~

A presentation keeps only the disclosures the holder chose and ends with a key-binding JWT
(``typ: kb+jwt``) signed by the holder's key named in the license's ``cnf``: it carries the
presentation's id (``jti``: the single-use token), ``iat``/``exp`` (180 s) and ``sd_hash``
over everything before it, so a screenshot is stale within minutes and a disclosure cannot
be added or swapped.

This file is used both by the gateway and by ``onestop wallet verify`` (offline), so it
imports nothing of the database or the gateway. Decoding is strict: base64url must be the
canonical spelling of its bytes (otherwise editing the last character of a signature could
decode to the same bytes and still verify), JSON must be objects where objects are
expected, and every disclosure must be referenced exactly once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ALG",
    "KB_TYP",
    "SD_TYP",
    "Disclosure",
    "FormatError",
    "ParsedSdJwt",
    "b64decode",
    "b64encode",
    "canonical_json",
    "issue",
    "jwk_of",
    "parse",
    "present",
    "public_key_of",
    "sign_jws",
    "thumbprint",
    "verify_jws",
]

ALG = "EdDSA"
SD_TYP = "dc+sd-jwt"
KB_TYP = "kb+jwt"
SD_ALG = "sha-256"
MAX_CHARS = 64_000  # a license is ~2 KB; anything far larger is not one of ours


class FormatError(ValueError):
    """The text is not a well-formed, correctly signed SD-JWT (the reason is safe to show)."""


# -- encodings ----------------------------------------------------------------------------
def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64decode(text: str) -> bytes:
    """Strict base64url: only the canonical, unpadded spelling of the bytes is accepted."""
    if not text.isascii() or any(c not in _ALPHABET for c in text):
        raise FormatError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise FormatError("not base64url") from None
    if b64encode(data) != text:
        raise FormatError("not the canonical base64url spelling")
    return data


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def canonical_json(value: Any) -> bytes:
    """The one byte sequence signed for a payload: keys sorted, no spaces, UTF-8.

    Our payloads hold only strings, integers, booleans, null, lists and objects (no
    floats), for which this is the JSON Canonicalization Scheme's output (RFC 8785).
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FormatError("not JSON") from None
    if not isinstance(value, dict):
        raise FormatError("not a JSON object")
    return value


# -- keys --------------------------------------------------------------------------------
def jwk_of(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as an OKP JWK (RFC 8037), with its RFC 7638 thumbprint as ``kid``."""
    raw = public_key.public_bytes_raw()
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64encode(raw)}
    return {**jwk, "kid": thumbprint(jwk)}


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint of an OKP key (its required members, canonical JSON, SHA-256)."""
    members = {k: jwk[k] for k in ("crv", "kty", "x")}
    return b64encode(hashlib.sha256(canonical_json(members)).digest())


def public_key_of(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise FormatError("not an Ed25519 key")
    raw = b64decode(str(jwk["x"]))
    if len(raw) != 32:
        raise FormatError("not an Ed25519 key")
    return Ed25519PublicKey.from_public_bytes(raw)


# -- JWS ---------------------------------------------------------------------------------
def sign_jws(header: Mapping[str, Any], payload: Mapping[str, Any], key: Ed25519PrivateKey) -> str:
    """Compact JWS over the canonical JSON of ``payload``."""
    signing_input = (
        b64encode(canonical_json({**header, "alg": ALG})) + "." + b64encode(canonical_json(payload))
    )
    return signing_input + "." + b64encode(key.sign(signing_input.encode("ascii")))


def split_jws(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, payload, signature and signing input of a compact JWS (not verified)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise FormatError("not a compact JWS")
    header = _json_object(b64decode(parts[0]))
    payload = _json_object(b64decode(parts[1]))
    if header.get("alg") != ALG:
        raise FormatError("unsupported algorithm")
    return header, payload, b64decode(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii")


def verify_jws(token: str, key: Ed25519PublicKey) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, signature, signing_input = split_jws(token)
    try:
        key.verify(signature, signing_input)
    except InvalidSignature:
        raise FormatError("signature does not verify") from None
    return header, payload


# -- SD-JWT ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Disclosure:
    """One selectively disclosable claim as it travels: ``base64url([salt, name, value])``."""

    text: str
    name: str
    value: Any

    @property
    def digest(self) -> str:
        return _digest(self.text)

    @classmethod
    def make(cls, name: str, value: Any) -> Disclosure:
        salt = b64encode(secrets.token_bytes(16))
        text = b64encode(json.dumps([salt, name, value], ensure_ascii=False).encode())
        return cls(text, name, value)

    @classmethod
    def parse(cls, text: str) -> Disclosure:
        try:
            value = json.loads(b64decode(text).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise FormatError("a disclosure is not JSON") from None
        if (
            not isinstance(value, list)
            or len(value) != 3
            or not isinstance(value[0], str)
            or not isinstance(value[1], str)
            or value[1] in ("_sd", "...", "_sd_alg", "cnf")
        ):
            raise FormatError("a disclosure is not [salt, name, value]")
        return cls(text, value[1], value[2])


def _digest(text: str) -> str:
    return b64encode(hashlib.sha256(text.encode("ascii")).digest())


def issue(
    visible: Mapping[str, Any],
    disclosable: Mapping[str, Any],
    *,
    holder_key: Ed25519PublicKey,
    issuer_key: Ed25519PrivateKey,
    kid: str,
    decoys: int = 3,
) -> str:
    """An SD-JWT: ``visible`` claims in clear, each of ``disclosable`` behind a digest,
    bound to ``holder_key`` (``cnf``). Decoy digests hide how many claims there are."""
    disclosures = [Disclosure.make(name, value) for name, value in disclosable.items()]
    digests = [d.digest for d in disclosures]
    digests += [_digest(b64encode(secrets.token_bytes(16))) for _ in range(decoys)]
    payload = {
        **visible,
        "_sd": sorted(digests),
        "_sd_alg": SD_ALG,
        "cnf": {"jwk": jwk_of(holder_key)},
    }
    jws = sign_jws({"typ": SD_TYP, "kid": kid}, payload, issuer_key)
    return jws + "~" + "".join(d.text + "~" for d in disclosures)


@dataclass(frozen=True)
class ParsedSdJwt:
    """An SD-JWT taken apart (signatures not yet checked)."""

    jws: str
    header: dict[str, Any]
    payload: dict[str, Any]
    disclosures: tuple[Disclosure, ...]
    key_binding: str | None  # the KB-JWT of a presentation; None for a license
    presented: str = field(default="")  # everything the KB-JWT's sd_hash covers

    @property
    def claims(self) -> dict[str, Any]:
        """The disclosed claims by name."""
        return {d.name: d.value for d in self.disclosures}

    @property
    def kid(self) -> str:
        return str(self.header.get("kid") or "")

    def verify_issuer(self, key: Ed25519PublicKey) -> None:
        """The issuer's signature holds and every disclosure is one the issuer signed."""
        verify_jws(self.jws, key)
        signed = self.payload.get("_sd")
        if not isinstance(signed, list) or self.payload.get("_sd_alg") != SD_ALG:
            raise FormatError("no selective-disclosure digests")
        seen: set[str] = set()
        for disclosure in self.disclosures:
            digest = disclosure.digest
            if digest not in signed:
                raise FormatError("a disclosure was not signed by the issuer")
            if digest in seen:
                raise FormatError("a disclosure appears twice")
            seen.add(digest)
            if disclosure.name in self.payload:
                raise FormatError("a disclosure overrides a signed claim")

    def holder_key(self) -> Ed25519PublicKey:
        cnf = self.payload.get("cnf")
        if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
            raise FormatError("the license names no holder key")
        return public_key_of(cnf["jwk"])

    def verify_binding(self) -> dict[str, Any]:
        """The key-binding JWT is the holder's and covers exactly these disclosures."""
        if self.key_binding is None:
            raise FormatError("not a presentation (no key binding)")
        header, payload = verify_jws(self.key_binding, self.holder_key())
        if header.get("typ") != KB_TYP:
            raise FormatError("not a key-binding JWT")
        if payload.get("sd_hash") != _digest(self.presented):
            raise FormatError("the key binding does not cover these disclosures")
        return payload


def parse(text: str) -> ParsedSdJwt:
    """Take an SD-JWT (a license or a presentation) apart; structure only."""
    if len(text) > MAX_CHARS or not text.isascii():
        raise FormatError("not an SD-JWT")
    parts = text.split("~")
    if len(parts) < 2:
        raise FormatError("not an SD-JWT")
    jws, middle, last = parts[0], parts[1:-1], parts[-1]
    header, payload, _signature, _input = split_jws(jws)
    if header.get("typ") != SD_TYP:
        raise FormatError("not an SD-JWT license")
    disclosures = tuple(Disclosure.parse(d) for d in middle)
    presented = text[: len(text) - len(last)]
    return ParsedSdJwt(jws, header, payload, disclosures, last or None, presented)


def present(
    license_sd_jwt: str,
    names: Iterable[str],
    *,
    holder_key: Ed25519PrivateKey,
    binding: Mapping[str, Any],
) -> str:
    """A presentation of the license with only the disclosures named, key-bound.

    ``binding`` holds the key-binding claims (``jti``, ``iat``, ``exp``, ``aud``…);
    ``sd_hash`` is added here.
    """
    parsed = parse(license_sd_jwt)
    wanted = set(names)
    kept: Sequence[Disclosure] = [d for d in parsed.disclosures if d.name in wanted]
    presented = parsed.jws + "~" + "".join(d.text + "~" for d in kept)
    kb = sign_jws({"typ": KB_TYP}, {**binding, "sd_hash": _digest(presented)}, holder_key)
    return presented + kb
