"""The gateway's file service: accept, list, delete and hand out uploaded files.

Modules reach it as ``ctx.uploads`` (``runtime.uploads``): a case module keeps the id of
an applicant's material and checks ``get(id)["owner"]`` before attaching it, then mints
links for its staff with :meth:`Uploads.download_path`. Records are plain documents;
GraphQL shapes live in ``gateway/uploads/schema.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from gateway.config import Settings
from gateway.errors import BadUserInput, FieldError
from gateway.kit.connections import Listing
from gateway.uploads.formats import (
    FORMATS,
    SNIFF_BYTES,
    UNDECLARED_MEDIA_TYPES,
    FileKind,
    safe_filename,
    sniff,
)
from gateway.uploads.multipart import ReceivedFile
from gateway.uploads.signing import LinkVerdict, UrlSigner
from gateway.uploads.store import CHUNK_BYTES, FileStore

__all__ = ["DOWNLOAD_PREFIX", "UploadLimits", "UploadPurpose", "UploadRefused", "Uploads"]

# Where signed downloads are served (gateway/uploads/routes.py).
DOWNLOAD_PREFIX = "/files/"


class UploadPurpose(StrEnum):
    """What a file is uploaded for (stored with it, for the modules that use it)."""

    CASE_MATERIAL = "case_material"
    MESSAGE_ATTACHMENT = "message_attachment"


class UploadRefused(BadUserInput):
    """An upload refused before anything was stored: ``BAD_USER_INPUT`` with one field
    error whose ``code`` says why (``too_large``, ``empty``, ``unsupported_type``,
    ``type_mismatch``, ``quota_exceeded``) and the facts a client needs to tell the user."""

    def __init__(self, field: str, code: str, message: str, **facts: Any) -> None:
        super().__init__(message, [FieldError(field, message, code)])
        self.extra.update(facts)


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    kinds: tuple[FileKind, ...]
    quota_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(settings.upload_max_bytes, settings.upload_types, settings.upload_quota_bytes)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


class Uploads:
    def __init__(self, store: FileStore, signer: UrlSigner, limits: UploadLimits) -> None:
        self.store = store
        self.signer = signer
        self.limits = limits

    @classmethod
    def from_settings(cls, settings: Settings, store: FileStore) -> Uploads:
        return cls(store, UrlSigner.from_settings(settings), UploadLimits.from_settings(settings))

    async def accept(
        self, owner: str, purpose: UploadPurpose, file: ReceivedFile, *, field: str = "file"
    ) -> dict[str, Any]:
        """Check ``file`` and store it for ``owner``; its record.

        In order: size, kind (from the bytes), the declared type and the extension
        against that kind, then the owner's quota — all before any byte is written, so
        a refusal leaves nothing behind. The bytes are then streamed to GridFS a chunk
        at a time and hashed on the way.

        Raises:
            UploadRefused: the file is too large, empty, of a kind not accepted, declared
                as another kind, or over the owner's quota.
        """
        kind = await self._check(file, field)
        name = safe_filename(file.filename, kind)
        size = file.received
        used = await self.store.reserve(owner, size, self.limits.quota_bytes)
        if used is None:
            used_now = await self.store.used(owner)
            quota = self.limits.quota_bytes
            raise UploadRefused(
                field,
                "quota_exceeded",
                f"上传空间不足：已用 {_megabytes(used_now)}，共 {_megabytes(quota)} "
                f"(upload quota exceeded: {used_now} of {quota} bytes used)",
                usedBytes=used_now,
                quotaBytes=quota,
            )
        file_id = uuid.uuid4().hex
        digest = hashlib.sha256()
        try:
            await self.store.write(file_id, name, _chunks(file, digest, size))
            record = {
                "_id": file_id,
                "owner": owner,
                "purpose": purpose.value,
                "filename": name,
                "kind": kind.value,
                "media_type": FORMATS[kind].media_type,
                "size": size,
                "sha256": digest.hexdigest(),
                "uploaded_at": datetime.now(UTC),
            }
            try:
                await self.store.insert(record)
            except BaseException:
                await self.store.delete_bytes(file_id)
                raise
        except BaseException:
            await self.store.release(owner, size)
            raise
        return record

    async def _check(self, file: ReceivedFile, field: str) -> FileKind:
        limit = self.limits.max_bytes
        if file.too_large:
            raise UploadRefused(
                field,
                "too_large",
                f"文件超过 {_megabytes(limit)} 上限 (file larger than {limit} bytes)",
                maxBytes=limit,
            )
        if file.received == 0:
            raise UploadRefused(field, "empty", "文件为空 (empty file)")
        await file.seek(0)
        head = await file.read(SNIFF_BYTES)
        kind = await asyncio.to_thread(sniff, head, file.file)
        accepted = [k.value for k in self.limits.kinds]
        if kind is None or kind not in self.limits.kinds:
            raise UploadRefused(
                field,
                "unsupported_type",
                f"不支持的文件类型，仅接受 {'、'.join(a.upper() for a in accepted)} "
                f"(unsupported file type; accepted: {', '.join(accepted)})",
                acceptedTypes=accepted,
            )
        form = FORMATS[kind]
        declared = (file.content_type or "").partition(";")[0].strip().lower()
        if declared not in UNDECLARED_MEDIA_TYPES and declared not in form.declared_as:
            raise UploadRefused(
                field,
                "type_mismatch",
                f"文件内容为 {kind.value.upper()}，与声明的类型 {declared} 不符 "
                f"(content type mismatch: the bytes are {kind.value}, declared {declared})",
                detectedType=kind.value,
            )
        extension = _extension(file.filename)
        if extension and extension not in form.extensions:
            raise UploadRefused(
                field,
                "type_mismatch",
                f"文件内容为 {kind.value.upper()}，与扩展名 {extension} 不符 "
                f"(content type mismatch: the bytes are {kind.value}, the name says {extension})",
                detectedType=kind.value,
            )
        return kind

    async def get(self, file_id: str) -> dict[str, Any] | None:
        return await self.store.get(file_id)

    async def by_ids(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return await self.store.by_ids(ids)

    def listing(self, owner: str) -> Listing[dict[str, Any]]:
        """The owner's files, newest first."""
        return self.store.listing(owner)

    async def used(self, owner: str) -> int:
        """Bytes the owner's files take from the quota."""
        return await self.store.used(owner)

    async def delete(self, owner: str, file_id: str) -> dict[str, Any] | None:
        """Delete one of the owner's files; its record, or None if the owner has no such
        file. The record goes first: from then on no link opens it."""
        record = await self.store.remove(owner, file_id)
        if record is None:
            return None
        await self.store.delete_bytes(file_id)
        await self.store.release(owner, int(record["size"]))
        return record

    def download_path(self, file_id: str, now: float | None = None) -> tuple[str, int]:
        """A signed download path (``/files/<id>?exp=…&sig=…``) and its expiry (Unix
        seconds). The caller has checked that whoever receives it may read the file."""
        expires = int(now if now is not None else time.time()) + self.signer.ttl
        query = urlencode({"exp": expires, "sig": self.signer.signature(file_id, expires)})
        return f"{DOWNLOAD_PREFIX}{file_id}?{query}", expires

    def check_link(self, file_id: str, exp: str | None, sig: str | None) -> LinkVerdict:
        return self.signer.verify(file_id, exp, sig, time.time())

    async def open(self, file_id: str) -> AsyncIterator[bytes] | None:
        """The stored bytes a chunk at a time, or None when there are none."""
        return await self.store.open(file_id)


async def _chunks(file: ReceivedFile, digest: Any, size: int) -> AsyncIterator[bytes]:
    """The spooled file a GridFS chunk at a time, hashed on the way."""
    await file.seek(0)
    read = 0
    while chunk := await file.read(CHUNK_BYTES):
        read += len(chunk)
        digest.update(chunk)
        yield chunk
    if read != size:  # the spool must hold exactly what was received
        raise RuntimeError(f"spooled upload has {read} bytes, {size} received")


def _extension(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot and stem.strip(" .") and extension else ""
