"""Members: one district-wide member account per shopper (CUST-4), tiers on rolling spend,
physical cards (CUST-3), brand memberships (dual membership), purchases (the spend that drives
tiers and tags), tags (MEM-2), the member inbox and special-date care (MEM-1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from agora.members.choices import (
    CardStatus,
    CareKind,
    MemberStatus,
    MessageDirection,
    MessageKind,
    PurchaseSource,
    TagKind,
)


class Tier(models.Model):
    """A membership level of the district (普卡/银卡/金卡/钻石卡). A member reaches a tier when
    their rolling 12-month spend reaches ``min_spend_fen`` and keeps it at the yearly review while
    the spend stays at or above ``keep_spend_fen``."""

    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=20)
    name = models.CharField(max_length=20, help_text="Chinese name, e.g. 金卡")
    name_en = models.CharField(max_length=40)
    rank = models.PositiveSmallIntegerField(help_text="0 = entry tier; higher is better")
    min_spend_fen = models.PositiveBigIntegerField(help_text="12-month spend to reach the tier")
    keep_spend_fen = models.PositiveBigIntegerField(help_text="12-month spend to keep it")
    points_multiplier = models.DecimalField(max_digits=4, decimal_places=2, default=1)
    birthday_points = models.PositiveIntegerField(default=0)
    perks = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["district_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="tier_code_unique"),
            models.UniqueConstraint(fields=["district", "rank"], name="tier_rank_unique"),
            models.CheckConstraint(
                condition=Q(keep_spend_fen__lte=models.F("min_spend_fen")),
                name="tier_keep_le_min",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """A shopper's one member account for the district: card number, tier, birthday. Points
    live in the points ledger and coupons in the wallet; neither is a field here."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="member"
    )
    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    card_no = models.CharField(max_length=16, unique=True, help_text="16 digits, Luhn-checked")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="members")
    tier_since = models.DateTimeField()
    tier_reviewed_at = models.DateTimeField(
        null=True, blank=True, help_text="last yearly review that kept the tier"
    )
    birthday = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    qr_salt = models.CharField(
        max_length=32, help_text="mixed into the member-code key; rotating it voids old codes"
    )
    joined_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["district", "tier"])]

    def __str__(self) -> str:
        return self.card_no


class TierChange(models.Model):
    """One change of a member's tier (upgrade on spend, downgrade at review, staff)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+", null=True)
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    spend_fen = models.BigIntegerField(help_text="rolling 12-month spend at the change")
    reason = models.CharField(max_length=20)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_tier_id} -> {self.to_tier_id}"


class MemberCodeUse(models.Model):
    """A dynamic member code that a till has already scanned: a second scan is a replay."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    window = models.BigIntegerField(help_text="unix time // 60 when the code was made")
    nonce = models.BigIntegerField()
    shop = models.ForeignKey("district.Shop", on_delete=models.CASCADE, related_name="+")
    used_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "window", "nonce"], name="member_code_used_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.window}"


class PhysicalCard(models.Model):
    """A plastic member card printed for a mall. Unlinked until a shopper links it with the
    PIN printed under the scratch panel; once linked, its number identifies the member at a
    till exactly like the e-card (CUST-3)."""

    card_no = models.CharField(max_length=16, unique=True)
    pin_hash = models.CharField(max_length=128)
    mall = models.ForeignKey("district.Mall", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="cards"
    )
    status = models.CharField(
        max_length=10, choices=CardStatus.choices, default=CardStatus.UNLINKED
    )
    linked_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return self.card_no


class BrandProgram(models.Model):
    """A brand of the district that opts in to dual membership: paying at any of its shops
    makes the shopper a member of the brand too."""

    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    brand = models.CharField(max_length=80)
    opted_in = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "brand"], name="brand_program_unique")
        ]

    def __str__(self) -> str:
        return self.brand


class BrandMembership(models.Model):
    """The member's membership of an opted-in brand, from their first payment at it."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="brands")
    program = models.ForeignKey(BrandProgram, on_delete=models.CASCADE, related_name="members")
    joined_shop = models.ForeignKey(
        "district.Shop", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "program"], name="brand_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.program_id}"


class Purchase(models.Model):
    """A member's paid purchase at a shop, as reported by the till, the merchant's system or an
    online order. It drives tiers (rolling spend) and tags; points are earned on it."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="purchases")
    shop = models.ForeignKey("district.Shop", on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey("district.Mall", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=20)
    amount_fen = models.PositiveBigIntegerField()
    reference = models.CharField(max_length=64, blank=True, help_text="receipt or order number")
    source = models.CharField(max_length=10, choices=PurchaseSource.choices)
    occurred_at = models.DateTimeField()
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["member", "occurred_at"]),
            models.Index(fields=["shop", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.amount_fen} fen"


class MemberTag(models.Model):
    """A tag on a member: computed from behaviour by the tag job (``rfm:champion``,
    ``fav:food``, ``freq:weekly``, ``spend:high``) or set by an operator."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=TagKind.choices)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "tag"], name="member_tag_unique")]
        indexes = [models.Index(fields=["tag"])]

    def __str__(self) -> str:
        return self.tag


class Message(models.Model):
    """One message of the member inbox: service-desk conversation both ways, promotions,
    special-date care and notices. ``mall`` is the service desk the message belongs to."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="messages")
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    direction = models.CharField(max_length=12, choices=MessageDirection.choices)
    kind = models.CharField(max_length=10, choices=MessageKind.choices)
    title = models.CharField(max_length=80, blank=True)
    body = models.TextField(max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "created_at"]),
            models.Index(fields=["mall", "kind", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.title or self.body[:30]


class CareLog(models.Model):
    """Special-date care sent to a member: at most once per kind and year (unique)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=CareKind.choices)
    year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "kind", "year"], name="care_once_a_year")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}"
