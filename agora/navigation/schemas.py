from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from agora.core.schemas import InputSchema
from agora.navigation.choices import Direction, LinkKind, NearestKind, PositionMethod, RouteMode


class StepOut(Schema):
    kind: str = Field(
        description="start, walk, lift, escalator, stairs, street, skywalk, tunnel, arrive"
    )
    text: str = Field(description="the instruction in the request's language")
    distance_m: int | None = None
    to_floor_id: int | None = None
    turn: str | None = None


class FloorChangeOut(Schema):
    kind: str
    floor_id: int | None
    floor: str
    mall: str
    x: float
    y: float


class LegOut(Schema):
    floor_id: int
    floor: str
    mall_id: int
    mall: str
    points: list[list[float]] = Field(description="[[x, y], ...] in metres on the floor plan")
    enter: FloorChangeOut | None
    leave: FloorChangeOut | None


class RouteOut(Schema):
    mode: RouteMode
    origin: str
    destination: str
    distance_m: int
    duration_s: int
    floors: list[int] = Field(description="floor ids in the order the route visits them")
    legs: list[LegOut]
    steps: list[StepOut]
    links: list[int] = Field(description="ids of the lifts, escalators, stairs and walks used")
    closures_in_force: list[str] = Field(description="reasons of the closures routed around")


class PlaceOut(Schema):
    kind: str = Field(description="shop, facility or category")
    id: str
    name: str
    detail: str
    place: str = Field(description="pass as from/to of /nav/route (categories: filter only)")


class ObservationIn(InputSchema):
    bssid: str = Field(max_length=32)
    rssi: float


class PositionIn(InputSchema):
    observations: list[ObservationIn] = Field(max_length=64)


class PositionOut(Schema):
    floor_id: int
    floor: str
    mall_id: int
    mall: str
    zone_id: int | None
    zone: str
    x: float
    y: float
    accuracy_m: float
    method: PositionMethod
    used: int
    ignored: list[str] = Field(description="BSSIDs not in the district's registry")
    place: str = Field(description="this position as a route endpoint")


class ContextIn(InputSchema):
    latitude: float
    longitude: float
    accuracy_m: float = 0.0
    current: str = Field("", max_length=40, description="the mall code of the page now shown")


class ContextOut(Schema):
    page: str = Field(description="mall or life")
    mall_id: int | None
    mall_code: str
    mall_name: str
    distance_m: float | None


class StopOut(Schema):
    floor_id: int
    zone_id: int | None
    x: float
    y: float


class LinkOut(Schema):
    id: int
    mall_id: int | None
    kind: LinkKind
    code: str
    name: str
    direction: Direction
    length_m: float
    extra_s: float
    auto: bool
    stops: list[StopOut]


class StopIn(InputSchema):
    floor_id: int
    x: float
    y: float


class LinkCreateIn(InputSchema):
    kind: LinkKind
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=80)
    stops: list[StopIn]
    length_m: float
    extra_s: float = 0.0


class GeneratedOut(Schema):
    vertical: int
    streets: int
    removed: int


class ClosureIn(InputSchema):
    zone_id: int | None = None
    link_id: int | None = None
    reason: str = Field(max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class ClosureOut(Schema):
    id: int
    zone_id: int | None
    link_id: int | None
    reason: str
    starts_at: datetime
    ends_at: datetime | None
    lifted_at: datetime | None


class AccessPointIn(InputSchema):
    bssid: str = Field(max_length=32)
    floor_id: int
    x: float
    y: float
    tx_power: float = -38.0
    ssid: str = Field("", max_length=32)


class AccessPointsIn(InputSchema):
    access_points: list[AccessPointIn] = Field(max_length=5000)


class ImportedOut(Schema):
    saved: int


class SurveyPointIn(InputSchema):
    floor_id: int
    x: float
    y: float
    fingerprint: dict[str, float]
    samples: int = Field(1, ge=1, le=1000)


class SurveyPointOut(Schema):
    id: int
    floor_id: int
    x: float
    y: float
    aps: int


class KioskIn(InputSchema):
    code: str = Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9\-]*$")
    name: str = Field(min_length=1, max_length=80)
    floor_id: int
    x: float
    y: float
    facing: float = 90.0


class KioskOut(Schema):
    code: str
    name: str
    floor_id: int
    mall_id: int
    x: float
    y: float
    facing: float
    last_seen_at: datetime | None
    online: bool


NEAREST_HELP = ", ".join(NearestKind.values)
