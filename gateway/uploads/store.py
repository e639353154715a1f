"""Every MongoDB access of uploads: the bytes in GridFS, a record per file, a quota per user.

The bytes live in the GridFS bucket ``gateway_files`` under the file's own string id.
What is listed, checked and served (owner, name, kind, size, hash, time) is a record in
``gateway_uploads`` with top-level fields only: nx-27017 serves GridFS through an
adapter whose ``files`` collection can be neither counted nor aggregated and whose
``uploadDate`` comes back as text (pinned in tests/gateway/test_conformance.py).

The quota is a running total per owner in ``gateway_upload_quotas``, raised by one
conditional ``$inc`` *before* any byte is written — so concurrent uploads can never
pass it together — and lowered when a write fails or a file is deleted. A process that
dies between the two leaves the total too high, never too low.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.asynchronous.grid_file import AsyncGridOut
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.kit.connections import Key, Keyset, SortKey
from gateway.registry import IndexSpec

__all__ = [
    "BUCKET",
    "QUOTAS",
    "UPLOADS",
    "UPLOAD_COLLECTIONS",
    "UPLOAD_INDEXES",
    "UPLOAD_ORDER",
    "FileStore",
]

log = logging.getLogger("onestop.uploads")

UPLOADS = "gateway_uploads"
QUOTAS = "gateway_upload_quotas"
BUCKET = "gateway_files"
# GridFS makes its own collections (and their indexes) on the first write.
UPLOAD_COLLECTIONS = (QUOTAS, f"{BUCKET}.files", f"{BUCKET}.chunks")
# Newest first; the random id breaks ties.
UPLOAD_ORDER = Keyset(
    "gateway.uploads", (SortKey("uploaded_at", "datetime", descending=True), SortKey("_id", "str"))
)
UPLOAD_INDEXES = (
    IndexSpec(UPLOADS, (("owner", 1), ("uploaded_at", -1)), name="owner_uploaded_at"),
)
# GridFS's default chunk (255 KiB): also the size the service reads and writes at a time.
CHUNK_BYTES = 255 * 1024


class FileStore:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.records = db[UPLOADS]
        self.quotas = db[QUOTAS]
        self._chunks = db[f"{BUCKET}.chunks"]
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)

    async def reserve(self, owner: str, size: int, quota: int) -> int | None:
        """Add ``size`` bytes to the owner's total unless that passes ``quota``: the new
        total, or None (nothing changed)."""
        for _ in range(2):
            updated = await self.quotas.find_one_and_update(
                {"_id": owner, "used": {"$lte": quota - size}},
                {"$inc": {"used": size}},
                return_document=ReturnDocument.AFTER,
            )
            if updated is not None:
                return int(updated["used"])
            try:  # a first upload: the total does not exist yet
                await self.quotas.insert_one({"_id": owner, "used": 0})
            except DuplicateKeyError:
                return None  # it exists: over quota
        return None

    async def release(self, owner: str, size: int) -> None:
        await self.quotas.update_one({"_id": owner}, {"$inc": {"used": -size}})

    async def used(self, owner: str) -> int:
        doc = await self.quotas.find_one({"_id": owner})
        return int(doc["used"]) if doc else 0

    async def write(self, file_id: str, filename: str, chunks: AsyncIterator[bytes]) -> None:
        """Store the bytes under ``file_id``; on any failure none of them stays."""
        stream = self.bucket.open_upload_stream_with_id(file_id, filename)
        try:
            async for chunk in chunks:
                await stream.write(chunk)
            await stream.close()
        except BaseException:
            # Not stream.abort(): nx-27017 refuses to delete a file whose entry the
            # upload has not written yet (pinned), and would leave its chunks behind.
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

    async def open(self, file_id: str) -> AsyncGridOut:
        """The stored bytes; ``gridfs.errors.NoFile`` when there are none."""
        return await self.bucket.open_download_stream(file_id)

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

    async def page(self, owner: str, after: Key | None, limit: int) -> list[dict[str, Any]]:
        return await UPLOAD_ORDER.find_after(self.records, {"owner": owner}, after, limit)

    async def count(self, owner: str) -> int:
        return await self.records.count_documents({"owner": owner})
