"""Request and response bodies of the coupons API.

Datetimes in request bodies and query strings may carry an offset; a naive one is read as
Asia/Shanghai time (the malls' clock)."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from agora.core.schemas import InputSchema
from agora.coupons.choices import Channel, CouponKind, CouponStatus, Party, TemplateStatus, Validity
from agora.district.choices import ShopCategory

MAX_FEN = 100_000_000  # one million yuan: far above any coupon or till amount
SMALL_INT = 32_767  # PositiveSmallIntegerField


# --- templates --------------------------------------------------------------------------------
class TemplateSpecIn(InputSchema):
    """What a coupon is. The business rules (a 满减 threshold above its reduction, 1-90 percent
    off with a cap, fixed dates or days from the claim, ...) come back as 422 per field."""

    kind: CouponKind
    title: str = Field(max_length=60)
    description: str = Field(default="", max_length=300)
    value_fen: int = Field(default=0, ge=0, le=MAX_FEN)
    percent_off: int = Field(default=0, ge=0, le=100)
    cap_fen: int = Field(default=0, ge=0, le=MAX_FEN)
    threshold_fen: int = Field(default=0, ge=0, le=MAX_FEN)
    gift_name: str = Field(default="", max_length=60)
    parking_hours: int = Field(default=0, ge=0, le=SMALL_INT)
    validity: Validity = Validity.RELATIVE
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int = Field(default=0, ge=0, le=SMALL_INT)
    claim_starts: datetime | None = Field(default=None, description="default: now")
    claim_ends: datetime
    total_stock: int = Field(ge=0, le=2_000_000_000)
    per_member_total: int = Field(default=1, ge=0, le=SMALL_INT)
    per_member_daily: int = Field(default=0, ge=0, le=SMALL_INT, description="0: no daily limit")
    channels: list[Channel] = Field(default_factory=lambda: [Channel.APP], max_length=10)
    restore_on_refund: bool = True
    scope_mall_ids: list[int] = Field(default_factory=list, max_length=100)
    scope_shop_ids: list[int] = Field(default_factory=list, max_length=1000)
    scope_categories: list[ShopCategory] = Field(default_factory=list, max_length=20)


class TemplateCreateIn(TemplateSpecIn):
    """A mall's coupon (``mall_id``) or a district-wide one (``mall_id`` null; then
    ``district_id`` names the district, by default the operator's own)."""

    mall_id: int | None = None
    district_id: int | None = None
    funder: Party = Party.MALL


class TemplateStatusIn(InputSchema):
    status: TemplateStatus


class TemplatePushIn(InputSchema):
    """Exactly one of ``member_ids`` or ``tag``."""

    member_ids: list[int] | None = Field(default=None, min_length=1, max_length=1000)
    tag: str | None = Field(default=None, min_length=1, max_length=40)


class TemplatePushOut(Schema):
    issued: int
    refused: dict[str, int]


class TemplateBaseOut(Schema):
    id: int
    kind: CouponKind
    title: str
    description: str
    value_fen: int
    percent_off: int
    cap_fen: int
    threshold_fen: int
    gift_name: str
    parking_hours: int
    validity: Validity
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int
    claim_starts: datetime
    claim_ends: datetime
    stock_left: int
    per_member_total: int
    issuer: Party
    issuer_name: str


class TemplatePublicOut(TemplateBaseOut):
    """A coupon in the coupon centre; ``held``: how many the signed-in member holds."""

    held: int


class TemplateStatsOut(Schema):
    stock_left: int
    issued: int
    redeemed: int
    void: int
    expired: int


class TemplateAdminOut(TemplateBaseOut):
    district_id: int
    mall_id: int | None
    shop_id: int | None
    status: TemplateStatus
    funder: Party
    total_stock: int
    issued: int
    redeemed: int
    per_member_daily: int
    channels: list[Channel]
    restore_on_refund: bool
    scope_mall_ids: list[int]
    scope_shop_ids: list[int]
    scope_categories: list[str]
    created_at: datetime
    stats: TemplateStatsOut


# --- coupons in wallets -----------------------------------------------------------------------
class CouponTemplateRef(Schema):
    id: int
    title: str
    kind: CouponKind


class CouponOut(Schema):
    id: int
    code: str
    template: CouponTemplateRef
    status: CouponStatus
    channel: Channel
    valid_from: datetime
    valid_until: datetime
    claimed_at: datetime


class CouponPage(Schema):
    items: list[CouponOut]
    next_cursor: str | None


class CouponRedeemedOut(CouponOut):
    redeemed_at: datetime | None
    redeemed_shop_id: int | None
    order_amount_fen: int | None
    discount_fen: int | None
    reference: str


class CouponVoidIn(InputSchema):
    reason: str = Field(max_length=200)


class CouponVoidOut(CouponOut):
    voided_at: datetime | None
    void_reason: str


# --- at the till ------------------------------------------------------------------------------
class CouponCheckIn(InputSchema):
    code: str = Field(max_length=40, description="as printed or scanned; spaces and dashes ignored")
    amount_fen: int = Field(ge=0, le=MAX_FEN, description="the order amount before the coupon")


class CouponCheckOut(Schema):
    applies: bool
    reason: str
    discount_fen: int
    coupon: CouponOut


class CouponRedeemIn(CouponCheckIn):
    reference: str = Field(default="", max_length=64, description="the till's receipt number")


# --- clearing ---------------------------------------------------------------------------------
class ClearingRowOut(Schema):
    payer: str = Field(description='"mall:<id>", "shop:<id>" or "district:<id>"')
    payer_name: str
    payee_shop_id: int
    payee_name: str
    coupons: int
    amount_fen: int


class ClearingOut(Schema):
    district_id: int
    start: datetime
    end: datetime
    total_fen: int
    rows: list[ClearingRowOut]
