"""A route on the network: the search between two sets of places, then its legs (one polyline
per floor, for the map) and its steps (structured, turned into words by ``instructions``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agora.lib.routing import INF, heading, turn_angle
from agora.navigation.choices import LinkKind
from agora.navigation.network import Attachment, Graph, Network

TURN_MIN_DEG = 35.0  # smaller changes of heading are "straight on"
MERGE_BELOW_M = 3.0  # pieces shorter than this do not make a step of their own
VERTICAL = {LinkKind.LIFT, LinkKind.ESCALATOR, LinkKind.STAIRS}
BETWEEN_MALLS = {LinkKind.SKYWALK, LinkKind.STREET, LinkKind.TUNNEL}


@dataclass
class Leg:
    floor_id: int
    points: list[tuple[float, float]]
    enter: dict[str, Any] | None = None  # how the leg was reached (link kind, from floor)
    leave: dict[str, Any] | None = None  # how it is left (link kind, to floor)


@dataclass
class Step:
    kind: str  # start, walk, lift, escalator, stairs, skywalk, street, tunnel, arrive
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Route:
    mode: str
    seconds: float
    distance_m: float
    legs: list[Leg]
    steps: list[Step]
    origin: Attachment
    destination: Attachment
    links: list[int]  # link ids used, in order


@dataclass
class _Hop:
    floor_id: int
    a: tuple[float, float]
    b: tuple[float, float]
    kind: str  # "walk" or a link kind
    name: str
    length: float
    seconds: float
    link_id: int | None = None
    to_floor: int | None = None
    from_label: str = ""


def _ends(
    net: Network, g: Graph, places: Sequence[Attachment]
) -> dict[int, tuple[float, Attachment]]:
    out: dict[int, tuple[float, Attachment]] = {}
    for att in places:
        for node, cost in g.ends(net, att).items():
            if node not in out or cost < out[node][0]:
                out[node] = (cost, att)
    return out


def search(
    net: Network, g: Graph, origins: Sequence[Attachment], targets: Sequence[Attachment]
) -> Route | None:
    """The cheapest route from any origin place to any target place, or None."""
    sources = _ends(net, g, origins)
    ends = _ends(net, g, targets)
    if not sources or not ends:
        return None
    found = g.router.best(
        {n: c for n, (c, _) in sources.items()}, {n: c for n, (c, _) in ends.items()}
    )
    best_cost = found.cost if found else INF
    # both places on one open segment: perhaps straight along it
    direct: tuple[float, Attachment, Attachment] | None = None
    for o in origins:
        for t in targets:
            if (
                o.node is None
                and t.node is None
                and o.segment == t.segment
                and o.segment in g.open_segments
                and g.zone_open(o.zone_id)
                and g.zone_open(t.zone_id)
            ):
                seg = net.segments[o.segment]
                c = (o.access_m + abs(o.t - t.t) * seg.length_m + t.access_m) / g.speed
                if c < best_cost and (direct is None or c < direct[0]):
                    direct = (c, o, t)
    if direct is not None:
        cost, o, t = direct
        hops = [
            _Hop(o.floor_id, o.point, o.anchor, "walk", _seg_name(net, o.segment), o.access_m, 0),
            _Hop(
                o.floor_id,
                o.anchor,
                t.anchor,
                "walk",
                _seg_name(net, o.segment),
                abs(o.t - t.t) * net.segments[o.segment].length_m,
                0,
            ),
            _Hop(t.floor_id, t.anchor, t.point, "walk", _seg_name(net, t.segment), t.access_m, 0),
        ]
        return _assemble(net, g, hops, cost, o, t, [])
    if found is None:
        return None
    origin = sources[found.start][1]
    target = ends[found.end][1]
    hops = _access_hops(net, origin, found.start, leaving=True)
    for eid in found.edges:
        e = net.edges[eid]
        a, b = net.nodes[e.u], net.nodes[e.v]
        hops.append(
            _Hop(
                a.floor_id,
                (a.x, a.y),
                (b.x, b.y),
                e.kind,
                e.name,
                e.length_m,
                e.length_m / g.speed + e.fixed_s,
                e.link_id,
                b.floor_id if b.floor_id != a.floor_id else None,
                a.label,
            )
        )
    hops.extend(_access_hops(net, target, found.end, leaving=False))
    links: list[int] = []
    for eid in found.edges:
        lid = net.edges[eid].link_id
        if lid is not None and (not links or links[-1] != lid):
            links.append(lid)
    return _assemble(net, g, hops, found.cost, origin, target, links)


def _seg_name(net: Network, sid: int) -> str:
    seg = net.segments[sid]
    return net.edges[seg.forward].name


def _access_hops(net: Network, att: Attachment, node: int, *, leaving: bool) -> list[_Hop]:
    """The walk between a place and the skeleton node it joins at: from the place to its
    anchor and along its segment to the node (``leaving``), or the same walk back."""
    if att.node is not None:
        return []
    seg = net.segments[att.segment]
    n = net.nodes[node]
    along = (att.t if node == seg.u else 1 - att.t) * seg.length_m
    name = _seg_name(net, att.segment)
    hops = [
        _Hop(att.floor_id, att.point, att.anchor, "walk", name, att.access_m, 0),
        _Hop(att.floor_id, att.anchor, (n.x, n.y), "walk", name, along, 0),
    ]
    if leaving:
        return hops
    return [replace(h, a=h.b, b=h.a) for h in reversed(hops)]


def _assemble(
    net: Network,
    g: Graph,
    hops: list[_Hop],
    cost: float,
    origin: Attachment,
    target: Attachment,
    links: list[int],
) -> Route:
    legs: list[Leg] = []
    steps: list[Step] = [Step("start", {"floor_id": origin.floor_id})]
    distance = 0.0
    walk: list[_Hop] = []
    # the link kind just left, for "出电梯后左转"; a route from a door starts "走出店门后右转"
    after: str | None = "door" if origin.node is None and origin.access_m > 0.5 else None

    def flush() -> None:
        nonlocal after
        if walk:
            steps.extend(_walk_steps(walk, after=after))
            walk.clear()
        after = None

    for hop in hops:
        if hop.kind == "walk":
            if hop.length <= 0.01:
                continue
            distance += hop.length
            if not legs or legs[-1].floor_id != hop.floor_id or legs[-1].leave is not None:
                legs.append(Leg(hop.floor_id, [hop.a]))
            if legs[-1].points[-1] != hop.a:
                legs[-1].points.append(hop.a)
            legs[-1].points.append(hop.b)
            walk.append(hop)
            continue
        flush()
        distance += hop.length
        if not legs or legs[-1].floor_id != hop.floor_id:
            legs.append(Leg(hop.floor_id, [hop.a]))
        params: dict[str, Any] = {
            "name": hop.name,
            "link_id": hop.link_id,
            "from_label": hop.from_label,
        }
        if hop.kind in VERTICAL:
            params["to_floor_id"] = hop.to_floor
            params["from_floor_id"] = hop.floor_id
            up = net.floors[hop.to_floor].level > net.floors[hop.floor_id].level  # type: ignore[index]
            params["up"] = up
        else:
            params["distance_m"] = round(hop.length)
            params["to_floor_id"] = hop.to_floor
            params["from_floor_id"] = hop.floor_id
            params["minutes"] = max(1, round(hop.seconds / 60))
        # consecutive hops of one lift (it passes floors) are one step
        if steps and steps[-1].kind == hop.kind and steps[-1].params.get("link_id") == hop.link_id:
            steps[-1].params["to_floor_id"] = hop.to_floor
        else:
            steps.append(Step(hop.kind, params))
        legs[-1].leave = {"kind": hop.kind, "to_floor_id": hop.to_floor, "at": hop.a}
        legs.append(
            Leg(
                hop.to_floor or hop.floor_id,
                [hop.b],
                enter={"kind": hop.kind, "from_floor_id": hop.floor_id, "at": hop.b},
            )
        )
        after = hop.kind
    if walk:
        steps.extend(_walk_steps(walk, after=after))
    side = _side(hops)
    steps.append(Step("arrive", {"floor_id": target.floor_id, "side": side}))
    legs = [leg for leg in legs if len(leg.points) > 1 or leg.enter or leg.leave]
    return Route(g.mode, cost, distance, legs, steps, origin, target, links)


def _pieces(hops: list[_Hop]) -> list[tuple[float, float, str]]:
    """Straight pieces (heading, length, name): hops merged while the heading holds."""
    pieces: list[list[Any]] = []
    for hop in hops:
        if hop.length <= 0.01:
            continue
        h = heading(*hop.a, *hop.b)
        if pieces and abs(turn_angle(pieces[-1][0], h)) < TURN_MIN_DEG:
            pieces[-1][1] += hop.length
            if hop.name and hop.length > pieces[-1][3]:
                pieces[-1][2], pieces[-1][3] = hop.name, hop.length
            continue
        pieces.append([h, hop.length, hop.name, hop.length])
    # short jogs (stepping out of a door onto the corridor) fold into their neighbour
    merged: list[list[Any]] = []
    for p in pieces:
        if merged and p[1] < MERGE_BELOW_M:
            merged[-1][1] += p[1]
            continue
        if merged and merged[-1][1] < MERGE_BELOW_M:
            p[1] += merged[-1][1]
            merged[-1] = p
            continue
        merged.append(p)
    return [(h, length, name) for h, length, name, _ in merged]


def _turn(h1: float, h2: float) -> str:
    a = turn_angle(h1, h2)
    if abs(a) < TURN_MIN_DEG:
        return "straight"
    if abs(a) > 150:
        return "back"
    return "left" if a > 0 else "right"


def _walk_steps(hops: list[_Hop], *, after: str | None) -> list[Step]:
    pieces = _pieces(hops)
    steps: list[Step] = []
    prev: float | None = None
    i = 0
    while i < len(pieces):
        h, length, name = pieces[i]
        params: dict[str, Any] = {"distance_m": round(length), "along": name}
        if (
            after
            and prev is None
            and i + 1 < len(pieces)
            and length < (6 if after == "door" else 15)
        ):
            # off a lift or an escalator: "出电梯后左转，沿…步行约40米"
            h2, l2, n2 = pieces[i + 1]
            params = {
                "distance_m": round(length + l2),
                "along": n2,
                "turn": _turn(h, h2),
                "after": after,
            }
            prev = h2
            i += 2
            steps.append(Step("walk", params))
            continue
        if after and prev is None:
            params["after"] = after
        if prev is not None:
            params["turn"] = _turn(prev, h)
        steps.append(Step("walk", params))
        prev = h
        i += 1
    return steps


def _side(hops: list[_Hop]) -> str:
    """Which hand the destination is on when the last corridor piece reaches its door."""
    walks = [h for h in hops if h.kind == "walk" and h.length > 0.01]
    if len(walks) < 2:
        return "ahead"
    last, before = walks[-1], walks[-2]
    hx, hy = before.b[0] - before.a[0], before.b[1] - before.a[1]
    dx, dy = last.b[0] - last.a[0], last.b[1] - last.a[1]
    cross = hx * dy - hy * dx
    if math.hypot(dx, dy) < 0.5 or abs(cross) < 1e-6:
        return "ahead"
    return "left" if cross > 0 else "right"
