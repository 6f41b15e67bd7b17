"""Routing between shops of the full demo district: Agora's router beside networkx, solving
the same problem on the same graph in the same run (the machine is shared and noisy: ratios
travel, absolutes don't).

    .venv/bin/python bench/bench_routing.py
    .venv/bin/python bench/bench_routing.py --pairs 2000 --cold 300 --e2e 300

The bench migrates a temporary SQLite file, builds the FULL demo district (default DemoConfig,
seed 42) and then:

* builds the walkable network (``network_of``: the geometry read from the database plus the
  build; the build alone is timed again on the same geometry) and prints its size;
* precomputes every row of the fastest graph (``router.warm()``: one Dijkstra per node);
* picks random pairs of open shops across the whole district (seeded), resolves them to their
  doors (``place_resolve``) and times ``routes.search`` per pair (the pure compute: the search,
  then the route's legs and steps; the places are resolved beforehand), and ``router.best``
  alone (cost and skeleton path, what networkx gives);
* builds the same graph in networkx: the skeleton arcs of the fastest graph (the cheapest of
  parallel arcs), every shop door as a node joined to its segment's two ends with the costs
  ``Graph.ends`` gives, a virtual source before each shop's doors and a virtual sink after
  them, 0 s each; for a pair with doors on one segment, the straight walk along it (which
  ``search`` also tries) is one more edge source -> sink, added and removed outside the
  timing; times ``nx.single_source_dijkstra(G, source, target=sink)`` (cost and path) per
  pair;
* checks that both give the same cost for every pair (1e-6 relative) and prints the
  mismatches (there must be none);
* the cold case: a fresh router (no row cached) per pair, so the cost of a first query after a
  network change shows;
* ``route_find`` end to end (database reads, closures, instructions in Chinese).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REL_TOLERANCE = 1e-6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000, help="shop pairs timed (warm)")
    parser.add_argument("--cold", type=int, default=200, help="pairs timed on a fresh router")
    parser.add_argument("--e2e", type=int, default=200, help="pairs through route_find")
    parser.add_argument("--seed", type=int, default=7, help="of the pairs (the demo: 42)")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="agora-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "agora.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        run(args, where=f"SQLite {tmp}/bench.sqlite3")
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(tmp, ignore_errors=True)


def percentile(samples: list[float], pct: int) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def summary(samples_ns: list[int]) -> tuple[float, float, float]:
    """Median, p90 and p99 in microseconds."""
    us = [s / 1000 for s in samples_ns]
    return statistics.median(us), percentile(us, 90), percentile(us, 99)


def same_cost(a: float, b: float) -> bool:
    if a == b:  # both inf (no route) or exactly equal
        return True
    return abs(a - b) <= REL_TOLERANCE * max(abs(a), abs(b))


def run(args: argparse.Namespace, *, where: str) -> None:
    import django

    django.setup()
    for noisy in ("weasyprint", "fontTools"):  # the demo's invoices: missing CJK glyphs
        logging.getLogger(noisy).setLevel(logging.ERROR)
    import networkx as nx
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from agora.core.errors import ValidationFailed
    from agora.district.demo import DemoConfig, build_demo
    from agora.lib.routing import INF, Router
    from agora.navigation import selectors as sel
    from agora.navigation.network import Attachment, build_network
    from agora.navigation.routes import search

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    result = build_demo(seed=42, config=DemoConfig())
    print(
        f"{where}: migrated and built the FULL demo in {time.perf_counter() - started:.1f} s: "
        f"{result.malls} malls, {result.floors} floors, {result.zones} zones, "
        f"{result.shops} shops"
    )
    district_id = result.district_id

    # --- the network ------------------------------------------------------------------------
    t0 = time.perf_counter()
    net = sel.network_of(district_id)
    network_of_s = time.perf_counter() - t0
    geometry = net.geometry
    t0 = time.perf_counter()
    build_network(geometry)
    build_s = time.perf_counter() - t0
    g = net.graph("fastest")
    arcs = sum(len(a) for a in g.router.adjacency)
    print(
        f"network: {len(net.nodes)} nodes, {len(net.edges)} edges ({arcs} arcs in the fastest "
        f"graph), {len(net.segments)} segments, {len(net.unit_doors)} shop-unit doors, "
        f"{len(net.floors)} floors"
    )
    print(
        f"network_of (geometry from the database + build): {network_of_s * 1000:.0f} ms; "
        f"build alone: {build_s * 1000:.0f} ms"
    )
    t0 = time.perf_counter()
    g.router.warm()
    warm_s = time.perf_counter() - t0
    print(
        f"precomputation router.warm(): {warm_s * 1000:.0f} ms for {len(g.router.adjacency)} "
        f"rows ({warm_s / len(g.router.adjacency) * 1e6:.0f} µs a row)"
    )

    # --- the pairs --------------------------------------------------------------------------
    places: dict[int, sel.Place] = {}
    skipped: Counter[str] = Counter()
    for shop_id in sorted(net.shop_units):
        try:
            places[shop_id] = sel.place_resolve(net, f"shop:{shop_id}", field_name="to")
        except ValidationFailed as e:  # not open ("unknown"), no door on a corridor, ...
            skipped[e.errors[0].code if e.errors else "?"] += 1
    shop_ids = sorted(places)
    rng = random.Random(args.seed)
    pairs = [tuple(rng.sample(shop_ids, 2)) for _ in range(args.pairs)]
    doors_per_shop = statistics.mean(len(p.places) for p in places.values())
    print(
        f"{len(shop_ids)} routable shops (not: {dict(skipped) or 'none'}), "
        f"{doors_per_shop:.2f} doors a shop; {len(pairs)} random pairs (seed {args.seed})"
    )

    # --- the same problem in networkx ---------------------------------------------------------
    t0 = time.perf_counter()
    G: Any = nx.DiGraph()
    G.add_nodes_from(range(len(net.nodes)))

    def add(u: Any, v: Any, cost: float) -> None:
        if G.has_edge(u, v):
            if cost < G[u][v]["weight"]:
                G[u][v]["weight"] = cost
        else:
            G.add_edge(u, v, weight=cost)

    for u, out in enumerate(g.router.adjacency):
        for arc in out:
            add(u, arc.target, arc.cost)
    door_node: dict[Attachment, tuple[str, int]] = {}
    for att in {d for p in places.values() for d in p.places}:
        node = ("door", len(door_node))
        door_node[att] = node
        for end, cost in g.ends(net, att).items():
            add(node, end, cost)
            add(end, node, cost)
    for shop_id, place in places.items():
        for att in place.places:
            add(("from", shop_id), door_node[att], 0.0)
            add(door_node[att], ("to", shop_id), 0.0)

    def straight(src: list[Attachment], dst: list[Attachment]) -> float:
        """The walk straight along a segment both shops have a door on (search() tries it
        too), or inf: networkx gets it as one extra edge source -> sink for that pair."""
        best = INF
        for o in src:
            for t in dst:
                if o.node is None and t.node is None and o.segment == t.segment:
                    length = net.segments[o.segment].length_m
                    best = min(best, (o.access_m + abs(o.t - t.t) * length + t.access_m) / g.speed)
        return best

    print(
        f"networkx graph: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges, "
        f"built in {(time.perf_counter() - t0) * 1000:.0f} ms"
    )

    # --- timing, interleaved ------------------------------------------------------------------
    clock = time.perf_counter_ns

    def nx_route(a: int, b: int) -> tuple[float, int]:
        """networkx's cost from shop a to shop b, and the time of its search (ns)."""
        direct = straight(places[a].places, places[b].places)
        if direct < INF:
            G.add_edge(("from", a), ("to", b), weight=direct)
        t = clock()
        try:
            cost, _path = nx.single_source_dijkstra(
                G, ("from", a), target=("to", b), weight="weight"
            )
        except nx.NetworkXNoPath:
            cost = INF
        elapsed = clock() - t
        if direct < INF:
            G.remove_edge(("from", a), ("to", b))
        return cost, elapsed

    for a, b in pairs[:50]:  # warm-up of both
        search(net, g, places[a].places, places[b].places)
        nx_route(a, b)
    agora_ns: list[int] = []
    best_ns: list[int] = []
    nx_ns: list[int] = []
    mismatches: list[tuple[int, int, float, float]] = []
    unreachable = 0
    same_segment = 0
    for a, b in pairs:
        src, dst = places[a].places, places[b].places
        t = clock()
        route = search(net, g, src, dst)
        agora_ns.append(clock() - t)
        ends_s = {n: c for att in src for n, c in g.ends(net, att).items()}
        ends_t = {n: c for att in dst for n, c in g.ends(net, att).items()}
        t = clock()
        g.router.best(ends_s, ends_t)
        best_ns.append(clock() - t)
        nx_cost, elapsed = nx_route(a, b)
        nx_ns.append(elapsed)
        same_segment += straight(src, dst) < INF
        agora_cost = route.seconds if route is not None else INF
        if agora_cost == INF:
            unreachable += 1
        if not same_cost(agora_cost, nx_cost):
            mismatches.append((a, b, agora_cost, nx_cost))

    # the cold case: a fresh router per pair (the first query after a network change)
    cold_ns: list[int] = []
    cold_mismatches = 0
    for a, b in pairs[: args.cold]:
        fresh = replace(g, router=Router(g.router.adjacency, g.router.edge_source))
        t = clock()
        route = search(net, fresh, places[a].places, places[b].places)
        cold_ns.append(clock() - t)
        warm_route = search(net, g, places[a].places, places[b].places)
        if (route is None) != (warm_route is None) or (
            route is not None
            and warm_route is not None
            and not same_cost(route.seconds, warm_route.seconds)
        ):
            cold_mismatches += 1

    # route_find end to end, in Chinese
    e2e_ms: list[float] = []
    e2e_errors = 0
    with translation.override("zh-hans"):
        for a, b in pairs[:5]:  # warm-up
            sel.route_find(district_id=district_id, origin=f"shop:{a}", destination=f"shop:{b}")
        sample_text = ""
        for a, b in pairs[: args.e2e]:
            t0 = time.perf_counter()
            try:
                view = sel.route_find(
                    district_id=district_id, origin=f"shop:{a}", destination=f"shop:{b}"
                )
            except ValidationFailed:
                e2e_errors += 1
                continue
            finally:
                e2e_ms.append((time.perf_counter() - t0) * 1000)
            if not sample_text and len(view.route.legs) > 1:
                sample_text = " / ".join(i["text"] for i in view.instructions)
        # where its time goes: the network's version check, and the queries of one call
        version_ms: list[float] = []
        for _ in range(args.e2e):
            t0 = time.perf_counter()
            sel.network_of(district_id)
            version_ms.append((time.perf_counter() - t0) * 1000)
        a, b = pairs[0]
        with CaptureQueriesContext(connection) as ctx:
            sel.route_find(district_id=district_id, origin=f"shop:{a}", destination=f"shop:{b}")
        queries = len(ctx.captured_queries)

    # --- report -----------------------------------------------------------------------------
    print(
        f"\ncosts: {len(pairs)} pairs ({same_segment} with doors on one segment), "
        f"{unreachable} without a route; mismatches Agora vs "
        f"networkx: {len(mismatches)} (must be 0); cold vs warm: {cold_mismatches}"
    )
    for a, b, ca, cn in mismatches[:10]:
        print(f"  shop:{a} -> shop:{b}: Agora {ca:.6f} s, networkx {cn:.6f} s")
    head = f"{'per pair, µs':44} {'n':>5} {'median':>9} {'p90':>9} {'p99':>9}"
    print(head)
    print("-" * len(head))
    rows = [
        ("Agora search (rows warm; legs + steps)", agora_ns),
        ("Agora router.best only (cost + path)", best_ns),
        ("networkx single_source_dijkstra", nx_ns),
        ("Agora search, fresh router (cold)", cold_ns),
    ]
    for name, samples in rows:
        med, p90, p99 = summary(samples)
        print(f"{name:44} {len(samples):5d} {med:9.1f} {p90:9.1f} {p99:9.1f}")
    agora_med = summary(agora_ns)[0]
    nx_med = summary(nx_ns)[0]
    print(
        f"\nratio networkx / Agora at the median: {nx_med / agora_med:.1f}x (search), "
        f"{nx_med / summary(best_ns)[0]:.1f}x (router.best only); "
        f"{summary(nx_ns[: len(cold_ns)])[0] / summary(cold_ns)[0]:.1f}x (fresh router, same "
        f"{len(cold_ns)} pairs); "
        f"cold / warm search: {summary(cold_ns)[0] / agora_med:.1f}x"
    )
    print(
        f"route_find end to end (zh-hans), {len(e2e_ms)} pairs: median "
        f"{statistics.median(e2e_ms):.2f} ms, p90 {percentile(e2e_ms, 90):.2f} ms"
        + (f" ({e2e_errors} without a route)" if e2e_errors else "")
        + f"; {queries} queries a call, of which network_of (the version check, cached "
        f"network) takes {statistics.median(version_ms):.2f} ms"
    )
    if sample_text:
        print(f"  e.g. {sample_text}")


if __name__ == "__main__":
    main()
