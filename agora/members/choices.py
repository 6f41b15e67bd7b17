from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")


class CardStatus(models.TextChoices):
    UNLINKED = "unlinked", _("Not linked")
    ACTIVE = "active", _("Linked")
    LOST = "lost", _("Reported lost")


class TagKind(models.TextChoices):
    COMPUTED = "computed", _("Computed")
    MANUAL = "manual", _("Manual")


class MessageDirection(models.TextChoices):
    TO_MEMBER = "to_member", _("To the member")
    FROM_MEMBER = "from_member", _("From the member")


class MessageKind(models.TextChoices):
    SERVICE = "service", _("Service desk")
    PROMOTION = "promotion", _("Promotion")
    CARE = "care", _("Special-date care")
    SYSTEM = "system", _("Notice")


class CareKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    ANNIVERSARY = "anniversary", _("Membership anniversary")


class PurchaseSource(models.TextChoices):
    POS = "pos", _("Till")
    ONLINE = "online", _("Online")
    API = "api", _("Merchant system")
