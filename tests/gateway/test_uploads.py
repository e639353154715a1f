"""Uploads over HTTP: GraphQL multipart requests into GridFS, signed downloads, limits.

Against a gateway with its own database and small limits (a 600 kB file over three GridFS
chunks, a 2 MB quota, a JSON body limit of 100 kB below the file size), so that every
refusal can be checked in the database: nothing of a refused upload is ever stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import signal
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from harness import GatewayProcess, unique_db
from pymongo import MongoClient
from pymongo.database import Database

from gateway.config import Settings
from gateway.embedded import EmbeddedMongo
from gateway.kit.opaque import encode_opaque
from gateway.uploads.signing import UrlSigner

MAX_BYTES = 600_000
QUOTA = 2_000_000
UPLOAD = """mutation($file: Upload!, $purpose: UploadPurpose!) {
  uploadFile(file: $file, purpose: $purpose) {
    id fileId filename kind contentType size sha256 purpose uploadedAt downloadUrl
  }
}"""
MINE = """query($first: Int, $after: String) {
  myUploads(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id fileId filename size } }
    quota { usedBytes quotaBytes remainingBytes maxFileBytes acceptedTypes }
  }
}"""
DELETE = "mutation($id: ID!) { deleteUpload(id: $id) { deletedId quota { usedBytes } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on StoredFile { fileId downloadUrl } } }"


def pdf(size: int) -> bytes:
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    return head + os.urandom(size - len(head) - len(tail)) + tail


def png(size: int = 2_000) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)


def jpeg(size: int = 2_000) -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


def zip_with(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def uploads_gateway(start_gateway: Any, mongo_url: str) -> Iterator[tuple[GatewayProcess, Any]]:
    name = unique_db("uploads")
    gateway = start_gateway(
        {
            "ONESTOP_UPLOAD_MAX_BYTES": str(MAX_BYTES),
            "ONESTOP_UPLOAD_QUOTA_BYTES": str(QUOTA),
            "ONESTOP_UPLOAD_MAX_FILES": "2",
            "ONESTOP_MAX_BODY_BYTES": "100000",
        },
        db=name,
    )
    client: MongoClient[Any] = MongoClient(mongo_url, tz_aware=True)
    try:
        yield gateway, client[name]
    finally:
        client.close()


@pytest.fixture(scope="module")
def gateway(uploads_gateway: tuple[GatewayProcess, Any]) -> GatewayProcess:
    return uploads_gateway[0]


@pytest.fixture(scope="module")
def db(uploads_gateway: tuple[GatewayProcess, Any]) -> Database[Any]:
    return uploads_gateway[1]


def user(gateway: GatewayProcess, name: str) -> str:
    """A fresh user's token (each test its own, so quotas do not mix)."""
    return gateway.token(f"{name}-{os.urandom(4).hex()}")


def multipart(
    content: bytes,
    filename: str = "材料.pdf",
    content_type: str = "application/pdf",
    purpose: str = "CASE_MATERIAL",
) -> dict[str, Any]:
    operations = {"query": UPLOAD, "variables": {"file": None, "purpose": purpose}}
    return {
        "data": {
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        "files": {"0": (filename, content, content_type)},
    }


def upload(
    gateway: GatewayProcess,
    token: str | None,
    content: bytes,
    filename: str = "材料.pdf",
    content_type: str = "application/pdf",
    *,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    sent = {"Apollo-Require-Preflight": "true", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return gateway.client.post(
        "/graphql", headers=sent, **multipart(content, filename, content_type)
    )


def uploaded(response: httpx.Response) -> dict[str, Any]:
    payload = response.json()
    assert response.status_code == 200, payload
    assert not payload.get("errors"), payload["errors"]
    stored: dict[str, Any] = payload["data"]["uploadFile"]
    return stored


def refusal(response: httpx.Response, field_code: str) -> dict[str, Any]:
    """The upload was refused as BAD_USER_INPUT with this field error code."""
    payload = response.json()
    assert response.status_code == 200, payload
    assert payload["data"] is None, payload
    error: dict[str, Any] = payload["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["fieldErrors"][0]["code"] == field_code, error
    assert error["extensions"]["fieldErrors"][0]["field"] == "file"
    return error


def stored_bytes(db: Database[Any]) -> tuple[int, int]:
    """(GridFS files, chunks) in the bucket, found with find: nx-27017 can neither count
    nor aggregate its GridFS collections and lists chunks by files_id only
    (tests/gateway/test_conformance.py), so chunks are also looked up file by file."""
    files = [d["_id"] for d in db["gateway_files.files"].find({}, {"_id": 1})]
    chunks = db["gateway_files.chunks"]
    listed = len(chunks.find({}, {"n": 1}).to_list())
    per_file = sum(len(chunks.find({"files_id": f}, {"n": 1}).to_list()) for f in files)
    return len(files), max(listed, per_file)


def used(db: Database[Any], token_subject: str) -> int:
    doc = db["gateway_upload_quotas"].find_one({"_id": token_subject})
    return int(doc["used"]) if doc else 0


def subject(gateway: GatewayProcess, token: str) -> str:
    me = gateway.data("{ me { subjectId } }", token=token)["me"]
    return str(me["subjectId"])


def test_upload_and_download_round_trip(gateway: GatewayProcess, db: Database[Any]) -> None:
    token = user(gateway, "roundtrip")
    content = pdf(MAX_BYTES)  # the limit itself is allowed: three GridFS chunks
    stored = uploaded(upload(gateway, token, content, "营业执照 副本.pdf"))
    assert stored["size"] == MAX_BYTES
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    assert (stored["kind"], stored["contentType"]) == ("PDF", "application/pdf")
    assert stored["filename"] == "营业执照 副本.pdf"
    assert stored["purpose"] == "CASE_MATERIAL"

    url = urlsplit(stored["downloadUrl"])
    assert url.path == f"/files/{stored['fileId']}"
    assert set(parse_qs(url.query)) == {"exp", "sig"}
    # No token: the link is the permission.
    with httpx.Client() as anonymous:
        response = anonymous.get(stored["downloadUrl"])
    assert response.status_code == 200
    assert response.content == content
    assert hashlib.sha256(response.content).hexdigest() == stored["sha256"]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["content-disposition"] == (
        'attachment; filename="____ __.pdf"; '
        "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%E5%89%AF%E6%9C%AC.pdf"
    )
    entry = db["gateway_audit"].find_one({"action": "files.download"})
    assert entry is not None
    assert entry["subject"] == subject(gateway, token)
    assert entry["detail"]["file"] == stored["fileId"]
    assert "/files/{id}" in gateway.scrape()  # one label, never the id


def test_every_accepted_kind_is_recognised_from_its_bytes(gateway: GatewayProcess) -> None:
    token = user(gateway, "kinds")
    for content, filename, declared, kind in (
        (png(), "photo.PNG", "image/png", "PNG"),
        (jpeg(), "photo.jpg", "image/jpeg", "JPEG"),
        (jpeg(), "photo.jpeg", "application/octet-stream", "JPEG"),  # undeclared: bytes count
        (zip_with("Doc_0/Document.xml", "OFD.xml"), "证照.ofd", "application/ofd", "OFD"),
        (pdf(3_000), "no-extension", "application/pdf", "PDF"),
    ):
        stored = uploaded(upload(gateway, token, content, filename, declared))
        assert stored["kind"] == kind, filename
    assert stored["filename"] == "no-extension.pdf"


def test_too_large_is_refused_and_nothing_is_stored(
    gateway: GatewayProcess, db: Database[Any]
) -> None:
    token = user(gateway, "large")
    before = stored_bytes(db)
    error = refusal(upload(gateway, token, pdf(MAX_BYTES + 1)), "too_large")
    assert error["extensions"]["maxBytes"] == MAX_BYTES
    assert error["message"].startswith("文件超过")
    assert stored_bytes(db) == before
    assert used(db, subject(gateway, token)) == 0


def test_a_lying_content_type_or_extension_is_refused(
    gateway: GatewayProcess, db: Database[Any]
) -> None:
    token = user(gateway, "liar")
    before = stored_bytes(db)
    # PNG bytes declared as a PDF, by its Content-Type and by its name.
    error = refusal(upload(gateway, token, png(), "scan.pdf", "application/pdf"), "type_mismatch")
    assert error["extensions"]["detectedType"] == "png"
    assert "content type mismatch" in error["message"]
    refusal(upload(gateway, token, png(), "scan.png", "application/pdf"), "type_mismatch")
    refusal(upload(gateway, token, png(), "scan.pdf", "image/png"), "type_mismatch")
    refusal(upload(gateway, token, pdf(3_000), "scan.exe", "application/pdf"), "type_mismatch")
    assert stored_bytes(db) == before
    assert db["gateway_uploads"].count_documents({"owner": subject(gateway, token)}) == 0


def test_unknown_and_empty_files_are_refused(gateway: GatewayProcess, db: Database[Any]) -> None:
    token = user(gateway, "unknown")
    before = stored_bytes(db)
    for content, filename, declared in (
        (b"just some text, not a document", "note.txt", "text/plain"),
        (b"MZ\x90\x00" + os.urandom(500), "setup.pdf", "application/pdf"),  # an executable
        (zip_with("word/document.xml"), "report.ofd", "application/ofd"),  # a ZIP, not OFD
        (b"GIF89a" + os.urandom(100), "anim.gif", "image/gif"),
    ):
        error = refusal(upload(gateway, token, content, filename, declared), "unsupported_type")
        assert error["extensions"]["acceptedTypes"] == ["pdf", "jpeg", "png", "ofd"]
    refusal(upload(gateway, token, b"", "empty.pdf"), "empty")
    assert stored_bytes(db) == before


def test_quota_is_enforced(gateway: GatewayProcess, db: Database[Any]) -> None:
    token = user(gateway, "quota")
    for _ in range(3):
        uploaded(upload(gateway, token, pdf(MAX_BYTES)))
    before = stored_bytes(db)
    error = refusal(upload(gateway, token, pdf(MAX_BYTES)), "quota_exceeded")
    assert error["extensions"]["usedBytes"] == 3 * MAX_BYTES
    assert error["extensions"]["quotaBytes"] == QUOTA
    assert stored_bytes(db) == before
    # What is left still fits.
    uploaded(upload(gateway, token, pdf(QUOTA - 3 * MAX_BYTES)))
    quota = gateway.data(MINE, {"first": 1}, token=token)["myUploads"]["quota"]
    assert quota["usedBytes"] == QUOTA
    assert quota["remainingBytes"] == 0


async def test_concurrent_uploads_never_pass_the_quota(
    gateway: GatewayProcess, db: Database[Any]
) -> None:
    token = user(gateway, "race")
    size = 500_000  # exactly four fit in the 2 MB quota
    files = [pdf(size) for _ in range(8)]
    headers = {"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"}
    async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:
        responses = await asyncio.gather(
            *(client.post("/graphql", headers=headers, **multipart(f)) for f in files)
        )
    outcomes = [r.json() for r in responses]
    accepted = [o for o in outcomes if not o.get("errors")]
    refused = [
        o["errors"][0]["extensions"]["fieldErrors"][0]["code"] for o in outcomes if o.get("errors")
    ]
    assert refused == ["quota_exceeded"] * 4, [o["errors"] for o in outcomes if o.get("errors")]
    assert len(accepted) == 4
    owner = subject(gateway, token)
    assert used(db, owner) == 4 * size
    assert db["gateway_uploads"].count_documents({"owner": owner}) == 4
    stored_ids = {o["data"]["uploadFile"]["fileId"] for o in accepted}
    in_gridfs = {
        d["_id"] for d in db["gateway_files.files"].find({"_id": {"$in": list(stored_ids)}})
    }
    assert in_gridfs == stored_ids


def test_signed_links_expire_and_cannot_be_forged(gateway: GatewayProcess) -> None:
    token = user(gateway, "links")
    stored = uploaded(upload(gateway, token, pdf(2_000)))
    file_id = stored["fileId"]
    url = urlsplit(stored["downloadUrl"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}

    def fetch(query: Mapping[str, Any], path: str = url.path) -> httpx.Response:
        return gateway.client.get(path, params=query)

    assert fetch(params).status_code == 200
    signer = UrlSigner.from_settings(Settings(data_dir=gateway.data_dir))  # the dev secret
    past = int(time.time()) - 1
    for query, status, reason in (
        ({**params, "sig": params["sig"][:-2] + "AA"}, 403, "invalid_signature"),
        ({**params, "exp": str(int(params["exp"]) + 3600)}, 403, "invalid_signature"),
        ({"exp": params["exp"]}, 403, "invalid_signature"),
        ({}, 403, "invalid_signature"),
        ({"exp": "1e9", "sig": params["sig"]}, 403, "invalid_signature"),
        ({"exp": str(past), "sig": signer.signature(file_id, past)}, 403, "expired"),
    ):
        response = fetch(query)
        assert response.status_code == status, query
        error = response.json()["errors"][0]
        assert error["extensions"] == {"code": "FORBIDDEN", "reason": reason}, query
    # Another file's signature opens nothing; a signed link to a file that is gone is 404.
    other = uploaded(upload(gateway, token, pdf(2_000)))
    assert fetch(params, f"/files/{other['fileId']}").status_code == 403
    future = int(time.time()) + 60
    gone = fetch(
        {"exp": future, "sig": signer.signature("nosuchfile", future)}, "/files/nosuchfile"
    )
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_another_users_file_is_invisible_but_an_admin_may_read_it(
    gateway: GatewayProcess, db: Database[Any]
) -> None:
    owner, stranger = user(gateway, "owner"), user(gateway, "stranger")
    stored = uploaded(upload(gateway, owner, pdf(2_000)))
    assert gateway.data(NODE, {"id": stored["id"]}, token=stranger)["node"] is None
    errors = gateway.errors(DELETE, {"id": stored["id"]}, token=stranger)
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert gateway.data(MINE, token=stranger)["myUploads"]["totalCount"] == 0
    assert gateway.data(NODE, {"id": stored["id"]}, token=owner)["node"]["fileId"]

    admin = gateway.token("reviewer", ("admin",))
    seen = gateway.data(NODE, {"id": stored["id"]}, token=admin)["node"]
    assert gateway.client.get(seen["downloadUrl"]).status_code == 200
    minted = db["gateway_audit"].find_one({"action": "files.link", "actor": "reviewer"})
    assert minted is not None
    assert minted["detail"]["file"] == stored["fileId"]


def test_anonymous_uploads_are_refused_before_the_body_is_read(gateway: GatewayProcess) -> None:
    response = upload(gateway, None, pdf(2_000))
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # Listing and deleting need a signed-in user too.
    for query, variables in ((MINE, None), (DELETE, {"id": encode_opaque("StoredFile:x")})):
        errors = gateway.errors(query, variables)
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_file_variable_must_be_a_file_part(gateway: GatewayProcess) -> None:
    token = user(gateway, "json")
    response = gateway.graphql(
        UPLOAD, {"file": "JVBERi0xLjcK", "purpose": "CASE_MATERIAL"}, token=token
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "an Upload is a file part of a multipart request" in error["message"]
    assert response.json()["data"] is None


def test_a_file_cannot_be_a_literal(gateway: GatewayProcess) -> None:
    token = user(gateway, "literal")
    for literal in ('"JVBERi0xLjcK"', "null", "{a: 1}"):
        document = f"mutation {{ uploadFile(file: {literal}, purpose: CASE_MATERIAL) {{ size }} }}"
        error = gateway.errors(document, token=token)[0]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", (literal, error)


def test_malformed_multipart_requests_are_bad_requests(gateway: GatewayProcess) -> None:
    token = user(gateway, "malformed")
    headers = {"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"}
    operations = json.dumps({"query": UPLOAD, "variables": {"file": None, "purpose": "PHOTO"}})
    for data, files, says in (
        ({"map": "{}"}, {"0": ("a.pdf", b"%PDF-")}, "operations"),
        ({"operations": operations, "map": '{"0": ["variables.file"]}'}, {"1": ("a", b"a")}, "map"),
        (
            {"operations": operations, "map": '{"0": ["variables.no.such"]}'},
            {"0": ("a", b"a")},
            "map",
        ),
        ({"operations": f"[{operations}]", "map": "{}"}, {"0": ("a", b"a")}, "not an array"),
    ):
        response = gateway.client.post("/graphql", headers=headers, data=data, files=files)
        assert response.status_code == 400, data
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert says in error["message"], error
    garbage = gateway.client.post(
        "/graphql",
        headers={**headers, "Content-Type": "multipart/form-data; boundary=x"},
        content=b"not multipart at all",
    )
    assert garbage.status_code == 400
    assert garbage.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_multipart_without_a_preflight_header_is_refused_as_csrf(gateway: GatewayProcess) -> None:
    token = user(gateway, "csrf")
    response = gateway.client.post(
        "/graphql", headers={"Authorization": f"Bearer {token}"}, **multipart(pdf(2_000))
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "CSRF" in error["message"]
    for header in ("X-Apollo-Operation-Name", "GraphQL-Require-Preflight"):
        uploaded(upload(gateway, token, pdf(2_000), headers={header: "uploadFile"}))
    # A page may send them: the preflight allows them.
    preflight = gateway.client.options(
        "/graphql",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": (
                "authorization, apollo-require-preflight, graphql-require-preflight"
            ),
        },
    )
    assert preflight.status_code == 200


def test_list_page_and_delete(gateway: GatewayProcess, db: Database[Any]) -> None:
    token = user(gateway, "lister")
    first = uploaded(upload(gateway, token, pdf(10_000), "one.pdf"))
    second = uploaded(upload(gateway, token, png(20_000), "two.png", "image/png"))
    page = gateway.data(MINE, {"first": 1}, token=token)["myUploads"]
    assert page["totalCount"] == 2
    assert [e["node"]["filename"] for e in page["edges"]] == ["two.png"]  # newest first
    assert page["quota"] == {
        "usedBytes": 30_000,
        "quotaBytes": QUOTA,
        "remainingBytes": QUOTA - 30_000,
        "maxFileBytes": MAX_BYTES,
        "acceptedTypes": ["PDF", "JPEG", "PNG", "OFD"],
    }
    rest = gateway.data(MINE, {"first": 1, "after": page["pageInfo"]["endCursor"]}, token=token)
    assert [e["node"]["filename"] for e in rest["myUploads"]["edges"]] == ["one.pdf"]
    assert rest["myUploads"]["pageInfo"]["hasNextPage"] is False

    deleted = gateway.data(DELETE, {"id": second["id"]}, token=token)["deleteUpload"]
    assert deleted == {"deletedId": second["id"], "quota": {"usedBytes": 10_000}}
    assert db["gateway_files.files"].find_one({"_id": second["fileId"]}) is None
    assert db["gateway_files.chunks"].find_one({"files_id": second["fileId"]}) is None
    assert gateway.client.get(second["downloadUrl"]).status_code == 404
    assert gateway.client.get(first["downloadUrl"]).status_code == 200
    again = gateway.errors(DELETE, {"id": second["id"]}, token=token)
    assert again[0]["extensions"]["code"] == "NOT_FOUND"
    bad = gateway.errors(DELETE, {"id": encode_opaque("Viewer:x")}, token=token)
    assert bad[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_request_limits_for_multipart_and_json(gateway: GatewayProcess) -> None:
    token = user(gateway, "limits")
    headers = {"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"}
    operations = {"query": UPLOAD, "variables": {"file": None, "purpose": "CASE_MATERIAL"}}
    three = gateway.client.post(
        "/graphql",
        headers=headers,
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({str(i): ["variables.file"] for i in range(3)}),
        },
        files={str(i): (f"{i}.pdf", pdf(2_000), "application/pdf") for i in range(3)},
    )
    assert three.status_code == 413
    assert "at most 2 files" in three.json()["errors"][0]["message"]
    # A file larger than the JSON body limit is fine in a multipart request...
    uploaded(upload(gateway, token, pdf(300_000)))
    # ...while JSON stays at its own limit.
    big = {"query": "{ me { id } }", "variables": {"pad": "x" * 150_000}}
    assert gateway.client.post("/graphql", json=big).status_code == 413


def test_the_file_part_may_come_first_as_wx_upload_file_sends_it(gateway: GatewayProcess) -> None:
    """wx.uploadFile sends one file field (`name`) plus `formData` fields: with
    name "0" and formData {operations, map} it is a spec request, in whatever order."""
    token = user(gateway, "wx")
    boundary = "----wxboundary"
    operations = json.dumps(
        {"query": UPLOAD, "variables": {"file": None, "purpose": "CASE_MATERIAL"}}
    )
    content = jpeg(5_000)
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="0"; filename="wxfile://tmp_a1b2c3.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + content
        + (
            f"\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="operations"\r\n\r\n'
            f"{operations}\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="map"\r\n\r\n'
            '{"0": ["variables.file"]}\r\n'
            f"--{boundary}--\r\n"
        ).encode()
    )
    response = gateway.client.post(
        "/graphql",
        content=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {token}",
            "Apollo-Require-Preflight": "true",
        },
    )
    stored = uploaded(response)
    assert (stored["kind"], stored["filename"]) == ("JPEG", "tmp_a1b2c3.jpg")


def test_a_link_opens_on_every_process_sharing_the_data_dir(
    gateway: GatewayProcess, start_gateway: Any, db: Database[Any]
) -> None:
    """Replicas must sign alike: the dev secret is made once under the data dir (in prod
    ONESTOP_UPLOAD_URL_SECRET is required), so a link minted by one process opens on
    another. A page on an allowed origin may read the download's name."""
    other = start_gateway(
        {"ONESTOP_DATA_DIR": str(gateway.data_dir), "ONESTOP_SEED_ON_START": "false"},
        db=db.name,
    )
    stored = uploaded(upload(gateway, user(gateway, "replica"), png(3_000), "a.png", "image/png"))
    path = urlsplit(stored["downloadUrl"])
    response = other.client.get(
        f"{path.path}?{path.query}", headers={"Origin": "http://localhost:5173"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "content-disposition" in response.headers["access-control-expose-headers"].lower()


def test_a_slow_upload_is_not_cut_by_the_request_deadline(gateway: GatewayProcess) -> None:
    """ONESTOP_REQUEST_DEADLINE_MS (1.5 s) bounds a request's database calls; a phone
    sending a file slowly must not spend it: the deadline starts once the body is in."""
    token = user(gateway, "slow")
    boundary = "----slowboundary"
    operations = json.dumps(
        {"query": UPLOAD, "variables": {"file": None, "purpose": "CASE_MATERIAL"}}
    )
    content = pdf(300_000)

    def body() -> Iterator[bytes]:
        yield (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="operations"\r\n\r\n'
            f"{operations}\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="map"\r\n\r\n'
            '{"0": ["variables.file"]}\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="0"; filename="slow.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        for i in range(0, len(content), 100_000):
            time.sleep(0.6)  # 1.8 s in all
            yield content[i : i + 100_000]
        yield f"\r\n--{boundary}--\r\n".encode()

    started = time.monotonic()
    response = gateway.client.post(
        "/graphql",
        content=body(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {token}",
            "Apollo-Require-Preflight": "true",
        },
    )
    assert time.monotonic() - started > 1.5
    assert uploaded(response)["sha256"] == hashlib.sha256(content).hexdigest()


def test_a_frozen_database_fails_uploads_and_downloads_quickly(
    start_gateway: Any, tmp_path: Path
) -> None:
    """No request deadline covers an upload (a slow phone must not spend it), yet a stalled
    database still answers within seconds: every call has ONESTOP_MONGODB_TIMEOUT_MS."""
    with EmbeddedMongo(tmp_path / "mongo") as database:
        gateway: GatewayProcess = start_gateway(
            {
                "ONESTOP_MONGODB_URL": database.url,
                "ONESTOP_SEED_ON_START": "false",
                "ONESTOP_MONGODB_TIMEOUT_MS": "1000",
            }
        )
        assert database.process is not None
        token = user(gateway, "frozen")
        stored = uploaded(upload(gateway, token, pdf(3_000)))
        os.kill(database.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            response = upload(gateway, token, pdf(400_000))
            assert time.monotonic() - started < 5
            assert response.status_code == 503  # nothing answered: retry later
            assert response.headers["retry-after"] == "5"
            error = response.json()["errors"][0]
            assert error["extensions"] == {"code": "UNAVAILABLE", "dependency": "database"}
            started = time.monotonic()
            download = gateway.client.get(stored["downloadUrl"])
            assert time.monotonic() - started < 5
            assert download.status_code == 503
            assert download.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        finally:
            os.kill(database.process.pid, signal.SIGCONT)
        deadline = time.monotonic() + 15
        while upload(gateway, token, pdf(3_000)).json().get("errors"):
            assert time.monotonic() < deadline, "uploads did not recover after SIGCONT"
            time.sleep(0.2)
        assert gateway.client.get(stored["downloadUrl"]).content.startswith(b"%PDF-")
        gateway.stop()
