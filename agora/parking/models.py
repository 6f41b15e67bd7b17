"""Smart parking: car parks with their spaces, gates and tariffs; the plate and occupancy
events the cameras and sensors send (over MQTT or HTTP); the parking sessions those events
make, with their discounts and payments; the review queue for reads that cannot be matched;
reservations, shared spaces, emergency paging and the plates members bind to their account.

Positions are metres on the floor plan of the car park's level (``floor``), so spaces are
places of the walkable network (`point:<floor>:<x>:<y>`). A surface lot has no floor."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from agora.parking.choices import (
    CarParkKind,
    DeliveryChannel,
    DeliveryStatus,
    DiscountKind,
    EventKind,
    EventOutcome,
    EventVia,
    GateDirection,
    PageReason,
    PayChannel,
    PlateColour,
    PlateSource,
    ReservationStatus,
    ReviewKind,
    ReviewStatus,
    SessionStatus,
    SpaceKind,
)


class CarPark(models.Model):
    """A car park of a mall, with its own till (``shop``: fees are orders at it) and the
    rules for discounts: free hours by member tier, by today's spending, and for points."""

    district = models.ForeignKey("district.District", on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey("district.Mall", on_delete=models.PROTECT, related_name="car_parks")
    shop = models.ForeignKey(
        "district.Shop",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the car park's till: parking fees are orders at this shop",
    )
    name = models.CharField(max_length=80)
    code = models.SlugField(max_length=40, unique=True)
    kind = models.CharField(max_length=12, choices=CarParkKind.choices)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    full_threshold_pct = models.PositiveSmallIntegerField(
        default=95, help_text="occupancy (%) from which cars are guided to other car parks"
    )
    grace_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="time to reach the exit after paying in the app"
    )
    tier_free_minutes = models.JSONField(
        default=dict, blank=True, help_text='free minutes by member tier code, {"gold": 180}'
    )
    spend_rules = models.JSONField(
        default=list,
        blank=True,
        help_text="[[spend_fen, free_minutes], ...]: today's paid orders in the mall",
    )
    points_per_hour = models.PositiveIntegerField(
        default=0, help_text="points for one free hour; 0 = points not accepted"
    )
    points_max_hours = models.PositiveSmallIntegerField(default=4)
    reservation_hold_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="how long a reserved space waits after the window starts"
    )
    availability_version = models.PositiveBigIntegerField(
        default=0, help_text="bumped by every change of free spaces; live pages follow it"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ParkingZone(models.Model):
    """An area of a car park (B1 A区): on a level (``floor``) with its polygon, or a part of a
    surface lot (no floor)."""

    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="zones")
    floor = models.ForeignKey(
        "district.Floor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=40)
    polygon = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["car_park_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["car_park", "code"], name="parkzone_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.car_park.name} {self.name}"


class Space(models.Model):
    """One parking space: its kind, where it is, and what its sensor last said (applied only
    when newer than ``state_at``, so late events never undo newer ones)."""

    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="spaces")
    zone = models.ForeignKey(ParkingZone, on_delete=models.CASCADE, related_name="spaces")
    code = models.CharField(max_length=20)
    kind = models.CharField(max_length=12, choices=SpaceKind.choices, default=SpaceKind.STANDARD)
    x = models.FloatField()
    y = models.FloatField()
    sensor = models.CharField(max_length=40, blank=True)
    occupied = models.BooleanField(default=False)
    plate = models.CharField(max_length=10, blank=True, help_text="as the guidance camera read it")
    state_at = models.DateTimeField(null=True, blank=True, help_text="time of the applied event")
    in_service = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="a private space whose owner may share its idle hours",
    )

    class Meta:
        ordering = ["car_park_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["car_park", "code"], name="space_unique_code")
        ]
        indexes = [models.Index(fields=["car_park", "plate"])]

    def __str__(self) -> str:
        return self.code


class Gate(models.Model):
    """An entry or exit lane with its plate camera (and its display)."""

    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="gates")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=40)
    direction = models.CharField(max_length=6, choices=GateDirection.choices)
    floor = models.ForeignKey(
        "district.Floor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    x = models.FloatField(default=0)
    y = models.FloatField(default=0)

    class Meta:
        ordering = ["car_park_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["car_park", "code"], name="gate_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.car_park.code}/{self.code}"


class Tariff(models.Model):
    """One version of a car park's prices; the version in force at entry prices the stay.
    Versions are never edited: a new price is a new version (the fee table proves the rules,
    see ``agora/parking/fees.py``)."""

    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="tariffs")
    version = models.PositiveIntegerField()
    valid_from = models.DateTimeField()
    free_minutes = models.PositiveSmallIntegerField()
    unit_minutes = models.PositiveSmallIntegerField()
    day_unit_fen = models.PositiveIntegerField()
    night_unit_fen = models.PositiveIntegerField(default=0)
    night_start = models.TimeField(null=True, blank=True)
    night_end = models.TimeField(null=True, blank=True)
    night_cap_fen = models.PositiveIntegerField(default=0)
    day_cap_fen = models.PositiveIntegerField(default=0)
    holiday_unit_fen = models.PositiveIntegerField(default=0)
    holiday_cap_fen = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["car_park_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["car_park", "version"], name="tariff_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.car_park.code} v{self.version}"


class ParkingSession(models.Model):
    """A car's stay: entry read, (level, space), exit read, fee, discounts and payments."""

    car_park = models.ForeignKey(CarPark, on_delete=models.PROTECT, related_name="sessions")
    plate = models.CharField(max_length=10, blank=True, help_text="normalised; empty: no plate")
    plate_colour = models.CharField(
        max_length=8, choices=PlateColour.choices, default=PlateColour.UNKNOWN
    )
    source = models.CharField(max_length=10, choices=PlateSource.choices)
    ticket = models.CharField(
        max_length=20, null=True, blank=True, unique=True, help_text="QR ticket of a no-plate car"
    )
    entry_gate = models.ForeignKey(Gate, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    entry_event = models.CharField(max_length=64)
    entry_confidence = models.FloatField()
    entry_image = models.CharField(max_length=200, blank=True)
    floor = models.ForeignKey(
        "district.Floor",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the level, from the entry gate (until a space sensor says more)",
    )
    space = models.ForeignKey(
        Space, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    exit_gate = models.ForeignKey(
        Gate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exited_at = models.DateTimeField(null=True, blank=True)
    exit_event = models.CharField(max_length=64, blank=True)
    exit_plate = models.CharField(max_length=10, blank=True, help_text="as the exit camera read it")
    match_score = models.FloatField(
        null=True, blank=True, help_text="how sure the exit read is this car (1.0 = same plate)"
    )
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.PARKED
    )
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="+")
    fee_fen = models.PositiveIntegerField(default=0, help_text="fee at the last computation")
    discount_minutes = models.PositiveIntegerField(default=0)
    paid_fen = models.PositiveIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    pay_by = models.DateTimeField(null=True, blank=True, help_text="paid: leave before this")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the member the plate is bound to, if any",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-entered_at"]
        indexes = [
            models.Index(fields=["car_park", "status"]),
            models.Index(fields=["plate", "status"]),
            models.Index(fields=["car_park", "entered_at"]),
        ]
        constraints = [
            # one car is parked once per car park: a second entry read of a parked plate is a
            # duplicate or a misread, never a second stay
            models.UniqueConstraint(
                fields=["car_park", "plate"],
                condition=Q(status__in=["parked", "awaiting_payment"]) & ~Q(plate=""),
                name="session_one_open_per_plate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plate or self.ticket} @{self.car_park_id}"


class SessionDiscount(models.Model):
    """Free time given to a stay: a parking coupon, the member's tier, today's spending, or
    hours bought with points (ledger transaction in ``reference``)."""

    session = models.ForeignKey(ParkingSession, on_delete=models.CASCADE, related_name="discounts")
    kind = models.CharField(max_length=12, choices=DiscountKind.choices)
    minutes = models.PositiveIntegerField(default=0)
    fen = models.PositiveIntegerField(default=0, help_text="money off (parking-fee coupons)")
    coupon = models.ForeignKey(
        "coupons.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    points = models.PositiveIntegerField(default=0)
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["session_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind"],
                condition=Q(kind__in=["tier", "spend"]),
                name="discount_tier_spend_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.minutes}min"


class SessionPayment(models.Model):
    """A payment of a stay: the checkout order that carries it and how it was paid."""

    session = models.ForeignKey(ParkingSession, on_delete=models.PROTECT, related_name="payments")
    order = models.OneToOneField("checkout.Order", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=14, choices=PayChannel.choices)
    amount_fen = models.PositiveIntegerField()
    covers_until = models.DateTimeField(help_text="the stay is paid up to this instant")
    paid = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session_id", "id"]

    def __str__(self) -> str:
        return f"{self.session_id} {self.amount_fen}"


class ParkingEvent(models.Model):
    """Every event received, once (``event_id`` is unique: a duplicate is not stored again),
    with what became of it. Malformed payloads are counted in ``IngestCounter``, not here."""

    event_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="events")
    via = models.CharField(max_length=10, choices=EventVia.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=EventOutcome.choices)
    detail = models.CharField(max_length=200, blank=True)
    payload = models.JSONField()
    session = models.ForeignKey(
        ParkingSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["car_park", "received_at"])]

    def __str__(self) -> str:
        return self.event_id


class IngestCounter(models.Model):
    """How many events each ingest path took, by outcome (duplicates and malformed payloads
    included): the worker's health at a glance."""

    via = models.CharField(max_length=10, choices=EventVia.choices)
    outcome = models.CharField(max_length=12)
    count = models.PositiveBigIntegerField(default=0)
    last_at = models.DateTimeField(null=True, blank=True)
    last_detail = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["via", "outcome"], name="ingest_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.via}/{self.outcome}={self.count}"


class ReviewItem(models.Model):
    """A read an operator must look at: an exit with no entry, a plate several entries could
    be, an unreadable plate. Matching it closes the entry's stay like the exit would have."""

    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(max_length=20, choices=ReviewKind.choices)
    event = models.OneToOneField(ParkingEvent, on_delete=models.CASCADE, related_name="review")
    plate = models.CharField(max_length=10, blank=True)
    gate = models.ForeignKey(Gate, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    candidates = models.JSONField(default=list, help_text="[[session id, score], ...]")
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default="open")
    session = models.ForeignKey(
        ParkingSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["car_park", "status"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.plate}"


class Vehicle(models.Model):
    """A plate a member bound to their account; with ``agreement`` the stay is charged
    automatically at the exit (无感支付)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vehicles"
    )
    plate = models.CharField(max_length=10)
    colour = models.CharField(max_length=8, choices=PlateColour.choices, default="blue")
    agreement = models.ForeignKey(
        "checkout.PaymentAgreement",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["user_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "plate"], name="vehicle_unique_plate"),
        ]
        indexes = [models.Index(fields=["plate"])]

    def __str__(self) -> str:
        return self.plate


class SpaceShare(models.Model):
    """Idle hours a space's owner publishes for others to reserve."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="shares")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    price_fen_per_hour = models.PositiveIntegerField()
    withdrawn = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="share_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.space_id} {self.starts_at:%m-%d %H:%M}"


class Reservation(models.Model):
    """A space held for a plate over a time window (a car park space, or a shared one)."""

    car_park = models.ForeignKey(CarPark, on_delete=models.PROTECT, related_name="reservations")
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="reservations")
    share = models.ForeignKey(
        SpaceShare, null=True, blank=True, on_delete=models.PROTECT, related_name="reservations"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    plate = models.CharField(max_length=10)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ReservationStatus.choices, default="booked")
    price_fen = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["space", "status"])]

    def __str__(self) -> str:
        return f"{self.plate} {self.space_id}"


class PageMessage(models.Model):
    """An emergency page to a plate's owner (智能应急寻呼), sent by an operator."""

    car_park = models.ForeignKey(CarPark, on_delete=models.PROTECT, related_name="pages")
    plate = models.CharField(max_length=10)
    reason = models.CharField(max_length=12, choices=PageReason.choices)
    text = models.CharField(max_length=200)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reason} {self.plate}"


class PageDelivery(models.Model):
    """One attempt to reach a paged owner on one channel, with its result."""

    page = models.ForeignKey(PageMessage, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=4, choices=DeliveryChannel.choices)
    address = models.CharField(max_length=40, help_text="masked phone, or the member card")
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices)
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["page_id", "id"]

    def __str__(self) -> str:
        return f"{self.channel} {self.status}"
