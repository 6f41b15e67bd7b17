from __future__ import annotations

from datetime import datetime, time

from ninja import Schema
from pydantic import Field

from agora.core.schemas import InputSchema
from agora.district.choices import (
    ApplicationStatus,
    FacilityKind,
    ShopCategory,
    ShopStatus,
    ZoneKind,
)

Ring = list[list[float]]


class DistrictOut(Schema):
    id: int
    name: str
    code: str
    city: str


class MallOut(Schema):
    id: int
    district_id: int
    name: str
    code: str
    address: str
    latitude: float
    longitude: float
    opens_at: time
    closes_at: time
    phone: str


class FloorOut(Schema):
    id: int
    mall_id: int
    level: int
    name: str
    width_m: float
    depth_m: float
    outline: Ring


class FloorCreateIn(InputSchema):
    level: int = Field(ge=-10, le=200)
    name: str = Field(min_length=1, max_length=20)
    outline: Ring


class ZoneOut(Schema):
    id: int
    floor_id: int
    kind: ZoneKind
    name: str
    code: str
    polygon: Ring
    area_m2: float


class ZoneCreateIn(InputSchema):
    kind: ZoneKind
    name: str = Field(min_length=1, max_length=80)
    code: str = Field(min_length=1, max_length=20)
    polygon: Ring


class ZoneUpdateIn(InputSchema):
    kind: ZoneKind | None = None
    name: str | None = Field(default=None, min_length=1, max_length=80)
    code: str | None = Field(default=None, min_length=1, max_length=20)
    polygon: Ring | None = None


class FacilityOut(Schema):
    id: int
    floor_id: int
    zone_id: int | None
    kind: FacilityKind
    name: str
    x: float
    y: float


class FacilityCreateIn(InputSchema):
    kind: FacilityKind
    name: str = Field(min_length=1, max_length=80)
    x: float
    y: float
    zone_id: int | None = None


class FloorPlanOut(FloorOut):
    zones: list[ZoneOut]
    facilities: list[FacilityOut]


class UnitOut(Schema):
    id: int
    code: str
    floor_id: int
    area_m2: float


class ShopOut(Schema):
    id: int
    mall_id: int
    name: str
    brand: str
    category: ShopCategory
    status: ShopStatus
    opens_at: time
    closes_at: time
    phone: str
    contact_name: str
    contact_email: str
    description: str
    units: list[UnitOut]
    updated_at: datetime


class ShopCreateIn(InputSchema):
    name: str = Field(min_length=1, max_length=80)
    brand: str = Field(default="", max_length=80)
    category: ShopCategory
    unit_ids: list[int] = Field(min_length=1, max_length=20)
    opens_at: time
    closes_at: time
    phone: str = Field(default="", max_length=30)
    contact_name: str = Field(default="", max_length=40)
    contact_email: str = Field(default="", max_length=254)
    description: str = Field(default="", max_length=2000)
    status: ShopStatus = ShopStatus.OPEN


class ShopUpdateIn(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    brand: str | None = Field(default=None, max_length=80)
    category: ShopCategory | None = None
    status: ShopStatus | None = None
    unit_ids: list[int] | None = Field(default=None, min_length=1, max_length=20)
    opens_at: time | None = None
    closes_at: time | None = None
    phone: str | None = Field(default=None, max_length=30)
    contact_name: str | None = Field(default=None, max_length=40)
    contact_email: str | None = Field(default=None, max_length=254)
    description: str | None = Field(default=None, max_length=2000)


class ShopPage(Schema):
    items: list[ShopOut]
    next_cursor: str | None


class DirectoryShopOut(Schema):
    """What anyone may see of a shop."""

    id: int
    mall_id: int
    mall_name: str
    name: str
    brand: str
    category: ShopCategory
    opens_at: time
    closes_at: time
    phone: str
    unit_codes: list[str]


class DirectoryPage(Schema):
    items: list[DirectoryShopOut]
    next_cursor: str | None


class ApplicationCreateIn(InputSchema):
    shop_name: str = Field(min_length=1, max_length=80)
    brand: str = Field(default="", max_length=80)
    category: ShopCategory
    unit_id: int | None = None
    contact_name: str = Field(min_length=1, max_length=40)
    contact_phone: str = Field(max_length=20)
    contact_email: str = Field(default="", max_length=254)
    licence_number: str = Field(max_length=18)


class ApplicationOut(Schema):
    id: int
    mall_id: int
    shop_name: str
    brand: str
    category: ShopCategory
    unit_id: int | None
    contact_name: str
    contact_phone: str
    status: ApplicationStatus
    submitted_at: datetime
    reviewed_at: datetime | None
    review_note: str
    shop_id: int | None


class ApplicationApproveIn(InputSchema):
    unit_ids: list[int] | None = Field(default=None, min_length=1, max_length=20)


class ApplicationApprovedOut(Schema):
    application: ApplicationOut
    owner_username: str
    initial_password: str | None


class ApplicationRejectIn(InputSchema):
    note: str = Field(min_length=1, max_length=200)


class ApplicationPage(Schema):
    items: list[ApplicationOut]
    next_cursor: str | None
