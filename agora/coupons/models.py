"""Coupons: templates (what a coupon is worth, where, for how long, how many), the coupons
members hold in their wallet, and per-member claim tallies that keep limits exact under
concurrency (MKT-2, PARK-6, APP-6, EXP-3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from agora.coupons.choices import CouponKind, CouponStatus, Party, TemplateStatus, Validity


class CouponTemplate(models.Model):
    """What a coupon is: its kind and value, who issues and who funds it, when it is valid,
    where it applies, how many exist and how many one member may hold. ``issued`` and
    ``redeemed`` are counters moved only by conditional UPDATEs."""

    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    issuer = models.CharField(max_length=10, choices=Party.choices)
    mall = models.ForeignKey(
        "district.Mall",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the issuing mall (for a merchant coupon: the shop's mall); empty: district",
    )
    shop = models.ForeignKey(
        "district.Shop",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the issuing merchant, for merchant coupons",
    )
    funder = models.CharField(max_length=10, choices=Party.choices)
    kind = models.CharField(max_length=20, choices=CouponKind.choices)
    title = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    value_fen = models.PositiveIntegerField(
        default=0, help_text="cash off, 满减 reduction, parking fee off, or the gift's value"
    )
    percent_off = models.PositiveSmallIntegerField(default=0, help_text="1-90 for percent off")
    cap_fen = models.PositiveIntegerField(default=0, help_text="largest percent-off discount")
    threshold_fen = models.PositiveIntegerField(default=0, help_text="minimum spend to use it")
    gift_name = models.CharField(max_length=60, blank=True)
    parking_hours = models.PositiveSmallIntegerField(default=0)
    validity = models.CharField(max_length=10, choices=Validity.choices)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(default=0)
    claim_starts = models.DateTimeField()
    claim_ends = models.DateTimeField()
    scope_malls = models.ManyToManyField("district.Mall", blank=True, related_name="+")
    scope_shops = models.ManyToManyField("district.Shop", blank=True, related_name="+")
    scope_categories = models.JSONField(default=list, blank=True)
    total_stock = models.PositiveIntegerField()
    issued = models.PositiveIntegerField(default=0)
    redeemed = models.PositiveIntegerField(default=0)
    per_member_total = models.PositiveSmallIntegerField(default=1)
    per_member_daily = models.PositiveSmallIntegerField(default=0, help_text="0: no daily limit")
    channels = models.JSONField(default=list)
    restore_on_refund = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=TemplateStatus.choices, default=TemplateStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued__lte=F("total_stock")), name="issued_le_stock"
            ),
            models.CheckConstraint(
                condition=Q(redeemed__lte=F("issued")), name="redeemed_le_issued"
            ),
        ]
        indexes = [models.Index(fields=["status", "claim_ends"])]

    def __str__(self) -> str:
        return self.title


class Coupon(models.Model):
    """One coupon in a member's wallet. Its ``code`` is what a till scans or types; it is
    redeemed at most once (a conditional UPDATE from active to redeemed)."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="coupons")
    code = models.CharField(max_length=16, unique=True)
    channel = models.CharField(max_length=10)
    status = models.CharField(
        max_length=10, choices=CouponStatus.choices, default=CouponStatus.ACTIVE
    )
    claimed_at = models.DateTimeField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_shop = models.ForeignKey(
        "district.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_amount_fen = models.PositiveBigIntegerField(null=True, blank=True)
    discount_fen = models.PositiveIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=64, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        indexes = [
            models.Index(fields=["member", "status"]),
            models.Index(fields=["template", "status"]),
            models.Index(fields=["redeemed_shop", "redeemed_at"]),
        ]

    def __str__(self) -> str:
        return self.code


class ClaimTally(models.Model):
    """How many coupons of a template a member has claimed, in total (``period`` = "total") or
    on one day ("2026-11-21"). Limits are checked by a conditional UPDATE on this row."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=10)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["template", "member", "period"], name="claim_tally_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template_id}/{self.member_id}/{self.period}: {self.count}"
