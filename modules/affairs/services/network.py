"""The service network ("1+4+10+83" halls, bank branches, terminals): listing places.

The network is small (145 places) and held in memory as reference data, so both
orders are keysets computed here rather than in the database: the listing order on
(sort_order, code), and — when ``near`` is given — the distance from that point on
(distance, code). A cursor carries the last place's key; the next page is every place
after it, so places added to the network never shift a page boundary.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError, NotFound
from gateway.kit.connections import Key, Keyset, Listing, SortKey
from gateway.kit.geo import distance_meters
from gateway.kit.opening_hours import opening_state
from modules.affairs.state import catalog_repository, reference
from modules.affairs.types.inputs import GeoPointInput, ServiceLocationFilter

__all__ = ["LOCATION_ORDER", "NEAREST_ORDER", "PlaceRow", "list_locations"]

LOCATION_ORDER = Keyset("affairs.locations", (SortKey("sort_order", "int"), SortKey("_id", "str")))
NEAREST_ORDER = Keyset(
    "affairs.locations.near", (SortKey("distance", "float"), SortKey("_id", "str"))
)


@dataclass(frozen=True)
class PlaceRow:
    """A place in a list, with its key in the list's order and its distance if asked."""

    key: Key
    doc: dict[str, Any]
    distance: float | None


async def list_locations(
    ctx: Context, near: GeoPointInput | None, given: ServiceLocationFilter | None
) -> Listing[PlaceRow]:
    """Places matching the filter, in listing order or nearest first."""
    if near is not None and not (-90 <= near.lat <= 90 and -180 <= near.lng <= 180):
        raise BadUserInput("坐标无效 (invalid coordinates)", [FieldError("near", "out of range")])
    places = list((await reference(ctx)).locations.values())
    given = given or ServiceLocationFilter()
    if given.item_code:
        item = await catalog_repository(ctx).item(given.item_code)
        if item is None:
            raise NotFound(f"未找到事项 {given.item_code}")
        handled = set(item.get("location_codes", []))
        places = [p for p in places if p["_id"] in handled]
    if given.kinds:
        kinds = {k.value for k in given.kinds}
        places = [p for p in places if p["kind"] in kinds]
    if given.street:
        street = given.street.removesuffix("街道")
        places = [p for p in places if p.get("street") == street]
    if given.open_now:
        places = [
            p
            for p in places
            if opening_state(p.get("opening_hours", []), bool(p.get("always_open"))).is_open
        ]
    if near is None:
        order = LOCATION_ORDER
        rows = [PlaceRow((int(p.get("sort_order", 0)), p["_id"]), p, None) for p in places]
    else:
        order = NEAREST_ORDER
        rows = []
        for p in places:
            distance = distance_meters(near.lat, near.lng, p["lat"], p["lng"])
            rows.append(PlaceRow((distance, p["_id"]), p, distance))
    rows.sort(key=lambda row: row.key)  # both orders ascending on every key

    async def fetch(after: Key | None, limit: int) -> list[PlaceRow]:
        following = (r for r in rows if after is None or order.follows(r.key, after))
        return list(itertools.islice(following, limit))

    async def count() -> int:
        return len(rows)

    return Listing(order, fetch, count, key_of=lambda row: row.key)
