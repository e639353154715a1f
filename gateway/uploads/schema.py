"""Uploads in GraphQL: ``uploadFile``, ``myUploads``, ``deleteUpload`` and ``StoredFile``.

Files arrive per the GraphQL multipart request spec as ``Upload`` variables; the
gateway composes this part beside its own fields (``gateway.uploads`` in ``modules``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.file_uploads import Upload
from strawberry.types import Info
from strawberry.types.scalar import ScalarDefinition

from gateway.auth import Role
from gateway.context import Context
from gateway.errors import Forbidden, NotFound, Unauthenticated
from gateway.kit.connections import After, Connection, First, keyset_page
from gateway.kit.enums import graphql_enum
from gateway.kit.nodes import Node, parse_global_id
from gateway.permissions import signed_in
from gateway.registry import Module, Permission
from gateway.uploads.formats import FileKind
from gateway.uploads.multipart import ReceivedFile
from gateway.uploads.service import UploadPurpose
from gateway.uploads.store import UPLOAD_COLLECTIONS, UPLOAD_INDEXES

__all__ = ["UPLOAD_READ", "UPLOAD_SCALAR", "uploads_module"]

UploadsInfo = Info[Context, None]

# Reading anyone's uploads (node(id:), download links): reviewers of the platform.
# Staff handling a case get links to its materials through the case's module instead.
UPLOAD_READ = "gateway.uploads.read"
LINK_AUDIT_ACTION = "files.link"


def _received_file(value: Any) -> ReceivedFile:
    if not isinstance(value, ReceivedFile):
        raise ValueError(
            "Upload 须为 multipart 请求中的文件 (an Upload is a file part of a multipart request)"
        )
    return value


def _no_literal(node: Any, variables: Any = None) -> Any:
    # A GraphQLError: the document is refused in validation (GRAPHQL_VALIDATION_FAILED),
    # where any other exception would surface as INTERNAL.
    raise GraphQLError(
        "Upload 只能是 multipart 请求中的变量 (an Upload can only be a variable of a "
        "multipart request, never a literal)"
    )


def _never_output(value: Any) -> Any:
    raise TypeError("Upload is an input type")


UPLOAD_SCALAR = ScalarDefinition(
    name="Upload",
    description=(
        "A file sent in a multipart request per the GraphQL multipart request spec "
        "(github.com/jaydenseric/graphql-multipart-request-spec): the variable is null "
        "in `operations` and `map` points a file part at it. Input only."
    ),
    specified_by_url="https://github.com/jaydenseric/graphql-multipart-request-spec",
    serialize=_never_output,
    parse_value=_received_file,
    parse_literal=_no_literal,
    directives=(),
    origin=None,
)
# For build_schema's StrawberryConfig(scalar_map=…).
SCALARS: dict[object, ScalarDefinition] = {Upload: UPLOAD_SCALAR}

FileKindEnum = graphql_enum(
    FileKind,
    "What a stored file is, as its bytes show (never as the client declared it).",
    {
        FileKind.PDF: "PDF document (application/pdf).",
        FileKind.JPEG: "JPEG image (image/jpeg).",
        FileKind.PNG: "PNG image (image/png).",
        FileKind.OFD: "OFD 版式文档, GB/T 33190 (application/ofd).",
    },
)
UploadPurposeEnum = graphql_enum(
    UploadPurpose,
    "What a file is uploaded for.",
    {
        UploadPurpose.CASE_MATERIAL: "办件材料: material for an application.",
        UploadPurpose.MESSAGE_ATTACHMENT: "留言附件: an attachment to a message or complaint.",
    },
)


@strawberry.type(description="A user's upload allowance (上传空间).")
class UploadQuota:
    used_bytes: int = strawberry.field(description="Bytes your files take now.")
    quota_bytes: int = strawberry.field(description="Bytes you may keep in all.")
    max_file_bytes: int = strawberry.field(description="Largest single file, in bytes.")
    accepted_types: list[FileKindEnum] = strawberry.field(  # type: ignore[valid-type]
        description="Kinds of file accepted."
    )

    @strawberry.field(description="Bytes you may still upload.")
    def remaining_bytes(self) -> int:
        return max(0, self.quota_bytes - self.used_bytes)


async def _quota(ctx: Context, owner: str) -> UploadQuota:
    limits = ctx.uploads.limits
    return UploadQuota(
        used_bytes=await ctx.uploads.used(owner),
        quota_bytes=limits.quota_bytes,
        max_file_bytes=limits.max_bytes,
        accepted_types=list(limits.kinds),
    )


@strawberry.type(description="A file a user uploaded (上传的文件), kept by the gateway.")
class StoredFile(Node):
    file_id: strawberry.ID = strawberry.field(
        description="The file's own id: what a module stores (the materials of a case)."
    )
    filename: str = strawberry.field(
        description="Name given at upload, made safe (no path, control or reserved characters)."
    )
    kind: FileKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What the file is, from its bytes."
    )
    content_type: str = strawberry.field(
        description="Media type it is served as, from its bytes (e.g. application/pdf)."
    )
    size: int = strawberry.field(description="Size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the bytes, hexadecimal.")
    purpose: UploadPurposeEnum = strawberry.field(  # type: ignore[valid-type]
        description="What it was uploaded for."
    )
    uploaded_at: datetime = strawberry.field(description="When it was stored.")
    owner: strawberry.Private[str]

    def node_key(self) -> str:
        return self.file_id

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> StoredFile:
        return cls(
            file_id=strawberry.ID(record["_id"]),
            filename=record["filename"],
            kind=FileKind(record["kind"]),
            content_type=record["media_type"],
            size=record["size"],
            sha256=record["sha256"],
            purpose=UploadPurpose(record["purpose"]),
            uploaded_at=record["uploaded_at"],
            owner=record["owner"],
        )

    @strawberry.field(
        description=(
            "A signed URL that downloads the file for the next ONESTOP_UPLOAD_URL_TTL "
            "seconds (default 300), without a token (for <img>, wx.downloadFile, a PDF "
            "viewer). Ask again when it is shown later; the file's owner only (and "
            "holders of gateway.uploads.read)."
        )
    )
    async def download_url(self, info: UploadsInfo) -> str:
        ctx = info.context
        if not _may_read(ctx, self.owner):
            raise Forbidden()
        if ctx.principal.subject != self.owner:  # someone else's personal data
            await ctx.runtime.audit.record(
                LINK_AUDIT_ACTION,
                actor=ctx.principal.subject,
                subject=self.owner,
                detail={"file": self.file_id},
            )
        path, _ = ctx.uploads.download_path(self.file_id)
        base = str(ctx.request.base_url).rstrip("/") if ctx.request is not None else ""
        return base + path


def _may_read(ctx: Context, owner: str) -> bool:
    principal = ctx.principal
    if not principal.is_authenticated:
        return False
    return principal.subject == owner or UPLOAD_READ in ctx.permissions


@strawberry.type(description="A page of your files, newest first, and your allowance.")
class StoredFileConnection(Connection[StoredFile]):
    quota: UploadQuota = strawberry.field(description="Your upload allowance now.")


@strawberry.type(description="A file was deleted.")
class DeletedUpload:
    deleted_id: strawberry.ID = strawberry.field(description="Global id of the deleted file.")
    quota: UploadQuota = strawberry.field(description="Your upload allowance now.")


async def stored_files_by_id(ctx: Context, ids: Sequence[str]) -> list[StoredFile | None]:
    """StoredFile nodes: the caller's own, or anyone's with gateway.uploads.read."""
    found = await ctx.uploads.by_ids(ids)
    visible = {i: doc for i, doc in found.items() if _may_read(ctx, doc["owner"])}
    return [StoredFile.from_record(visible[i]) if i in visible else None for i in ids]


def _owner(ctx: Context) -> str:
    subject = ctx.principal.subject
    if subject is None:  # signed_in() ran first; a token always names its subject
        raise Unauthenticated()
    return subject


@strawberry.type
class UploadsQuery:
    @strawberry.field(
        description="Your uploaded files, newest first, with your allowance.",
        extensions=[signed_in()],
    )
    async def my_uploads(
        self, info: UploadsInfo, first: First = 20, after: After = None
    ) -> StoredFileConnection:
        ctx = info.context
        owner = _owner(ctx)
        return await keyset_page(
            StoredFileConnection,
            ctx.uploads.listing(owner),
            first=first,
            after=after,
            default=20,
            maximum=ctx.settings.max_page_size,
            node=StoredFile.from_record,
            quota=await _quota(ctx, owner),
        )


@strawberry.type
class UploadsMutation:
    @strawberry.mutation(
        description=(
            "Upload one file (a multipart request, see `Upload`; send the header "
            "`Apollo-Require-Preflight: true`). Its kind is read from its bytes; the part's "
            "Content-Type and the name's extension must agree with it. Refused with "
            "BAD_USER_INPUT and a field error code: too_large, empty, unsupported_type, "
            "type_mismatch, quota_exceeded — nothing is stored then."
        ),
        extensions=[signed_in()],
    )
    async def upload_file(
        self,
        info: UploadsInfo,
        file: Annotated[Upload, strawberry.argument(description="The file part.")],
        purpose: Annotated[
            UploadPurposeEnum,  # type: ignore[valid-type]
            strawberry.argument(description="What the file is for."),
        ],
    ) -> StoredFile:
        ctx = info.context
        received = _received_file(file)
        record = await ctx.uploads.accept(_owner(ctx), UploadPurpose(purpose), received)
        return StoredFile.from_record(record)

    @strawberry.mutation(
        description="Delete one of your files; its space returns to your allowance.",
        extensions=[signed_in()],
    )
    async def delete_upload(
        self,
        info: UploadsInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="The file's global id.")],
    ) -> DeletedUpload:
        ctx = info.context
        owner = _owner(ctx)
        key = parse_global_id(id, ("StoredFile",)).key
        if await ctx.uploads.delete(owner, key) is None:
            raise NotFound("文件不存在 (no such file)")
        return DeletedUpload(deleted_id=id, quota=await _quota(ctx, owner))


uploads_module = Module(
    name="gateway.uploads",
    version="0.1.0",
    description="File uploads (GraphQL multipart requests) kept in GridFS, signed downloads.",
    query=UploadsQuery,
    mutation=UploadsMutation,
    indexes=UPLOAD_INDEXES,
    collections=UPLOAD_COLLECTIONS,
    nodes={"StoredFile": stored_files_by_id},
    permissions=(
        Permission(
            UPLOAD_READ,
            "Read any user's uploaded files and make download links for them.",
            roles=(Role.ADMIN.value,),
        ),
    ),
)
