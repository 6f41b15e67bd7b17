"""Shops: created by a mall's operators, kept up to date by their own staff."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.db import IntegrityError, transaction

from agora.accounts.actor import Actor
from agora.accounts.choices import Role
from agora.core.errors import Conflict, PermissionDenied, field_error
from agora.core.services import audit_record, snapshot
from agora.district.choices import ShopCategory, ShopStatus, ZoneKind
from agora.district.models import Facility, Floor, Mall, Shop, ShopUnit, Zone
from agora.district.services.geometry import geometry_touch
from agora.lib.pinyin import search_keys

SHOP_FIELDS = [
    "name",
    "brand",
    "category",
    "status",
    "opens_at",
    "closes_at",
    "phone",
    "contact_name",
    "contact_email",
    "description",
]
# what a shop's own owner or manager may change; the rest is the operator's
MERCHANT_EDITABLE = frozenset(
    {"opens_at", "closes_at", "phone", "contact_name", "contact_email", "description"}
)
FACILITY_FIELDS = ["kind", "name", "x", "y", "zone_id"]


def _units_for(*, mall: Mall, unit_ids: list[int], shop: Shop | None) -> list[Zone]:
    if not unit_ids:
        raise field_error("unit_ids", "a shop occupies at least one shop unit", "required")
    units = list(
        Zone.objects.filter(
            pk__in=unit_ids, floor__mall=mall, kind=ZoneKind.SHOP_UNIT
        ).select_related("occupancy")
    )
    found = {u.pk for u in units}
    missing = [i for i in unit_ids if i not in found]
    if missing:
        raise field_error("unit_ids", f"not shop units of this mall: {missing}", "unknown_unit")
    taken = [
        u.code
        for u in units
        if hasattr(u, "occupancy") and (shop is None or u.occupancy.shop_id != shop.pk)
    ]
    if taken:
        raise Conflict(detail=f"units already occupied: {', '.join(sorted(taken))}")
    return units


def _check_hours(opens_at: time, closes_at: time) -> None:
    if opens_at == closes_at:
        raise field_error("closes_at", "must differ from opens_at", "hours")


def shop_create(
    *,
    actor: Actor,
    mall: Mall,
    name: str,
    category: str,
    unit_ids: list[int],
    opens_at: time,
    closes_at: time,
    brand: str = "",
    phone: str = "",
    contact_name: str = "",
    contact_email: str = "",
    description: str = "",
    status: str = ShopStatus.OPEN,
    audit: bool = True,
) -> Shop:
    if not name.strip():
        raise field_error("name", "must not be empty", "required")
    if category not in ShopCategory.values:
        raise field_error("category", "unknown category", "enum")
    _check_hours(opens_at, closes_at)
    full, initials = search_keys(name)
    with transaction.atomic():
        units = _units_for(mall=mall, unit_ids=unit_ids, shop=None)
        shop = Shop.objects.create(
            mall=mall,
            name=name.strip(),
            name_pinyin=full,
            name_initials=initials,
            brand=brand,
            category=category,
            status=status,
            opens_at=opens_at,
            closes_at=closes_at,
            phone=phone,
            contact_name=contact_name,
            contact_email=contact_email,
            description=description,
        )
        try:
            with transaction.atomic():
                ShopUnit.objects.bulk_create([ShopUnit(shop=shop, zone=u) for u in units])
        except IntegrityError:
            raise Conflict(detail="a unit was taken by another shop meanwhile") from None
        geometry_touch(mall_id=mall.pk)
        if audit:
            audit_record(
                actor=actor,
                action="shop.create",
                target=shop,
                mall_id=mall.pk,
                shop_id=shop.pk,
                after={**snapshot(shop, SHOP_FIELDS), "unit_ids": sorted(unit_ids)},
            )
    return shop


def shop_update(*, actor: Actor, shop: Shop, changes: dict[str, Any]) -> Shop:
    """Operators change anything; the shop's owner or manager only hours and contacts;
    cashiers nothing."""
    is_operator = actor.operates_mall(shop.mall_id)
    if not is_operator:
        if not actor.has_shop_role(
            shop.pk, frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_MANAGER})
        ):
            raise PermissionDenied(detail="only the shop's owner or manager may change it")
        forbidden = sorted(set(changes) - MERCHANT_EDITABLE)
        if forbidden:
            raise PermissionDenied(
                detail=f"only the mall's operator may change: {', '.join(forbidden)}"
            )
    unit_ids = changes.pop("unit_ids", None)
    if "name" in changes and not str(changes["name"]).strip():
        raise field_error("name", "must not be empty", "required")
    _check_hours(changes.get("opens_at", shop.opens_at), changes.get("closes_at", shop.closes_at))
    before = {**snapshot(shop, SHOP_FIELDS), "unit_ids": sorted(u.pk for u in shop.units.all())}
    with transaction.atomic():
        for key, value in changes.items():
            setattr(shop, key, value)
        if "name" in changes:
            shop.name = shop.name.strip()
            shop.name_pinyin, shop.name_initials = search_keys(shop.name)
        shop.save()
        if unit_ids is not None:
            units = _units_for(mall=shop.mall, unit_ids=unit_ids, shop=shop)
            ShopUnit.objects.filter(shop=shop).exclude(zone__in=units).delete()
            try:
                with transaction.atomic():
                    ShopUnit.objects.bulk_create(
                        [ShopUnit(shop=shop, zone=u) for u in units if not hasattr(u, "occupancy")]
                    )
            except IntegrityError:
                raise Conflict(detail="a unit was taken by another shop meanwhile") from None
        after_units = sorted(ShopUnit.objects.filter(shop=shop).values_list("zone_id", flat=True))
        geometry_touch(mall_id=shop.mall_id)
        audit_record(
            actor=actor,
            action="shop.update",
            target=shop,
            mall_id=shop.mall_id,
            shop_id=shop.pk,
            before=before,
            after={**snapshot(shop, SHOP_FIELDS), "unit_ids": after_units},
        )
    return shop


def facility_create(
    *,
    actor: Actor,
    floor: Floor,
    kind: str,
    name: str,
    x: float,
    y: float,
    zone_id: int | None = None,
) -> Facility:
    if not (0 <= x <= floor.width_m and 0 <= y <= floor.depth_m):
        raise field_error("x", f"({x}, {y}) lies outside floor {floor.name}", "geometry")
    if zone_id is not None and not Zone.objects.filter(pk=zone_id, floor=floor).exists():
        raise field_error("zone_id", "not a zone of this floor", "unknown_zone")
    with transaction.atomic():
        facility = Facility.objects.create(
            floor=floor, kind=kind, name=name, x=x, y=y, zone_id=zone_id
        )
        geometry_touch(mall_id=floor.mall_id)
        audit_record(
            actor=actor,
            action="facility.create",
            target=facility,
            mall_id=floor.mall_id,
            after=snapshot(facility, FACILITY_FIELDS),
        )
    return facility


def facility_delete(*, actor: Actor, facility: Facility) -> None:
    with transaction.atomic():
        geometry_touch(mall_id=facility.floor.mall_id)
        audit_record(
            actor=actor,
            action="facility.delete",
            target=facility,
            mall_id=facility.floor.mall_id,
            before=snapshot(facility, FACILITY_FIELDS),
        )
        facility.delete()


def service_till_create(*, mall: Mall, name: str, category: str = ShopCategory.SERVICES) -> Shop:
    """A till of the mall's own services (the car park, ...): a shop with no unit, open all
    day, whose orders are the mall's revenue. Not listed in the shop directory."""
    if not name.strip():
        raise field_error("name", "must not be empty", "required")
    full, initials = search_keys(name)
    return Shop.objects.create(
        mall=mall,
        name=name.strip(),
        name_pinyin=full,
        name_initials=initials,
        category=category,
        status=ShopStatus.OPEN,
        listed=False,
        opens_at=time(0, 0),
        closes_at=time(23, 59),
        phone=mall.phone,
        description="mall service till",
    )
