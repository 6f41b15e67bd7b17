"""Floors and zones: geometry validated (closed, inside the floor, shop units not overlapping)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from shapely import STRtree
from shapely.geometry import Polygon

from agora.accounts.actor import Actor
from agora.core.errors import Conflict, FieldError, ValidationFailed, field_error
from agora.core.services import audit_record, snapshot
from agora.district.choices import ZoneKind
from agora.district.models import Floor, Mall, Zone
from agora.district.services.geometry import geometry_touch
from agora.lib import geometry

ZONE_FIELDS = ["kind", "name", "code", "polygon", "area_m2"]


def _polygon(points: Any, field_name: str) -> Polygon:
    try:
        return geometry.to_polygon(points)
    except geometry.GeometryError as exc:
        raise field_error(field_name, str(exc), "geometry") from None


def floor_create(
    *, actor: Actor, mall: Mall, level: int, name: str, outline: Sequence[Sequence[float]]
) -> Floor:
    poly = _polygon(outline, "outline")
    minx, miny, maxx, maxy = poly.bounds
    if minx < 0 or miny < 0:
        raise field_error("outline", "coordinates are metres from the plan origin: no negatives")
    if Floor.objects.filter(mall=mall, level=level).exists():
        raise Conflict(detail=f"level {level} already exists in this mall")
    with transaction.atomic():
        floor = Floor.objects.create(
            mall=mall, level=level, name=name, outline=outline, width_m=maxx, depth_m=maxy
        )
        geometry_touch(mall_id=mall.pk)
        audit_record(
            actor=actor,
            action="floor.create",
            target=floor,
            mall_id=mall.pk,
            after=snapshot(floor, ["level", "name", "width_m", "depth_m"]),
        )
    return floor


def _check_zone(
    *, floor: Floor, kind: str, points: Any, exclude_id: int | None, field_prefix: str = ""
) -> Polygon:
    poly = _polygon(points, f"{field_prefix}polygon")
    outline = Polygon([tuple(p) for p in floor.outline])
    if not geometry.inside(poly, outline):
        raise field_error(f"{field_prefix}polygon", f"lies outside floor {floor.name}'s outline")
    if kind == ZoneKind.SHOP_UNIT:
        others = Zone.objects.filter(floor=floor, kind=ZoneKind.SHOP_UNIT)
        if exclude_id is not None:
            others = others.exclude(pk=exclude_id)
        for other in others.only("id", "code", "polygon"):
            if geometry.overlaps(poly, Polygon([tuple(p) for p in other.polygon])):
                raise field_error(
                    f"{field_prefix}polygon", f"overlaps shop unit {other.code}", "overlap"
                )
    return poly


def zone_create(
    *, actor: Actor, floor: Floor, kind: str, name: str, code: str, polygon: list[list[float]]
) -> Zone:
    poly = _check_zone(floor=floor, kind=kind, points=polygon, exclude_id=None)
    try:
        with transaction.atomic():
            zone = Zone.objects.create(
                floor=floor,
                kind=kind,
                name=name,
                code=code,
                polygon=polygon,
                area_m2=round(poly.area, 2),
            )
            geometry_touch(mall_id=floor.mall_id)
            audit_record(
                actor=actor,
                action="zone.create",
                target=zone,
                mall_id=floor.mall_id,
                after=snapshot(zone, ZONE_FIELDS),
            )
    except IntegrityError:
        raise field_error(
            "code", f"zone code {code!r} is already used on this floor", "taken"
        ) from None
    return zone


def zone_update(*, actor: Actor, zone: Zone, changes: dict[str, Any]) -> Zone:
    kind = changes.get("kind", zone.kind)
    if (
        zone.kind == ZoneKind.SHOP_UNIT
        and kind != ZoneKind.SHOP_UNIT
        and hasattr(zone, "occupancy")
    ):
        raise Conflict(detail="the unit is occupied by a shop; move the shop first")
    poly = _check_zone(
        floor=zone.floor, kind=kind, points=changes.get("polygon", zone.polygon), exclude_id=zone.pk
    )
    before = snapshot(zone, ZONE_FIELDS)
    for name_, value in changes.items():
        setattr(zone, name_, value)
    zone.area_m2 = round(poly.area, 2)
    try:
        with transaction.atomic():
            zone.save()
            geometry_touch(mall_id=zone.floor.mall_id)
            audit_record(
                actor=actor,
                action="zone.update",
                target=zone,
                mall_id=zone.floor.mall_id,
                before=before,
                after=snapshot(zone, ZONE_FIELDS),
            )
    except IntegrityError:
        raise field_error("code", "zone code is already used on this floor", "taken") from None
    return zone


def zone_delete(*, actor: Actor, zone: Zone) -> None:
    if hasattr(zone, "occupancy"):
        raise Conflict(detail="the unit is occupied by a shop; move the shop first")
    with transaction.atomic():
        geometry_touch(mall_id=zone.floor.mall_id)
        audit_record(
            actor=actor,
            action="zone.delete",
            target=zone,
            mall_id=zone.floor.mall_id,
            before=snapshot(zone, ZONE_FIELDS),
        )
        zone.delete()


def floor_zones_import(*, floor: Floor, zones: Sequence[dict[str, Any]]) -> list[Zone]:
    """Bulk-create a floor's zones (demo, CAD import) with the same checks as zone_create,
    using an STR-tree so that 100+ shop units validate in one pass."""
    outline = Polygon([tuple(p) for p in floor.outline])
    errors: list[FieldError] = []
    polys: list[Polygon] = []
    for i, z in enumerate(zones):
        try:
            poly = geometry.to_polygon(z["polygon"])
        except geometry.GeometryError as exc:
            errors.append(FieldError(f"zones[{i}].polygon", str(exc), "geometry"))
            polys.append(Polygon())
            continue
        if not geometry.inside(poly, outline):
            errors.append(FieldError(f"zones[{i}].polygon", "lies outside the floor outline"))
        polys.append(poly)
    units = [
        i for i, z in enumerate(zones) if z["kind"] == ZoneKind.SHOP_UNIT and not polys[i].is_empty
    ]
    existing = [
        Polygon([tuple(p) for p in z.polygon])
        for z in Zone.objects.filter(floor=floor, kind=ZoneKind.SHOP_UNIT)
    ]
    candidates = [polys[i] for i in units] + existing
    if candidates:
        tree = STRtree(candidates)
        for pos, i in enumerate(units):
            for j in tree.query(polys[i]):
                if int(j) != pos and geometry.overlaps(polys[i], candidates[int(j)]):
                    errors.append(
                        FieldError(f"zones[{i}].polygon", "overlaps another shop unit", "overlap")
                    )
                    break
    if errors:
        raise ValidationFailed(detail="the floor's zones are not valid", errors=errors)
    rows = [
        Zone(
            floor=floor,
            kind=z["kind"],
            name=z["name"],
            code=z["code"],
            polygon=z["polygon"],
            area_m2=round(polys[i].area, 2),
        )
        for i, z in enumerate(zones)
    ]
    with transaction.atomic():
        created = Zone.objects.bulk_create(rows)
        geometry_touch(mall_id=floor.mall_id)
    return created
