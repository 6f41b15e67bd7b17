"""Navigation demo data: the links the geometry implies (lifts, escalators, stairs, streets),
a skywalk between the two nearest malls, a guide kiosk at every 1F information screen, a WiFi
access point every ~18 m along each corridor and car-park aisle, and a fingerprint survey of
the first mall (every ~6 m along its corridors) made with the path-loss model of
``agora.lib.wifi`` so that positioning has something honest to work on."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from shapely.geometry import Polygon

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.district.choices import FacilityKind, ZoneKind
from agora.district.models import District, Facility, Floor, Mall, Zone
from agora.lib.wifi import AP, simulate_scan
from agora.navigation.choices import LinkKind
from agora.navigation.models import AccessPoint, Closure, Kiosk, Link, LinkStop, SurveyPoint
from agora.navigation.network import circulation_lines
from agora.navigation.services.kiosks import kiosk_create
from agora.navigation.services.links import (
    district_origin,
    link_create,
    network_links_generate,
    world_point,
)

AP_SPACING_M = 18.0
SURVEY_SPACING_M = 6.0
SURVEY_SCANS = 4  # averaged per survey point
SSID = "Agora-Free-WiFi"


def _mac(rng: random.Random) -> str:
    return "a4:5e:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(4))


def _lines(zone: Zone) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return circulation_lines(zone.kind, Polygon([(p[0], p[1]) for p in zone.polygon]))


def _along(
    line: tuple[tuple[float, float], tuple[float, float]], spacing: float
) -> list[tuple[float, float]]:
    (ax, ay), (bx, by) = line
    length = math.dist((ax, ay), (bx, by))
    n = max(1, int(length // spacing))
    return [
        (round(ax + (bx - ax) * (i + 0.5) / n, 2), round(ay + (by - ay) * (i + 0.5) / n, 2))
        for i in range(n)
    ]


def build_navigation_demo(
    *, seed: int, config: Any, district_id: int, progress: Callable[[str], None], **_: Any
) -> list[str]:
    rng = random.Random(seed * 13 + 7)
    admin = User.objects.get(username="admin")
    system = Actor(user=admin, is_admin=True)
    district = District.objects.get(pk=district_id)
    progress("navigation: links, kiosks, WiFi access points and survey")
    made = network_links_generate(actor=system, district=district)
    malls = list(Mall.objects.filter(district=district).order_by("id"))
    lines = [f"navigation: {made.vertical} lifts/escalators/stairs, {made.streets} street walks"]

    # a skywalk between the two nearest malls that both have a 2F
    origin = district_origin(malls)
    second = {f.mall_id: f for f in Floor.objects.filter(mall__in=malls, level=2)}
    pairs = sorted(
        (
            (math.dist(world_point(a, 0, 0, origin), world_point(b, 0, 0, origin)), a, b)
            for i, a in enumerate(malls)
            for b in malls[i + 1 :]
            if a.pk in second and b.pk in second
        ),
        key=lambda p: (p[0], p[1].pk, p[2].pk),
    )
    if pairs:
        __, a, b = pairs[0]
        fa, fb = second[a.pk], second[b.pk]
        # from the middle of a's north side to the middle of b's south side
        pa = (round(fa.width_m / 2, 2), round(fa.depth_m, 2))
        pb = (round(fb.width_m / 2, 2), 0.0)
        wa = world_point(a, *pa, origin)
        wb = world_point(b, *pb, origin)
        length = max(30.0, math.dist(wa, wb))
        link_create(
            actor=system,
            district=district,
            kind=LinkKind.SKYWALK,
            code=f"skywalk:{a.code}~{b.code}",
            name=f"{a.name}—{b.name} 空中连廊",
            stops=[(fa, *pa), (fb, *pb)],
            length_m=round(length, 1),
            extra_s=0.0,
        )
        lines.append(f"navigation: skywalk {a.name} 2F ⇄ {b.name} 2F ({length:.0f} m)")

    # a kiosk at each 1F information screen
    kiosks = 0
    for fac in (
        Facility.objects.filter(floor__mall__in=malls, floor__level=1, kind=FacilityKind.INFO_KIOSK)
        .select_related("floor__mall")
        .order_by("id")
    ):
        kiosk_create(
            actor=system,
            floor=fac.floor,
            code=f"{fac.floor.mall.code}-1f",
            name=f"{fac.floor.mall.name} 1F 导视屏",
            x=fac.x,
            y=fac.y,
            facing=90.0,
        )
        kiosks += 1

    # WiFi: APs along corridors and aisles, alternating sides
    floors = list(Floor.objects.filter(mall__in=malls).order_by("mall_id", "level"))
    aps: dict[int, list[AP]] = {}
    rows: list[AccessPoint] = []
    for floor in floors:
        for zone in Zone.objects.filter(
            floor=floor, kind__in=[ZoneKind.CORRIDOR, ZoneKind.ATRIUM, ZoneKind.CAR_PARK]
        ).order_by("id"):
            for line in _lines(zone):
                for i, (x, y) in enumerate(_along(line, AP_SPACING_M)):
                    side = 1.5 if i % 2 else -1.5
                    horizontal = abs(line[1][0] - line[0][0]) >= abs(line[1][1] - line[0][1])
                    px, py = (x, y + side) if horizontal else (x + side, y)
                    px = min(max(px, 0.0), floor.width_m)
                    py = min(max(py, 0.0), floor.depth_m)
                    bssid = _mac(rng)
                    tx = round(rng.uniform(-41.0, -35.0), 1)
                    rows.append(
                        AccessPoint(bssid=bssid, floor=floor, x=px, y=py, tx_power=tx, ssid=SSID)
                    )
                    aps.setdefault(floor.mall_id, []).append(AP(bssid, floor.level, px, py, tx))
    AccessPoint.objects.bulk_create(rows, ignore_conflicts=True)

    # fingerprint survey of the first mall
    surveyed = 0
    first = malls[0]
    survey_rows: list[SurveyPoint] = []
    for floor in [f for f in floors if f.mall_id == first.pk]:
        for zone in Zone.objects.filter(
            floor=floor, kind__in=[ZoneKind.CORRIDOR, ZoneKind.ATRIUM, ZoneKind.CAR_PARK]
        ).order_by("id"):
            for line in _lines(zone):
                for x, y in _along(line, SURVEY_SPACING_M):
                    scans = [
                        simulate_scan(aps[first.pk], floor.level, x, y, rng)
                        for _ in range(SURVEY_SCANS)
                    ]
                    keys = {k for s in scans for k in s}
                    fp = {
                        k: round(sum(s.get(k, -100) for s in scans) / len(scans), 1)
                        for k in sorted(keys)
                    }
                    survey_rows.append(
                        SurveyPoint(floor=floor, x=x, y=y, fingerprint=fp, samples=SURVEY_SCANS)
                    )
                    surveyed += 1
    SurveyPoint.objects.bulk_create(survey_rows)
    lines.append(
        f"navigation: {kiosks} kiosks, {len(rows)} WiFi access points, {surveyed} survey points "
        f"in {first.name}"
    )
    return lines


def reset_navigation_demo() -> None:
    for model in (Closure, SurveyPoint, AccessPoint, Kiosk, LinkStop, Link):
        model.objects.all().delete()
