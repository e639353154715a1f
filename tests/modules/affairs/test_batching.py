"""Relations batch through DataLoaders: database round trips do not grow with the page size."""

from __future__ import annotations

from harness import GatewayProcess

PAGE = """query($first: Int) {
  affairItems(first: $first, filter: {statuses: [ACTIVE]}) {
    edges { node {
      code
      department { name itemCount }
      themes { name lifecycleGroup { name } }
      locations { name }
      faq { question }
      versions { version }
      materials { licenseType { name } }
    } }
  }
}"""


def db_commands(gateway: GatewayProcess, first: int) -> int:
    response = gateway.graphql(PAGE, {"first": first}, headers={"X-OneStop-Debug": "db-commands"})
    body = response.json()
    assert "errors" not in body, body
    assert len(body["data"]["affairItems"]["edges"]) == first
    count: int = body["extensions"]["dbCommands"]
    return count


def test_round_trips_are_constant_whatever_the_page_size(gateway: GatewayProcess) -> None:
    db_commands(gateway, 1)  # warm the per-generation count cache
    small, medium, large = (
        db_commands(gateway, 2),
        db_commands(gateway, 20),
        db_commands(gateway, 100),
    )
    assert small == medium == large
    # page ids + items + departments + themes + groups + locations + FAQ + versions
    # + licence types: one query per type, never one per row
    assert large <= 9


def test_debug_counter_is_absent_without_the_header(gateway: GatewayProcess) -> None:
    body = gateway.graphql(PAGE, {"first": 1}).json()
    assert "dbCommands" not in (body.get("extensions") or {})
