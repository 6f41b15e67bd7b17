"""Navigation data beyond the floor plans (GUIDE-2, APP-3, DEV-3).

The walkable network itself is not stored: it is computed from the district geometry (zones,
facilities) plus the ``Link`` rows below, and cached per version (``agora.navigation.network``).
Links are the joins the geometry cannot say by itself: which lift zones form one shaft, which
way an escalator runs, a skywalk or a street between malls. Operators close a zone or a link
with a ``Closure``; routes avoid it from the next request on. ``AccessPoint`` and
``SurveyPoint`` are the WiFi registry and fingerprints for positioning; ``Kiosk`` is a guide
screen at a fixed spot.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from agora.navigation.choices import Direction, LinkKind


class Link(models.Model):
    district = models.ForeignKey("district.District", on_delete=models.CASCADE, related_name="+")
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )  # None for links between malls
    kind = models.CharField(max_length=12, choices=LinkKind.choices)
    code = models.CharField(max_length=40, help_text="mixc:LF1, walk:mixc-coco-park, ...")
    name = models.CharField(max_length=80)
    direction = models.CharField(max_length=4, choices=Direction.choices, default=Direction.BOTH)
    length_m = models.FloatField(default=0, help_text="walking length for links between malls")
    extra_s = models.FloatField(default=0, help_text="waiting: traffic lights, a lift's doors")
    auto = models.BooleanField(default=True, help_text="made from the geometry by network_build")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="nav_link_unique_code")
        ]

    def __str__(self) -> str:
        return self.code


class LinkStop(models.Model):
    """Where a link can be boarded or left, ordered bottom to top (or from one end)."""

    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="stops")
    order = models.PositiveSmallIntegerField()
    floor = models.ForeignKey("district.Floor", on_delete=models.CASCADE, related_name="+")
    zone = models.ForeignKey(
        "district.Zone", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    x = models.FloatField()
    y = models.FloatField()

    class Meta:
        ordering = ["link_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["link", "order"], name="nav_stop_unique_order")
        ]

    def __str__(self) -> str:
        return f"{self.link_id}#{self.order}"


class Closure(models.Model):
    """An operator closes a zone (an area: corridor, atrium, wing, shop unit) or a link for a
    reason, from ``starts_at`` until ``ends_at`` or until lifted."""

    district = models.ForeignKey("district.District", on_delete=models.CASCADE, related_name="+")
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    zone = models.ForeignKey(
        "district.Zone", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    link = models.ForeignKey(
        Link, null=True, blank=True, on_delete=models.CASCADE, related_name="closures"
    )
    reason = models.CharField(max_length=120)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(zone__isnull=False) & Q(link__isnull=True))
                | (Q(zone__isnull=True) & Q(link__isnull=False)),
                name="nav_closure_zone_xor_link",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="nav_closure_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["district", "lifted_at"])]

    def __str__(self) -> str:
        return f"closure {self.pk}: {self.reason}"


class AccessPoint(models.Model):
    """A WiFi access point of the district's network, for positioning (not a shopper device:
    shoppers' MAC addresses are hashed at ingestion elsewhere and never stored here)."""

    bssid = models.CharField(max_length=17, unique=True, help_text="aa:bb:cc:dd:ee:ff")
    floor = models.ForeignKey("district.Floor", on_delete=models.CASCADE, related_name="+")
    x = models.FloatField()
    y = models.FloatField()
    tx_power = models.FloatField(default=-38.0, help_text="RSSI at 1 m, dBm")
    ssid = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.bssid


class SurveyPoint(models.Model):
    """A surveyed spot: the mean RSSI of every AP heard there (the fingerprint)."""

    floor = models.ForeignKey("district.Floor", on_delete=models.CASCADE, related_name="+")
    x = models.FloatField()
    y = models.FloatField()
    fingerprint = models.JSONField(help_text='{"aa:bb:cc:dd:ee:ff": -61.5, ...}')
    samples = models.PositiveSmallIntegerField(default=1)
    surveyed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["floor"])]

    def __str__(self) -> str:
        return f"survey {self.floor_id} ({self.x}, {self.y})"


class Kiosk(models.Model):
    """A guide screen at a fixed spot (DEV-3): its position is the kiosk's "you are here"."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    floor = models.ForeignKey("district.Floor", on_delete=models.CASCADE, related_name="+")
    x = models.FloatField()
    y = models.FloatField()
    facing = models.FloatField(default=90.0, help_text="screen faces this heading, degrees")
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code
