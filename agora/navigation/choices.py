from django.db import models
from django.utils.translation import gettext_lazy as _


class LinkKind(models.TextChoices):
    """How a link joins places: vertical (lift, escalator, stairs) or between malls."""

    LIFT = "lift", _("Lift")
    ESCALATOR = "escalator", _("Escalator")
    STAIRS = "stairs", _("Stairs")
    SKYWALK = "skywalk", _("Skywalk")
    STREET = "street", _("Street crossing")
    TUNNEL = "tunnel", _("Underground passage")


class Direction(models.TextChoices):
    """Which way an escalator runs (stops are ordered bottom to top); other links: both."""

    BOTH = "both", _("Both ways")
    UP = "up", _("Up")
    DOWN = "down", _("Down")


class RouteMode(models.TextChoices):
    FASTEST = "fastest", _("Fastest")
    STEP_FREE = "step_free", _("Step-free")
    EVACUATION = "evacuation", _("Evacuation")


class NearestKind(models.TextChoices):
    """What "take me to the nearest ..." can look for."""

    RESTROOM = "restroom", _("Restroom")
    EXIT = "exit", _("Exit")
    SERVICE_DESK = "service_desk", _("Service desk")
    LIFT = "lift", _("Lift")
    NURSING_ROOM = "nursing_room", _("Nursing room")
    ATM = "atm", _("ATM")
    AED = "aed", _("AED")


class PositionMethod(models.TextChoices):
    FINGERPRINT = "fingerprint", _("WiFi fingerprint")
    CENTROID = "centroid", _("WiFi access points")
    KIOSK = "kiosk", _("Kiosk")
    MANUAL = "manual", _("Picked on the map")
