from django.db import models
from django.utils.translation import gettext_lazy as _


class ZoneKind(models.TextChoices):
    CORRIDOR = "corridor", _("Corridor")
    ATRIUM = "atrium", _("Atrium")
    SHOP_UNIT = "shop_unit", _("Shop unit")
    SERVICE_DESK = "service_desk", _("Service desk")
    RESTROOM = "restroom", _("Restroom")
    EVACUATION_EXIT = "evacuation_exit", _("Evacuation exit")
    LIFT = "lift", _("Lift")
    ESCALATOR = "escalator", _("Escalator")
    STAIRS = "stairs", _("Stairs")
    CAR_PARK = "car_park", _("Car park")


class ShopCategory(models.TextChoices):
    FASHION = "fashion", _("Fashion")
    FOOD = "food", _("Food & drink")
    CINEMA = "cinema", _("Cinema")
    SUPERMARKET = "supermarket", _("Supermarket")
    KIDS = "kids", _("Kids")
    SERVICES = "services", _("Services")
    BEAUTY = "beauty", _("Beauty")
    ELECTRONICS = "electronics", _("Electronics")
    SPORTS = "sports", _("Sports")
    JEWELLERY = "jewellery", _("Jewellery")


class ShopStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FITTING_OUT = "fitting_out", _("Fitting out")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class FacilityKind(models.TextChoices):
    SERVICE_DESK = "service_desk", _("Service desk")
    RESTROOM = "restroom", _("Restroom")
    NURSING_ROOM = "nursing_room", _("Nursing room")
    ATM = "atm", _("ATM")
    EV_CHARGER = "ev_charger", _("EV charger")
    INFO_KIOSK = "info_kiosk", _("Information kiosk")
    AED = "aed", _("AED")
    LIFT = "lift", _("Lift")
    EVACUATION_EXIT = "evacuation_exit", _("Evacuation exit")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
