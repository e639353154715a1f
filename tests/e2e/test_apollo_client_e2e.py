"""Apollo Client's persisted-query link, unmodified, against a real gateway.

tests/e2e/apollo/apq.mjs runs ``@apollo/client`` (pinned in package-lock.json, installed
by ``make test`` with ``npm ci``) under Node: over POST and with
``useGETForHashedQueries``, the first request sends only the hash, the gateway answers
``PERSISTED_QUERY_NOT_FOUND``, the link sends the document, and later requests — from
that client or a new one — send only the hash again. Without Node and the packages
this test fails saying what is missing: it is never skipped.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from harness import GatewayProcess
from node_packages import E2E, run_script

APOLLO = E2E / "apollo"


def shape(exchanges: list[dict[str, Any]]) -> list[tuple[str, bool, list[str | None]]]:
    """Each exchange as (method, whether the document was sent, error codes)."""
    return [(e["method"], e["query"] is not None, e["codes"]) for e in exchanges]


def test_apollo_client_persisted_query_link_round_trips(gateway: GatewayProcess) -> None:
    nonce = f"n{uuid.uuid4().hex[:12]}"
    report = run_script(APOLLO, "apq.mjs", f"{gateway.url}/graphql", nonce)
    not_found = ["PERSISTED_QUERY_NOT_FOUND"]

    post = report["post"]
    assert shape(post["exchanges"]) == [
        ("POST", False, not_found),
        ("POST", True, []),  # the link's retry, with the document
        ("POST", False, []),
    ]
    get = report["get"]
    assert shape(get["exchanges"]) == [
        ("GET", False, not_found),
        ("POST", True, []),  # the link always sends a document by POST
        ("GET", False, []),
    ]
    # A new client's very first request is a hit: the document was registered before.
    assert shape(report["again"]["exchanges"]) == [("POST", False, [])] * 2

    for scenario in (post, get):
        (registration,) = [e for e in scenario["exchanges"] if e["query"] is not None]
        # The link hashes the text it sends: the gateway's hash is the client's.
        digest = hashlib.sha256(registration["query"].encode()).hexdigest()
        assert {e["hash"] for e in scenario["exchanges"]} == {digest}
        assert all(e["status"] == 200 for e in scenario["exchanges"])
        first, second = scenario["results"]
        assert first == second
    assert post["results"][0][f"stats_{nonce}"]["totalItems"] > 0
    assert len(get["results"][0][f"page_{nonce}"]["edges"]) == 2
