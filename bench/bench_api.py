"""API read paths against the demo district, each as a ratio to a one-row baseline read
measured in the same run (the machine is shared and noisy: ratios travel, absolutes don't).

    .venv/bin/python bench/bench_api.py            # SMALL demo
    .venv/bin/python bench/bench_api.py --full     # the full 5-mall demo

Prints one line per path: median ms per request, requests/s, ratio to the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="build the full 5-mall demo")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="agora-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "agora.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from agora.accounts.models import User
    from agora.accounts.services.credentials import api_token_create
    from agora.district.demo import SMALL, DemoConfig, build_demo
    from agora.district.models import Floor, Mall

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    result = build_demo(seed=42, config=DemoConfig() if args.full else SMALL)
    build_s = time.perf_counter() - started
    print(
        f"demo build: {build_s:.1f} s for {result.malls} malls, {result.floors} floors, "
        f"{result.shop_units} units, {result.shops} shops, {result.users} users"
    )

    mall = Mall.objects.order_by("id").first()
    floor = Floor.objects.filter(mall=mall, level=1).first()
    assert mall is not None and floor is not None
    _, token = api_token_create(user=User.objects.get(username="mall-ops-1"))
    client = Client()
    auth = {"Authorization": f"Bearer {token}"}

    def timed(path: str, headers: dict[str, str] | None = None) -> Callable[[], float]:
        def once() -> float:
            t0 = time.perf_counter()
            response = client.get(path, headers=headers or {})
            elapsed = time.perf_counter() - t0
            assert response.status_code == 200, (path, response.status_code)
            return elapsed

        return once

    cases = [
        ("baseline GET /malls/{id} (one row)", timed(f"/api/v1/malls/{mall.pk}")),
        ("directory search q=xbk", timed(f"/api/v1/directory/shops?q=xbk&mall_id={mall.pk}")),
        ("directory page of 20", timed(f"/api/v1/directory/shops?mall_id={mall.pk}")),
        ("floor plan (all zones)", timed(f"/api/v1/floors/{floor.pk}")),
        ("operator shop list, 50 (bearer)", timed("/api/v1/shops?limit=50", auth)),
    ]
    for _, fn in cases:  # warm up
        for _ in range(20):
            fn()
    medians = {}
    # interleave rounds so that noise hits every case alike
    samples: dict[str, list[float]] = {name: [] for name, _ in cases}
    for _ in range(args.rounds):
        for name, fn in cases:
            samples[name].append(fn())
    for name, _ in cases:
        medians[name] = statistics.median(samples[name])
    base = medians[cases[0][0]]
    print(f"{'path':40} {'median ms':>10} {'req/s':>8} {'× baseline':>11}")
    for name, _ in cases:
        m = medians[name]
        print(f"{name:40} {m * 1000:10.2f} {1 / m:8.0f} {m / base:11.2f}")


if __name__ == "__main__":
    main()
