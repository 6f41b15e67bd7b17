from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field

from agora.core.schemas import InputSchema
from agora.coupons.choices import CouponKind
from agora.members.choices import CardStatus, MessageDirection, MessageKind


# --- tiers ----------------------------------------------------------------------------------
class TierBriefOut(Schema):
    code: str
    name: str
    name_en: str
    rank: int
    points_multiplier: float


class TierOut(TierBriefOut):
    min_spend_fen: int
    keep_spend_fen: int
    birthday_points: int
    perks: str


class NextTierOut(Schema):
    code: str
    name: str


class ProgressOut(Schema):
    spend_fen: int
    next_tier: NextTierOut | None
    to_next_fen: int
    percent: int
    keep_spend_fen: int


class ExpiringOut(Schema):
    on: date
    points: int


# --- the shopper's own account -----------------------------------------------------------------
class MemberOut(Schema):
    id: int
    card_no: str
    tier: TierBriefOut
    tier_since: datetime
    birthday: date | None
    joined_at: datetime
    points_balance: int
    points_expiring: list[ExpiringOut]
    progress: ProgressOut
    brands: list[str]
    unread_messages: int


class MemberUpdateIn(InputSchema):
    birthday: date | None = None


class MemberCodeOut(Schema):
    code: str
    expires_at: datetime
    qr_svg: str


class CardOut(Schema):
    id: int
    card_no: str
    mall_id: int
    status: CardStatus
    linked_at: datetime | None


class CardLinkIn(InputSchema):
    card_no: str = Field(min_length=1, max_length=32)
    pin: str = Field(min_length=1, max_length=12)


# --- the inbox ------------------------------------------------------------------------------
class MessageOut(Schema):
    id: int
    mall_id: int | None
    direction: MessageDirection
    kind: MessageKind
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class DeskMessageOut(MessageOut):
    member_id: int
    card_no: str
    display_name: str


class DeskMessagePage(Schema):
    items: list[DeskMessageOut]
    next_cursor: str | None


class MessageCreateIn(InputSchema):
    mall_id: int
    body: str = Field(min_length=1, max_length=2000)


class MessagesReadIn(InputSchema):
    ids: list[int] = Field(min_length=1, max_length=200)


class MessagesReadOut(Schema):
    marked: int


# --- the till ---------------------------------------------------------------------------------
class IdentifyIn(InputSchema):
    code: str = Field(min_length=1, max_length=100)
    amount_fen: int = Field(default=0, ge=0, le=10**10)


class TillMemberOut(Schema):
    card_no: str
    display_name: str
    phone_masked: str
    tier: TierBriefOut
    points_balance: int


class TillCouponOut(Schema):
    code: str
    title: str
    kind: CouponKind
    applies: bool
    reason: str
    discount_fen: int
    valid_until: datetime


class IdentifyOut(Schema):
    member_ticket: str
    member: TillMemberOut
    coupons: list[TillCouponOut]


class BrandProgramIn(InputSchema):
    opted_in: bool


class BrandProgramOut(Schema):
    brand: str
    opted_in: bool


# --- operators --------------------------------------------------------------------------------
class MemberSummaryOut(Schema):
    id: int
    card_no: str
    display_name: str
    phone_masked: str
    tier: TierBriefOut
    tags: list[str]
    joined_at: datetime


class MemberSummaryPage(Schema):
    items: list[MemberSummaryOut]
    next_cursor: str | None


class TierChangeOut(Schema):
    from_tier: str | None
    to_tier: str
    spend_fen: int
    reason: str
    created_at: datetime


class MemberProfileOut(MemberSummaryOut):
    birthday: date | None
    points_balance: int
    progress: ProgressOut
    brands: list[str]
    cards: list[CardOut]
    tier_history: list[TierChangeOut]


class TagIn(InputSchema):
    tag: str = Field(min_length=1, max_length=40)


class TagOut(Schema):
    tag: str
    kind: str


class BirthdayIn(InputSchema):
    birthday: date


class TierSetIn(InputSchema):
    tier_code: str = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=200)


class PromotionIn(InputSchema):
    title: str = Field(min_length=1, max_length=80)
    body: str = Field(min_length=1, max_length=2000)
    tag: str = Field(default="", max_length=40)


class PromotionOut(Schema):
    sent: int
    skipped_no_consent: int


class CardsPrintIn(InputSchema):
    count: int = Field(ge=1, le=1000)


class PrintedCardOut(Schema):
    card_no: str
    pin: str
