"""The reference graphql-ws client (graphql-ws, unmodified, under Node) against two gateway
processes: it signs in through connectionParams, hears on process A an item edit made
through process B, and gets clean, coded errors for bad subscriptions.

tests/e2e/graphql_ws/subscribe.mjs does the client's part (packages pinned by its
package-lock.json, installed by ``make test``); never skipped.
"""

from __future__ import annotations

import uuid

from harness import GatewayProcess
from node_packages import E2E, run_script

GRAPHQL_WS = E2E / "graphql_ws"


def test_the_reference_client_hears_an_edit_made_on_another_process(
    replicas: tuple[GatewayProcess, GatewayProcess],
) -> None:
    first, second = replicas
    node = first.data(
        "{ affairItems(first: 1, after: null, filter: {statuses: [ACTIVE]}, sort: CODE) "
        "{ edges { node { code department { code } } } } }"
    )["affairItems"]["edges"][0]["node"]
    token = first.token(
        f"staff-{uuid.uuid4().hex[:6]}", ("staff",), department=node["department"]["code"]
    )
    keyword = f"客户端{uuid.uuid4().hex[:6]}"
    report = run_script(
        GRAPHQL_WS,
        "subscribe.mjs",
        first.url.replace("http://", "ws://") + "/graphql",
        second.url,
        token,
        node["code"],
        keyword,
    )
    assert "failure" not in report, report
    assert report["acknowledged"] is True, report
    assert report["editStatus"] == 200
    change = report["event"]["next"]["data"]["catalogItemChanged"]
    assert change["code"] == node["code"]
    assert change["change"] == "CHANGED"
    assert keyword in change["item"]["keywords"]
    # A subscription its resolver refuses: an error result the client hands to `next`.
    refused = report["badSubscription"]["next"]["errors"][0]
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    # An invalid document: the protocol's `error` message, which the client hands to `error`.
    (unknown,) = report["unknownField"]["error"]
    assert unknown["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "noSuchField" in unknown["message"]
