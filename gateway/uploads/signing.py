"""Short-lived signed download URLs: ``/files/<id>?exp=<unix seconds>&sig=<HMAC>``.

A download is fetched by whatever shows the file — an ``<img>``, the mini-program's
``wx.downloadFile``, a PDF viewer — none of which sends the bearer token. So a signed-in
caller asks GraphQL for a URL (``StoredFile.downloadUrl``, where ownership is checked),
and the URL itself carries the permission: HMAC-SHA256 over purpose, id and expiry
with a secret every gateway process shares, valid ``ONESTOP_UPLOAD_URL_TTL`` seconds.
The purpose is signed too, so a signature made for another use of the same secret can
never open a download.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from enum import StrEnum
from pathlib import Path

from gateway.config import Settings
from gateway.devkeys import read_or_create

__all__ = ["DOWNLOAD_PURPOSE", "LinkVerdict", "UrlSigner"]

DOWNLOAD_PURPOSE = "download"
_SECRET_BYTES = 32


class LinkVerdict(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid_signature"


class UrlSigner:
    def __init__(self, secret: bytes, ttl: int) -> None:
        self._secret = secret
        self.ttl = ttl

    @classmethod
    def from_settings(cls, settings: Settings) -> UrlSigner:
        if settings.upload_url_secret:
            secret = settings.upload_url_secret.encode()
        else:
            secret = _dev_secret(settings.data_dir)
        return cls(secret, settings.upload_url_ttl)

    def signature(self, file_id: str, expires: int, purpose: str = DOWNLOAD_PURPOSE) -> str:
        message = f"{purpose}\n{file_id}\n{expires}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def verify(self, file_id: str, exp: str | None, sig: str | None, now: float) -> LinkVerdict:
        """Whether a link's ``exp`` and ``sig`` open ``file_id`` at ``now``. The
        signature is checked first, so a forged link learns nothing about expiry."""
        if not exp or not sig or not exp.isascii() or not exp.isdigit() or len(exp) > 12:
            return LinkVerdict.INVALID
        if not hmac.compare_digest(self.signature(file_id, int(exp)).encode(), sig.encode()):
            return LinkVerdict.INVALID
        return LinkVerdict.VALID if now <= int(exp) else LinkVerdict.EXPIRED


def _dev_secret(data_dir: Path) -> bytes:
    """The development secret under ``<data dir>/keys``, made once for every process
    started on that data dir (gateway.devkeys)."""
    path = data_dir / "keys" / "upload-url.key"
    return read_or_create(path, lambda: secrets.token_bytes(_SECRET_BYTES).hex().encode()).strip()
