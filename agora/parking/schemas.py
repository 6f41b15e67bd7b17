"""Parking API schemas."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from ninja import Schema
from pydantic import Field

from agora.checkout.choices import Method
from agora.core.schemas import InputSchema
from agora.navigation.schemas import RouteOut
from agora.parking.choices import (
    PageReason,
    PayChannel,
    PlateColour,
    ReservationStatus,
    ReviewKind,
    ReviewStatus,
    SessionStatus,
    SpaceKind,
)


class LevelOut(Schema):
    name: str
    floor: int | None
    free: int
    total: int


class ZoneFreeOut(Schema):
    code: str
    name: str
    free: int
    total: int


class KindFreeOut(Schema):
    free: int
    total: int


class OverflowOut(Schema):
    car_park: str
    name: str
    mall: str
    free: int
    total: int
    distance_m: int
    latitude: float
    longitude: float


class AvailabilityOut(Schema):
    car_park: str
    name: str
    mall: str
    free: int
    total: int
    occupancy_pct: int
    full: bool
    threshold_pct: int
    levels: list[LevelOut]
    zones: list[ZoneFreeOut]
    kinds: dict[str, KindFreeOut]
    version: int
    overflow: list[OverflowOut]
    at: datetime


class CarParkOut(Schema):
    id: int
    car_park: str
    name: str
    mall: str
    mall_code: str
    free: int
    total: int
    occupancy_pct: int
    full: bool
    version: int


class EventIn(InputSchema):
    """One device event over HTTP: the same JSON as over MQTT plus what the topic would say."""

    type: str = Field(..., max_length=10, description="plate or occupancy")
    car_park: str = Field(..., max_length=40)
    event_id: str = Field(..., max_length=64)
    at: str = Field(..., max_length=40, description="ISO 8601 with offset")
    gate: str = Field("", max_length=20, description="plate events")
    plate: str | None = Field(None, max_length=20)
    colour: str = Field("", max_length=10)
    confidence: float | None = None
    source: str = Field("", max_length=10)
    image: str = Field("", max_length=200)
    ticket: str = Field("", max_length=20)
    space: str = Field("", max_length=20, description="occupancy events")
    occupied: bool | None = None
    sensor: str = Field("", max_length=40)


class IngestOut(Schema):
    outcome: str = Field(description="applied, stale, review, rejected or duplicate")
    event_id: str
    detail: str


class DiscountOut(Schema):
    kind: str
    minutes: int
    fen: int
    label: str
    applied: bool


class QuoteOut(Schema):
    session_id: int
    car_park: str
    plate: str
    status: SessionStatus
    entered_at: datetime
    exited_at: datetime | None
    stay_minutes: int
    gross_fen: int
    fee_fen: int
    discount_minutes: int
    coupon_fen: int
    paid_fen: int
    due_fen: int
    in_grace: bool
    pay_by: datetime | None
    discounts: list[DiscountOut]


class PayIn(InputSchema):
    method: Method = Method.WECHAT
    key: str = Field(..., min_length=1, max_length=100)


class PayByPlateIn(PayIn):
    car_park: str = Field(..., max_length=40)
    plate: str = Field(..., max_length=20, description="plate, or the QR ticket of a no-plate car")
    channel: PayChannel = PayChannel.EXIT_QR


class PaymentOut(Schema):
    order_number: str
    amount_fen: int
    channel: PayChannel
    status: str
    pay_url: str


class CarFoundOut(Schema):
    car_park: str
    car_park_name: str
    level: str
    zone: str
    space: str
    exact: bool
    place: str
    entered_at: datetime
    route: RouteOut | None = None


class VehicleIn(InputSchema):
    plate: str = Field(..., max_length=20)
    colour: PlateColour = PlateColour.BLUE


class VehicleOut(Schema):
    id: int
    plate: str
    colour: str
    frictionless: bool


class FrictionlessIn(InputSchema):
    agreement_id: int | None = None


class AgreementIn(InputSchema):
    method: Method = Method.WECHAT
    limit_fen: int = 50_000


class AgreementOut(Schema):
    id: int
    method: str
    provider: str
    limit_fen: int
    signed_at: datetime


class CouponUseIn(InputSchema):
    coupon_id: int


class PointsUseIn(InputSchema):
    hours: int
    key: str = Field(..., min_length=1, max_length=100)


class ReservationIn(InputSchema):
    car_park: str = Field(..., max_length=40)
    plate: str = Field(..., max_length=20)
    kind: SpaceKind = SpaceKind.STANDARD
    starts_at: datetime
    ends_at: datetime
    key: str = Field(..., min_length=1, max_length=100)
    share_id: int | None = None


class ReservationOut(Schema):
    id: int
    car_park: str
    space: str
    zone: str
    plate: str
    starts_at: datetime
    ends_at: datetime
    status: ReservationStatus
    price_fen: int


class ShareIn(InputSchema):
    space_id: int
    starts_at: datetime
    ends_at: datetime
    price_fen_per_hour: int


class ShareOut(Schema):
    id: int
    car_park: str
    space: str
    zone: str
    starts_at: datetime
    ends_at: datetime
    price_fen_per_hour: int
    withdrawn: bool


class SessionOut(Schema):
    id: int
    plate: str
    ticket: str | None
    status: SessionStatus
    entered_at: datetime
    exited_at: datetime | None
    level: str
    space: str
    fee_fen: int
    paid_fen: int
    match_score: float | None


class ReviewOut(Schema):
    id: int
    kind: ReviewKind
    status: ReviewStatus
    plate: str
    gate: str
    occurred_at: datetime
    candidates: list[list[Any]]


class ReviewMatchIn(InputSchema):
    session_id: int


class ReviewDismissIn(InputSchema):
    note: str = Field(..., max_length=200)


class TariffIn(InputSchema):
    valid_from: datetime
    free_minutes: int
    unit_minutes: int
    day_unit_fen: int
    night_unit_fen: int = 0
    night_start: time | None = None
    night_end: time | None = None
    night_cap_fen: int = 0
    day_cap_fen: int = 0
    holiday_unit_fen: int = 0
    holiday_cap_fen: int = 0
    note: str = Field("", max_length=200)


class TariffOut(Schema):
    id: int
    version: int
    valid_from: datetime
    free_minutes: int
    unit_minutes: int
    day_unit_fen: int
    night_unit_fen: int
    night_start: time | None
    night_end: time | None
    night_cap_fen: int
    day_cap_fen: int
    holiday_unit_fen: int
    holiday_cap_fen: int
    note: str


class PageIn(InputSchema):
    plate: str = Field(..., max_length=20)
    reason: PageReason
    text: str = Field("", max_length=120)


class DeliveryOut(Schema):
    channel: str
    address: str
    status: str
    detail: str
    at: datetime


class PageOut(Schema):
    id: int
    plate: str
    reason: PageReason
    text: str
    created_at: datetime
    deliveries: list[DeliveryOut]
