"""The service network: halls, community centres, bank branches and terminals."""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.kit.connections import Connection
from gateway.kit.nodes import Node
from gateway.kit.opening_hours import describe_hours, opening_state
from modules.affairs.types.enums import LocationKind
from modules.affairs.vocabulary import LOCATION_KIND_LABELS

__all__ = ["OpeningPeriod", "OpeningStatus", "ServiceLocation", "ServiceLocationConnection"]

Doc = dict[str, Any]


@strawberry.type(description="Opening status of a place right now (China Standard Time).")
class OpeningStatus:
    is_open: bool = strawberry.field(description="Open now.")
    label: str = strawberry.field(description="营业中 / 休息中 / 24小时.")
    closes_at: str | None = strawberry.field(description="Closing time today, when open.")
    opens_at: str | None = strawberry.field(description="Next opening, e.g. 明天 09:00.")


@strawberry.type(description="Opening hours on some weekdays.")
class OpeningPeriod:
    days: list[int] = strawberry.field(description="ISO weekdays, 1 = Monday.")
    open: str = strawberry.field(description="HH:MM.")
    close: str = strawberry.field(description="HH:MM.")


@strawberry.type(
    description="A place in the service network: hall, community centre, bank, terminal."
)
class ServiceLocation(Node):
    code: str = strawberry.field(description="Stable code.")
    name: str = strawberry.field(description="Name.")
    kind: LocationKind = strawberry.field(description="Kind of place.")
    street: str = strawberry.field(description="街道.")
    address: str = strawberry.field(description="Address.")
    lat: float = strawberry.field(description="Latitude (WGS-84).")
    lng: float = strawberry.field(description="Longitude (WGS-84).")
    phone: str | None = strawberry.field(description="Phone.")
    opening_hours: list[OpeningPeriod] = strawberry.field(description="Opening hours.")
    always_open: bool = strawberry.field(description="Open 24 hours.")
    window_count: int | None = strawberry.field(description="Service windows.")
    back_office_posts: int | None = strawberry.field(description="Back-office approval posts.")
    item_count: int = strawberry.field(description="Items handled here.")
    bank: str | None = strawberry.field(description="Bank, for bank branches.")
    distance_meters: float | None = strawberry.field(
        description="Distance from `near`, when the query gave one."
    )
    hours: strawberry.Private[list[dict[str, Any]]]

    def node_key(self) -> str:
        return self.code

    @classmethod
    def from_doc(cls, doc: Doc, distance: float | None = None) -> ServiceLocation:
        hours = list(doc.get("opening_hours", []))
        return cls(
            code=doc["_id"],
            name=doc["name"],
            kind=LocationKind(doc["kind"]),
            street=doc.get("street", ""),
            address=doc.get("address", ""),
            lat=float(doc["lat"]),
            lng=float(doc["lng"]),
            phone=doc.get("phone"),
            opening_hours=[
                OpeningPeriod(days=list(p["days"]), open=p["open"], close=p["close"]) for p in hours
            ],
            always_open=bool(doc.get("always_open")),
            window_count=doc.get("window_count"),
            back_office_posts=doc.get("back_office_posts"),
            item_count=int(doc.get("item_count", 0)),
            bank=doc.get("bank"),
            distance_meters=round(distance, 1) if distance is not None else None,
            hours=hours,
        )

    @strawberry.field(description="Kind in Chinese.")
    def kind_label(self) -> str:
        return LOCATION_KIND_LABELS[self.kind.value]

    @strawberry.field(
        description="Opening hours as text, e.g. 周一至周五 09:00-12:00, 14:00-18:00."
    )
    def opening_hours_text(self) -> str:
        return describe_hours(self.hours, self.always_open)

    @strawberry.field(description="Open right now?")
    def open_status(self) -> OpeningStatus:
        state = opening_state(self.hours, self.always_open)
        return OpeningStatus(
            is_open=state.is_open,
            label=state.label,
            closes_at=state.closes_at,
            opens_at=state.opens_at,
        )


@strawberry.type(
    description="A page of service-network places (Relay connection): in the network's listing "
    "order (sort order, then code), or nearest first when the query gives `near`."
)
class ServiceLocationConnection(Connection[ServiceLocation]):
    pass
