"""Links the geometry implies, made by ``network_links_generate``: a lift shaft, an escalator
or a stairwell per run of zones with one code on consecutive floors of a mall, and street
walks between neighbouring malls (ground-floor exit to ground-floor exit). Skywalks and
tunnels cannot be seen in floor plans: operators add them with ``link_create``."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from agora.accounts.actor import Actor
from agora.core.errors import PermissionDenied, field_error
from agora.core.services import audit_record
from agora.district.choices import ZoneKind
from agora.district.models import District, Floor, Mall, Zone
from agora.district.services.geometry import geometry_touch
from agora.lib.geo import to_metres
from agora.lib.geometry import centroid
from agora.navigation.choices import Direction, LinkKind
from agora.navigation.models import Link, LinkStop

STREET_DETOUR = 1.3  # streets are not straight lines
STREET_CROSSING_S = 40.0  # one set of traffic lights
NEIGHBOUR_M = 600.0  # malls closer than this get a street walk besides the spanning tree
ZONE_LINK: dict[str, str] = {
    ZoneKind.LIFT: LinkKind.LIFT,
    ZoneKind.ESCALATOR: LinkKind.ESCALATOR,
    ZoneKind.STAIRS: LinkKind.STAIRS,
}


@dataclass(frozen=True)
class Generated:
    vertical: int
    streets: int
    removed: int


def _direction(name: str) -> str:
    lowered = name.lower()
    if "上行" in name or "up" in lowered:
        return Direction.UP
    if "下行" in name or "down" in lowered:
        return Direction.DOWN
    return Direction.BOTH


def _suffix(code: str) -> str:
    return code.split("-", 1)[1] if "-" in code else code


def district_origin(malls: list[Mall]) -> tuple[float, float]:
    lat0 = sum(float(m.latitude) for m in malls) / len(malls)
    lon0 = sum(float(m.longitude) for m in malls) / len(malls)
    return lat0, lon0


def world_point(mall: Mall, x: float, y: float, origin: tuple[float, float]) -> tuple[float, float]:
    mx, my = to_metres(float(mall.latitude), float(mall.longitude), *origin)
    return mx + x, my + y


def _upsert(
    district: District,
    mall: Mall | None,
    code: str,
    kind: str,
    name: str,
    direction: str,
    stops: Sequence[tuple[Floor, Zone | None, float, float]],
    length_m: float = 0.0,
    extra_s: float = 0.0,
) -> Link:
    link, _ = Link.objects.update_or_create(
        district=district,
        code=code,
        defaults={
            "mall": mall,
            "kind": kind,
            "name": name,
            "direction": direction,
            "length_m": round(length_m, 1),
            "extra_s": extra_s,
            "auto": True,
        },
    )
    link.stops.all().delete()
    LinkStop.objects.bulk_create(
        LinkStop(link=link, order=i, floor=f, zone=z, x=x, y=y)
        for i, (f, z, x, y) in enumerate(stops)
    )
    return link


def network_links_generate(*, actor: Actor, district: District) -> Generated:
    """(Re)make the automatic links of a district from its geometry; links an operator made
    are left alone, automatic ones whose zones are gone are removed."""
    if not actor.is_admin and district.pk not in actor.district_operator_ids:
        raise PermissionDenied(detail="only the district's operators rebuild its network")
    with transaction.atomic():
        kept: set[int] = set()
        malls = list(Mall.objects.filter(district=district).order_by("id"))
        vertical = 0
        for mall in malls:
            groups: dict[tuple[str, str], list[Zone]] = defaultdict(list)
            for z in Zone.objects.filter(floor__mall=mall, kind__in=list(ZONE_LINK)).select_related(
                "floor"
            ):
                groups[(z.kind, _suffix(z.code))].append(z)
            for (kind, suffix), zones in sorted(groups.items()):
                zones.sort(key=lambda z: z.floor.level)
                if len({z.floor.level for z in zones}) < 2:
                    continue
                stops = [(z.floor, z, *centroid(z.polygon)) for z in zones]
                link = _upsert(
                    district,
                    mall,
                    f"{mall.code}:{suffix}",
                    ZONE_LINK[kind],
                    zones[0].name,
                    _direction(zones[0].name) if kind == ZoneKind.ESCALATOR else Direction.BOTH,
                    stops,
                )
                kept.add(link.pk)
                vertical += 1
        streets = 0
        if len(malls) > 1:
            origin = district_origin(malls)
            doors: dict[int, list[tuple[Floor, Zone, float, float, float, float]]] = {}
            for mall in malls:
                ground = (
                    Floor.objects.filter(mall=mall, level__gte=1).order_by("level").first()
                    or Floor.objects.filter(mall=mall).order_by("-level").first()
                )
                if ground is None:
                    continue
                exits = Zone.objects.filter(floor=ground, kind=ZoneKind.EVACUATION_EXIT)
                doors[mall.pk] = [
                    (ground, z, x, y, *world_point(mall, x, y, origin))
                    for z in exits.order_by("id")
                    for x, y in [centroid(z.polygon)]
                ]
            pairs = _neighbours(malls, doors)
            for a, b in pairs:
                best = min(
                    (
                        (math.dist(da[4:], db[4:]), da, db)
                        for da in doors[a.pk]
                        for db in doors[b.pk]
                    ),
                    key=lambda r: r[0],
                )
                dist, da, db = best
                link = _upsert(
                    district,
                    None,
                    f"street:{a.code}~{b.code}",
                    LinkKind.STREET,
                    f"{a.name} ⇄ {b.name}",
                    Direction.BOTH,
                    [(da[0], da[1], da[2], da[3]), (db[0], db[1], db[2], db[3])],
                    length_m=dist * STREET_DETOUR,
                    extra_s=STREET_CROSSING_S,
                )
                kept.add(link.pk)
                streets += 1
        stale = Link.objects.filter(district=district, auto=True).exclude(pk__in=kept)
        removed = stale.count()
        stale.delete()
        geometry_touch(district_id=district.pk)
        audit_record(
            actor=actor,
            action="navigation.links_generate",
            target=district,
            after={"vertical": vertical, "streets": streets, "removed": removed},
        )
    return Generated(vertical, streets, removed)


def _neighbours(
    malls: list[Mall], doors: dict[int, list[tuple[Floor, Zone, float, float, float, float]]]
) -> list[tuple[Mall, Mall]]:
    """A minimum spanning tree of the malls (so every mall is reachable) plus every pair
    closer than NEIGHBOUR_M."""
    have = [m for m in malls if doors.get(m.pk)]
    if len(have) < 2:
        return []
    centre = {m.pk: doors[m.pk][0][4:] for m in have}
    dist = {(a.pk, b.pk): math.dist(centre[a.pk], centre[b.pk]) for a in have for b in have}
    in_tree = {have[0].pk}
    pairs: set[tuple[int, int]] = set()
    while len(in_tree) < len(have):
        a, b = min(
            ((a, b) for a in in_tree for b in (m.pk for m in have) if b not in in_tree),
            key=lambda p: dist[p],
        )
        in_tree.add(b)
        pairs.add((min(a, b), max(a, b)))
    for ma in have:
        for mb in have:
            if ma.pk < mb.pk and dist[(ma.pk, mb.pk)] <= NEIGHBOUR_M:
                pairs.add((ma.pk, mb.pk))
    by_id = {m.pk: m for m in have}
    return [(by_id[a], by_id[b]) for a, b in sorted(pairs)]


def link_create(
    *,
    actor: Actor,
    district: District,
    kind: str,
    code: str,
    name: str,
    stops: list[tuple[Floor, float, float]],
    length_m: float = 0.0,
    extra_s: float = 0.0,
    direction: str = Direction.BOTH,
) -> Link:
    """An operator's link: a skywalk, a tunnel or a street walk the generator cannot see."""
    if not actor.is_admin and district.pk not in actor.district_operator_ids:
        raise PermissionDenied(detail="only the district's operators add links between malls")
    if kind not in (LinkKind.SKYWALK, LinkKind.TUNNEL, LinkKind.STREET):
        raise field_error("kind", "only skywalk, tunnel or street links are added by hand")
    if len(stops) != 2:
        raise field_error("stops", "a link between malls has exactly two ends", "length")
    for i, (floor, x, y) in enumerate(stops):
        if floor.mall.district_id != district.pk:
            raise field_error(f"stops.{i}.floor_id", "not a floor of this district", "unknown")
        if not (0 <= x <= floor.width_m and 0 <= y <= floor.depth_m):
            raise field_error(f"stops.{i}.x", f"({x}, {y}) lies outside {floor}", "geometry")
    if not (0 < length_m <= 5000):
        raise field_error("length_m", "between 0 and 5,000 metres", "range")
    if not (0 <= extra_s <= 600):
        raise field_error("extra_s", "between 0 and 600 seconds", "range")
    if Link.objects.filter(district=district, code=code).exists():
        raise field_error("code", f"a link {code!r} exists already", "duplicate")
    with transaction.atomic():
        link = Link.objects.create(
            district=district,
            mall=None,
            kind=kind,
            code=code,
            name=name,
            direction=direction,
            length_m=length_m,
            extra_s=extra_s,
            auto=False,
        )
        LinkStop.objects.bulk_create(
            LinkStop(link=link, order=i, floor=f, zone=None, x=x, y=y)
            for i, (f, x, y) in enumerate(stops)
        )
        geometry_touch(district_id=district.pk)
        audit_record(
            actor=actor,
            action="navigation.link_create",
            target=link,
            after={"kind": kind, "code": code, "name": name},
        )
    return link
