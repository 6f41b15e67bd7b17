"""The points ledger (double-entry, append-only), the one earning scheme every merchant of the
district shares (CUST-4, EXP-3), and the points-exchange catalogue (MEM-1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from agora.points.choices import AccountKind, ExchangeKind, ExpiryRule, Funder, Movement


class PointsScheme(models.Model):
    """The district's one points scheme: what 100 points are worth when pools settle, how
    points expire, and how many points pay one yuan at a till."""

    district = models.OneToOneField(
        "district.District", on_delete=models.PROTECT, related_name="points_scheme"
    )
    fen_per_point = models.PositiveSmallIntegerField(
        default=1, help_text="value of one point in fen when pools settle (1 = 100 points ¥1)"
    )
    redeem_points_per_yuan = models.PositiveSmallIntegerField(
        default=100, help_text="points a member spends to pay one yuan at a till"
    )
    expiry_rule = models.CharField(
        max_length=20, choices=ExpiryRule.choices, default=ExpiryRule.END_OF_NEXT_YEAR
    )
    expiry_months = models.PositiveSmallIntegerField(default=24)

    def __str__(self) -> str:
        return f"scheme of {self.district_id}"


class LedgerAccount(models.Model):
    """One account of the ledger: a member's points, a mall's or a merchant's funding pool,
    the district pool, or the expiry sink. Its balance is the sum of its entries."""

    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    member = models.OneToOneField(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_account",
    )
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shop = models.ForeignKey(
        "district.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mall"], condition=Q(kind="mall_pool"), name="one_pool_per_mall"
            ),
            models.UniqueConstraint(
                fields=["shop"], condition=Q(kind="merchant_pool"), name="one_pool_per_shop"
            ),
            models.UniqueConstraint(
                fields=["district", "kind"],
                condition=Q(kind__in=["district_pool", "expiry_sink"]),
                name="one_district_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.member_id or self.shop_id or self.mall_id or self.district_id}"


class LedgerTransaction(models.Model):
    """One movement of points: entries across accounts that sum to zero. Never updated or
    deleted; a mistake is undone by a ``reverse`` transaction pointing at it. ``key`` is the
    idempotency key: the same key and request returns this transaction again."""

    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Movement.choices)
    key = models.CharField(max_length=300, unique=True)
    request_hash = models.CharField(max_length=64)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shop = models.ForeignKey(
        "district.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purchase = models.ForeignKey(
        "members.Purchase", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule = models.ForeignKey(
        "points.EarningRule", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="for a clawback or return: the earn or spend it partly undoes",
    )
    points = models.BigIntegerField(help_text="the member's change: + earned, - spent")
    reason = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "created_at"]),
            models.Index(fields=["kind", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points} ({self.key})"


class LedgerEntry(models.Model):
    """One leg of a transaction on one account. Member credits carry the date they expire."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "expires_on"])]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_not_zero")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount}"


class EarningRule(models.Model):
    """How many points a yuan earns, where, and who funds them. The most specific active rule
    wins: shop, then category in a mall, then mall, then category in the district, then the
    district. ``daily_cap`` bounds what one member earns under this rule per day."""

    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shop = models.ForeignKey(
        "district.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=60)
    points_per_yuan = models.DecimalField(max_digits=6, decimal_places=2)
    funder = models.CharField(max_length=10, choices=Funder.choices)
    daily_cap = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points_per_yuan__gte=0), name="rule_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """A time-limited multiplier on earned points (e.g. double points this weekend), funded by
    the mall that runs it; the bonus above the base points is charged to its pool."""

    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=60)
    multiplier = models.DecimalField(max_digits=4, decimal_places=2)
    categories = models.JSONField(default=list, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(multiplier__gt=1), name="campaign_multiplies"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="campaign_span"),
        ]

    def __str__(self) -> str:
        return self.name


class ExchangeItem(models.Model):
    """Something members buy with points: a gift picked up at a service desk, a coupon, or
    parking hours (a parking-hours coupon). Stock and per-member limits are exact."""

    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ExchangeKind.choices)
    title = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    points_price = models.PositiveIntegerField()
    stock = models.PositiveIntegerField()
    issued = models.PositiveIntegerField(default=0)
    per_member_limit = models.PositiveSmallIntegerField(default=1)
    coupon_template = models.ForeignKey(
        "coupons.CouponTemplate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["points_price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(issued__lte=F("stock")), name="exchange_le_stock"),
            models.CheckConstraint(condition=Q(points_price__gt=0), name="exchange_price_pos"),
        ]

    def __str__(self) -> str:
        return self.title


class ExchangeOrder(models.Model):
    """One exchange: the points transaction that paid for it, and the coupon or gift pickup
    code it delivered."""

    item = models.ForeignKey(ExchangeItem, on_delete=models.PROTECT, related_name="orders")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="exchange_order"
    )
    coupon = models.ForeignKey(
        "coupons.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pickup_code = models.CharField(max_length=12, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "item"])]

    def __str__(self) -> str:
        return f"{self.item_id} for {self.member_id}"
