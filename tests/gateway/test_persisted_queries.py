"""Persisted queries over HTTP: Apollo's APQ protocol, the stores, the limits, trusted documents.

Every branch of the protocol is asked for over POST and over GET (``extensions`` as a
query parameter), the way Apollo Client's persisted-query link asks; Apollo Client
itself runs against a gateway in tests/e2e/test_apollo_client_e2e.py.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import GatewayProcess, prod_env

from gateway.config import ConfigError, Settings, load_settings
from gateway.extensions.persisted_queries import ManifestError, TrustedDocuments
from gateway.schema import build_schema, compose_with_core

STATS = "query Stats { affairsCatalogStats { totalItems } }"
# Cheap with a small page, over the cost limit with 100 (test_document_limits.py).
NESTED = (
    "query Nested($n: Int) { affairItems(first: $n) { edges { node { faq { items "
    "{ faq { items { code } } } } } } } }"
)
FAN_OUT = (
    "{ affairItems(first: 1) { edges { node { faq { items { faq { items { faq { items "
    "{ code } } } } } } } } } }"
)
NOT_FOUND = {
    "data": None,
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ],
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fresh(document: str) -> str:
    """``document`` with a comment no other test sent: a hash no store knows yet."""
    return f"{document} # {uuid.uuid4().hex}"


def extension(digest: str, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


def send(
    gateway: GatewayProcess,
    method: str,
    *,
    digest: str | None = None,
    query: str | None = None,
    variables: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A request as Apollo Client's link sends it: POST body, or GET query parameters."""
    members: dict[str, Any] = {}
    if query is not None:
        members["query"] = query
    if variables is not None:
        members["variables"] = variables
    if extensions is not None or digest is not None:
        members["extensions"] = extensions if extensions is not None else extension(digest or "")
    if method == "POST":
        return gateway.client.post("/graphql", json=members, headers=headers or {})
    params = {k: v if k == "query" else json.dumps(v) for k, v in members.items()}
    return gateway.client.get("/graphql", params=params, headers=headers or {})


def code_of(response: httpx.Response) -> str:
    (error,) = response.json()["errors"]
    return str(error["extensions"]["code"])


methods = pytest.mark.parametrize("method", ["POST", "GET"])


# --- Automatic persisted queries --------------------------------------------------------------


@methods
def test_unknown_hash_then_registration_then_hash_only(
    gateway: GatewayProcess, method: str
) -> None:
    document = fresh(STATS)
    digest = sha256(document)

    missing = send(gateway, method, digest=digest)
    assert missing.status_code == 200
    assert missing.json() == NOT_FOUND  # the exact shape the link checks before retrying
    assert missing.headers["cache-control"] == "private, no-cache, must-revalidate"

    registered = send(gateway, method, digest=digest, query=document)
    assert registered.status_code == 200, registered.text
    expected = registered.json()
    assert expected["data"]["affairsCatalogStats"]["totalItems"] > 0

    for _ in range(3):
        hit = send(gateway, method, digest=digest)
        assert hit.status_code == 200
        assert hit.json() == expected
        # A registered hash is an ordinary public query: the catalog's own policy applies.
        assert hit.headers["cache-control"] == "public, max-age=300"


def test_a_registration_over_post_serves_get_and_variables_still_apply(
    gateway: GatewayProcess,
) -> None:
    document = fresh("query Page($n: Int) { affairItems(first: $n) { edges { node { code } } } }")
    digest = sha256(document)
    send(gateway, "POST", digest=digest, query=document, variables={"n": 1})
    page = send(gateway, "GET", digest=digest, variables={"n": 3}).json()
    assert len(page["data"]["affairItems"]["edges"]) == 3


def test_a_hash_may_use_upper_case_digits(gateway: GatewayProcess) -> None:
    document = fresh(STATS)
    send(gateway, "POST", digest=sha256(document).upper(), query=document)
    assert send(gateway, "POST", digest=sha256(document)).json()["data"]


@methods
def test_a_hash_that_is_not_the_document_s_is_refused_and_not_stored(
    gateway: GatewayProcess, method: str
) -> None:
    document = fresh(STATS)
    claimed = sha256(fresh(STATS))
    response = send(gateway, method, digest=claimed, query=document)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "message": "provided sha does not match query",
            "extensions": {"code": "PERSISTED_QUERY_HASH_MISMATCH"},
        }
    ]
    # Hash hijacking: the claimed hash did not become a name for this document.
    assert send(gateway, method, digest=claimed).json() == NOT_FOUND


@methods
@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_other_versions_are_refused_with_their_own_code(
    gateway: GatewayProcess, method: str, version: Any
) -> None:
    response = send(gateway, method, extensions=extension(sha256(STATS), version))
    assert response.status_code == 400
    assert code_of(response) == "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"
    assert response.json()["errors"][0]["message"] == "Unsupported persisted query version"


@methods
@pytest.mark.parametrize(
    "persisted",
    [
        "abc",
        [1],
        {"version": 1},
        {"version": 1, "sha256Hash": "xyz"},
        {"version": 1, "sha256Hash": "a" * 63},
        {
            "version": 1,
            "sha256Hash": hashlib.sha1(b"{ me { id } }", usedforsecurity=False).hexdigest(),
        },
        {"version": 1, "sha256Hash": 12},
    ],
    ids=["string", "array", "no-hash", "not-hex", "short", "sha1", "number"],
)
def test_malformed_extensions_are_bad_requests(
    gateway: GatewayProcess, method: str, persisted: Any
) -> None:
    response = send(gateway, method, extensions={"persistedQuery": persisted})
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"


def test_requests_without_the_extension_are_untouched(gateway: GatewayProcess) -> None:
    assert gateway.data(STATS)
    # Other extensions (Apollo Client 4 sends `clientLibrary`) are ignored.
    plain = send(gateway, "POST", query=STATS, extensions={"clientLibrary": {"name": "x"}})
    assert plain.json()["data"]


def test_a_persisted_mutation_still_needs_post(gateway: GatewayProcess) -> None:
    document = fresh('mutation { requestLoginCode(phone: "13800000000") { maskedPhone } }')
    digest = sha256(document)
    registered = send(gateway, "POST", digest=digest, query=document)
    assert registered.json()["data"]["requestLoginCode"]["maskedPhone"]
    over_get = send(gateway, "GET", digest=digest)
    assert over_get.status_code in (400, 405)
    assert code_of(over_get) == "BAD_REQUEST"


# --- The limits and the document cache --------------------------------------------------------


def test_a_costly_document_is_refused_and_never_stored(gateway: GatewayProcess) -> None:
    document = fresh(FAN_OUT)
    registered = send(gateway, "POST", digest=sha256(document), query=document)
    assert code_of(registered) == "QUERY_TOO_COMPLEX"
    assert send(gateway, "POST", digest=sha256(document)).json() == NOT_FOUND


@methods
def test_a_hash_cannot_smuggle_a_costly_operation(gateway: GatewayProcess, method: str) -> None:
    document = fresh(NESTED)
    digest = sha256(document)
    cheap = send(gateway, "POST", digest=digest, query=document, variables={"n": 1})
    assert cheap.json()["data"], cheap.text
    # The stored document is checked again at every run, with that run's variables.
    costly = send(gateway, method, digest=digest, variables={"n": 100})
    assert code_of(costly) == "QUERY_TOO_COMPLEX"
    assert costly.json()["errors"][0]["extensions"]["limit"] == "cost"
    assert send(gateway, method, digest=digest, variables={"n": 1}).json()["data"]


def test_a_document_over_the_store_s_size_cap_runs_but_is_not_stored(
    gateway: GatewayProcess,
) -> None:
    # Under ONESTOP_MAX_DOCUMENT_CHARS (65,536), over ONESTOP_APQ_MAX_DOCUMENT_CHARS (32,768).
    document = STATS + "\n#" + "x" * 40_000 + f"\n# {uuid.uuid4().hex}"
    registered = send(gateway, "POST", digest=sha256(document), query=document)
    assert registered.json()["data"]
    assert send(gateway, "POST", digest=sha256(document)).json() == NOT_FOUND


def test_persisted_documents_share_the_validation_cache(gateway: GatewayProcess) -> None:
    document = fresh(STATS)
    digest = sha256(document)
    validations = "onestop_graphql_document_validations_total"
    before = gateway.metric(validations)
    assert send(gateway, "POST", digest=digest, query=document).json()["data"]
    assert gateway.metric(validations) == before + 1
    for method in ("POST", "GET") * 25:
        assert send(gateway, method, digest=digest).json()["data"]
    assert gateway.data(document)  # the same text sent in full
    assert gateway.metric(validations) == before + 1


def test_outcomes_are_counted(gateway: GatewayProcess) -> None:
    document = fresh(STATS)

    def count(outcome: str) -> float:
        return gateway.metric("onestop_graphql_persisted_queries_total", f'{{outcome="{outcome}"}}')

    before = {o: count(o) for o in ("miss", "registered", "hit", "refused")}
    send(gateway, "POST", digest=sha256(document))
    send(gateway, "POST", digest=sha256(document), query=document)
    send(gateway, "POST", digest=sha256(document))
    send(gateway, "POST", digest=sha256(STATS), query=document)
    assert {o: count(o) - before[o] for o in before} == {
        "miss": 1,
        "registered": 1,
        "hit": 1,
        "refused": 1,
    }


# --- Stores -----------------------------------------------------------------------------------


def test_replicas_share_registrations_through_redis(start_gateway: Any) -> None:
    first, second = start_gateway(), start_gateway()  # same session Redis
    document = fresh(STATS)
    digest = sha256(document)
    assert send(second, "POST", digest=digest).json() == NOT_FOUND
    assert send(first, "POST", digest=digest, query=document).json()["data"]
    for method in ("POST", "GET"):
        assert send(second, method, digest=digest).json()["data"]


def test_without_redis_each_process_keeps_a_bounded_store(start_gateway: Any) -> None:
    alone = start_gateway({"ONESTOP_REDIS_URL": "", "ONESTOP_APQ_CACHE_SIZE": "10"})
    other = start_gateway({"ONESTOP_REDIS_URL": ""})
    documents = [fresh("{ __typename }") for _ in range(11)]
    for document in documents:
        assert send(alone, "POST", digest=sha256(document), query=document).json()["data"]
    # Least recently used first out: the oldest of eleven is gone, the others stay.
    assert send(alone, "POST", digest=sha256(documents[0])).json() == NOT_FOUND
    assert send(alone, "POST", digest=sha256(documents[-1])).json()["data"]
    assert send(other, "POST", digest=sha256(documents[-1])).json() == NOT_FOUND


# --- Trusted documents ------------------------------------------------------------------------

CATALOG = "query CatalogStats {\n  affairsCatalogStats {\n    totalItems\n  }\n}"
MODULES = "query LoadedModules {\n  modules {\n    name\n  }\n}"
METRICS_TOKEN = "persisted-scrape-3b1d"


def write_manifest(path: Path, documents: list[str]) -> Path:
    """graphql-codegen's persisted-documents.json: {sha256: document}."""
    path.write_text(json.dumps({sha256(d): d for d in documents}, indent=2), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trusted_gateway(
    start_gateway: Any, external_module_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    """Production, the first-party app held to the manifest; other clients are not."""
    manifest = write_manifest(tmp_path_factory.mktemp("manifest") / "pq.json", [CATALOG, MODULES])
    gateway: GatewayProcess = start_gateway(
        prod_env(
            external_module_path,
            ONESTOP_TRUSTED_DOCUMENTS_FILE=str(manifest),
            ONESTOP_TRUSTED_DOCUMENTS_ONLY="true",
            ONESTOP_TRUSTED_CLIENTS="onestop-app, onestop-miniprogram",
            ONESTOP_METRICS_TOKEN=METRICS_TOKEN,
        )
    )
    return gateway


APP = {"apollographql-client-name": "onestop-app", "apollographql-client-version": "3.2.0"}
PARTNER = {"apollographql-client-name": "partner-portal"}


@methods
def test_trusted_clients_run_manifest_documents_by_hash(
    trusted_gateway: GatewayProcess, method: str
) -> None:
    for headers in (APP, PARTNER, {}):
        response = send(trusted_gateway, method, digest=sha256(CATALOG), headers=headers)
        assert isinstance(response.json()["data"]["affairsCatalogStats"]["totalItems"], int)
    # The manifest's text sent along with its hash (the link's retry) runs as well.
    both = send(trusted_gateway, "POST", digest=sha256(MODULES), query=MODULES, headers=APP)
    assert both.json()["data"]["modules"]


@methods
def test_trusted_clients_are_refused_anything_else(
    trusted_gateway: GatewayProcess, method: str
) -> None:
    unknown = send(trusted_gateway, method, digest=sha256(fresh(STATS)), headers=APP)
    assert unknown.status_code == 404
    assert code_of(unknown) == "PERSISTED_QUERY_NOT_IN_LIST"
    assert unknown.headers["cache-control"] == "private, no-cache, must-revalidate"

    document = fresh(MODULES)
    freeform = send(trusted_gateway, method, query=document, headers=APP)
    assert freeform.status_code == 403
    assert code_of(freeform) == "QUERY_NOT_IN_SAFELIST"
    registration = send(
        trusted_gateway, method, digest=sha256(document), query=document, headers=APP
    )
    assert registration.status_code == 403
    assert code_of(registration) == "QUERY_NOT_IN_SAFELIST"
    log = trusted_gateway.log()
    assert "document outside the trusted manifest refused" in log
    assert "__typename" not in log  # never the document itself

    # A manifest document's exact text without the extension is on the safelist.
    plain = send(trusted_gateway, method, query=MODULES, headers=APP)
    assert plain.json()["data"]["modules"]


def test_other_clients_keep_freeform_queries_and_apq(trusted_gateway: GatewayProcess) -> None:
    assert trusted_gateway.data(MODULES + " # partner", headers=PARTNER)
    document = fresh(MODULES)
    digest = sha256(document)
    assert send(trusted_gateway, "POST", digest=digest, headers=PARTNER).json() == NOT_FOUND
    assert send(trusted_gateway, "POST", digest=digest, query=document, headers=PARTNER).json()[
        "data"
    ]
    assert send(trusted_gateway, "GET", digest=digest, headers=PARTNER).json()["data"]
    # What another client registered is still not the app's to run.
    assert code_of(send(trusted_gateway, "POST", digest=digest, headers=APP)) == (
        "PERSISTED_QUERY_NOT_IN_LIST"
    )


def test_trusted_clients_get_no_websocket(trusted_gateway: GatewayProcess) -> None:
    """graphql-transport-ws has no persisted-query extension: the socket would be a way
    around the manifest, so a restricted client's handshake is refused."""
    import socket

    port = int(trusted_gateway.url.rsplit(":", 1)[1])

    def handshake(extra: str) -> str:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                (
                    "GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n"
                    f"{extra}\r\n"
                ).encode()
            )
            return sock.recv(1024).decode("latin-1").split("\r\n", 1)[0]

    assert " 403 " in handshake("apollographql-client-name: onestop-app\r\n")
    assert " 101 " in handshake("")


def test_refusals_are_counted_in_prod(trusted_gateway: GatewayProcess) -> None:
    def refused() -> float:
        return trusted_gateway.metric(
            "onestop_graphql_persisted_queries_total", '{outcome="refused"}', token=METRICS_TOKEN
        )

    before = refused()
    send(trusted_gateway, "POST", query=fresh(MODULES), headers=APP)
    assert refused() == before + 1


def test_manifest_documents_are_validated_at_start_only(
    start_gateway: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Checked (parsed, limited, validated) at start, so even their first run hits the
    document cache — for every client, when no client is held to the manifest."""
    manifest = write_manifest(tmp_path_factory.mktemp("manifest") / "pq.json", [CATALOG, MODULES])
    gateway: GatewayProcess = start_gateway({"ONESTOP_TRUSTED_DOCUMENTS_FILE": str(manifest)})
    validations = "onestop_graphql_document_validations_total"
    at_start = gateway.metric(validations)
    assert at_start >= 2
    for headers in (APP, PARTNER, {}):
        for method in ("POST", "GET"):
            for document in (CATALOG, MODULES):
                response = send(gateway, method, digest=sha256(document), headers=headers)
                assert response.json()["data"], response.text
    assert gateway.data(MODULES)  # the same text, sent in full
    assert gateway.metric(validations) == at_start
    trusted = '{outcome="trusted"}'
    assert gateway.metric("onestop_graphql_persisted_queries_total", trusted) == 12
    # Freeform documents and APQ stay open to everyone here.
    document = fresh(MODULES)
    assert send(gateway, "POST", digest=sha256(document), query=document).json()["data"]


# --- Cost budgets per client for trusted documents ---------------------------------------------

STAFF_REPORT = "query StaffReport { affairItems(first: 100) { edges { node { code department { name } } } } }"  # cost 211
PAGE = "query Page { affairItems(first: 20) { edges { node { code } } } }"  # cost 31
STAFF = {"apollographql-client-name": "staff-console"}
MINIPROGRAM = {"apollographql-client-name": "onestop-miniprogram"}


@pytest.fixture(scope="module")
def budget_gateway(
    start_gateway: Any, external_module_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    """A general cost limit of 100; the staff console's reviewed report may cost 500,
    the mini-program's documents no more than 20."""
    manifest = write_manifest(
        tmp_path_factory.mktemp("manifest") / "pq.json", [CATALOG, PAGE, STAFF_REPORT]
    )
    gateway: GatewayProcess = start_gateway(
        prod_env(
            external_module_path,
            ONESTOP_TRUSTED_DOCUMENTS_FILE=str(manifest),
            ONESTOP_MAX_QUERY_COST="100",
            ONESTOP_TRUSTED_CLIENT_MAX_COST="staff-console=500, onestop-miniprogram=20",
        )
    )
    return gateway


def refused_at(response: httpx.Response) -> int:
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
    assert error["extensions"]["limit"] == "cost"
    return int(error["extensions"]["maximum"])


@methods
def test_a_client_s_budget_applies_to_its_manifest_documents(
    budget_gateway: GatewayProcess, method: str
) -> None:
    report = send(budget_gateway, method, digest=sha256(STAFF_REPORT), headers=STAFF)
    assert "errors" not in report.json(), report.text
    assert isinstance(report.json()["data"]["affairItems"]["edges"], list)
    # The same document from a client without a budget: the general limit.
    for headers in (PARTNER, {}):
        other = send(budget_gateway, method, digest=sha256(STAFF_REPORT), headers=headers)
        assert refused_at(other) == 100
    # A tighter budget holds the mini-program below the general limit.
    page = send(budget_gateway, method, digest=sha256(PAGE), headers=MINIPROGRAM)
    assert refused_at(page) == 20
    stats = send(budget_gateway, method, digest=sha256(CATALOG), headers=MINIPROGRAM)
    assert stats.json()["data"]["affairsCatalogStats"]


def test_a_budget_never_covers_documents_outside_the_manifest(
    budget_gateway: GatewayProcess,
) -> None:
    # Freeform, and registered through APQ: both the general limit, even for the staff console.
    document = fresh(STAFF_REPORT)
    assert refused_at(budget_gateway.graphql(document, headers=STAFF)) == 100
    registered = send(
        budget_gateway, "POST", digest=sha256(document), query=document, headers=STAFF
    )
    assert refused_at(registered) == 100
    # The manifest's exact text sent in full is the manifest document: the budget holds.
    assert budget_gateway.data(STAFF_REPORT, headers=STAFF)["affairItems"]


def test_a_manifest_document_above_every_budget_stops_the_start(
    start_gateway: Any, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path / "pq.json", [STAFF_REPORT])
    env = {"ONESTOP_TRUSTED_DOCUMENTS_FILE": str(manifest), "ONESTOP_MAX_QUERY_COST": "100"}
    with pytest.raises(RuntimeError, match="gateway exited at start") as failed:
        start_gateway({**env, "ONESTOP_TRUSTED_CLIENT_MAX_COST": "staff-console=200"})
    assert f"entry {sha256(STAFF_REPORT)} (StaffReport): 查询代价过高" in str(failed.value)
    start_gateway({**env, "ONESTOP_TRUSTED_CLIENT_MAX_COST": "staff-console=300"}).stop()


# --- The manifest, checked at start -----------------------------------------------------------


def test_a_manifest_with_bad_hashes_stops_the_start(start_gateway: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "pq.json"
    good = sha256(MODULES)
    wrong = sha256(CATALOG)
    sha1 = hashlib.sha1(CATALOG.encode(), usedforsecurity=False).hexdigest()
    manifest.write_text(json.dumps({good: MODULES, wrong: MODULES, sha1: CATALOG, "x": 3}))
    with pytest.raises(RuntimeError, match="gateway exited at start") as failed:
        start_gateway({"ONESTOP_TRUSTED_DOCUMENTS_FILE": str(manifest)})
    message = str(failed.value)
    assert "ONESTOP_TRUSTED_DOCUMENTS_FILE" in message
    assert f"entry '{wrong}': the hash does not match its document" in message
    assert f"entry '{sha1}': a SHA-1 hash" in message
    assert "entry 'x': the document must be a non-empty string" in message
    assert f"entry '{good}'" not in message


def test_a_manifest_the_schema_or_the_limits_refuse_stops_the_start(
    start_gateway: Any, tmp_path: Path
) -> None:
    unknown_field = "query Broken { affairsCatalogStats { noSuchField } }"
    costly = "query FanOut " + FAN_OUT
    manifest = write_manifest(tmp_path / "pq.json", [MODULES, unknown_field, costly])
    with pytest.raises(RuntimeError, match="gateway exited at start") as failed:
        start_gateway({"ONESTOP_TRUSTED_DOCUMENTS_FILE": str(manifest)})
    message = str(failed.value)
    assert f"entry {sha256(unknown_field)} (Broken): Cannot query field 'noSuchField'" in message
    assert f"entry {sha256(costly)} (FanOut): 查询代价过高" in message
    assert sha256(MODULES) not in message


# --- In process: formats and settings ---------------------------------------------------------


@pytest.fixture(scope="module")
def core_schema() -> Any:
    return build_schema(compose_with_core([]), Settings())


def test_apollo_s_manifest_format_is_read_too(tmp_path: Path, core_schema: Any) -> None:
    manifest = tmp_path / "manifest.json"
    operations = [
        {"id": sha256(MODULES), "name": "LoadedModules", "type": "query", "body": MODULES}
    ]
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    documents = TrustedDocuments.load(manifest)
    assert documents.documents == {sha256(MODULES): MODULES}
    documents.check(core_schema.guard, core_schema.validation_rules)

    manifest.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}))
    with pytest.raises(ManifestError, match="version 1"):
        TrustedDocuments.load(manifest)


@pytest.mark.parametrize("content", ["not json", "[]", '"text"'])
def test_a_manifest_that_is_not_an_object_is_refused(tmp_path: Path, content: str) -> None:
    manifest = tmp_path / "pq.json"
    manifest.write_text(content)
    with pytest.raises(ManifestError, match="ONESTOP_TRUSTED_DOCUMENTS_FILE"):
        TrustedDocuments.load(manifest)


def test_trusted_only_needs_a_manifest_and_clients(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "pq.json", [MODULES])
    with pytest.raises(ConfigError, match="needs ONESTOP_TRUSTED_DOCUMENTS_FILE"):
        load_settings(trusted_documents_only=True, trusted_clients="app")
    with pytest.raises(ConfigError, match="needs ONESTOP_TRUSTED_CLIENTS"):
        load_settings(trusted_documents_only=True, trusted_documents_file=manifest)
    with pytest.raises(ConfigError, match="ONESTOP_TRUSTED_DOCUMENTS_FILE"):
        load_settings(trusted_documents_file=tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="ONESTOP_APQ_MAX_DOCUMENT_CHARS"):
        load_settings(apq_max_document_chars=70_000)
    settings = load_settings(
        trusted_documents_only=True, trusted_documents_file=manifest, trusted_clients=" app, *"
    )
    assert settings.trusted_clients == ("app", "*")


def test_client_budgets_are_read_and_checked(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "pq.json", [MODULES])
    settings = load_settings(
        trusted_documents_file=manifest, trusted_client_max_cost=" staff=9000, app = 50 ,"
    )
    assert settings.trusted_client_max_cost == {"staff": 9000, "app": 50}
    with pytest.raises(ConfigError, match="needs ONESTOP_TRUSTED_DOCUMENTS_FILE"):
        load_settings(trusted_client_max_cost="staff=9000")
    for bad in ("staff", "=5", "staff=lots", "staff=5"):
        with pytest.raises(ConfigError, match="TRUSTED_CLIENT_MAX_COST"):
            load_settings(trusted_documents_file=manifest, trusted_client_max_cost=bad)
