"""The walkable network of a district, computed from its geometry (GUIDE-2, APP-3).

Per floor, every corridor and atrium contributes its centre line (the long axis of its
minimum rotated rectangle) and every car park a grid of aisles. Lines join where one ends
inside another's area or where they cross; corridor ends that lead nowhere are joined through
the service cores when nothing but open space (no shop, restroom or desk) lies between them.
Lifts, escalators and stairs (``Link`` rows with a stop per floor), evacuation exits and the
ends of links between malls become nodes, each joined to the nearest point of a line.

Shop doors (the middle of a unit's longest edge on a circulation zone), facilities, kiosks
and any point on a floor are *attachments*: a spot on one segment plus a short straight walk.
Only skeleton nodes take part in the shortest-path search (``agora.lib.routing``).

Costs are seconds: walking at the mode's speed, plus a lift's waiting and travel time, an
escalator's or a flight of stairs' time, a street crossing's lights. ``Network`` depends on
the geometry only; ``Network.graph(mode, closed)`` filters it for a mode and a set of closed
zones and links, and is cached, so closing something costs one filter and the first route
after it pays the precomputation of its own rows only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from shapely.geometry import LineString, Point, Polygon

from agora.district.choices import ZoneKind
from agora.lib.routing import Arc, Router, project
from agora.navigation.choices import Direction, LinkKind, RouteMode

WALK_SPEED = {RouteMode.FASTEST: 1.2, RouteMode.STEP_FREE: 1.0, RouteMode.EVACUATION: 1.3}
LIFT_WAIT_S = 30.0  # doors, waiting for the car
LIFT_PER_LEVEL_S = 4.0
ESCALATOR_RIDE_S = 22.0  # about 12 m at 0.5 m/s, plus stepping on and off
ESCALATOR_LENGTH_M = 12.0
STAIRS_UP_S, STAIRS_DOWN_S = 28.0, 22.0  # one storey (about 5 m rise)
STAIRS_LENGTH_M = 12.0
PASSAGE_MAX_M = 40.0  # corridor ends further apart than this are not joined through a core
JUNCTION_TOLERANCE_M = 1.0
AISLE_SPACING_M = 32.0  # cross aisles of a car park

CIRCULATION = {ZoneKind.CORRIDOR, ZoneKind.ATRIUM, ZoneKind.CAR_PARK}
BLOCKING = {ZoneKind.SHOP_UNIT, ZoneKind.RESTROOM, ZoneKind.SERVICE_DESK}
STEPPED = {LinkKind.ESCALATOR, LinkKind.STAIRS}


# --- what the builder reads (plain rows, so tests and the bench can build without a database)
@dataclass(frozen=True)
class FloorRow:
    id: int
    mall_id: int
    level: int
    name: str


@dataclass(frozen=True)
class ZoneRow:
    id: int
    floor_id: int
    kind: str
    name: str
    code: str
    polygon: list[list[float]]


@dataclass(frozen=True)
class FacilityRow:
    id: int
    floor_id: int
    zone_id: int | None
    kind: str
    name: str
    x: float
    y: float


@dataclass(frozen=True)
class StopRow:
    floor_id: int
    zone_id: int | None
    x: float
    y: float


@dataclass(frozen=True)
class LinkRow:
    id: int
    mall_id: int | None
    kind: str
    name: str
    direction: str
    length_m: float
    extra_s: float
    stops: tuple[StopRow, ...]


@dataclass(frozen=True)
class ShopRow:
    id: int
    mall_id: int
    name: str
    unit_ids: tuple[int, ...]


@dataclass(frozen=True)
class MallRow:
    id: int
    name: str


@dataclass(frozen=True)
class Geometry:
    malls: tuple[MallRow, ...]
    floors: tuple[FloorRow, ...]
    zones: tuple[ZoneRow, ...]
    facilities: tuple[FacilityRow, ...]
    links: tuple[LinkRow, ...]
    shops: tuple[ShopRow, ...]


# --- the network ------------------------------------------------------------------------------
@dataclass
class Node:
    id: int
    floor_id: int
    x: float
    y: float
    kind: str  # "line", "exit", "lift", "escalator", "stairs", "skywalk", "street", "tunnel"
    label: str = ""
    zone_id: int | None = None
    link_id: int | None = None


@dataclass
class Edge:
    """One direction of a walk segment, or a directed hop of a link."""

    id: int
    u: int
    v: int
    kind: str  # "walk" or a LinkKind
    length_m: float
    fixed_s: float = 0.0
    zone_id: int | None = None  # closing this zone closes the edge
    link_id: int | None = None  # closing this link closes the edge
    segment: int | None = None  # the undirected walk segment (walk edges only)
    name: str = ""  # corridor or link name, for instructions


@dataclass
class Segment:
    id: int
    u: int
    v: int
    length_m: float
    zone_id: int | None
    forward: int  # edge u→v
    backward: int  # edge v→u


@dataclass(frozen=True)
class Attachment:
    """A place hooked onto the skeleton: ``point`` walks straight to ``anchor`` (``access_m``),
    which lies at ``t`` along ``segment`` (from its u to its v)."""

    floor_id: int
    point: tuple[float, float]
    anchor: tuple[float, float]
    segment: int
    t: float
    access_m: float
    zone_id: int | None = None  # the place's own zone (a shop unit): closing it closes this
    node: int | None = None  # places that are skeleton nodes themselves (lifts, exits)


@dataclass
class Graph:
    """One mode's graph with some zones and links closed, and its router."""

    mode: str
    speed: float
    closed_zones: frozenset[int]
    closed_links: frozenset[int]
    router: Router
    open_segments: set[int]

    def zone_open(self, zone_id: int | None) -> bool:
        return zone_id is None or zone_id not in self.closed_zones

    def ends(self, network: Network, att: Attachment) -> dict[int, float]:
        """The cost between an attachment and each skeleton node it reaches directly (walk
        segments are two-way with equal costs, so the same both to start and to end)."""
        if not self.zone_open(att.zone_id):
            return {}
        if att.node is not None:
            return {att.node: att.access_m / self.speed}
        if att.segment not in self.open_segments:
            return {}
        seg = network.segments[att.segment]
        a = (att.access_m + att.t * seg.length_m) / self.speed
        b = (att.access_m + (1 - att.t) * seg.length_m) / self.speed
        return {seg.u: a, seg.v: b}


@dataclass
class Network:
    geometry: Geometry
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    floors: dict[int, FloorRow] = field(default_factory=dict)
    zones: dict[int, ZoneRow] = field(default_factory=dict)
    floor_segments: dict[int, list[int]] = field(default_factory=dict)
    zone_segments: dict[int, list[int]] = field(default_factory=dict)
    zone_nodes: dict[int, int] = field(default_factory=dict)  # lift, stairs, exit zone → node
    unit_doors: dict[int, Attachment] = field(default_factory=dict)  # shop-unit zone → door
    facility_places: dict[int, Attachment] = field(default_factory=dict)
    shop_units: dict[int, tuple[int, ...]] = field(default_factory=dict)
    exits: list[int] = field(default_factory=list)  # evacuation exit nodes
    _graphs: dict[tuple[str, frozenset[int], frozenset[int]], Graph] = field(default_factory=dict)

    # --- queries --------------------------------------------------------------------------
    def attach(
        self, floor_id: int, x: float, y: float, *, zone_id: int | None = None
    ) -> Attachment | None:
        """Hook any point of a floor onto the nearest walk segment of that floor."""
        best: tuple[float, int, float] | None = None
        for sid in self.floor_segments.get(floor_id, ()):
            seg = self.segments[sid]
            a, b = self.nodes[seg.u], self.nodes[seg.v]
            t, d, _ = project(x, y, a.x, a.y, b.x, b.y)
            if best is None or d < best[0]:
                best = (d, sid, t)
        if best is None:
            return None
        d, sid, t = best
        seg = self.segments[sid]
        a, b = self.nodes[seg.u], self.nodes[seg.v]
        anchor = (a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
        return Attachment(floor_id, (x, y), anchor, sid, t, d, zone_id)

    def node_place(self, node_id: int) -> Attachment:
        n = self.nodes[node_id]
        return Attachment(n.floor_id, (n.x, n.y), (n.x, n.y), -1, 0.0, 0.0, None, node_id)

    def graph(
        self,
        mode: str,
        closed_zones: Iterable[int] = (),
        closed_links: Iterable[int] = (),
    ) -> Graph:
        key = (str(mode), frozenset(closed_zones), frozenset(closed_links))
        cached = self._graphs.get(key)
        if cached is not None:
            self._graphs[key] = self._graphs.pop(key)  # most recently used last
            return cached
        mode_, cz, cl = key
        speed = WALK_SPEED[RouteMode(mode_)]
        excluded: set[str] = set()
        if mode_ == RouteMode.STEP_FREE:
            excluded = {str(k) for k in STEPPED}
        elif mode_ == RouteMode.EVACUATION:
            excluded = {str(LinkKind.LIFT)}
        adjacency: list[list[Arc]] = [[] for _ in self.nodes]
        open_segments: set[int] = set()
        for e in self.edges:
            if e.kind in excluded or (e.zone_id in cz) or (e.link_id in cl):
                continue
            # a lift or exit whose own zone is closed on this floor cannot be used there
            if self.nodes[e.u].zone_id in cz or self.nodes[e.v].zone_id in cz:
                continue
            adjacency[e.u].append(Arc(e.v, e.length_m / speed + e.fixed_s, e.id))
            if e.segment is not None:
                open_segments.add(e.segment)
        g = Graph(mode_, speed, cz, cl, Router(adjacency, [e.u for e in self.edges]), open_segments)
        if len(self._graphs) > 16:  # closures come and go: drop the least recently used
            # graph, but never a mode's graph with nothing closed (its rows are the warm ones)
            for old in self._graphs:
                if old[1] or old[2]:
                    self._graphs.pop(old)
                    break
        self._graphs[key] = g
        return g


# --- building -------------------------------------------------------------------------------
@dataclass
class _Line:
    zone_id: int
    floor_id: int
    a: tuple[float, float]
    b: tuple[float, float]
    name: str
    cuts: set[float] = field(default_factory=lambda: {0.0, 1.0})

    def at(self, t: float) -> tuple[float, float]:
        return (self.a[0] + t * (self.b[0] - self.a[0]), self.a[1] + t * (self.b[1] - self.a[1]))

    @property
    def length(self) -> float:
        return math.dist(self.a, self.b)


def centre_line(polygon: Polygon) -> tuple[tuple[float, float], tuple[float, float]]:
    """The long axis of the minimum rotated rectangle: from the middle of one short side to
    the middle of the other."""
    rect = polygon.minimum_rotated_rectangle
    c = list(rect.exterior.coords)[:4]
    sides = [(c[i], c[(i + 1) % 4]) for i in range(4)]
    lengths = [math.dist(p, q) for p, q in sides]
    short = 0 if lengths[0] <= lengths[1] else 1
    p0, q0 = sides[short]
    p1, q1 = sides[short + 2]
    m0 = ((p0[0] + q0[0]) / 2, (p0[1] + q0[1]) / 2)
    m1 = ((p1[0] + q1[0]) / 2, (p1[1] + q1[1]) / 2)
    if (m0[0], m0[1]) > (m1[0], m1[1]):
        m0, m1 = m1, m0
    return (round(m0[0], 2), round(m0[1], 2)), (round(m1[0], 2), round(m1[1], 2))


def aisles(polygon: Polygon) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """A car park's driving aisles: two along its length and one across every ~32 m."""
    x0, y0, x1, y1 = polygon.bounds
    w, d = x1 - x0, y1 - y0
    lines: list[tuple[tuple[float, float], tuple[float, float]]] = []
    if w >= d:
        for f in (0.25, 0.75) if d >= 24 else (0.5,):
            y = round(y0 + f * d, 2)
            lines.append(((x0, y), (x1, y)))
        n = max(1, round(w / AISLE_SPACING_M))
        for i in range(n + 1):
            x = round(x0 + i * w / n, 2)
            lines.append(((x, y0), (x, y1)))
    else:
        for f in (0.25, 0.75) if w >= 24 else (0.5,):
            x = round(x0 + f * w, 2)
            lines.append(((x, y0), (x, y1)))
        n = max(1, round(d / AISLE_SPACING_M))
        for i in range(n + 1):
            y = round(y0 + i * d / n, 2)
            lines.append(((x0, y), (x1, y)))
    out = []
    for a, b in lines:
        clipped = LineString([a, b]).intersection(polygon)
        if isinstance(clipped, LineString) and clipped.length > 0.5:
            (ax, ay), (bx, by) = clipped.coords[0], clipped.coords[-1]
            out.append(((round(ax, 2), round(ay, 2)), (round(bx, 2), round(by, 2))))
    return out


def circulation_lines(
    kind: str, polygon: Polygon
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Where people walk in a circulation zone: a car park's aisles, else its centre line."""
    if kind == ZoneKind.CAR_PARK:
        return aisles(polygon)
    return [centre_line(polygon)]


class _Builder:
    def __init__(self, geometry: Geometry) -> None:
        self.net = Network(geometry)
        self.node_at: dict[tuple[int, float, float], int] = {}
        self.edge_keys: set[tuple[int, int, str, int | None]] = set()

    def node(self, floor_id: int, x: float, y: float, kind: str = "line", **kw: object) -> int:
        key = (floor_id, round(x, 2), round(y, 2))
        found = self.node_at.get(key)
        if found is not None:
            n = self.net.nodes[found]
            if n.kind == "line" and kind != "line":  # a connector landing on a line point
                n.kind = kind
                n.label = str(kw.get("label", ""))
                n.zone_id = kw.get("zone_id")  # type: ignore[assignment]
                n.link_id = kw.get("link_id")  # type: ignore[assignment]
            return found
        nid = len(self.net.nodes)
        self.net.nodes.append(Node(nid, floor_id, key[1], key[2], kind, **kw))  # type: ignore[arg-type]
        self.node_at[key] = nid
        return nid

    def edge(self, u: int, v: int, kind: str, length: float, **kw: object) -> int | None:
        link_id = kw.get("link_id")
        key = (u, v, kind, link_id if isinstance(link_id, int) else None)
        if u == v or key in self.edge_keys:
            return None
        self.edge_keys.add(key)
        eid = len(self.net.edges)
        self.net.edges.append(Edge(eid, u, v, kind, length, **kw))  # type: ignore[arg-type]
        return eid

    def segment(self, u: int, v: int, zone_id: int | None, name: str) -> int | None:
        a, b = self.net.nodes[u], self.net.nodes[v]
        length = math.hypot(a.x - b.x, a.y - b.y)
        if u == v:
            return None
        sid = len(self.net.segments)
        fwd = self.edge(u, v, "walk", length, zone_id=zone_id, segment=sid, name=name)
        back = self.edge(v, u, "walk", length, zone_id=zone_id, segment=sid, name=name)
        if fwd is None or back is None:
            return None
        self.net.segments.append(Segment(sid, u, v, length, zone_id, fwd, back))
        self.net.floor_segments.setdefault(a.floor_id, []).append(sid)
        if zone_id is not None:
            self.net.zone_segments.setdefault(zone_id, []).append(sid)
        return sid

    # --- per floor -------------------------------------------------------------------------
    def floor(
        self,
        floor: FloorRow,
        zones: list[ZoneRow],
        landings: list[tuple[float, float, str, str, int | None, int | None]],
    ) -> None:
        """Lines, their joins and the landings (x, y, kind, label, zone, link) of one floor."""
        polys = {z.id: Polygon([(p[0], p[1]) for p in z.polygon]) for z in zones}
        circ = [z for z in zones if z.kind in CIRCULATION]
        lines: list[_Line] = []
        for z in circ:
            for a, b in circulation_lines(z.kind, polys[z.id]):
                lines.append(_Line(z.id, floor.id, a, b, z.name))
        joins: list[tuple[tuple[float, float], _Line, float]] = []  # point → (line, t)
        dangling: list[tuple[tuple[float, float], _Line]] = []
        for line in lines:
            for end, t_end in ((line.a, 0.0), (line.b, 1.0)):
                joined = False
                for other in lines:
                    if other is line:
                        continue
                    if other.zone_id == line.zone_id:  # aisles of one car park cross instead
                        continue
                    if polys[other.zone_id].buffer(JUNCTION_TOLERANCE_M).contains(Point(end)):
                        t, _, _ = project(*end, *other.a, *other.b)
                        other.cuts.add(round(t, 6))
                        joins.append((end, other, t))
                        joined = True
                if not joined:
                    dangling.append((end, line))
                line.cuts.add(t_end)
        # crossings (car-park aisles, corridors drawn across each other)
        for i, la in enumerate(lines):
            for lb in lines[i + 1 :]:
                hit = LineString([la.a, la.b]).intersection(LineString([lb.a, lb.b]))
                if isinstance(hit, Point):
                    ta, _, _ = project(hit.x, hit.y, *la.a, *la.b)
                    tb, _, _ = project(hit.x, hit.y, *lb.a, *lb.b)
                    la.cuts.add(round(ta, 6))
                    lb.cuts.add(round(tb, 6))
        # landings: each onto the nearest line point
        landing_nodes: list[tuple[int, tuple[float, float], _Line, float, int | None]] = []
        for x, y, kind, label, zone_id, link_id in landings:
            best: tuple[float, _Line, float] | None = None
            for line in lines:
                t, d, _ = project(x, y, *line.a, *line.b)
                if best is None or d < best[0]:
                    best = (d, line, t)
            if best is None:
                continue
            _, line, t = best
            line.cuts.add(round(t, 6))
            nid = self.node(floor.id, x, y, kind, label=label, zone_id=zone_id, link_id=link_id)
            landing_nodes.append((nid, (x, y), line, t, zone_id))
        # split the lines into segments
        for line in lines:
            ts = sorted(line.cuts)
            ids = [self.node(floor.id, *line.at(t)) for t in ts]
            for u, v in itertools.pairwise(ids):
                self.segment(u, v, line.zone_id, line.name)
        for end, other, t in joins:
            u = self.node(floor.id, *end)
            v = self.node(floor.id, *other.at(t))
            if u != v:
                self.segment(u, v, other.zone_id, other.name)
        for nid, (x, y), line, t, zone_id in landing_nodes:
            anchor = self.node(floor.id, *line.at(t))
            d = math.hypot(x - line.at(t)[0], y - line.at(t)[1])
            if nid != anchor:
                # the short walk off a lift or an exit belongs to that zone: closing the zone on
                # this floor closes the landing
                self.edge(nid, anchor, "walk", d, zone_id=zone_id)
                self.edge(anchor, nid, "walk", d, zone_id=zone_id)
        # passages through the cores: dangling ends of different lines, clear of shops
        blockers = [polys[z.id].buffer(-0.05) for z in zones if z.kind in BLOCKING]
        for i, (pa, la) in enumerate(dangling):
            for pb, lb in dangling[i + 1 :]:
                if la is lb or math.dist(pa, pb) > PASSAGE_MAX_M:
                    continue
                path = LineString([pa, pb])
                if any(path.intersects(b) for b in blockers if not b.is_empty):
                    continue
                self.segment(self.node(floor.id, *pa), self.node(floor.id, *pb), None, "")

    def doors(self, floor: FloorRow, zones: list[ZoneRow]) -> None:
        polys = {z.id: Polygon([(p[0], p[1]) for p in z.polygon]) for z in zones}
        circ = [z for z in zones if z.kind in CIRCULATION and z.id in self.net.zone_segments]
        for z in zones:
            if z.kind != ZoneKind.SHOP_UNIT:
                continue
            best: tuple[float, tuple[float, float], int] | None = None
            for c in circ:
                shared = polys[z.id].exterior.intersection(polys[c.id].buffer(0.3))
                if shared.is_empty or shared.length <= 0.5:
                    continue
                if best is None or shared.length > best[0]:
                    mid = (
                        shared.interpolate(0.5, normalized=True)
                        if isinstance(shared, LineString)
                        else shared.centroid
                    )
                    best = (shared.length, (round(mid.x, 2), round(mid.y, 2)), c.id)
            if best is None:
                cen = polys[z.id].centroid
                att = self.net.attach(floor.id, cen.x, cen.y, zone_id=z.id)
            else:
                att = self._attach_to_zone(floor.id, best[1], best[2], z.id)
            if att is not None:
                self.net.unit_doors[z.id] = att

    def _attach_to_zone(
        self, floor_id: int, point: tuple[float, float], circ_zone: int, zone_id: int
    ) -> Attachment | None:
        best: tuple[float, int, float] | None = None
        for sid in self.net.zone_segments.get(circ_zone, ()):
            seg = self.net.segments[sid]
            a, b = self.net.nodes[seg.u], self.net.nodes[seg.v]
            t, d, _ = project(*point, a.x, a.y, b.x, b.y)
            if best is None or d < best[0]:
                best = (d, sid, t)
        if best is None:
            return self.net.attach(floor_id, *point, zone_id=zone_id)
        d, sid, t = best
        seg = self.net.segments[sid]
        a, b = self.net.nodes[seg.u], self.net.nodes[seg.v]
        anchor = (a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
        return Attachment(floor_id, point, anchor, sid, t, d, zone_id)


def build_network(geometry: Geometry) -> Network:
    b = _Builder(geometry)
    net = b.net
    net.floors = {f.id: f for f in geometry.floors}
    net.zones = {z.id: z for z in geometry.zones}
    zones_by_floor: dict[int, list[ZoneRow]] = {}
    for z in geometry.zones:
        zones_by_floor.setdefault(z.floor_id, []).append(z)
    landings: dict[int, list[tuple[float, float, str, str, int | None, int | None]]] = {}
    for z in geometry.zones:
        if z.kind == ZoneKind.EVACUATION_EXIT:
            c = Polygon([(p[0], p[1]) for p in z.polygon]).centroid
            landings.setdefault(z.floor_id, []).append(
                (round(c.x, 2), round(c.y, 2), "exit", z.name, z.id, None)
            )
    for link in geometry.links:
        for s in link.stops:
            landings.setdefault(s.floor_id, []).append(
                (s.x, s.y, link.kind, link.name, s.zone_id, link.id)
            )
    for f in sorted(geometry.floors, key=lambda f: (f.mall_id, f.level)):
        b.floor(f, zones_by_floor.get(f.id, []), landings.get(f.id, []))
    for n in net.nodes:
        if n.kind == "exit":
            net.exits.append(n.id)
            if n.zone_id is not None:
                net.zone_nodes[n.zone_id] = n.id
    # links: hops between their stops
    for link in geometry.links:
        stop_nodes = [b.node_at.get((s.floor_id, round(s.x, 2), round(s.y, 2))) for s in link.stops]
        if any(n is None for n in stop_nodes):
            continue
        ids = [n for n in stop_nodes if n is not None]
        for s, nid in zip(link.stops, ids, strict=True):
            if s.zone_id is not None and link.kind in (LinkKind.LIFT, LinkKind.STAIRS):
                net.zone_nodes.setdefault(s.zone_id, nid)
        levels = [net.floors[s.floor_id].level for s in link.stops]
        kw = {"link_id": link.id, "name": link.name}
        if link.kind == LinkKind.LIFT:
            for i, u in enumerate(ids):
                for j, v in enumerate(ids):
                    if i != j:
                        fixed = LIFT_WAIT_S + LIFT_PER_LEVEL_S * abs(levels[i] - levels[j])
                        b.edge(u, v, link.kind, 0.0, fixed_s=fixed, **kw)
        elif link.kind == LinkKind.ESCALATOR:
            for i in range(len(ids) - 1):
                if link.direction in (Direction.UP, Direction.BOTH):
                    b.edge(
                        ids[i],
                        ids[i + 1],
                        link.kind,
                        ESCALATOR_LENGTH_M,
                        fixed_s=ESCALATOR_RIDE_S,
                        **kw,
                    )
                if link.direction in (Direction.DOWN, Direction.BOTH):
                    b.edge(
                        ids[i + 1],
                        ids[i],
                        link.kind,
                        ESCALATOR_LENGTH_M,
                        fixed_s=ESCALATOR_RIDE_S,
                        **kw,
                    )
        elif link.kind == LinkKind.STAIRS:
            for i in range(len(ids) - 1):
                b.edge(ids[i], ids[i + 1], link.kind, STAIRS_LENGTH_M, fixed_s=STAIRS_UP_S, **kw)
                b.edge(ids[i + 1], ids[i], link.kind, STAIRS_LENGTH_M, fixed_s=STAIRS_DOWN_S, **kw)
        else:  # between malls: both ways, its own length and waiting
            for i in range(len(ids) - 1):
                for u, v in ((ids[i], ids[i + 1]), (ids[i + 1], ids[i])):
                    b.edge(u, v, link.kind, link.length_m, fixed_s=link.extra_s, **kw)
    for f in geometry.floors:
        b.doors(f, zones_by_floor.get(f.id, []))
    for fac in geometry.facilities:
        node = net.zone_nodes.get(fac.zone_id) if fac.zone_id is not None else None
        if node is not None:
            net.facility_places[fac.id] = net.node_place(node)
        elif fac.zone_id is not None and fac.zone_id in net.unit_doors:
            net.facility_places[fac.id] = net.unit_doors[fac.zone_id]
        else:
            att = net.attach(fac.floor_id, fac.x, fac.y, zone_id=fac.zone_id)
            if att is not None:
                net.facility_places[fac.id] = att
    for shop in geometry.shops:
        net.shop_units[shop.id] = shop.unit_ids
    return net
