"""Reading a GraphQL multipart request (jaydenseric's spec) within the upload limits.

Starlette's parser spools each file part to a temporary file (in memory up to 1 MB,
then on disk), so no file is ever held whole in memory. On top of it: at most
``ONESTOP_UPLOAD_MAX_FILES`` file parts (more is refused as soon as the next one
starts), and a part past ``ONESTOP_UPLOAD_MAX_BYTES`` stops being kept at that byte —
its remaining bytes are only counted, so the mutation can refuse it by name
(``too_large``) with nothing written anywhere. The whole body is bounded by the body
limit (``Settings.upload_body_bytes``), which cuts the connection of a client that
sends more.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from cross_web import FormData, StarletteRequestAdapter
from starlette.datastructures import FormData as StarletteFormData
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from gateway.config import Settings
from gateway.errors import ErrorCode
from gateway.http_body import RequestRejected

__all__ = [
    "PREFLIGHT_HEADERS",
    "UPLOAD_FORM",
    "ReceivedFile",
    "UploadFormParser",
    "UploadRequestAdapter",
    "is_multipart",
]

# CSRF: a multipart/form-data POST is a "simple" request, which a browser sends cross-site
# without asking (a hostile page's <form>). A multipart request must therefore carry one
# of these headers — only a script can set them, and only after a CORS preflight that
# the allow-list answers. Apollo's names (its upload link sends the first; Apollo Server
# accepts both), and the GraphQL-over-HTTP spelling.
PREFLIGHT_HEADERS = (
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-require-preflight",
)

# Request scope state: the parsed form, whose spooled files are closed after the answer.
UPLOAD_FORM = "upload_form"
# operations and map (the spec's only fields) and room for a client's extras.
_MAX_FIELDS = 16


def is_multipart(headers: Mapping[str, str]) -> bool:
    """Whether a request is ``multipart/form-data`` (``headers`` case-insensitive)."""
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type == "multipart/form-data"


class ReceivedFile(UploadFile):
    """A file part as received: ``received`` counts every byte sent, kept or not."""

    received: int = 0
    limit: int = 0

    @property
    def too_large(self) -> bool:
        return self.received > self.limit


class TooManyFiles(Exception):
    pass


class UploadFormParser(MultiPartParser):
    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_file_bytes: int,
        max_files: int,
        max_field_bytes: int,
    ) -> None:
        super().__init__(
            headers,
            stream,
            max_files=math.inf,  # counted here, to refuse with the gateway's own message
            max_fields=_MAX_FIELDS,
            max_part_size=max_field_bytes,
        )
        self.max_file_bytes = max_file_bytes
        self.max_upload_files = max_files

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        part = self._current_part
        if part.file is not None:
            if self._current_files > self.max_upload_files:
                raise TooManyFiles()
            received = ReceivedFile(
                part.file.file, size=0, filename=part.file.filename, headers=part.file.headers
            )
            received.limit = self.max_file_bytes
            part.file = received

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        file = self._current_part.file
        if isinstance(file, ReceivedFile):
            file.received += end - start
            if file.too_large:
                return  # past the limit: counted, never kept
        super().on_part_data(data, start, end)


class UploadRequestAdapter(StarletteRequestAdapter):
    """Strawberry's request adapter, reading multipart bodies with :class:`UploadFormParser`."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.request = request

    async def get_form_data(self) -> FormData:
        request = self.request
        settings: Settings = request.app.state.settings
        parser = UploadFormParser(
            request.headers,
            request.stream(),
            max_file_bytes=settings.upload_max_bytes,
            max_files=settings.upload_max_files,
            max_field_bytes=settings.max_body_bytes,
        )
        try:
            form: StarletteFormData = await parser.parse()
        except TooManyFiles:
            most = settings.upload_max_files
            raise RequestRejected(
                413,
                ErrorCode.BAD_REQUEST,
                f"一次最多上传 {most} 个文件 (at most {most} files per request)",
            ) from None
        except MultiPartException as exc:
            raise RequestRejected(
                400, ErrorCode.BAD_REQUEST, f"multipart 请求无效 ({exc.message})"
            ) from None
        state: dict[str, Any] = request.scope.setdefault("state", {})
        state[UPLOAD_FORM] = form
        return FormData(files=form, form=form)
