from django.db import models
from django.utils.translation import gettext_lazy as _


class CouponKind(models.TextChoices):
    CASH_OFF = "cash_off", _("Cash off")
    PERCENT_OFF = "percent_off", _("Percent off")
    THRESHOLD = "threshold", _("Spend and save (满减)")
    GIFT = "gift", _("Gift")
    PARKING_FEE = "parking_fee", _("Parking fee off")
    PARKING_HOURS = "parking_hours", _("Free parking hours")


PARKING_KINDS = frozenset({CouponKind.PARKING_FEE, CouponKind.PARKING_HOURS})


class Party(models.TextChoices):
    """Who issues or funds a coupon."""

    MALL = "mall", _("Mall")
    MERCHANT = "merchant", _("Merchant")


class Validity(models.TextChoices):
    FIXED = "fixed", _("Fixed dates")
    RELATIVE = "relative", _("Days from claim")


class Channel(models.TextChoices):
    APP = "app", _("Claimed in the app")
    PUSH = "push", _("Pushed by an operator")
    POINTS = "points", _("Bought with points")
    CHECKOUT = "checkout", _("Rewarded at checkout")
    CARE = "care", _("Special-date care")


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class CouponStatus(models.TextChoices):
    ACTIVE = "active", _("Usable")
    REDEEMED = "redeemed", _("Used")
    VOID = "void", _("Voided")
    EXPIRED = "expired", _("Expired")
