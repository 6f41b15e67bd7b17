"""Shortest paths on a small directed graph with integer nodes and float costs (pure Python).

The walkable network of a district has a few hundred to a few thousand *skeleton* nodes
(corridor junctions, connector landings, exits); shop doors, facilities and arbitrary points are
not nodes but *attachments* to an edge. ``Router`` answers a query between two attachment sets
by looking up rows of precomputed single-source trees (one Dijkstra per node, done once per
network version and cached), so a route costs a few dictionary and array reads instead of a
search: see ``bench/bench_routing.py`` for the figures beside networkx.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

INF = math.inf


@dataclass(frozen=True)
class Arc:
    """A directed edge of one mode's graph: ``edge`` indexes the caller's edge table."""

    target: int
    cost: float
    edge: int


Adjacency = Sequence[Sequence[Arc]]


def dijkstra(
    adjacency: Adjacency,
    sources: Mapping[int, float],
    *,
    stop_at: Iterable[int] = (),
) -> tuple[array, array]:
    """Costs and the predecessor edge of every node from a set of sources with start costs.

    With ``stop_at`` the search ends as soon as one of those nodes is settled (nearest-of
    queries). Unreached nodes have cost ``inf`` and predecessor ``-1``.
    """
    n = len(adjacency)
    dist = array("d", [INF]) * n
    pred = array("i", [-1]) * n
    stops = set(stop_at)
    heap: list[tuple[float, int]] = []
    for node, cost in sources.items():
        if cost < dist[node]:
            dist[node] = cost
            heap.append((cost, node))
    heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        d, u = pop(heap)
        if d > dist[u]:
            continue
        if u in stops:
            break
        for arc in adjacency[u]:
            nd = d + arc.cost
            v = arc.target
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = arc.edge
                push(heap, (nd, v))
    return dist, pred


@dataclass(frozen=True)
class Found:
    """A shortest route between two attachment sets: the skeleton edges walked, in order, and
    the chosen start and end nodes (equal for a route that touches one node only)."""

    cost: float
    start: int
    end: int
    edges: list[int]


class Router:
    """All-pairs shortest paths of one graph, one lazily built single-source tree per node."""

    def __init__(self, adjacency: Adjacency, edge_source: Sequence[int]) -> None:
        self.adjacency = adjacency
        self.edge_source = edge_source  # the tail node of each edge, to walk predecessors back
        self._rows: list[tuple[array, array] | None] = [None] * len(adjacency)

    def row(self, node: int) -> tuple[array, array]:
        row = self._rows[node]
        if row is None:
            row = dijkstra(self.adjacency, {node: 0.0})
            self._rows[node] = row
        return row

    def warm(self) -> None:
        """Build every row now (the first routes after a network change then cost no search)."""
        for node in range(len(self.adjacency)):
            self.row(node)

    def path(self, start: int, end: int) -> list[int]:
        """The edges from ``start`` to ``end`` (empty when they are the same node)."""
        _, pred = self.row(start)
        edges: list[int] = []
        node = end
        while node != start:
            edge = pred[node]
            if edge < 0:
                raise ValueError("no path")
            edges.append(edge)
            node = self.edge_source[edge]
        edges.reverse()
        return edges

    def best(self, sources: Mapping[int, float], targets: Mapping[int, float]) -> Found | None:
        """The cheapest route from any source (with its start cost) to any target (with its
        end cost), or None when no target can be reached."""
        best_cost, best_pair = INF, (-1, -1)
        for s, s_cost in sources.items():
            dist = self.row(s)[0]
            for t, t_cost in targets.items():
                c = s_cost + dist[t] + t_cost
                if c < best_cost:
                    best_cost, best_pair = c, (s, t)
        if best_cost == INF:
            return None
        s, t = best_pair
        return Found(best_cost, s, t, self.path(s, t))


def project(
    px: float, py: float, ax: float, ay: float, bx: float, by: float
) -> tuple[float, float, float]:
    """The point of segment a-b nearest to p: (t in [0, 1] along a→b, distance, length)."""
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return 0.0, math.hypot(px - ax, py - ay), 0.0
    t = ((px - ax) * dx + (py - ay) * dy) / length2
    t = min(1.0, max(0.0, t))
    qx, qy = ax + t * dx, ay + t * dy
    return t, math.hypot(px - qx, py - qy), math.sqrt(length2)


def turn_angle(h1: float, h2: float) -> float:
    """The signed change of heading from h1 to h2 in degrees, in (-180, 180]; positive is a
    left turn (headings measured counter-clockwise, x east and y north)."""
    d = (h2 - h1 + 180.0) % 360.0 - 180.0
    return 180.0 if d == -180.0 else d


def heading(ax: float, ay: float, bx: float, by: float) -> float:
    return math.degrees(math.atan2(by - ay, bx - ax))
