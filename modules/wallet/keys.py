"""The wallet's secrets: issuers' signing keys, the trust anchor, keyed hashes, holder keys.

Everything lives under one key folder (``ONESTOP_WALLET_KEY_DIR``, default
``<data dir>/keys/wallet``) and is made at first start with :func:`gateway.devkeys.read_or_create`,
so every process on that folder signs alike and nothing is ever committed:

* ``issuer-<code>-<generation>.pem`` — an issuing department's Ed25519 key of that
  generation; rotation makes the next generation (the key history, with each key's time in
  use, is in MongoDB and on the trust list);
* ``trust-anchor.pem`` — signs the trust list;
* ``wallet-secret`` — 32 random bytes from which the keyed hashes (HMAC-SHA-256) are derived:
  holder lookup keys (an account subject is never stored in clear next to a license), the
  numeric fallback codes' lookup keys, and each holder's key-binding key (custodial: the app
  asks the wallet to sign a presentation; a device key in the phone's secure element would
  replace it without changing the format).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.devkeys import read_or_create
from gateway.runtime import Runtime

__all__ = ["KEY_DIR_VARIABLE", "WalletKeys"]

KEY_DIR_VARIABLE = "ONESTOP_WALLET_KEY_DIR"


def _new_private_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class WalletKeys:
    """The wallet's per-process key material (``Module(state=WalletKeys)``)."""

    def __init__(self, runtime: Runtime | None = None, *, folder: Path | None = None) -> None:
        if folder is None:
            configured = os.environ.get(KEY_DIR_VARIABLE)
            assert runtime is not None
            folder = (
                Path(configured) if configured else runtime.settings.data_dir / "keys" / "wallet"
            )
        self.folder = folder
        self._secret: bytes | None = None
        self._issuer_keys: dict[tuple[str, int], Ed25519PrivateKey] = {}
        self._anchor: Ed25519PrivateKey | None = None

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = read_or_create(self.folder / "wallet-secret", lambda: os.urandom(32))
        return self._secret

    def _mac(self, label: str, value: str) -> bytes:
        return hmac.new(self.secret, f"{label}:{value}".encode(), hashlib.sha256).digest()

    def holder_key(self, subject: str) -> str:
        """The keyed hash that stands for a holder in every wallet collection."""
        return self._mac("holder", subject).hex()[:40]

    def numeric_key(self, code: str) -> str:
        """The lookup key of a numeric fallback code (the code itself is never stored)."""
        return self._mac("numeric-code", code).hex()[:40]

    def holder_signing_key(self, holder_key: str) -> Ed25519PrivateKey:
        """The holder's key-binding key, derived (never stored) from the wallet secret."""
        return Ed25519PrivateKey.from_private_bytes(self._mac("holder-binding", holder_key))

    def issuer_key(self, issuer_code: str, generation: int) -> Ed25519PrivateKey:
        """An issuer's private key of one generation (made the first time it is asked for)."""
        cached = self._issuer_keys.get((issuer_code, generation))
        if cached is None:
            if not issuer_code.isalnum():
                raise ValueError("an issuer code is letters and digits")
            pem = read_or_create(
                self.folder / f"issuer-{issuer_code}-{generation}.pem", _new_private_key
            )
            cached = _load(pem)
            self._issuer_keys[(issuer_code, generation)] = cached
        return cached

    def anchor(self) -> Ed25519PrivateKey:
        if self._anchor is None:
            self._anchor = _load(read_or_create(self.folder / "trust-anchor.pem", _new_private_key))
        return self._anchor


def _load(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("wallet keys are Ed25519")
    return key
