"""The kinds of file the gateway accepts, recognised from their bytes.

A client's word for what it sends — the part's ``Content-Type`` and the filename's
extension — is checked against what the bytes are (their magic number), never
believed: a file is stored and served as the kind its bytes show, and a declaration
that disagrees is refused. OFD (GB/T 33190, China's fixed-layout format for official
documents) is a ZIP container; it is told apart from any other ZIP by its root
``OFD.xml`` entry in the archive's central directory (nothing is decompressed).
"""

from __future__ import annotations

import unicodedata
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from typing import IO

__all__ = [
    "FORMATS",
    "SNIFF_BYTES",
    "UNDECLARED_MEDIA_TYPES",
    "FileFormat",
    "FileKind",
    "safe_filename",
    "sniff",
]


class FileKind(StrEnum):
    """What a stored file is, as its bytes show."""

    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"
    OFD = "ofd"


@dataclass(frozen=True)
class FileFormat:
    """How a kind is served, named and declared.

    Attributes:
        media_type: what a download is served as.
        extensions: filename extensions that may name it (lower case, with the dot).
        declared_as: part ``Content-Type`` values that mean it (browsers and SDKs differ).
    """

    kind: FileKind
    media_type: str
    extensions: tuple[str, ...]
    declared_as: tuple[str, ...]


FORMATS: dict[FileKind, FileFormat] = {
    f.kind: f
    for f in (
        FileFormat(FileKind.PDF, "application/pdf", (".pdf",), ("application/pdf",)),
        FileFormat(
            FileKind.JPEG,
            "image/jpeg",
            (".jpg", ".jpeg"),
            ("image/jpeg", "image/jpg", "image/pjpeg"),
        ),
        FileFormat(FileKind.PNG, "image/png", (".png",), ("image/png", "image/x-png")),
        FileFormat(FileKind.OFD, "application/ofd", (".ofd",), ("application/ofd",)),
    )
}
# A part declared as one of these says nothing about its kind (curl without `;type=`,
# WeChat's wx.uploadFile for some files): only the bytes and the extension then count.
UNDECLARED_MEDIA_TYPES = frozenset({"", "application/octet-stream"})
# Enough bytes for every magic number above.
SNIFF_BYTES = 8
_MAGIC: tuple[tuple[bytes, FileKind], ...] = (
    (b"%PDF-", FileKind.PDF),
    (b"\xff\xd8\xff", FileKind.JPEG),
    (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
)
_ZIP = b"PK\x03\x04"
_OFD_ROOT = "OFD.xml"
# Longest stored filename, in characters (the extension is kept when cutting).
MAX_FILENAME_CHARS = 120
_UNSAFE = frozenset('<>:"/\\|?*')


def sniff(head: bytes, file: IO[bytes]) -> FileKind | None:
    """The kind ``file`` is, from its first :data:`SNIFF_BYTES` ``head``; None if none
    accepted here. ``file`` must be seekable (an OFD's directory is at its end); its
    position is left at the start."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(_ZIP):
        try:
            with zipfile.ZipFile(file) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            file.seek(0)
        if _OFD_ROOT in names:
            return FileKind.OFD
    return None


def safe_filename(raw: str | None, kind: FileKind) -> str:
    """A filename safe to store and to send back in ``Content-Disposition``.

    The last path segment only (browsers on Windows send ``C:\\…``; the mini-program a
    ``wxfile://`` path), Unicode NFC, no control, separator or reserved characters, no
    leading dots, at most :data:`MAX_FILENAME_CHARS` characters; a name left empty or
    without an extension gets the kind's own.
    """
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        "_" if c in _UNSAFE or unicodedata.category(c)[0] == "C" else c for c in name
    ).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    default_extension = FORMATS[kind].extensions[0]
    suffix = f".{extension}" if extension else default_extension
    stem = (stem or "file")[: MAX_FILENAME_CHARS - len(suffix)]
    return stem + suffix
