from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field

from agora.checkout.choices import (
    Channel,
    InvoiceKind,
    Method,
    MismatchKind,
    NoticeVerdict,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    TitleKind,
)
from agora.core.schemas import InputSchema


class LineIn(InputSchema):
    name: str = Field(min_length=1, max_length=80)
    quantity: int = Field(ge=1, le=9_999)
    unit_price_fen: int = Field(ge=0, le=10_000_000)
    sku: str = Field(default="", max_length=40)


class OrderCreateIn(InputSchema):
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    channel: Channel = Channel.POS
    member_code: str = Field(
        default="", max_length=100, description="a scanned member QR code or a card number"
    )
    member_phone: str = Field(default="", max_length=20)
    note: str = Field(default="", max_length=200)


class MemberIn(InputSchema):
    code: str = Field(default="", max_length=100, description="member QR code or card number")
    phone: str = Field(default="", max_length=20)


class ApplyIn(InputSchema):
    coupon_codes: list[str] = Field(default_factory=list, max_length=10)
    auto: bool = Field(default=True, description="pick the best coupons of the member's wallet")
    coupon_ids: list[int] | None = Field(
        default=None, max_length=10, description="exactly these coupons instead of the best"
    )
    points: int = Field(default=0, ge=0, le=100_000_000)


class PaymentIn(InputSchema):
    method: Method
    amount_fen: int = Field(ge=1, le=100_000_000)
    tendered_fen: int | None = Field(default=None, ge=0, le=100_000_000)
    card_last4: str = Field(default="", max_length=4)
    auth_code: str = Field(default="", max_length=32, description="a scanned payment code")


class SubmitIn(InputSchema):
    payments: list[PaymentIn] = Field(default_factory=list, max_length=4)


class CancelIn(InputSchema):
    reason: str = Field(default="cancelled at the till", min_length=2, max_length=100)


class RefundIn(InputSchema):
    amount_fen: int = Field(ge=0, le=100_000_000)
    reason: str = Field(min_length=2, max_length=200)


class InvoiceIn(InputSchema):
    title_kind: TitleKind
    title: str = Field(min_length=2, max_length=100)
    taxpayer_id: str = Field(default="", max_length=20)
    email: str = Field(default="", max_length=254)


class ReconcileIn(InputSchema):
    provider: str = Field(min_length=1, max_length=20)
    day: date


# --- out --------------------------------------------------------------------------------------
class LineOut(Schema):
    position: int
    sku: str
    name: str
    quantity: int
    unit_price_fen: int
    amount_fen: int


class AppliedCouponOut(Schema):
    coupon_id: int
    code: str
    title: str
    funder: str
    discount_fen: int
    redeemed: bool
    restored: bool


class PaymentOut(Schema):
    id: int
    number: str
    method: Method
    provider: str
    amount_fen: int
    refunded_fen: int
    status: PaymentStatus
    code_url: str
    tendered_fen: int | None
    change_fen: int | None
    paid_at: datetime | None
    expires_at: datetime | None


class RefundPartOut(Schema):
    number: str
    payment_number: str
    method: Method
    amount_fen: int
    status: RefundStatus


class RefundOut(Schema):
    id: int
    number: str
    order_number: str
    amount_fen: int
    reason: str
    status: RefundStatus
    points_clawed_back: int
    points_returned: int
    points_shortfall: int
    coupons_restored: int
    parts: list[RefundPartOut]
    created_at: datetime


class MemberBriefOut(Schema):
    id: int
    card_no: str
    phone_masked: str
    tier: str


class OrderOut(Schema):
    id: int
    number: str
    shop_id: int
    shop_name: str
    mall_id: int
    channel: Channel
    status: OrderStatus
    member: MemberBriefOut | None
    subtotal_fen: int
    discount_fen: int
    points_used: int
    points_fen: int
    payable_fen: int
    paid_fen: int
    refunded_fen: int
    points_earned: int
    points_clawed_back: int
    points_returned: int
    lines: list[LineOut]
    coupons: list[AppliedCouponOut]
    payments: list[PaymentOut]
    refunds: list[RefundOut]
    invoice_numbers: list[str]
    created_at: datetime
    paid_at: datetime | None
    closes_at: datetime | None


class OrderBriefOut(Schema):
    id: int
    number: str
    shop_name: str
    status: OrderStatus
    subtotal_fen: int
    payable_fen: int
    paid_fen: int
    refunded_fen: int
    created_at: datetime
    paid_at: datetime | None


class OrderPage(Schema):
    items: list[OrderBriefOut]
    next_cursor: str | None


class CouponOptionOut(Schema):
    coupon_id: int
    code: str
    title: str
    funder: str
    applies: bool
    chosen: bool
    discount_fen: int
    reason: str


class QuoteOut(Schema):
    subtotal_fen: int
    discount_fen: int
    coupons: list[CouponOptionOut]
    points_balance: int
    points_per_yuan: int
    points_max: int
    points_used: int
    points_fen: int
    payable_fen: int
    points_to_earn: int


class InvoiceOut(Schema):
    id: int
    number: str
    kind: InvoiceKind
    order_number: str
    title_kind: TitleKind
    title: str
    taxpayer_id: str
    email: str
    amount_fen: int
    tax_fen: int
    original_number: str | None
    issued_at: datetime
    pdf_url: str


class NoticeOut(Schema):
    id: int
    provider: str
    verdict: NoticeVerdict
    out_trade_no: str
    amount_fen: int | None
    detail: str
    received_at: datetime


class NoticePage(Schema):
    items: list[NoticeOut]
    next_cursor: str | None


class MismatchOut(Schema):
    kind: MismatchKind
    out_trade_no: str
    out_refund_no: str
    agora_fen: int | None
    provider_fen: int | None
    detail: str


class RunOut(Schema):
    id: int
    provider: str
    day: date
    ran_at: datetime
    payments_checked: int
    refunds_checked: int
    matched: int
    mismatched: int
    error: str
    mismatches: list[MismatchOut]


class SettlementRowOut(Schema):
    day: date
    shop_id: int
    shop_name: str
    sales_by_method: dict[str, int]
    refunds_by_method: dict[str, int]
    mall_coupon_fen: int
    merchant_coupon_fen: int
    points_redeemed: int
    points_redeemed_fen: int
    points_earned_merchant_funded: int
    points_earned_merchant_funded_fen: int
    net_payable_fen: int
