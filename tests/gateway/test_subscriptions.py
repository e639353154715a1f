"""Subscriptions over graphql-transport-ws (gateway/subscriptions.py), with the catalog's
``catalogItemChanged`` as the real subscription: across gateway processes through Redis,
signed in by connection_init, capped, kept alive, closed when the token expires."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from harness import GatewayProcess
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

SUBSCRIBE = """subscription($codes: [String!]) {
  catalogItemChanged(codes: $codes) { code version change item { code version keywords } }
}"""
UPDATE = """mutation($c: String!, $k: [String!]) {
  updateAffairItem(code: $c, patch: {keywords: $k}) { item { version } } }"""


@contextmanager
def socket(
    gateway: GatewayProcess, params: dict[str, Any] | None = None, **kw: Any
) -> Iterator[ClientConnection]:
    url = gateway.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5, **kw) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": params or {}}))
        yield ws


def acknowledged(ws: ClientConnection) -> None:
    frame = ws.recv(timeout=5)
    assert isinstance(frame, str), frame  # text frames, as the protocol requires
    assert json.loads(frame) == {"type": "connection_ack"}


def receive(ws: ClientConnection, wanted: str, timeout: float = 10) -> dict[str, Any]:
    """The next message of type ``wanted`` (pings answered, others kept out of the way)."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == "ping":
            ws.send(json.dumps({"type": "pong"}))
        if message["type"] == wanted:
            return message


def subscribe(ws: ClientConnection, id: str, query: str, variables: Any = None) -> None:
    payload = {"query": query, "variables": variables or {}}
    ws.send(json.dumps({"id": id, "type": "subscribe", "payload": payload}))


def editable(gateway: GatewayProcess) -> tuple[str, str]:
    """An item code and a token of a staff member of its department."""
    node = gateway.data(
        "{ affairItems(first: 1, filter: {statuses: [ACTIVE]}) { edges { node { code department { code } } } } }"
    )["affairItems"]["edges"][0]["node"]
    token = gateway.token(
        f"staff-{uuid.uuid4().hex[:6]}", ("staff",), department=node["department"]["code"]
    )
    return node["code"], token


def test_an_edit_on_one_process_reaches_a_subscriber_on_another(
    replicas: tuple[GatewayProcess, GatewayProcess],
) -> None:
    first, second = replicas
    code, token = editable(first)
    with socket(first) as ws:
        acknowledged(ws)
        subscribe(ws, "all", SUBSCRIBE)
        subscribe(ws, "this", SUBSCRIBE, {"codes": [code]})
        subscribe(ws, "other", SUBSCRIBE, {"codes": ["no-such-item"]})
        time.sleep(0.5)  # the subscriptions are registered once their tasks ran
        keyword = f"订阅{uuid.uuid4().hex[:6]}"
        version = second.data(UPDATE, {"c": code, "k": [keyword]}, token=token)["updateAffairItem"][
            "item"
        ]["version"]
        heard = {}
        for _ in range(2):
            message = receive(ws, "next")
            heard[message["id"]] = message["payload"]
        assert set(heard) == {"all", "this"}  # "other" watches another item
        for payload in heard.values():
            change = payload["data"]["catalogItemChanged"]
            assert change["code"] == code
            assert change["version"] == version
            assert change["change"] == "CHANGED"
            # Read after the event: the socket's loaders do not answer from before it.
            assert change["item"]["version"] == version
            assert keyword in change["item"]["keywords"]


def test_a_signed_in_socket_and_bad_tokens(replicas: tuple[GatewayProcess, GatewayProcess]) -> None:
    gateway = replicas[0]
    with socket(gateway, {"Authorization": f"Bearer {gateway.token('ws-citizen')}"}) as ws:
        acknowledged(ws)
    # A browser cannot set headers on a socket, a native app can: either way counts.
    headers = {"Authorization": f"Bearer {gateway.token('ws-native')}"}
    with socket(gateway, additional_headers=headers) as ws:
        acknowledged(ws)
    for params, reason in (
        ({"Authorization": "Bearer not-a-token"}, None),
        ({"authorization": f"Bearer {gateway.token('ws-old', ttl=-60)}"}, "token expired"),
        ({"Authorization": "Basic abc"}, "expected 'Bearer <token>'"),
    ):
        with socket(gateway, params) as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403, params
        if reason:
            assert closed.value.rcvd.reason == reason


def test_the_socket_closes_when_its_token_expires(
    replicas: tuple[GatewayProcess, GatewayProcess],
) -> None:
    gateway = replicas[0]
    with socket(gateway, {"Authorization": f"Bearer {gateway.token('ws-short', ttl=3)}"}) as ws:
        acknowledged(ws)
        subscribe(ws, "1", SUBSCRIBE)
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            receive(ws, "next", timeout=10)  # no item changes: only pings, then the close
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "token expired")
        assert time.monotonic() - started < 6


def test_bad_subscriptions_get_clean_errors(
    replicas: tuple[GatewayProcess, GatewayProcess],
) -> None:
    gateway = replicas[1]
    with socket(gateway) as ws:
        acknowledged(ws)
        subscribe(ws, "unknown", "subscription { nope }")
        subscribe(ws, "query", "{ __typename }")
        subscribe(ws, "codes", SUBSCRIBE, {"codes": []})
        subscribe(ws, "variables", SUBSCRIBE, {"codes": 12})
        answers: dict[tuple[str, str], Any] = {}
        while len(answers) < 5:  # three errors; for "codes" an error result, then complete
            message = json.loads(ws.recv(timeout=10))
            answers[message["id"], message["type"]] = message.get("payload")
        errors = {id: payload[0] for (id, kind), payload in answers.items() if kind == "error"}
        assert errors["unknown"]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert errors["query"]["extensions"]["code"] == "BAD_REQUEST"
        assert "HTTP" in errors["query"]["message"]
        assert errors["variables"]["extensions"]["code"] == "BAD_USER_INPUT", errors["variables"]
        # An argument the resolver refuses: an error result, then the end of that one.
        refused = answers["codes", "next"]
        assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert ("codes", "complete") in answers
        # The socket is still fine for a good subscription.
        subscribe(ws, "good", SUBSCRIBE)


def test_subscriptions_per_socket_are_capped_and_the_server_pings(
    replicas: tuple[GatewayProcess, GatewayProcess],
) -> None:
    gateway = replicas[1]
    with socket(gateway) as ws:
        acknowledged(ws)
        for n in range(3):
            subscribe(ws, str(n), SUBSCRIBE)
        subscribe(ws, "3", SUBSCRIBE)
        refused = receive(ws, "error")
        # Ops see them: three listening on this process (the refused one never started).
        assert gateway.metric("onestop_subscriptions_active", '{topic="affairs.item.changed"}') == 3
        assert refused["id"] == "3"
        assert refused["payload"][0]["extensions"] == {"code": "RATE_LIMITED", "limit": 3}
        # Completing one frees its place.
        ws.send(json.dumps({"id": "0", "type": "complete"}))
        time.sleep(0.2)
        subscribe(ws, "4", SUBSCRIBE)
        ping = json.loads(ws.recv(timeout=3))  # ONESTOP_WS_KEEPALIVE_SECONDS=1
        assert ping == {"type": "ping"}


def test_the_legacy_protocol_is_not_offered(
    replicas: tuple[GatewayProcess, GatewayProcess],
) -> None:
    """subscriptions-transport-ws ("graphql-ws") is deprecated and not signed in here."""
    url = replicas[0].url.replace("http://", "ws://") + "/graphql"
    with (
        connect(url, subprotocols=["graphql-ws"], open_timeout=5) as ws,  # type: ignore[list-item]
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4406


def sse_events(response: Any, count: int) -> list[tuple[str, Any]]:
    """The first ``count`` events of a GraphQL-over-SSE stream as (event, data)."""
    events: list[tuple[str, Any]] = []
    kind = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind is not None:
            data = line.removeprefix("data: ")
            events.append((kind, json.loads(data) if data else None))
            if len(events) == count:
                break
    return events


SSE = {"Accept": "text/event-stream", "Content-Type": "application/json"}


def test_graphql_over_sse_hears_an_edit_made_on_another_process(
    replicas: tuple[GatewayProcess, GatewayProcess],
) -> None:
    first, second = replicas
    code, token = editable(first)
    keyword = f"事件流{uuid.uuid4().hex[:6]}"
    body = {"query": SUBSCRIBE, "variables": {"codes": [code]}}

    def edit_soon() -> None:
        time.sleep(0.7)  # the stream is open and subscribed
        second.data(UPDATE, {"c": code, "k": [keyword]}, token=token)

    editor = threading.Thread(target=edit_soon)
    with first.client.stream("POST", "/graphql", json=body, headers=SSE, timeout=15) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-cache, no-transform"
        editor.start()
        ((kind, data),) = sse_events(stream, 1)
    editor.join()
    assert kind == "next"
    change = data["data"]["catalogItemChanged"]
    assert change["code"] == code and keyword in change["item"]["keywords"]


def test_graphql_over_sse_errors_and_what_it_carries(
    replicas: tuple[GatewayProcess, GatewayProcess],
) -> None:
    gateway = replicas[1]
    body = {"query": "subscription { nope }"}
    with gateway.client.stream("POST", "/graphql", json=body, headers=SSE, timeout=10) as stream:
        (kind, data), (end, _) = sse_events(stream, 2)
    assert (kind, end) == ("next", "complete")
    assert data["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # Queries and mutations are plain requests (idempotency keys, the response cache).
    refused = gateway.client.post("/graphql", json={"query": "{ __typename }"}, headers=SSE)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # A bad token is refused before any stream starts, as on every request.
    bad = gateway.client.post(
        "/graphql", json={"query": SUBSCRIBE}, headers={**SSE, "Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401


def test_a_signed_in_sse_stream_ends_when_its_token_expires(
    replicas: tuple[GatewayProcess, GatewayProcess],
) -> None:
    gateway = replicas[0]
    headers = {**SSE, "Authorization": f"Bearer {gateway.token('sse-short', ttl=2)}"}
    started = time.monotonic()
    body = {"query": SUBSCRIBE}
    with gateway.client.stream(
        "POST", "/graphql", json=body, headers=headers, timeout=10
    ) as stream:
        (kind, data), (end, _) = sse_events(stream, 2)
    assert (kind, end) == ("next", "complete")
    assert data["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"
    assert time.monotonic() - started < 5
