"""``GET /files/<id>?exp=…&sig=…``: a signed download, streamed from GridFS.

The link is the permission (see :mod:`gateway.uploads.signing`): no token is needed or
looked at. Refusals are JSON in the gateway's error shape — a bad or forged signature
and an expired link are 403 ``FORBIDDEN`` (``extensions.reason``), a file deleted since
the link was made is 404 ``NOT_FOUND``. Every download served is audited.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.errors import ErrorCode
from gateway.extensions.errors import dependency_unavailable
from gateway.http_body import error_body
from gateway.runtime import Runtime
from gateway.uploads.signing import LinkVerdict

__all__ = ["DOWNLOAD_AUDIT_ACTION", "upload_routes"]

log = logging.getLogger("onestop.uploads")

DOWNLOAD_AUDIT_ACTION = "files.download"
_REFUSALS = {
    LinkVerdict.EXPIRED: "下载链接已过期，请重新获取 (download link expired)",
    LinkVerdict.INVALID: "下载链接无效 (invalid download link)",
}


def _refusal(status: int, code: ErrorCode, message: str, **facts: Any) -> Response:
    return Response(
        error_body(message, {"code": code.value, **facts}),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


def content_disposition(filename: str) -> str:
    """``attachment`` with the UTF-8 name (RFC 6266/5987) and an ASCII fallback for old
    clients; the name was made safe when stored (no quotes, separators or controls)."""
    fallback = "".join(c if c.isascii() and c.isprintable() else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def download(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    file_id = request.path_params["file_id"]
    params = request.query_params
    verdict = runtime.uploads.check_link(file_id, params.get("exp"), params.get("sig"))
    if verdict is not LinkVerdict.VALID:
        return _refusal(403, ErrorCode.FORBIDDEN, _REFUSALS[verdict], reason=verdict.value)
    try:
        record = await runtime.uploads.get(file_id)
        stream = await runtime.uploads.open(file_id) if record is not None else None
    except Exception as exc:
        unavailable = dependency_unavailable(exc)
        if unavailable is None:
            raise
        return _refusal(503, ErrorCode.UNAVAILABLE, unavailable.message, **unavailable.extra)
    if record is None or stream is None:
        return _refusal(404, ErrorCode.NOT_FOUND, "文件不存在或已删除 (no such file)")
    await runtime.audit.record(
        DOWNLOAD_AUDIT_ACTION,
        actor=None,  # the link's bearer; who minted it is audited as files.link
        subject=record["owner"],
        detail={"file": file_id, "purpose": record["purpose"], "size": record["size"]},
    )
    return StreamingResponse(
        stream,  # one GridFS chunk at a time, however large the file
        media_type=record["media_type"],
        headers={
            "Content-Length": str(record["size"]),
            "Content-Disposition": content_disposition(record["filename"]),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def upload_routes() -> list[Route]:
    return [Route("/files/{file_id}", download, methods=["GET"])]
