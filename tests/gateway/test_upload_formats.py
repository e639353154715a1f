"""The pure parts of uploads: recognising kinds from bytes, safe names, signed links.

(Everything that touches HTTP or the database is in test_uploads.py, over HTTP.)
"""

from __future__ import annotations

import io
import stat
import time
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gateway.uploads.formats import MAX_FILENAME_CHARS, FileKind, safe_filename, sniff
from gateway.uploads.routes import content_disposition
from gateway.uploads.signing import LinkVerdict, UrlSigner, _dev_secret


def zipped(*names: str) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.4\n%\xe2\xe3", FileKind.PDF),
        (b"\xff\xd8\xff\xdb\x00C", FileKind.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", FileKind.PNG),
        (b"GIF89a\x01\x00", None),
        (b"  %PDF-1.4", None),  # the magic must be at the start
        (b"PK\x03\x04 not really a zip", None),
        (b"", None),
    ],
)
def test_kinds_come_from_magic_numbers(content: bytes, kind: FileKind | None) -> None:
    assert sniff(content[:8], io.BytesIO(content)) is kind


def test_an_ofd_is_a_zip_with_ofd_xml_at_its_root() -> None:
    ofd = zipped("Doc_0/Document.xml", "OFD.xml")
    assert sniff(ofd.read(8), ofd) is FileKind.OFD
    assert ofd.tell() == 0  # left at the start for the upload
    for names in (("word/document.xml",), ("Doc_0/OFD.xml",), ("ofd.xml",)):
        other = zipped(*names)
        assert sniff(other.read(8), other) is None, names


@pytest.mark.parametrize(
    ("raw", "kind", "safe"),
    [
        ("营业执照.pdf", FileKind.PDF, "营业执照.pdf"),
        ("C:\\Users\\me\\Desktop\\身份证 正面.JPG", FileKind.JPEG, "身份证 正面.JPG"),
        ("../../etc/passwd", FileKind.PDF, "passwd.pdf"),
        ("wxfile://tmp_8f2a.jpg", FileKind.JPEG, "tmp_8f2a.jpg"),
        ('a\x00b<c>:"d|e?*.png', FileKind.PNG, "a_b_c___d_e__.png"),
        ("\u202eevil\u200b.pdf", FileKind.PDF, "_evil_.pdf"),  # bidi and zero-width: Cf
        ("", FileKind.OFD, "file.ofd"),
        (None, FileKind.PDF, "file.pdf"),
        ("...", FileKind.PNG, "file.png"),
        (".hidden.pdf", FileKind.PDF, "hidden.pdf"),
        ("scan", FileKind.JPEG, "scan.jpg"),
    ],
)
def test_safe_filenames(raw: str | None, kind: FileKind, safe: str) -> None:
    assert safe_filename(raw, kind) == safe


def test_safe_filenames_are_short_and_composed() -> None:
    long = safe_filename("材" * 500 + ".pdf", FileKind.PDF)
    assert len(long) == MAX_FILENAME_CHARS
    assert long.endswith(".pdf")
    decomposed = unicodedata.normalize("NFD", "résumé.pdf")
    assert safe_filename(decomposed, FileKind.PDF) == unicodedata.normalize("NFC", "résumé.pdf")


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name() -> None:
    assert content_disposition("营业执照 副本.pdf") == (
        'attachment; filename="____ __.pdf"; '
        "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%E5%89%AF%E6%9C%AC.pdf"
    )
    assert (
        content_disposition("a b.png")
        == "attachment; filename=\"a b.png\"; filename*=UTF-8''a%20b.png"
    )


def test_signed_links() -> None:
    signer = UrlSigner(b"k" * 32, ttl=300)
    now = time.time()
    exp = int(now) + 300
    sig = signer.signature("f1", exp)
    assert signer.verify("f1", str(exp), sig, now) is LinkVerdict.VALID
    assert signer.verify("f1", str(exp), sig, exp + 1) is LinkVerdict.EXPIRED
    assert signer.verify("f2", str(exp), sig, now) is LinkVerdict.INVALID
    assert signer.verify("f1", str(exp + 1), sig, now) is LinkVerdict.INVALID
    assert signer.verify("f1", f"{exp}.0", sig, now) is LinkVerdict.INVALID
    assert signer.verify("f1", "１２３", sig, now) is LinkVerdict.INVALID  # full-width digits
    assert signer.verify("f1", None, sig, now) is LinkVerdict.INVALID
    # The purpose is signed: a signature made for another use never opens a download.
    assert signer.verify("f1", str(exp), signer.signature("f1", exp, "preview"), now) is (
        LinkVerdict.INVALID
    )
    assert UrlSigner(b"o" * 32, 300).verify("f1", str(exp), sig, now) is LinkVerdict.INVALID


def test_the_dev_secret_is_made_once_for_every_process(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: _dev_secret(tmp_path), range(16)))
    assert len(secrets) == 1
    (secret,) = secrets
    assert len(secret) == 64
    key = tmp_path / "keys" / "upload-url.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert [p.name for p in key.parent.iterdir()] == ["upload-url.key"]  # no leftovers
    assert _dev_secret(tmp_path) == secret
