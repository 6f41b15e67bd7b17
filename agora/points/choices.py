from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    MEMBER = "member", _("Member")
    MALL_POOL = "mall_pool", _("Mall-funded pool")
    MERCHANT_POOL = "merchant_pool", _("Merchant-funded pool")
    DISTRICT_POOL = "district_pool", _("District pool")
    EXPIRY_SINK = "expiry_sink", _("Expired points")


class Movement(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Spent")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted")
    REVERSE = "reverse", _("Reversed")
    CLAWBACK = "clawback", _("Taken back (refund)")
    RETURN = "return", _("Given back (refund)")


class Funder(models.TextChoices):
    MALL = "mall", _("Mall")
    MERCHANT = "merchant", _("Merchant")


class ExpiryRule(models.TextChoices):
    END_OF_NEXT_YEAR = "end_of_next_year", _("End of the year after earning")
    MONTHS = "months", _("A number of months after earning")
    NEVER = "never", _("Never")


class ExchangeKind(models.TextChoices):
    GIFT = "gift", _("Gift")
    COUPON = "coupon", _("Coupon")
    PARKING_HOURS = "parking_hours", _("Parking hours")
