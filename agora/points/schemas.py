from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from agora.core.schemas import InputSchema
from agora.district.choices import ShopCategory
from agora.points.choices import ExchangeKind, Funder, Movement

# --- balances and history ------------------------------------------------------------------


class ExpiringOut(Schema):
    on: date
    points: int


class BalanceOut(Schema):
    balance: int
    expiring: list[ExpiringOut]


class NamedRef(Schema):
    id: int
    name: str


class TransactionOut(Schema):
    id: int
    kind: Movement
    points: int
    reason: str
    reference: str
    shop: NamedRef | None
    mall_id: int | None
    created_at: datetime
    reverses_id: int | None


class MovementOut(TransactionOut):
    """A movement just posted, with the member's balance after it."""

    balance: int


class TransactionPage(Schema):
    items: list[TransactionOut]
    next_cursor: str | None


# --- the till ---------------------------------------------------------------------------------


class EarnIn(InputSchema):
    member_ticket: str = Field(min_length=1, max_length=500)
    amount_fen: int = Field(ge=1, le=100_000_000)
    reference: str = Field(default="", max_length=64)


class SpendIn(InputSchema):
    member_ticket: str = Field(min_length=1, max_length=500)
    points: int = Field(ge=1, le=10_000_000)
    reference: str = Field(default="", max_length=64)


class RuleRef(Schema):
    id: int
    name: str
    points_per_yuan: Decimal
    funder: Funder


class CampaignRef(Schema):
    id: int
    name: str
    multiplier: Decimal


class QuoteOut(Schema):
    base: int
    bonus: int
    total: int
    rule: RuleRef | None
    campaign: CampaignRef | None


# --- operators: adjust, reverse -------------------------------------------------------------


class AdjustIn(InputSchema):
    points: int = Field(ge=-10_000_000, le=10_000_000)
    reason: str = Field(min_length=2, max_length=200)
    mall_id: int | None = None


class ReverseIn(InputSchema):
    reason: str = Field(min_length=2, max_length=200)


# --- earning rules and campaigns --------------------------------------------------------------


class RuleOut(Schema):
    id: int
    district_id: int
    mall_id: int | None
    shop_id: int | None
    category: str
    name: str
    points_per_yuan: Decimal
    funder: Funder
    daily_cap: int | None
    active: bool
    created_at: datetime


class RuleSetIn(InputSchema):
    """District-wide (no mall, no shop), a mall (optionally one category of it) or one shop.
    ``district_id`` is only read for a district-wide rule (default: the first district)."""

    district_id: int | None = None
    mall_id: int | None = None
    shop_id: int | None = None
    category: ShopCategory | Literal[""] = ""
    name: str = Field(min_length=1, max_length=60)
    points_per_yuan: Decimal = Field(ge=0, le=100, max_digits=6, decimal_places=2)
    funder: Funder
    daily_cap: int | None = Field(default=None, ge=1, le=100_000_000)


class CampaignOut(Schema):
    id: int
    district_id: int
    mall_id: int | None
    name: str
    multiplier: Decimal
    categories: list[str]
    starts_at: datetime
    ends_at: datetime


class CampaignCreateIn(InputSchema):
    district_id: int | None = None
    mall_id: int | None = None
    name: str = Field(min_length=1, max_length=60)
    multiplier: Decimal = Field(gt=1, le=10, max_digits=4, decimal_places=2)
    categories: list[ShopCategory] = Field(default_factory=list, max_length=20)
    starts_at: datetime
    ends_at: datetime


# --- the exchange ---------------------------------------------------------------------------


class ExchangeItemOut(Schema):
    id: int
    kind: ExchangeKind
    title: str
    description: str
    points_price: int
    stock_left: int
    per_member_limit: int
    mall: NamedRef | None


class ExchangeItemCreateIn(InputSchema):
    district_id: int | None = None
    mall_id: int | None = None
    kind: ExchangeKind
    title: str = Field(min_length=1, max_length=60)
    description: str = Field(default="", max_length=300)
    points_price: int = Field(ge=1, le=10_000_000)
    stock: int = Field(ge=1, le=1_000_000)
    per_member_limit: int = Field(default=1, ge=1, le=100)
    coupon_template_id: int | None = None


class CouponRef(Schema):
    id: int
    code: str
    title: str
    valid_until: datetime


class ExchangeOrderOut(Schema):
    id: int
    item_id: int
    item_title: str
    points: int
    coupon: CouponRef | None
    pickup_code: str
    created_at: datetime


class ExchangeOrderPage(Schema):
    items: list[ExchangeOrderOut]
    next_cursor: str | None


# --- settlement ---------------------------------------------------------------------------


class PoolRowOut(Schema):
    account_id: int
    kind: str
    mall_id: int | None
    shop_id: int | None
    name: str
    funded: int
    received: int
    net_points: int
    net_fen: int
