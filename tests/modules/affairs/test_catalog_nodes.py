"""Every catalog entity is a Relay Node: its `id` refetches it through `node(id:)`.

Given ids read from the catalog's own lists, when they are refetched one by one and
all together, then each comes back as the same object, batched one query per type.
"""

from __future__ import annotations

from typing import Any

from harness import GatewayProcess

from gateway.kit.nodes import global_id

IDS = """{
  affairItems(search: "营业执照", first: 2) { edges { node { id code versions { id itemCode version } } } }
  departments { id code }
  themes { id code lifecycleGroup { id code } }
  serviceLocations(first: 2) { edges { node { id code } } }
  faq(first: 2) { edges { node { id code } } }
}"""
SELECTION = """__typename id
  ... on AffairItem { code version }
  ... on AffairItemVersionSummary { itemCode version }
  ... on Department { code } ... on Theme { code } ... on LifecycleGroup { code }
  ... on LicenseType { code } ... on ServiceLocation { code } ... on FaqEntry { code }"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ {SELECTION} }} }}"
NODES = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {SELECTION} }} }}"


def catalog_ids(gateway: GatewayProcess) -> dict[str, dict[str, Any]]:
    data = gateway.data(IDS)
    item = data["affairItems"]["edges"][0]["node"]
    theme = data["themes"][0]
    return {
        "AffairItem": {"id": item["id"], "code": item["code"]},
        "AffairItemVersionSummary": item["versions"][0],
        "Department": data["departments"][0],
        "Theme": {"id": theme["id"], "code": theme["code"]},
        "LifecycleGroup": theme["lifecycleGroup"],
        "ServiceLocation": data["serviceLocations"]["edges"][0]["node"],
        "FaqEntry": data["faq"]["edges"][0]["node"],
    }


def test_each_catalog_entity_refetches_by_its_id(gateway: GatewayProcess) -> None:
    for type_name, known in catalog_ids(gateway).items():
        node = gateway.data(NODE, {"id": known["id"]})["node"]
        assert node["__typename"] == type_name
        assert node["id"] == known["id"]
        for field in ("code", "itemCode", "version"):
            if field in known:
                assert node[field] == known[field], (type_name, field)


def test_a_license_type_is_a_node_too(gateway: GatewayProcess) -> None:
    node = gateway.data(NODE, {"id": global_id("LicenseType", "BUSINESS_LICENSE")})["node"]
    assert node == {"__typename": "LicenseType", "id": node["id"], "code": "BUSINESS_LICENSE"}


def test_an_older_version_is_its_own_node(gateway: GatewayProcess) -> None:
    code = catalog_ids(gateway)["AffairItem"]["code"]
    current = gateway.data("query($c: String!) { affairItem(code: $c) { id } }", {"c": code})
    old = gateway.data(
        "query($c: String!) { affairItem(code: $c, version: 1) { id version } }", {"c": code}
    )["affairItem"]
    # A client cache must not merge a snapshot into the current item.
    assert old["id"] != current["affairItem"]["id"] == global_id("AffairItem", code)
    node = gateway.data(NODE, {"id": old["id"]})["node"]
    assert node == {"__typename": "AffairItem", "id": old["id"], "code": code, "version": 1}


def test_nodes_batch_one_query_per_type_and_keep_order(gateway: GatewayProcess) -> None:
    known = catalog_ids(gateway)
    ids = [entry["id"] for entry in known.values()]
    missing = global_id("AffairItem", "NO-SUCH-ITEM")
    response = gateway.graphql(
        NODES, {"ids": [*ids, missing, *ids]}, headers={"X-OneStop-Debug": "db-commands"}
    )
    body = response.json()
    nodes = body["data"]["nodes"]
    assert [n and n["id"] for n in nodes] == [*ids, None, *ids]
    assert [n["__typename"] for n in nodes[: len(ids)]] == list(known)
    # Seven types, one $in query each at most (reference types may come from one loader each).
    assert body["extensions"]["dbCommands"] <= len(known)


def test_an_unknown_key_is_null_and_a_forged_id_is_bad_input(gateway: GatewayProcess) -> None:
    assert gateway.data(NODE, {"id": global_id("Department", "NOPE")})["node"] is None
    errors = gateway.graphql(NODE, {"id": "not-an-id"}).json()["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
