from django.db import models
from django.utils.translation import gettext_lazy as _


class CarParkKind(models.TextChoices):
    UNDERGROUND = "underground", _("Underground")
    SURFACE = "surface", _("Surface lot")


class SpaceKind(models.TextChoices):
    STANDARD = "standard", _("Standard")
    EV = "ev", _("EV charging")
    ACCESSIBLE = "accessible", _("Accessible")
    FAMILY = "family", _("Family")
    RESERVED = "reserved", _("Reserved")


class GateDirection(models.TextChoices):
    ENTRY = "entry", _("Entry")
    EXIT = "exit", _("Exit")


class PlateColour(models.TextChoices):
    BLUE = "blue", _("Blue")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green (new energy)")
    WHITE = "white", _("White")
    BLACK = "black", _("Black")
    UNKNOWN = "unknown", _("Unknown")


class PlateSource(models.TextChoices):
    VIDEO = "video", _("Video recognition")
    BLUETOOTH = "bluetooth", _("Bluetooth tag")
    ETC = "etc", _("ETC")
    TICKET = "ticket", _("QR ticket (no plate)")


class EventKind(models.TextChoices):
    PLATE = "plate", _("Plate read")
    OCCUPANCY = "occupancy", _("Space occupancy")


class EventVia(models.TextChoices):
    MQTT = "mqtt", _("MQTT")
    HTTP = "http", _("HTTP API")
    SIMULATOR = "simulator", _("Simulator")


class EventOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    STALE = "stale", _("Older than the state (kept for the record)")
    REVIEW = "review", _("Sent to review")
    REJECTED = "rejected", _("Rejected")


class SessionStatus(models.TextChoices):
    PARKED = "parked", _("Parked")
    AWAITING_PAYMENT = "awaiting_payment", _("At the exit, awaiting payment")
    CLOSED = "closed", _("Left")
    VOIDED = "voided", _("Voided by an operator")


#: a stay that has not ended: the car is inside or waiting at the exit
OPEN = (SessionStatus.PARKED, SessionStatus.AWAITING_PAYMENT)


class DiscountKind(models.TextChoices):
    COUPON = "coupon", _("Parking coupon")
    TIER = "tier", _("Member tier free hours")
    SPEND = "spend", _("Free hours for today's spending")
    POINTS = "points", _("Hours bought with points")
    RESERVATION = "reservation", _("Reservation")


class PayChannel(models.TextChoices):
    APP = "app", _("In the app before leaving")
    EXIT_QR = "exit_qr", _("QR code at the exit")
    FRICTIONLESS = "frictionless", _("Frictionless (无感)")


class ReviewKind(models.TextChoices):
    EXIT_WITHOUT_ENTRY = "exit_without_entry", _("Exit with no entry")
    AMBIGUOUS = "ambiguous", _("Several entries could match")
    LOW_CONFIDENCE = "low_confidence", _("Read with low confidence")
    UNREADABLE = "unreadable", _("Plate unreadable")


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MATCHED = "matched", _("Matched to an entry")
    DISMISSED = "dismissed", _("Dismissed")


class ReservationStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    ARRIVED = "arrived", _("Arrived")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired (no show)")


class PageReason(models.TextChoices):
    LIGHTS_ON = "lights_on", _("Lights left on")
    BLOCKING = "blocking", _("Blocking another car")
    ALARM = "alarm", _("Alarm sounding")
    FIRE_ACCESS = "fire_access", _("Move for fire access")
    OTHER = "other", _("Other")


class DeliveryChannel(models.TextChoices):
    APP = "app", _("App notification")
    SMS = "sms", _("SMS")


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
