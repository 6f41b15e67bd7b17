from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Staff roles; a shopper is any signed-in user without a grant."""

    MERCHANT_OWNER = "merchant_owner", _("Merchant owner")
    MERCHANT_MANAGER = "merchant_manager", _("Merchant manager")
    MERCHANT_CASHIER = "merchant_cashier", _("Cashier")
    MALL_OPERATOR = "mall_operator", _("Mall operator")
    DISTRICT_OPERATOR = "district_operator", _("District operator")
    GOVERNMENT_OFFICER = "government_officer", _("Government officer")
    PLATFORM_ADMIN = "platform_admin", _("Platform admin")


MERCHANT_ROLES = frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_MANAGER, Role.MERCHANT_CASHIER})
OPERATOR_ROLES = frozenset({Role.MALL_OPERATOR, Role.DISTRICT_OPERATOR})


class ConsentPurpose(models.TextChoices):
    LOCATION_TRACKING = "location_tracking", _("Location tracking")
    MARKETING_MESSAGES = "marketing_messages", _("Marketing messages")
    PROFILE_MARKETING = "profile_marketing", _("Profile-based marketing")
    DATA_SHARING = "data_sharing", _("Data sharing with partners")


class ApiScope(models.TextChoices):
    DISTRICT_READ = "district:read", _("Read malls, floors, zones and facilities")
    DISTRICT_WRITE = "district:write", _("Change floors, zones and facilities")
    SHOPS_READ = "shops:read", _("Read shops")
    SHOPS_WRITE = "shops:write", _("Change shops")
    LOYALTY_READ = "loyalty:read", _("Look up members, points and coupons at the till")
    LOYALTY_WRITE = "loyalty:write", _("Earn and spend points, redeem and issue coupons")
    ORDERS_READ = "orders:read", _("Read orders, payments and refunds")
    ORDERS_WRITE = "orders:write", _("Create orders, take payments and refund")
    PARKING_INGEST = "parking:ingest", _("Send plate and space-sensor events of a car park")
    PARKING_WRITE = "parking:write", _("Run a car park: review reads, tariffs, paging")
