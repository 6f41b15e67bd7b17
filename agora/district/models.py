"""The physical world: District → Mall → Floor → Zone → Shop, plus facilities and the
merchant applications (MER-2) that turn into shops. Geometry is in metres on the floor plan,
stored as closed rings [[x, y], ...]; it is validated in services, never in save()."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from agora.district.choices import (
    ApplicationStatus,
    FacilityKind,
    ShopCategory,
    ShopStatus,
    ZoneKind,
)


class District(models.Model):
    """A business district (商圈): the malls one committee runs together."""

    name = models.CharField(max_length=80)
    code = models.SlugField(max_length=40, unique=True)
    city = models.CharField(max_length=40)
    geometry_version = models.PositiveIntegerField(
        default=0,
        help_text="bumped by every change to floors, zones, facilities, shop units "
        "or navigation links: the walkable network is rebuilt when it moves",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Mall(models.Model):
    """One shopping mall of a district, with its position for switching pages (APP-1)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="malls")
    name = models.CharField(max_length=80)
    code = models.SlugField(max_length=40, unique=True)
    address = models.CharField(max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    phone = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Floor(models.Model):
    """A level of a mall (B1, 1F, ...) with its outline polygon in metres."""

    mall = models.ForeignKey(Mall, on_delete=models.CASCADE, related_name="floors")
    level = models.SmallIntegerField(help_text="-1 for B1, 1 for 1F, ...")
    name = models.CharField(max_length=20)
    outline = models.JSONField(help_text="closed ring [[x, y], ...] in metres")
    width_m = models.FloatField()
    depth_m = models.FloatField()

    class Meta:
        ordering = ["mall_id", "level"]
        constraints = [models.UniqueConstraint(fields=["mall", "level"], name="floor_unique_level")]

    def __str__(self) -> str:
        return f"{self.mall.name} {self.name}"


class Zone(models.Model):
    """A named polygon on a floor: corridor, atrium, shop unit, restroom, exit, ..."""

    floor = models.ForeignKey(Floor, on_delete=models.CASCADE, related_name="zones")
    kind = models.CharField(max_length=20, choices=ZoneKind.choices)
    name = models.CharField(max_length=80)
    code = models.CharField(max_length=20, help_text="unit number such as L2-031")
    polygon = models.JSONField(help_text="closed ring [[x, y], ...] in metres")
    area_m2 = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["floor", "code"], name="zone_unique_code")]
        indexes = [models.Index(fields=["floor", "kind"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Shop(models.Model):
    """A merchant in a mall, occupying one or more shop units."""

    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="shops")
    name = models.CharField(max_length=80)
    name_pinyin = models.CharField(max_length=240, db_index=True)
    name_initials = models.CharField(max_length=80, db_index=True)
    brand = models.CharField(max_length=80, blank=True)
    category = models.CharField(max_length=20, choices=ShopCategory.choices)
    status = models.CharField(max_length=20, choices=ShopStatus.choices, default=ShopStatus.OPEN)
    listed = models.BooleanField(
        default=True, help_text="in the public directory; a mall's service tills are not"
    )
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    phone = models.CharField(max_length=30, blank=True)
    contact_name = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)
    description = models.TextField(blank=True)
    units = models.ManyToManyField(Zone, through="ShopUnit", related_name="shops")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class ShopUnit(models.Model):
    """Which shop occupies which shop-unit zone; a unit has at most one shop."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="unit_links")
    zone = models.OneToOneField(Zone, on_delete=models.CASCADE, related_name="occupancy")

    def __str__(self) -> str:
        return f"{self.shop_id}@{self.zone_id}"


class Facility(models.Model):
    """A point of service on a floor: service desk, restroom, ATM, AED, lift, exit, ..."""

    floor = models.ForeignKey(Floor, on_delete=models.CASCADE, related_name="facilities")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=20, choices=FacilityKind.choices)
    name = models.CharField(max_length=80)
    x = models.FloatField()
    y = models.FloatField()

    def __str__(self) -> str:
        return self.name


class MerchantApplication(models.Model):
    """A merchant's request to open a shop in a mall (MER-2): reviewed by the mall's operator;
    approval creates the shop and its owner account."""

    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="applications")
    shop_name = models.CharField(max_length=80)
    brand = models.CharField(max_length=80, blank=True)
    category = models.CharField(max_length=20, choices=ShopCategory.choices)
    unit = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL)
    contact_name = models.CharField(max_length=40)
    contact_phone = models.CharField(max_length=20)
    contact_email = models.EmailField(blank=True)
    licence_number = models.CharField(max_length=18, help_text="统一社会信用代码 (18 characters)")
    status = models.CharField(
        max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.CharField(max_length=200, blank=True)
    shop = models.OneToOneField(Shop, null=True, blank=True, on_delete=models.SET_NULL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.shop_name} → {self.mall}"
