"""Checkout: the one way money enters Agora (PAY-1, PAY-2, PAY-3, APP-9, MERCH-3).

An ``Order`` (till or online) has lines, the coupons applied to it and the points paying part
of it; one or more ``Payment`` rows (a method each) pay the rest. Provider notifications are
logged in ``PaymentNotice`` whatever their verdict. A ``Refund`` goes back through the original
payments (``RefundPart``). ``Invoice`` rows are e-invoices (blue) and their red-letter credits.
Reconciliation compares payments with each provider's daily bill. The ``Sandbox*`` tables are
the built-in sandbox provider's own books (a stand-in for the provider's side)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

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


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True)
    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey("district.Mall", on_delete=models.PROTECT, related_name="+")
    shop = models.ForeignKey("district.Shop", on_delete=models.PROTECT, related_name="orders")
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    source = models.CharField(
        max_length=20, default="shop", help_text="the module selling: shop, food, parking, ..."
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default="open")
    subtotal_fen = models.PositiveBigIntegerField()
    discount_fen = models.PositiveBigIntegerField(default=0, help_text="coupons")
    points_used = models.PositiveBigIntegerField(default=0)
    points_fen = models.PositiveBigIntegerField(default=0, help_text="what the points pay")
    payable_fen = models.PositiveBigIntegerField(help_text="what the payment methods pay")
    paid_fen = models.PositiveBigIntegerField(default=0)
    refunded_fen = models.PositiveBigIntegerField(default=0)
    points_earned = models.BigIntegerField(default=0)
    points_clawed_back = models.BigIntegerField(default=0)
    points_returned = models.BigIntegerField(default=0)
    earn_txn = models.ForeignKey(
        "points.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    spend_txn = models.ForeignKey(
        "points.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True)
    submit_key = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "created_at"]),
            models.Index(fields=["member", "created_at"]),
            models.Index(fields=["status", "closes_at"]),
            models.Index(fields=["district", "paid_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=F("paid_fen")), name="order_refund_within_paid"
            ),
            models.CheckConstraint(
                condition=Q(payable_fen=F("subtotal_fen") - F("discount_fen") - F("points_fen")),
                name="order_amounts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    sku = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=80)
    quantity = models.PositiveIntegerField()
    unit_price_fen = models.PositiveBigIntegerField()
    amount_fen = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="one_line_per_position"),
            models.CheckConstraint(
                condition=Q(amount_fen=F("quantity") * F("unit_price_fen")), name="line_adds_up"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} x{self.quantity}"


class OrderCoupon(models.Model):
    """A coupon applied to an order: redeemed when the order is submitted for payment, given
    back when the order closes unpaid or (if its template says so) when it is fully refunded."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="coupons")
    coupon = models.ForeignKey("coupons.Coupon", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=60)
    funder = models.CharField(max_length=10)
    funder_mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    funder_shop = models.ForeignKey(
        "district.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    discount_fen = models.PositiveBigIntegerField()
    redeemed = models.BooleanField(default=False)
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "coupon"], name="coupon_once_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.coupon_id}"


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    number = models.CharField(max_length=32, unique=True, help_text="out_trade_no")
    method = models.CharField(max_length=10, choices=Method.choices)
    provider = models.CharField(max_length=20, blank=True, help_text="empty: recorded at till")
    amount_fen = models.PositiveBigIntegerField()
    refunded_fen = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default="created")
    provider_ref = models.CharField(max_length=64, blank=True)
    provider_txn_id = models.CharField(max_length=64, blank=True)
    code_url = models.CharField(max_length=300, blank=True)
    tendered_fen = models.PositiveBigIntegerField(null=True, blank=True, help_text="cash given")
    card_last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["provider", "paid_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=F("amount_fen")), name="payment_refund_within"
            )
        ]

    def __str__(self) -> str:
        return self.number


class PaymentNotice(models.Model):
    """Every notification a provider sent, whatever became of it (forged ones included)."""

    provider = models.CharField(max_length=20)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="notices"
    )
    verdict = models.CharField(max_length=20, choices=NoticeVerdict.choices)
    out_trade_no = models.CharField(max_length=64, blank=True)
    event_id = models.CharField(max_length=64, blank=True)
    amount_fen = models.BigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    body_sha256 = models.CharField(max_length=64)
    remote_addr = models.CharField(max_length=45, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["verdict", "received_at"])]

    def __str__(self) -> str:
        return f"{self.provider}:{self.out_trade_no}:{self.verdict}"


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    number = models.CharField(max_length=24, unique=True)
    key = models.CharField(max_length=200, unique=True)
    request_hash = models.CharField(max_length=64)
    amount_fen = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=RefundStatus.choices)
    points_clawed_back = models.BigIntegerField(default=0)
    points_returned = models.BigIntegerField(default=0)
    points_shortfall = models.BigIntegerField(
        default=0, help_text="earned points the member had already spent"
    )
    coupons_restored = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class RefundPart(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="parts")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refund_parts")
    number = models.CharField(max_length=32, unique=True, help_text="out_refund_no")
    amount_fen = models.PositiveBigIntegerField()
    status = models.CharField(max_length=12, choices=RefundStatus.choices)
    provider_refund_id = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.number


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=5, choices=InvoiceKind.choices)
    original = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credits"
    )
    refund = models.OneToOneField(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice"
    )
    number = models.CharField(max_length=24, unique=True)
    issuer = models.CharField(max_length=40, help_text="the issuing connector")
    title_kind = models.CharField(max_length=10, choices=TitleKind.choices)
    title = models.CharField(max_length=100)
    taxpayer_id = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    amount_fen = models.BigIntegerField(help_text="tax included; negative on a red invoice")
    tax_fen = models.BigIntegerField()
    tax_rate_permille = models.PositiveSmallIntegerField(default=130)
    lines = models.JSONField(default=list)
    pdf = models.BinaryField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="blue"), name="one_invoice_per_order"
            )
        ]

    def __str__(self) -> str:
        return self.number


class ReconciliationRun(models.Model):
    provider = models.CharField(max_length=20)
    day = models.DateField()
    ran_at = models.DateTimeField()
    payments_checked = models.PositiveIntegerField(default=0)
    refunds_checked = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    mismatched = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-day", "provider"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "day"], name="one_run_per_provider_day")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.day}"


class Mismatch(models.Model):
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="mismatches")
    kind = models.CharField(max_length=30, choices=MismatchKind.choices)
    out_trade_no = models.CharField(max_length=64)
    out_refund_no = models.CharField(max_length=64, blank=True)
    agora_fen = models.BigIntegerField(null=True, blank=True)
    provider_fen = models.BigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.out_trade_no}"


# --- the sandbox provider's own books ---------------------------------------------------------
class PaymentAgreement(models.Model):
    """A shopper's standing authorisation for a provider to charge without asking each time
    (WeChat Pay 委托代扣, Alipay 商户代扣): what frictionless parking charges at the exit. Each
    charge is an ordinary payment of an ordinary order, at most ``limit_fen``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payment_agreements"
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    provider = models.CharField(max_length=20)
    agreement_no = models.CharField(max_length=64, unique=True)
    limit_fen = models.PositiveIntegerField(help_text="largest single charge")
    active = models.BooleanField(default=True)
    signed_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user_id", "id"]

    def __str__(self) -> str:
        return f"{self.provider} {self.agreement_no}"


class SandboxTrade(models.Model):
    out_trade_no = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=40, unique=True)
    method = models.CharField(max_length=10, choices=Method.choices)
    amount_fen = models.PositiveBigIntegerField()
    description = models.CharField(max_length=128)
    notify_url = models.CharField(max_length=300)
    state = models.CharField(max_length=10, default="pending")
    txn_id = models.CharField(max_length=40, blank=True)
    refunded_fen = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.out_trade_no


class SandboxRefund(models.Model):
    trade = models.ForeignKey(SandboxTrade, on_delete=models.CASCADE, related_name="refunds")
    out_refund_no = models.CharField(max_length=64, unique=True)
    refund_id = models.CharField(max_length=40)
    amount_fen = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.out_refund_no


class SandboxNotice(models.Model):
    """The sandbox's outbox: a notification to deliver at ``due_at`` (some twice, some late)."""

    trade = models.ForeignKey(SandboxTrade, on_delete=models.CASCADE, related_name="notices")
    due_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["delivered_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.trade_id}@{self.due_at}"
