"""Every MongoDB access of uploads: the bytes in GridFS, a record per file, a quota per user.

The bytes live in the GridFS bucket ``gateway_files`` under the file's own string id,
laid out as GridFS lays them out (any GridFS tool reads them) but written and read one
chunk at a time by this store, so memory stays at one chunk per upload or download;
PyMongo's bucket deletes them. What is listed, checked and served (owner, name, kind,
size, hash, time) is a record in ``gateway_uploads`` with top-level fields only:
nx-27017 serves GridFS through an adapter whose ``files`` collection can be neither
counted nor aggregated and whose ``uploadDate`` comes back as text (pinned in
tests/gateway/test_conformance.py).

The quota is a running total per owner in ``gateway_upload_quotas``, raised by one
conditional ``$inc`` *before* any byte is written — so concurrent uploads can never
pass it together — and lowered when a write fails or a file is deleted. A process that
dies between the two leaves the total too high, never too low.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from bson import Binary, Int64
from gridfs import AsyncGridFSBucket
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.kit.connections import Keyset, Listing, SortKey
from gateway.registry import IndexSpec

__all__ = [
    "BUCKET",
    "QUOTAS",
    "UPLOADS",
    "UPLOAD_COLLECTIONS",
    "UPLOAD_INDEXES",
    "UPLOAD_ORDER",
    "CorruptFile",
    "FileStore",
]

log = logging.getLogger("onestop.uploads")

UPLOADS = "gateway_uploads"
QUOTAS = "gateway_upload_quotas"
BUCKET = "gateway_files"
UPLOAD_COLLECTIONS = (QUOTAS,)
# Newest first; the random id breaks ties.
UPLOAD_ORDER = Keyset(
    "gateway.uploads", (SortKey("uploaded_at", "datetime", descending=True), SortKey("_id", "str"))
)
UPLOAD_INDEXES = (
    IndexSpec(UPLOADS, (("owner", 1), ("uploaded_at", -1)), name="owner_uploaded_at"),
    # GridFS's own indexes (its upload stream would make them; FileStore.write does not).
    IndexSpec(f"{BUCKET}.chunks", (("files_id", 1), ("n", 1)), unique=True),
    IndexSpec(f"{BUCKET}.files", (("filename", 1), ("uploadDate", 1))),
)
# GridFS's default chunk (255 KiB): also the size the service reads and writes at a time.
CHUNK_BYTES = 255 * 1024


class CorruptFile(Exception):
    """Stored bytes do not add up to the file their entry describes."""


class FileStore:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.records = db[UPLOADS]
        self.quotas = db[QUOTAS]
        self._files = db[f"{BUCKET}.files"]
        self._chunks = db[f"{BUCKET}.chunks"]
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)

    async def reserve(self, owner: str, size: int, quota: int) -> int | None:
        """Add ``size`` bytes to the owner's total unless that passes ``quota``: the new
        total, or None (nothing changed)."""
        for attempt in range(2):
            updated = await self.quotas.find_one_and_update(
                {"_id": owner, "used": {"$lte": quota - size}},
                {"$inc": {"used": size}},
                return_document=ReturnDocument.AFTER,
            )
            if updated is not None:
                return int(updated["used"])
            if attempt:
                break
            # Perhaps a first upload: make the total, unless it exists (or a concurrent
            # first upload just made it), and try once more.
            with contextlib.suppress(DuplicateKeyError):
                await self.quotas.insert_one({"_id": owner, "used": 0})
        return None

    async def release(self, owner: str, size: int) -> None:
        await self.quotas.update_one({"_id": owner}, {"$inc": {"used": -size}})

    async def used(self, owner: str) -> int:
        doc = await self.quotas.find_one({"_id": owner})
        return int(doc["used"]) if doc else 0

    async def write(self, file_id: str, filename: str, chunks: AsyncIterator[bytes]) -> None:
        """Store the bytes under ``file_id`` the way GridFS lays them out — chunk documents
        (each ``CHUNK_BYTES`` but the last), then the files entry that makes them a file —
        holding one chunk in memory at a time; on any failure none of them stays.

        Not the bucket's upload stream: it keeps up to 48 MB of chunks in memory and
        inserts them in one batch (measured: a 40 MB upload raised the gateway's peak
        memory by 120 MB).
        """
        length = 0
        try:
            async for number, chunk in _numbered(chunks):
                await self._chunks.insert_one(
                    {"files_id": file_id, "n": number, "data": Binary(chunk)}
                )
                length += len(chunk)
            await self._files.insert_one(
                {
                    "_id": file_id,
                    "length": Int64(length),
                    "chunkSize": CHUNK_BYTES,
                    "uploadDate": datetime.now(UTC),
                    "filename": filename,
                    "metadata": {},
                }
            )
        except BaseException:
            # Not an upload stream's abort(): nx-27017 refuses to delete a file whose
            # entry is not written yet (pinned) and would leave its chunks behind.
            await self.delete_bytes(file_id)
            raise

    async def delete_bytes(self, file_id: str) -> None:
        try:
            await self.bucket.delete(file_id)
        except Exception:  # NoFile, or nx-27017 without a files entry: chunks by hand
            try:
                await self._chunks.delete_many({"files_id": file_id})
            except Exception:
                log.exception("upload bytes not deleted", extra={"file": file_id})

    async def open(self, file_id: str) -> AsyncIterator[bytes] | None:
        """The stored bytes a chunk at a time, or None when there are none."""
        entry = await self._files.find_one({"_id": file_id})
        if entry is None:
            return None
        return self._read(file_id, int(entry["length"]), int(entry["chunkSize"]))

    async def _read(self, file_id: str, length: int, chunk_size: int) -> AsyncIterator[bytes]:
        """One chunk per query, so one chunk in memory whatever the server does with a
        cursor's batch size (nx-27017 answers a whole file's chunks at once). Not the
        bucket's download stream either: its cursor batches hold up to 16 MB.

        Raises:
            CorruptFile: a chunk is missing (the response is then cut short: the client
                sees a truncated download, never wrong bytes as complete).
        """
        for number in range(-(-length // chunk_size)):
            doc = await self._chunks.find_one({"files_id": file_id, "n": number})
            if doc is None:
                raise CorruptFile(f"{file_id}: chunk {number} of {length} bytes missing")
            yield bytes(doc["data"])

    async def insert(self, record: dict[str, Any]) -> None:
        await self.records.insert_one(record)

    async def get(self, file_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.records.find_one({"_id": file_id})
        return doc

    async def by_ids(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {doc["_id"]: doc async for doc in self.records.find({"_id": {"$in": list(ids)}})}

    async def remove(self, owner: str, file_id: str) -> dict[str, Any] | None:
        """Delete the owner's record of ``file_id``: the record, or None if none."""
        doc: dict[str, Any] | None = await self.records.find_one_and_delete(
            {"_id": file_id, "owner": owner}
        )
        return doc

    def listing(self, owner: str) -> Listing[dict[str, Any]]:
        """The owner's files, newest first."""
        return UPLOAD_ORDER.listing(self.records, {"owner": owner})


async def _numbered(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """The chunks with their numbers; every one but the last must be full, or a reader
    would find the bytes at the wrong offsets."""
    number, short = 0, False
    async for chunk in chunks:
        if short or len(chunk) > CHUNK_BYTES:
            raise ValueError("GridFS chunks must be full except the last")
        short = len(chunk) < CHUNK_BYTES
        yield number, chunk
        number += 1
