"""The demo district: exact counts from the config, valid geometry, the personas other tests
rely on, determinism per seed, and the command's refusal to overwrite data."""

from __future__ import annotations

import io
import time
from collections import Counter
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from shapely import STRtree
from shapely.geometry import Polygon

from agora.accounts.models import RoleGrant, User
from agora.district.demo import (
    DEMO_PASSWORD,
    SMALL,
    DemoConfig,
    DemoExists,
    DemoResult,
    build_demo,
    demo_reset,
)
from agora.district.models import District, Facility, Floor, Mall, Shop, Zone
from agora.lib import geometry

pytestmark = pytest.mark.django_db


def _fresh(*, seed: int = 42, config: DemoConfig = SMALL) -> DemoResult:
    """An empty database (the suite's shared demo is rolled back after the test), then a build."""
    demo_reset()
    return build_demo(seed=seed, config=config)


def _fingerprint() -> dict[str, Any]:
    """Everything a seed decides, without database ids."""
    return {
        "district": list(District.objects.values_list("name", "code", "city")),
        "malls": sorted(
            (m.name, m.code, str(m.latitude), str(m.longitude), m.phone) for m in Mall.objects.all()
        ),
        "floors": sorted(
            (f.mall.code, f.level, f.name, repr(f.outline))
            for f in Floor.objects.select_related("mall")
        ),
        "zones": sorted(
            (z.floor.mall.code, z.floor.level, z.code, z.kind, z.name, repr(z.polygon))
            for z in Zone.objects.select_related("floor__mall")
        ),
        "shops": sorted(
            (
                s.mall.code,
                s.name,
                s.brand,
                s.category,
                s.status,
                s.phone,
                str(s.opens_at),
                str(s.closes_at),
                tuple(sorted(u.code for u in s.units.all())),
            )
            for s in Shop.objects.select_related("mall").prefetch_related("units")
        ),
        "facilities": sorted(
            (f.floor.mall.code, f.floor.level, f.kind, f.name, f.x, f.y)
            for f in Facility.objects.select_related("floor__mall")
        ),
        "users": sorted(User.objects.values_list("username", "phone", "display_name")),
        "grants": sorted(
            (
                g.user.username,
                g.role,
                g.district_id is not None,
                str(g.mall or ""),
                str(g.shop or ""),
            )
            for g in RoleGrant.objects.select_related("user", "mall", "shop")
        ),
    }


def _poly(ring: list[list[float]]) -> Polygon:
    return Polygon([tuple(p) for p in ring])


def _assert_floor_geometry(floor: Floor) -> None:
    outline = geometry.to_polygon(floor.outline)
    zones = list(Zone.objects.filter(floor=floor))
    for z in zones:
        assert geometry.inside(geometry.to_polygon(z.polygon), outline), (floor, z.code)
    units = [_poly(z.polygon) for z in zones if z.kind == "shop_unit"]
    tree = STRtree(units)
    for i, poly in enumerate(units):
        for j in tree.query(poly):
            if int(j) != i:
                assert not geometry.overlaps(poly, units[int(j)]), (floor, i, int(j))


def test_small_demo_counts_follow_from_the_config() -> None:
    result = _fresh()
    district = District.objects.get()
    assert (district.name, district.code, district.city) == ("星河商圈", "xinghe", "深圳")
    assert result.district_id == district.pk
    assert result.malls == Mall.objects.count() == 2
    assert result.floors == Floor.objects.count() == 4
    assert result.zones == Zone.objects.count()
    assert result.shop_units == Zone.objects.filter(kind="shop_unit").count()
    assert result.shops == Shop.objects.count()
    assert result.facilities == Facility.objects.count()
    assert result.users == User.objects.count() == 3 + 5 * 2 + 10

    malls = list(Mall.objects.order_by("id"))
    assert [m.name for m in malls] == ["万象城", "星河COCO Park"]
    assert len({m.code for m in malls}) == 2
    # mall 1 (odd) has a car park B1 and one floor above ground; mall 2 two floors above
    assert [f.name for f in Floor.objects.filter(mall=malls[0])] == ["B1", "1F"]
    assert [f.name for f in Floor.objects.filter(mall=malls[1])] == ["1F", "2F"]
    basement = Floor.objects.get(mall=malls[0], level=-1)
    assert Zone.objects.filter(floor=basement, kind="car_park").count() == 1
    assert not Zone.objects.filter(floor=basement, kind="shop_unit").exists()
    assert Facility.objects.filter(floor=basement, kind="ev_charger").count() >= 6

    for floor in Floor.objects.filter(level__gte=1):
        kinds = Counter(Zone.objects.filter(floor=floor).values_list("kind", flat=True))
        assert 12 <= kinds["shop_unit"] <= 16, floor
        assert kinds["corridor"] >= 2 and kinds["atrium"] == 1
        assert 1 <= kinds["restroom"] <= 2
        assert kinds["evacuation_exit"] >= 2 and kinds["lift"] >= 1
        assert kinds["escalator"] >= 1 and kinds["stairs"] >= 1
        assert kinds["service_desk"] == (1 if floor.level == 1 else 0)
        codes = Zone.objects.filter(floor=floor, kind="shop_unit").values_list("code", flat=True)
        assert all(c.startswith(f"L{floor.level}-") for c in codes)
    for floor in Floor.objects.all():
        _assert_floor_geometry(floor)
    for f in Facility.objects.select_related("floor"):
        assert 0 <= f.x <= f.floor.width_m and 0 <= f.y <= f.floor.depth_m

    for mall in malls:
        starbucks = Shop.objects.get(mall=mall, name="星巴克")
        assert starbucks.category == "food"
        assert {u.floor.level for u in starbucks.units.select_related("floor")} == {1}
        top = Floor.objects.filter(mall=mall).order_by("-level").first()
        cinema = Shop.objects.get(mall=mall, category="cinema")
        assert {u.floor_id for u in cinema.units.all()} == {top.pk}
        brands = [b for b in Shop.objects.filter(mall=mall).values_list("brand", flat=True) if b]
        assert len(brands) == len(set(brands))
        names = list(Shop.objects.filter(mall=mall).values_list("name", flat=True))
        assert len(names) == len(set(names))
        # some units stay free for onboarding tests
        assert Zone.objects.filter(floor__mall=mall, kind="shop_unit", occupancy=None).exists()


def test_small_demo_personas_and_grants() -> None:
    result = _fresh()
    district = District.objects.get()
    malls = list(Mall.objects.order_by("id"))

    def grants(username: str) -> list[tuple[str, Any, Any, Any]]:
        return list(
            RoleGrant.objects.filter(user__username=username).values_list(
                "role", "district_id", "mall_id", "shop_id"
            )
        )

    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password(DEMO_PASSWORD)
    assert grants("admin") == [("platform_admin", None, None, None)]
    assert grants("district-ops") == [("district_operator", district.pk, None, None)]
    assert grants("gov") == [("government_officer", district.pk, None, None)]
    for i, mall in enumerate(malls, start=1):
        assert grants(f"mall-ops-{i}") == [("mall_operator", None, mall.pk, None)]
        starbucks = Shop.objects.get(mall=mall, name="星巴克")
        for login, role in [
            (f"shop-owner-{i}", "merchant_owner"),
            (f"shop-manager-{i}", "merchant_manager"),
            (f"shop-cashier-{i}", "merchant_cashier"),
        ]:
            assert grants(login) == [(role, None, None, starbucks.pk)]
        ((role, _, _, shop_id),) = grants(f"shop-owner-{i}b")
        other = Shop.objects.get(pk=shop_id)
        assert role == "merchant_owner" and other.mall_id == mall.pk and other.pk != starbucks.pk

    shoppers = User.objects.filter(username__startswith="p138").order_by("id")
    assert shoppers.count() == 10
    assert shoppers[0].phone == "13800000001" and shoppers[0].username == "p13800000001"
    for s in shoppers:
        assert s.phone is not None and len(s.phone) == 11 and s.phone.startswith("138")
        assert not s.has_usable_password() and s.display_name
        assert not s.grants.exists()

    logins = [(x.role, x.login) for x in result.logins]
    assert logins[:7] == [
        ("platform_admin", "admin"),
        ("district_operator", "district-ops"),
        ("mall_operator", "mall-ops-1"),
        ("government_officer", "gov"),
        ("merchant_owner", "shop-owner-1"),
        ("merchant_manager", "shop-manager-1"),
        ("merchant_cashier", "shop-cashier-1"),
    ]
    assert [x.login for x in result.logins[7:]] == [s.phone for s in shoppers[:2]]
    assert all(x.role == "shopper" and x.password is None for x in result.logins[7:])
    assert all(x.password == DEMO_PASSWORD for x in result.logins[:7])


def test_same_seed_same_demo_other_seed_other_demo() -> None:
    _fresh(seed=42)
    first = _fingerprint()
    _fresh(seed=42)
    assert _fingerprint() == first
    _fresh(seed=43)
    other = _fingerprint()
    assert other != first
    assert other["zones"] != first["zones"]
    assert other["users"] != first["users"]


def test_build_refuses_when_a_district_exists() -> None:
    _fresh()
    with pytest.raises(DemoExists, match="--reset"):
        build_demo(config=SMALL)


def test_command_refuses_without_reset_and_changes_nothing() -> None:
    if not District.objects.exists():
        build_demo(config=SMALL)
    before = _fingerprint()
    with pytest.raises(CommandError, match="already exists"):
        call_command("demo_district", "--small", stdout=io.StringIO())
    assert _fingerprint() == before


def test_command_with_reset_rebuilds_and_prints_logins() -> None:
    if not District.objects.exists():
        build_demo(config=SMALL)
    out = io.StringIO()
    call_command("demo_district", "--small", "--reset", "--malls", "1", "--seed", "7", stdout=out)
    text = out.getvalue()
    assert Mall.objects.count() == 1 and District.objects.count() == 1
    assert "mall 1/1 万象城" in text
    assert "malls 1, floors 2" in text
    for login in ["admin", "district-ops", "mall-ops-1", "gov", "shop-owner-1", "13800000001"]:
        assert login in text
    assert DEMO_PASSWORD in text
    assert not User.objects.filter(username="mall-ops-2").exists()


def test_full_default_demo() -> None:
    demo_reset()
    started = time.monotonic()
    lines: list[str] = []
    result = build_demo(seed=42, progress=lines.append)
    elapsed = time.monotonic() - started
    assert elapsed < 60, elapsed
    assert result.malls == 5
    assert [line.split(":")[0] for line in lines[:5]] == [
        "mall 1/5 万象城",
        "mall 2/5 星河COCO Park",
        "mall 3/5 海岸城",
        "mall 4/5 益田假日广场",
        "mall 5/5 卓悦中心",
    ]
    for mall in Mall.objects.all():
        floors = list(Floor.objects.filter(mall=mall))
        assert 3 <= len(floors) <= 6, mall
        assert Shop.objects.filter(mall=mall, name="星巴克").count() == 1
        for floor in floors:
            if floor.level > 0:
                n = Zone.objects.filter(floor=floor, kind="shop_unit").count()
                assert 40 <= n <= 120, (floor, n)
            _assert_floor_geometry(floor)
    shoppers = User.objects.filter(username__startswith="p138")
    assert shoppers.count() == 300
    assert len(set(shoppers.values_list("phone", flat=True))) == 300
    let = Zone.objects.filter(kind="shop_unit", occupancy__isnull=False).count()
    assert 0.8 <= let / result.shop_units <= 0.9
    doubles = sum(1 for s in Shop.objects.prefetch_related("units") if len(s.units.all()) == 2)
    assert 0.04 <= doubles / result.shops <= 0.16
    categories = set(Shop.objects.values_list("category", flat=True))
    assert len(categories) == 10
