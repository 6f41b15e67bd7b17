"""A flash sale in one process: claims per second of ``coupon_claim`` from concurrent threads
(each with its own database connection), as a ratio to a bare conditional UPDATE of the same
table by the same threads in the same run (the machine is shared and noisy: ratios travel,
absolutes don't). Every round is also checked: exactly the stock is issued.

    .venv/bin/python bench/bench_flash_claims.py                       # a temporary SQLite file
    .venv/bin/python bench/bench_flash_claims.py --database-url postgres://postgres@127.0.0.1:5432/postgres

With a PostgreSQL URL the bench creates a scratch database ``agora_bench_<pid>`` on that server,
migrates it, and drops it at the end. Options: --requests (10,000), --stock (a tenth of the
requests), --threads (16), --rounds (3, interleaved; the median is reported).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE_UPDATE = (
    "UPDATE coupons_coupontemplate SET issued = issued + 1 WHERE id = %s AND issued < total_stock"
)


def _scratch_postgres(url: str) -> tuple[str, Any]:
    """Create agora_bench_<pid> on the server of ``url``; return its URL and a dropper."""
    import psycopg

    parsed = urlparse(url)
    name = f"agora_bench_{os.getpid()}"
    admin = urlunparse(parsed._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunparse(parsed._replace(path=f"/{name}")), drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="", help="postgres://...; default: SQLite")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--stock", type=int, default=0, help="default: a tenth of --requests")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    stock = args.stock or max(1, args.requests // 10)
    members_n = max(1, args.requests // 4)  # every member tries about four times

    drop = None
    tmp = ""
    if args.database_url.startswith("postgres"):
        url, drop = _scratch_postgres(args.database_url)
        where = f"PostgreSQL, scratch database {urlparse(url).path[1:]}"
    else:
        tmp = tempfile.mkdtemp(prefix="agora-bench-")
        url = f"sqlite:///{tmp}/bench.sqlite3"
        where = f"SQLite (WAL) {tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "agora.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        run(args, stock=stock, members_n=members_n, where=where)
    finally:
        from django.db import connections

        connections.close_all()
        if drop is not None:
            drop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, *, stock: int, members_n: int, where: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from agora.coupons.models import CouponTemplate
    from agora.coupons.services.wallet import ClaimRefused, coupon_claim
    from agora.members.models import Member
    from tests.live import flash_tally, flash_world, race

    call_command("migrate", verbosity=0)
    world = flash_world(stock=stock, members=members_n)
    members = list(Member.objects.filter(pk__in=world.member_ids).order_by("pk"))
    first = CouponTemplate.objects.get(pk=world.template_id)

    def fresh_template() -> CouponTemplate:
        """Another template like the first, with nothing issued (members' limits start over)."""
        t = CouponTemplate.objects.get(pk=first.pk)
        t.pk = None
        t.issued = 0
        t.save()
        return t

    order = [n % members_n for n in range(args.requests)]
    random.Random(3).shuffle(order)

    def claims_round() -> tuple[float, Counter[str]]:
        template = fresh_template()

        def claim(i: int) -> str:
            try:
                coupon_claim(member=members[order[i]], template=template)
                return "issued"
            except ClaimRefused as exc:
                return exc.code

        started = time.perf_counter()
        results = race(claim, calls=args.requests, workers=args.threads, timeout=600)
        elapsed = time.perf_counter() - started
        outcomes = Counter(r if isinstance(r, str) else f"{type(r).__name__}: {r}" for r in results)
        tally = flash_tally(template_id=template.pk)
        assert outcomes["issued"] == stock, outcomes
        assert tally["coupons"] == tally["issued"] == tally["members"] == stock, tally
        assert tally["most_per_member"] == 1, tally
        return args.requests / elapsed, outcomes

    def bare_round() -> float:
        template = fresh_template()

        def update(_i: int) -> int:
            with connection.cursor() as cursor:
                cursor.execute(BARE_UPDATE, [template.pk])
                return int(cursor.rowcount)

        started = time.perf_counter()
        results = race(update, calls=args.requests, workers=args.threads, timeout=600)
        elapsed = time.perf_counter() - started
        assert sum(r for r in results if isinstance(r, int)) == stock, Counter(map(repr, results))
        template.refresh_from_db()
        assert template.issued == stock
        return args.requests / elapsed

    print(
        f"{where}: {args.requests} claims of a coupon with {stock} units by {members_n} "
        f"members (1 each), {args.threads} threads, {args.rounds} interleaved rounds"
    )
    bare_round()  # warm up connections and caches
    claims_rates, bare_rates = [], []
    outcomes: Counter[str] = Counter()
    for n in range(args.rounds):
        bare = bare_round()
        claims, seen = claims_round()
        bare_rates.append(bare)
        claims_rates.append(claims)
        outcomes += seen
        print(
            f"  round {n + 1}: coupon_claim {claims:8.0f}/s   bare conditional UPDATE {bare:8.0f}/s"
        )
    claims_med, bare_med = statistics.median(claims_rates), statistics.median(bare_rates)
    print(f"outcomes over all rounds: {dict(sorted(outcomes.items()))}")
    print(f"{'what':36} {'per second':>11} {'× baseline':>11}")
    print(f"{'baseline: bare conditional UPDATE':36} {bare_med:11.0f} {1.0:11.2f}")
    print(
        f"{'coupon_claim (exactly the stock)':36} {claims_med:11.0f} {claims_med / bare_med:11.3f}"
    )
    print(f"claims are {bare_med / claims_med:.1f}× slower than the bare UPDATE")


if __name__ == "__main__":
    main()
