"""Reads for navigation: the cached network, routes between places, place search, WiFi
positioning, the shopper's page by position (APP-1), closures, links and kiosks."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agora.core.errors import FieldError, NotFound, ValidationFailed, field_error
from agora.district.choices import FacilityKind, ShopCategory, ShopStatus
from agora.district.models import District, Facility, Floor, Mall, Shop, ShopUnit, Zone
from agora.district.selectors import malls_public, shop_directory
from agora.lib.geo import distance_to_box, to_metres
from agora.lib.pinyin import search_keys
from agora.lib.wifi import (
    AP,
    RSSI_MAX,
    RSSI_MIN,
    fingerprint_match,
    floor_scores,
    normalise_bssid,
    weighted_centroid,
)
from agora.lib.wifi import (
    SurveyPoint as SP,
)
from agora.navigation.choices import NearestKind, PositionMethod, RouteMode
from agora.navigation.instructions import step_text
from agora.navigation.models import AccessPoint, Closure, Kiosk, Link, SurveyPoint
from agora.navigation.network import (
    Attachment,
    FacilityRow,
    FloorRow,
    Geometry,
    LinkRow,
    MallRow,
    Network,
    ShopRow,
    StopRow,
    ZoneRow,
    build_network,
)
from agora.navigation.routes import Leg, Route, search

# --- the network, cached per geometry version ------------------------------------------------
_lock = threading.Lock()
_networks: dict[int, tuple[int, Network]] = {}


def _version(district_id: int) -> int:
    """Bumped by every service that changes what the network is built from (one read)."""
    version = (
        District.objects.filter(pk=district_id).values_list("geometry_version", flat=True).first()
    )
    if version is None:
        raise NotFound(detail="no such district")
    return version


def geometry_of(district_id: int) -> Geometry:
    malls = tuple(
        MallRow(m.pk, m.name) for m in Mall.objects.filter(district_id=district_id).order_by("id")
    )
    mall_ids = [m.id for m in malls]
    floors = tuple(
        FloorRow(f.pk, f.mall_id, f.level, f.name)
        for f in Floor.objects.filter(mall_id__in=mall_ids).order_by("mall_id", "level")
    )
    zones = tuple(
        ZoneRow(z.pk, z.floor_id, z.kind, z.name, z.code, z.polygon)
        for z in Zone.objects.filter(floor__mall_id__in=mall_ids).order_by("id")
    )
    facilities = tuple(
        FacilityRow(f.pk, f.floor_id, f.zone_id, f.kind, f.name, f.x, f.y)
        for f in Facility.objects.filter(floor__mall_id__in=mall_ids).order_by("id")
    )
    links = tuple(
        LinkRow(
            link.pk,
            link.mall_id,
            link.kind,
            link.name,
            link.direction,
            link.length_m,
            link.extra_s,
            tuple(StopRow(s.floor_id, s.zone_id, s.x, s.y) for s in link.stops.all()),
        )
        for link in Link.objects.filter(district_id=district_id)
        .prefetch_related("stops")
        .order_by("id")
    )
    units: dict[int, list[int]] = {}
    for shop_id, zone_id in ShopUnit.objects.filter(shop__mall_id__in=mall_ids).values_list(
        "shop_id", "zone_id"
    ):
        units.setdefault(shop_id, []).append(zone_id)
    shops = tuple(
        ShopRow(s.pk, s.mall_id, s.name, tuple(sorted(units.get(s.pk, ()))))
        for s in Shop.objects.filter(mall_id__in=mall_ids).order_by("id")
    )
    return Geometry(malls, floors, zones, facilities, links, shops)


def network_of(district_id: int) -> Network:
    version = _version(district_id)
    cached = _networks.get(district_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        cached = _networks.get(district_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        net = build_network(geometry_of(district_id))
        _networks[district_id] = (version, net)
        return net


def _not_over(qs: QuerySet[Closure], now: datetime) -> QuerySet[Closure]:
    """Closures neither lifted nor past their end (those due to start later included)."""
    return qs.filter(lifted_at__isnull=True).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def closures_active(*, district_id: int) -> list[Closure]:
    now = timezone.now()
    return list(
        _not_over(Closure.objects.filter(district_id=district_id, starts_at__lte=now), now)
        .select_related("zone", "link")
        .order_by("id")
    )


def closures_list(*, district_id: int, include_lifted: bool = False) -> QuerySet[Closure]:
    qs = Closure.objects.filter(district_id=district_id).select_related(
        "zone__floor__mall", "link", "created_by"
    )
    if not include_lifted:
        qs = _not_over(qs, timezone.now())
    return qs.order_by("-id")


def links_list(*, district_id: int) -> QuerySet[Link]:
    return Link.objects.filter(district_id=district_id).prefetch_related("stops").order_by("id")


def default_district() -> District:
    district = District.objects.order_by("id").first()
    if district is None:
        raise NotFound(detail="no district yet")
    return district


# --- places ------------------------------------------------------------------------------
@dataclass
class Place:
    """A resolved origin or destination: one or more attachments (a shop's doors, every
    restroom for "nearest restroom") and what to call it."""

    spec: str
    label: str
    places: list[Attachment]
    floor_id: int | None = None
    names: list[str] = field(default_factory=list)  # per attachment, for "nearest" places


POINT_RE = re.compile(r"^point:(\d{1,10})[:,](-?\d{1,6}(?:\.\d+)?)[:,](-?\d{1,6}(?:\.\d+)?)$")
SPEC_RE = re.compile(r"^(shop|facility|zone|kiosk|nearest):([A-Za-z0-9_\-]{1,40})$")
NEAREST_FACILITY = {
    NearestKind.RESTROOM: FacilityKind.RESTROOM,
    NearestKind.SERVICE_DESK: FacilityKind.SERVICE_DESK,
    NearestKind.LIFT: FacilityKind.LIFT,
    NearestKind.NURSING_ROOM: FacilityKind.NURSING_ROOM,
    NearestKind.ATM: FacilityKind.ATM,
    NearestKind.AED: FacilityKind.AED,
}


def _bad(field_name: str, reason: str, code: str = "invalid") -> ValidationFailed:
    return field_error(field_name, reason, code)


def place_resolve(net: Network, spec: str, *, field_name: str, evacuation: bool = False) -> Place:
    """``shop:12``, ``facility:5``, ``zone:7``, ``kiosk:<code>``, ``point:<floor>:<x>:<y>`` or
    (destinations only) ``nearest:restroom|exit|service_desk|lift|nursing_room|atm|aed``."""
    spec = (spec or "").strip()
    m = POINT_RE.match(spec)
    if m:
        floor_id, x, y = int(m.group(1)), float(m.group(2)), float(m.group(3))
        floor = Floor.objects.filter(pk=floor_id).first()
        if floor is None or floor_id not in net.floors:
            raise _bad(field_name, f"no floor {floor_id} in this district", "unknown_floor")
        if not (0 <= x <= floor.width_m and 0 <= y <= floor.depth_m):
            raise _bad(
                field_name,
                f"({x}, {y}) lies outside {floor.mall.name} {floor.name}",
                "outside_floor",
            )
        att = net.attach(floor_id, x, y)
        if att is None:
            raise _bad(field_name, f"{floor.name} has no walkable network", "no_network")
        return Place(spec, _("Your position"), [att], floor_id)
    m = SPEC_RE.match(spec)
    if not m:
        raise _bad(
            field_name,
            "a place is shop:<id>, facility:<id>, zone:<id>, kiosk:<code>, "
            "point:<floor>:<x>:<y> or nearest:<kind>",
            "format",
        )
    kind, ref = m.group(1), m.group(2)
    if kind == "kiosk":
        kiosk = Kiosk.objects.filter(code=ref).first()
        if kiosk is None or kiosk.floor_id not in net.floors:
            raise _bad(field_name, f"no kiosk {ref!r}", "unknown")
        att = net.attach(kiosk.floor_id, kiosk.x, kiosk.y)
        if att is None:
            raise _bad(field_name, "the kiosk's floor has no walkable network", "no_network")
        return Place(spec, _("You are here"), [att], kiosk.floor_id)
    if kind == "nearest":
        return _nearest(net, ref, field_name=field_name, evacuation=evacuation)
    if not ref.isdigit():
        raise _bad(field_name, f"{kind} ids are numbers", "format")
    pk = int(ref)
    if kind == "shop":
        units = net.shop_units.get(pk)
        shop = Shop.objects.filter(pk=pk, status=ShopStatus.OPEN, listed=True).first()
        if not units or shop is None:
            raise _bad(field_name, f"no open shop {pk} in this district", "unknown")
        doors = [net.unit_doors[u] for u in units if u in net.unit_doors]
        if not doors:
            raise _bad(field_name, f"{shop.name} has no door on a corridor", "no_network")
        return Place(spec, shop.name, doors, doors[0].floor_id)
    if kind == "facility":
        fac = Facility.objects.filter(pk=pk).first()
        if fac is None or pk not in net.facility_places:
            raise _bad(field_name, f"no facility {pk} in this district", "unknown")
        att = net.facility_places[pk]
        return Place(spec, fac.name, [att], att.floor_id)
    # zone
    zone_row = net.zones.get(pk)
    if zone_row is None:
        raise _bad(field_name, f"no zone {pk} in this district", "unknown")
    if pk in net.zone_nodes:
        att = net.node_place(net.zone_nodes[pk])
    elif pk in net.unit_doors:
        att = net.unit_doors[pk]
    else:
        xs = [p[0] for p in zone_row.polygon[:-1]]
        ys = [p[1] for p in zone_row.polygon[:-1]]
        found = net.attach(zone_row.floor_id, sum(xs) / len(xs), sum(ys) / len(ys), zone_id=pk)
        if found is None:
            raise _bad(field_name, "the zone's floor has no walkable network", "no_network")
        att = found
    return Place(spec, f"{zone_row.name}", [att], zone_row.floor_id)


def _nearest(net: Network, ref: str, *, field_name: str, evacuation: bool) -> Place:
    if ref not in NearestKind.values:
        raise _bad(field_name, f"nearest what? one of {', '.join(NearestKind.values)}", "format")
    places: list[Attachment] = []
    names: list[str] = []
    if ref == NearestKind.EXIT:
        for nid in net.exits:
            n = net.nodes[nid]
            floor = net.floors[n.floor_id]
            # to leave the building: exits at street level; in an evacuation: any exit
            if evacuation or floor.level == 1:
                places.append(net.node_place(nid))
                names.append(n.label)
    else:
        wanted = NEAREST_FACILITY[NearestKind(ref)]
        for fac in net.geometry.facilities:
            if fac.kind == wanted and fac.id in net.facility_places:
                places.append(net.facility_places[fac.id])
                names.append(fac.name)
    if not places:
        raise _bad(field_name, f"the district has no {NearestKind(ref).label}", "none")
    return Place(f"nearest:{ref}", str(NearestKind(ref).label), places, None, names)


# --- routes ------------------------------------------------------------------------------
@dataclass
class RouteView:
    """A route with everything a page or the API shows."""

    route: Route
    origin_label: str
    destination_label: str
    instructions: list[dict[str, Any]]
    legs: list[dict[str, Any]]
    floors: list[int]
    closures_avoided: list[str]


def _unroutable(reason: str, detail: str, field_name: str = "to") -> ValidationFailed:
    return ValidationFailed(
        detail=detail,
        errors=[FieldError(field_name, detail, reason)],
        extra={"reason": reason},
        code="no_route",
        title="No route",
    )


def _closed_reason(place: Place, closed: dict[int, str], net: Network) -> str | None:
    """The closure that shuts a place (its zone, or the corridor in front of it)."""
    for att in place.places:
        if att.zone_id is not None and att.zone_id in closed:
            return closed[att.zone_id]
        if att.node is not None:
            z = net.nodes[att.node].zone_id
            if z is not None and z in closed:
                return closed[z]
        elif att.segment >= 0:
            z = net.segments[att.segment].zone_id
            if z is not None and z in closed:
                return closed[z]
    return None


def route_find(
    *, district_id: int, origin: str, destination: str, mode: str = RouteMode.FASTEST
) -> RouteView:
    if mode not in RouteMode.values:
        raise _bad("mode", f"one of {', '.join(RouteMode.values)}", "choice")
    net = network_of(district_id)
    evac = mode == RouteMode.EVACUATION
    src = place_resolve(net, origin, field_name="from")
    if src.spec.startswith("nearest:"):
        raise _bad("from", "a route starts at a place, not at 'nearest'", "format")
    dst = place_resolve(
        net, "nearest:exit" if evac else destination, field_name="to", evacuation=evac
    )
    closures = closures_active(district_id=district_id)
    closed_zones = {c.zone_id: c.reason for c in closures if c.zone_id is not None}
    closed_links = {c.link_id: c.reason for c in closures if c.link_id is not None}
    g = net.graph(mode, closed_zones, closed_links)
    route = search(net, g, src.places, dst.places)
    if route is None:
        why = _closed_reason(dst, closed_zones, net)
        if why is not None:
            raise _unroutable(
                "destination_closed",
                _("%(place)s is closed: %(reason)s") % {"place": dst.label, "reason": why},
            )
        why = _closed_reason(src, closed_zones, net)
        if why is not None:
            raise _unroutable(
                "origin_closed", _("Where you are is closed: %(reason)s") % {"reason": why}, "from"
            )
        open_route = search(net, net.graph(mode), src.places, dst.places)
        if open_route is not None:
            reasons = "; ".join(sorted(set(closed_zones.values()) | set(closed_links.values())))
            raise _unroutable(
                "closed_on_the_way",
                _("Every way there is closed now: %(reason)s") % {"reason": reasons},
            )
        if mode == RouteMode.STEP_FREE and search(
            net, net.graph(RouteMode.FASTEST), src.places, dst.places
        ):
            raise _unroutable(
                "no_step_free_route",
                _("There is no step-free way to %(place)s: it needs stairs or an escalator")
                % {"place": dst.label},
                "mode",
            )
        raise _unroutable(
            "not_connected",
            _("%(a)s and %(b)s are not connected") % {"a": src.label, "b": dst.label},
        )
    dest_label = dst.label
    if dst.names:
        dest_label = dst.names[dst.places.index(route.destination)]
    return _view(net, route, src.label, dest_label, closed_zones, closed_links)


def _view(
    net: Network,
    route: Route,
    origin: str,
    destination: str,
    closed_zones: dict[int, str],
    closed_links: dict[int, str],
) -> RouteView:
    floors = net.floors
    malls = {m.id: m.name for m in net.geometry.malls}

    def floor_name(fid: int | None) -> str:
        return floors[fid].name if fid in floors else ""

    def mall_name(fid: int | None) -> str:
        return malls.get(floors[fid].mall_id, "") if fid in floors else ""

    texts = [
        {
            "kind": s.kind,
            "text": step_text(
                s,
                floor_name=floor_name,
                mall_name=mall_name,
                origin=origin,
                destination=destination,
            ),
            **{k: v for k, v in s.params.items() if k in ("distance_m", "to_floor_id", "turn")},
        }
        for s in route.steps
    ]
    legs = [_leg(leg, floors, malls) for leg in route.legs]
    seen: list[int] = []
    for leg in route.legs:
        if leg.floor_id not in seen:
            seen.append(leg.floor_id)
    avoided = sorted(set(closed_zones.values()) | set(closed_links.values()))
    return RouteView(route, origin, destination, texts, legs, seen, avoided)


def _leg(leg: Leg, floors: dict[int, FloorRow], malls: dict[int, str]) -> dict[str, Any]:
    f = floors[leg.floor_id]

    def hop(info: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
        if info is None:
            return None
        other = info.get(key)
        return {
            "kind": info["kind"],
            "floor_id": other,
            "floor": floors[other].name if other in floors else "",
            "mall": malls.get(floors[other].mall_id, "") if other in floors else "",
            "x": round(info["at"][0], 2),
            "y": round(info["at"][1], 2),
        }

    return {
        "floor_id": f.id,
        "floor": f.name,
        "mall_id": f.mall_id,
        "mall": malls.get(f.mall_id, ""),
        "points": [[round(x, 2), round(y, 2)] for x, y in leg.points],
        "enter": hop(leg.enter, "from_floor_id"),
        "leave": hop(leg.leave, "to_floor_id"),
    }


# --- search (APP-5, MKT-3) ----------------------------------------------------------------
@dataclass(frozen=True)
class Found:
    kind: str  # shop, facility, category
    id: str
    name: str
    detail: str
    place: str  # the spec to route to


def places_search(*, q: str, mall_id: int | None = None, limit: int = 20) -> list[Found]:
    """Shops, facilities and categories by name, pinyin or initials (xbk → 星巴克,
    wsj → 卫生间, cy → 餐饮)."""
    term = (q or "").strip()[:40]
    if not term:
        return []
    key = "".join(ch for ch in term.lower() if ch.isalnum())
    out: list[Found] = []
    for value, label in ShopCategory.choices:
        zh = str(label)
        if _matches(term, key, [zh, str(value)]):
            out.append(Found("category", value, zh, "", f"category:{value}"))
    shops = list(shop_directory(q=term, mall_id=mall_id)[:limit])
    floors_of: dict[int, str] = dict(
        ShopUnit.objects.filter(shop__in=shops).values_list("shop_id", "zone__floor__name")
    )
    for shop in shops:
        out.append(
            Found(
                "shop",
                str(shop.pk),
                shop.name,
                f"{shop.mall.name} {floors_of.get(shop.pk, '')}",
                f"shop:{shop.pk}",
            )
        )
    kinds = [v for v, label in FacilityKind.choices if _matches(term, key, [str(label), v])]
    facilities = Facility.objects.select_related("floor__mall").order_by(
        "floor__mall_id", "floor__level", "id"
    )
    if mall_id is not None:
        facilities = facilities.filter(floor__mall_id=mall_id)
    seen_names = 0
    for fac in facilities:
        if seen_names >= limit:
            break
        if fac.kind in kinds or _matches(term, key, [fac.name]):
            out.append(
                Found(
                    "facility",
                    str(fac.pk),
                    fac.name,
                    f"{fac.floor.mall.name} {fac.floor.name}",
                    f"facility:{fac.pk}",
                )
            )
            seen_names += 1
    return out[: limit * 2]


def _matches(term: str, key: str, names: Sequence[str]) -> bool:
    for name in names:
        if term.lower() in name.lower():
            return True
        if key and key.isascii():
            full, initials = search_keys(name)
            if full.startswith(key) or initials.startswith(key) or (len(key) >= 3 and key in full):
                return True
    return False


# --- positioning ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Position:
    floor_id: int
    floor: str
    mall_id: int
    mall: str
    zone_id: int | None
    zone: str
    x: float
    y: float
    accuracy_m: float
    method: str
    used: int
    ignored: list[str]


MAX_OBSERVATIONS = 64


def _clean_scan(observations: Sequence[dict[str, Any]]) -> dict[str, float]:
    if not observations:
        raise _bad("observations", "send at least one access point", "required")
    if len(observations) > MAX_OBSERVATIONS:
        raise _bad("observations", f"at most {MAX_OBSERVATIONS} access points", "length")
    errors: list[FieldError] = []
    scan: dict[str, float] = {}
    for i, o in enumerate(observations):
        bssid = normalise_bssid(str(o.get("bssid", "")))
        rssi = o.get("rssi")
        if bssid is None:
            errors.append(FieldError(f"observations.{i}.bssid", "not a MAC address", "format"))
        if (
            not isinstance(rssi, (int, float))
            or isinstance(rssi, bool)
            or math.isnan(rssi)
            or (not (RSSI_MIN <= rssi <= RSSI_MAX))
        ):
            errors.append(
                FieldError(
                    f"observations.{i}.rssi", f"RSSI is dBm from {RSSI_MIN} to {RSSI_MAX}", "range"
                )
            )
            continue
        if bssid is not None:
            scan[bssid] = max(scan.get(bssid, -999.0), float(rssi))
    if errors:
        raise ValidationFailed(detail="some observations are wrong", errors=errors[:20])
    return scan


def zone_at(floor_id: int, x: float, y: float) -> Zone | None:
    """The smallest zone of the floor containing the point (a shop unit inside a wing)."""
    from shapely.geometry import Point, Polygon

    p = Point(x, y)
    best: Zone | None = None
    for z in Zone.objects.filter(floor_id=floor_id).order_by("id"):
        poly = Polygon([(q[0], q[1]) for q in z.polygon])
        if poly.buffer(0.01).contains(p) and (best is None or z.area_m2 < best.area_m2):
            best = z
    return best


def _position(
    floor: Floor, x: float, y: float, accuracy: float, method: str, used: int, ignored: list[str]
) -> Position:
    x = min(max(x, 0.0), floor.width_m)
    y = min(max(y, 0.0), floor.depth_m)
    zone = zone_at(floor.pk, x, y)
    return Position(
        floor.pk,
        floor.name,
        floor.mall_id,
        floor.mall.name,
        zone.pk if zone else None,
        zone.name if zone else "",
        round(x, 2),
        round(y, 2),
        round(accuracy, 1),
        method,
        used,
        ignored,
    )


def position_from_wifi(*, observations: Sequence[dict[str, Any]]) -> Position:
    """Floor from the loudest floor; x, y by fingerprint where the floor was surveyed, else
    by weighted centroid. Unknown APs are ignored (and listed); none known is an error."""
    scan = _clean_scan(observations)
    rows = list(AccessPoint.objects.filter(bssid__in=list(scan)).select_related("floor__mall"))
    known = {ap.bssid for ap in rows}
    ignored = sorted(set(scan) - known)
    if not rows:
        raise _bad(
            "observations",
            "none of these access points belongs to the district",
            "unknown_access_points",
        )
    floors = {ap.floor_id: ap.floor for ap in rows}
    # AP.level holds the floor id here: floor_scores only groups by it (no slab loss needed)
    by_floor = [AP(ap.bssid, ap.floor_id, ap.x, ap.y, ap.tx_power) for ap in rows]
    scores = floor_scores(by_floor, scan)
    floor_id = max(scores, key=lambda f: scores[f])
    floor = floors[floor_id]
    survey = [SP(s.x, s.y, s.fingerprint) for s in SurveyPoint.objects.filter(floor_id=floor_id)]
    on_floor = [a for a in by_floor if a.level == floor_id]
    heard_here = [a for a in on_floor if a.bssid in scan]
    if len(survey) >= 3 and len(heard_here) >= 3:
        est = fingerprint_match(survey, scan)
        method = PositionMethod.FINGERPRINT
    else:
        est = weighted_centroid(on_floor, scan)
        method = PositionMethod.CENTROID
    return _position(floor, est.x, est.y, est.accuracy_m, method, est.used, ignored)


def position_manual(*, floor_id: int, x: float, y: float) -> Position:
    floor = Floor.objects.select_related("mall").filter(pk=floor_id).first()
    if floor is None:
        raise _bad("floor_id", "no such floor", "unknown")
    if not (0 <= x <= floor.width_m and 0 <= y <= floor.depth_m):
        raise _bad("x", f"({x}, {y}) lies outside {floor.mall.name} {floor.name}", "outside_floor")
    return _position(floor, x, y, 2.0, PositionMethod.MANUAL, 0, [])


def access_kiosk(*, code: str) -> Kiosk:
    kiosk = Kiosk.objects.select_related("floor__mall").filter(code=code).first()
    if kiosk is None:
        raise NotFound(detail="no such kiosk")
    return kiosk


def kiosks_list(*, mall_ids: Sequence[int] | None = None) -> QuerySet[Kiosk]:
    qs = Kiosk.objects.select_related("floor__mall").order_by("floor__mall_id", "code")
    return qs if mall_ids is None else qs.filter(floor__mall_id__in=mall_ids)


KIOSK_QUIET_S = 180


def kiosk_online(kiosk: Kiosk) -> bool:
    """Seen within the last three minutes (its page reports in every minute)."""
    seen = kiosk.last_seen_at
    return seen is not None and (timezone.now() - seen).total_seconds() <= KIOSK_QUIET_S


def position_of_kiosk(*, kiosk: Kiosk) -> Position:
    return _position(kiosk.floor, kiosk.x, kiosk.y, 0.5, PositionMethod.KIOSK, 0, [])


# --- the page by position (APP-1) ------------------------------------------------------------
ENTER_M = 30.0  # within this of a mall's footprint: the mall's page
LEAVE_M = 120.0  # ... and it stays until the shopper is this far away (no flapping at the edge)


@dataclass(frozen=True)
class PageChoice:
    page: str  # "mall" or "life"
    mall_id: int | None
    mall_code: str
    mall_name: str
    distance_m: float | None  # to the chosen (or nearest) mall's footprint


def malls_by_distance(*, latitude: float, longitude: float) -> list[tuple[float, Mall]]:
    """Every mall with the metres from the point to its footprint (its floors' largest width
    × depth from its stored latitude/longitude; 0 inside), nearest first."""
    sizes = {
        row["mall_id"]: (row["w"], row["d"])
        for row in Floor.objects.values("mall_id").annotate(w=Max("width_m"), d=Max("depth_m"))
    }
    out: list[tuple[float, Mall]] = []
    for mall in malls_public():
        w, d = sizes.get(mall.pk, (50.0, 50.0))
        x, y = to_metres(latitude, longitude, float(mall.latitude), float(mall.longitude))
        out.append((distance_to_box(x, y, 0.0, 0.0, w, d), mall))
    out.sort(key=lambda r: (r[0], r[1].pk))
    return out


def page_for_position(
    *, latitude: float, longitude: float, accuracy_m: float = 0.0, current: str = ""
) -> PageChoice:
    """Inside (or within ENTER_M of) a mall: that mall's page. A mall once chosen stays until
    the shopper is LEAVE_M from it, so a position jittering at the edge never flips the page.
    A fix less precise than 200 m does not change the page."""
    if not (-90 <= latitude <= 90):
        raise _bad("latitude", "between -90 and 90", "range")
    if not (-180 <= longitude <= 180):
        raise _bad("longitude", "between -180 and 180", "range")
    if accuracy_m < 0:
        raise _bad("accuracy_m", "cannot be negative", "range")
    distances = malls_by_distance(latitude=latitude, longitude=longitude)
    current_mall = next((r for r in distances if r[1].code == current), None)
    if accuracy_m > 200 and current:
        if current_mall is not None:
            return PageChoice(
                "mall",
                current_mall[1].pk,
                current_mall[1].code,
                current_mall[1].name,
                round(current_mall[0], 1),
            )
        return PageChoice("life", None, "", "", round(distances[0][0], 1) if distances else None)
    if current_mall is not None and current_mall[0] <= LEAVE_M:
        m = current_mall[1]
        return PageChoice("mall", m.pk, m.code, m.name, round(current_mall[0], 1))
    if distances and distances[0][0] <= ENTER_M:
        d, m = distances[0]
        return PageChoice("mall", m.pk, m.code, m.name, round(d, 1))
    return PageChoice("life", None, "", "", round(distances[0][0], 1) if distances else None)
