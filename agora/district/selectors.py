"""Reads of the physical world. Objects named by a user-supplied id are fetched only through
``access_<entity>``: public map data (malls, floors, zones, facilities) is readable by anyone,
management (``manage=True``) only by the mall's operators; shops' full records only by their
own merchant staff and their mall's operators. Anything else is NotFound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from agora.accounts.actor import Actor
from agora.core.errors import NotFound
from agora.district.choices import ShopStatus, ZoneKind
from agora.district.models import (
    District,
    Facility,
    Floor,
    Mall,
    MerchantApplication,
    Shop,
    ShopUnit,
    Zone,
)


def mall_ids_in_districts(*, district_ids: set[int] | frozenset[int]) -> set[int]:
    return set(Mall.objects.filter(district_id__in=district_ids).values_list("id", flat=True))


def districts_all() -> QuerySet[District]:
    return District.objects.order_by("id")


def malls_public() -> QuerySet[Mall]:
    return Mall.objects.select_related("district").order_by("id")


def access_mall(*, actor: Actor, mall_id: int, manage: bool = False) -> Mall:
    if manage and not actor.operates_mall(mall_id):
        raise NotFound(detail="mall not found")
    try:
        return malls_public().get(pk=mall_id)
    except Mall.DoesNotExist:
        raise NotFound(detail="mall not found") from None


def access_floor(*, actor: Actor, floor_id: int, manage: bool = False) -> Floor:
    floor = Floor.objects.select_related("mall").filter(pk=floor_id).first()
    if floor is None or (manage and not actor.operates_mall(floor.mall_id)):
        raise NotFound(detail="floor not found")
    return floor


def access_zone(*, actor: Actor, zone_id: int, manage: bool = False) -> Zone:
    zone = Zone.objects.select_related("floor__mall").filter(pk=zone_id).first()
    if zone is None or (manage and not actor.operates_mall(zone.floor.mall_id)):
        raise NotFound(detail="zone not found")
    return zone


def access_facility(*, actor: Actor, facility_id: int, manage: bool = False) -> Facility:
    facility = Facility.objects.select_related("floor__mall").filter(pk=facility_id).first()
    if facility is None or (manage and not actor.operates_mall(facility.floor.mall_id)):
        raise NotFound(detail="facility not found")
    return facility


def shops_managed(*, actor: Actor) -> QuerySet[Shop]:
    """Shops whose full record the actor may read: own shops, or shops of operated malls."""
    qs = Shop.objects.select_related("mall").prefetch_related(
        Prefetch("units", queryset=Zone.objects.select_related("floor").order_by("code"))
    )
    if actor.is_admin:
        return qs
    return qs.filter(Q(mall_id__in=actor.operated_mall_ids) | Q(id__in=actor.shop_ids))


def access_shop(*, actor: Actor, shop_id: int) -> Shop:
    try:
        return shops_managed(actor=actor).get(pk=shop_id)
    except Shop.DoesNotExist:
        raise NotFound(detail="shop not found") from None


def shop_directory(
    *, q: str = "", mall_id: int | None = None, category: str | None = None
) -> QuerySet[Shop]:
    """Public directory: open shops, searchable by name, full pinyin or initials (xbk → 星巴克)."""
    qs = Shop.objects.select_related("mall").filter(status=ShopStatus.OPEN, listed=True)
    if mall_id is not None:
        qs = qs.filter(mall_id=mall_id)
    if category:
        qs = qs.filter(category=category)
    return shops_matching(qs, q=q).order_by("name_pinyin", "id")


def shops_matching(qs: QuerySet[Shop], *, q: str) -> QuerySet[Shop]:
    """Narrow any shop queryset by a search term: name, brand, full pinyin or initials."""
    term = q.strip()
    if not term:
        return qs
    key = "".join(ch for ch in term.lower() if ch.isalnum())
    cond = Q(name__icontains=term) | Q(brand__icontains=term)
    if key and key.isascii():
        cond |= Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key)
        if len(key) >= 3:
            cond |= Q(name_pinyin__contains=key)
    return qs.filter(cond)


def access_directory_shop(*, shop_id: int) -> Shop:
    shop = shop_directory().filter(pk=shop_id).first()
    if shop is None:
        raise NotFound(detail="shop not found")
    return shop


def applications_visible(*, actor: Actor) -> QuerySet[MerchantApplication]:
    qs = MerchantApplication.objects.select_related("mall", "unit", "shop")
    if actor.is_admin:
        return qs
    return qs.filter(mall_id__in=actor.operated_mall_ids)


def access_application(*, actor: Actor, application_id: int) -> MerchantApplication:
    try:
        return applications_visible(actor=actor).get(pk=application_id)
    except MerchantApplication.DoesNotExist:
        raise NotFound(detail="application not found") from None


def district_ids_operated(*, actor: Actor) -> set[int]:
    """The districts in which the actor operates at least one mall."""
    return set(
        Mall.objects.filter(id__in=actor.operated_mall_ids).values_list("district_id", flat=True)
    )


def districts_visible(*, actor: Actor) -> QuerySet[District]:
    """Districts whose overview the actor may see: admin all, operators and government theirs."""
    if actor.is_admin:
        return District.objects.order_by("id")
    ids = set(actor.gov_district_ids) | set(actor.district_operator_ids)
    ids |= district_ids_operated(actor=actor)
    return District.objects.filter(id__in=ids).order_by("id")


@dataclass
class MallSummary:
    mall: Mall
    floors: int
    shops: int
    open_shops: int
    units: int
    vacant_units: int


def district_overview(*, actor: Actor) -> list[tuple[District, list[MallSummary]]]:
    """Malls, floors, shop counts and vacancy, for the operator and government homes."""
    out = []
    for district in districts_visible(actor=actor):
        malls = Mall.objects.filter(district=district).order_by("id")
        whole = (
            actor.is_admin or district.pk in actor.gov_district_ids | actor.district_operator_ids
        )
        if not whole:
            malls = malls.filter(id__in=actor.operated_mall_ids)
        malls = malls.annotate(
            n_floors=Count("floors", distinct=True),
            n_shops=Count("shops", distinct=True),
            n_open=Count(
                "shops",
                filter=Q(shops__status=ShopStatus.OPEN, shops__listed=True),
                distinct=True,
            ),
        )
        units = dict(
            Zone.objects.filter(floor__mall__district=district, kind=ZoneKind.SHOP_UNIT)
            .values_list("floor__mall_id")
            .annotate(n=Count("id"))
        )
        occupied = dict(
            ShopUnit.objects.filter(zone__floor__mall__district=district)
            .values_list("zone__floor__mall_id")
            .annotate(n=Count("id"))
        )
        out.append(
            (
                district,
                [
                    MallSummary(
                        mall=m,
                        floors=m.n_floors,  # type: ignore[attr-defined]
                        shops=m.n_shops,  # type: ignore[attr-defined]
                        open_shops=m.n_open,  # type: ignore[attr-defined]
                        units=units.get(m.pk, 0),
                        vacant_units=units.get(m.pk, 0) - occupied.get(m.pk, 0),
                    )
                    for m in malls
                ],
            )
        )
    return out


def floors_of_mall(*, mall: Mall) -> QuerySet[Floor]:
    return Floor.objects.filter(mall=mall).order_by("level")


@dataclass
class PlanZone:
    zone: Zone
    shop_name: str | None
    shop_id: int | None
    category: str | None


def floor_plan(*, floor: Floor) -> dict[str, Any]:
    """Everything the SVG floor-plan viewer draws: zones with their shop, and facilities."""
    occupancy = {
        link.zone_id: link.shop
        for link in ShopUnit.objects.filter(zone__floor=floor).select_related("shop")
    }
    zones = [
        PlanZone(
            zone=z,
            shop_name=occupancy[z.pk].name if z.pk in occupancy else None,
            shop_id=occupancy[z.pk].pk if z.pk in occupancy else None,
            category=occupancy[z.pk].category if z.pk in occupancy else None,
        )
        for z in Zone.objects.filter(floor=floor).order_by("id")
    ]
    return {
        "floor": floor,
        "zones": zones,
        "facilities": list(Facility.objects.filter(floor=floor).order_by("id")),
    }


def zones_of_floor(*, floor: Floor, kind: str | None = None) -> QuerySet[Zone]:
    qs = Zone.objects.filter(floor=floor).order_by("id")
    return qs.filter(kind=kind) if kind else qs


def facilities_of_floor(*, floor: Floor) -> QuerySet[Facility]:
    return Facility.objects.filter(floor=floor).order_by("id")
