"""Checkout latency through the API: a member's order with a coupon and points paid by WeChat
Pay through the built-in sandbox, beside two baselines measured in the same run on the same
database (the machine is shared and noisy: ratios travel, absolutes don't):

* member + coupon + points, online: POST /shops/{id}/orders with a fresh member code ->
  POST /orders/{id}/apply (the member's best coupon chosen automatically, some points) ->
  POST /orders/{id}/submit (wechat, routed to the sandbox) -> the sandbox pays it
  (``sandbox_pay``: its notification goes through the signed notification path) -> paid,
  points earned;
* a plain cash sale: POST /shops/{id}/orders -> POST /orders/{id}/submit (cash) -> paid;
* the ORM floor: one Order row and one OrderLine created, then updated to paid.

    .venv/bin/python bench/bench_checkout.py                       # a temporary SQLite file
    .venv/bin/python bench/bench_checkout.py --database-url postgres://postgres@127.0.0.1:5432/postgres

The bench migrates a fresh database (a temporary SQLite file, or with a PostgreSQL URL a
scratch database ``agora_bench_checkout_<pid>`` on that server, dropped at the end) and builds
the SMALL demo district into it with more shoppers (one per four checkouts: a shopper at a till a
few times a day stays inside the demo's daily cap of points earned). Options: --iterations (200
timed per scenario, interleaved so that noise hits all alike), --warmup (20 rounds, after one
first visit of every member: a member's first checkout at a brand also joins its brand
programme), --max-seconds (60: the timed loop stops early past it and says how many rounds it
measured), --show-queries (print the SQL of one member checkout, step by step).

What the shopper does before the till (a fresh member code, a coupon claimed into the wallet)
and the check that the order ended paid with points earned are outside the timing. Queries per
checkout are counted on separate, untimed iterations (one right after the warm-up, one at the
end: a difference means a query count grows with the data), so that the capture does not slow
the timed ones; a statement repeated within one request is listed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASHIER = "shop-cashier-1"  # the demo's cashier of 星巴克 in mall 1
MALL_OPS = "mall-ops-1"  # the operator of that mall: issues the bench's coupon
LINES = [
    {"name": "拿铁 大杯", "quantity": 2, "unit_price_fen": 3600},
    {"name": "可颂", "quantity": 1, "unit_price_fen": 1800},
]
SUBTOTAL_FEN = 9000
COUPON_FEN = 1000  # the bench's mall coupon: ¥10 off, always the best one here
POINTS = 100  # points spent per member checkout (¥1 at the demo's 100 points a yuan)
PER_MEMBER_TOTAL = 100  # the most a template lets one member hold (templates.py)
CHECKOUTS_PER_MEMBER = 4  # about; well inside the demo's daily cap of points earned at food

SCENARIOS = ("member+coupon+points, wechat", "cash sale (baseline)", "ORM floor")


def _scratch_postgres(url: str) -> tuple[str, Any]:
    """Create agora_bench_checkout_<pid> on the server of ``url``; return its URL and a
    dropper."""
    import psycopg

    parsed = urlparse(url)
    name = f"agora_bench_checkout_{os.getpid()}"
    admin = urlunparse(parsed._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunparse(parsed._replace(path=f"/{name}")), drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="", help="postgres://...; default: SQLite")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--show-queries", action="store_true")
    args = parser.parse_args()

    drop = None
    tmp = ""
    if args.database_url.startswith("postgres"):
        url, drop = _scratch_postgres(args.database_url)
        where = f"PostgreSQL, scratch database {urlparse(url).path[1:]}"
    else:
        tmp = tempfile.mkdtemp(prefix="agora-bench-")
        url = f"sqlite:///{tmp}/bench.sqlite3"
        where = f"SQLite {tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "agora.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        run(args, where=where)
    finally:
        from django.db import connections

        connections.close_all()
        if drop is not None:
            drop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


# --- measuring -------------------------------------------------------------------------------
@dataclass
class Steps:
    """Step boundaries of one iteration: (name, perf_counter at its end, queries so far)."""

    marks: list[tuple[str, float, int]] = field(default_factory=list)
    queries: Callable[[], int] = lambda: 0

    def mark(self, name: str) -> None:
        self.marks.append((name, time.perf_counter(), self.queries()))


def percentile(samples: list[float], pct: int) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


def shape(sql: str) -> str:
    """The statement with its literals replaced: repeats of one shape in one request are N+1."""
    return _LITERALS.sub("?", sql)


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
_TARGET = re.compile(
    r'^(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b.*?(?:FROM |INTO |UPDATE )?"(\w+)"', re.S
)


def brief(sql: str) -> str:
    """``SELECT ... FROM "table" ...``: enough to tell which read is repeated."""
    match = _TARGET.match(sql)
    if match is None:
        return sql[:80]
    verb, table = match.groups()
    if verb == "SELECT":
        found = re.search(r' FROM "(\w+)"', sql)
        table = found.group(1) if found else table
        joined = re.findall(r'JOIN "(\w+)"', sql)
        return f"SELECT {table}" + (f" (joins {', '.join(joined)})" if joined else "")
    return f"{verb} {table}"


def run(args: argparse.Namespace, *, where: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from agora.accounts.selectors import actor_for_user
    from agora.checkout.models import Order, OrderLine  # the ORM floor only
    from agora.checkout.services.sandbox import sandbox_pay
    from agora.coupons.choices import Channel, CouponKind, Party, TemplateStatus, Validity
    from agora.coupons.models import CouponTemplate
    from agora.coupons.services.templates import TemplateSpec, template_create, template_set_status
    from agora.coupons.services.wallet import coupon_claim
    from agora.district.demo import SMALL, build_demo
    from agora.district.models import Shop
    from agora.members.models import Member
    from agora.members.services.codes import member_code_issue
    from agora.points.selectors import points_balance
    from agora.testing.personas import as_persona, shop_id_of, user

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    # +2: the query-counting iterations; members' first visits come on top (about one each)
    total_rounds = args.warmup + args.iterations + 2
    # a shopper at a till a few times a day, not 25 times: the demo's food rule caps the points
    # one member earns a day, and a member past it would earn nothing
    shoppers = max(SMALL.shoppers, total_rounds // CHECKOUTS_PER_MEMBER)
    build_demo(seed=42, config=replace(SMALL, shoppers=shoppers))
    print(
        f"{where}: migrated and built the SMALL demo with {shoppers} shoppers in "
        f"{time.perf_counter() - started:.1f} s"
    )

    shop = Shop.objects.select_related("mall").get(pk=shop_id_of(CASHIER))
    till = as_persona(CASHIER)
    ops = actor_for_user(user(MALL_OPS))
    members = [
        m
        for m in Member.objects.filter(district_id=shop.mall.district_id, status="active")
        .select_related("tier")
        .order_by("pk")
        if points_balance(member=m) >= POINTS
    ]
    assert members, "no member of the demo has points to spend"
    now = timezone.now()

    def new_template() -> CouponTemplate:
        spec = TemplateSpec(
            kind=CouponKind.CASH_OFF,
            title=f"bench 立减{COUPON_FEN // 100}元",
            description="",
            value_fen=COUPON_FEN,
            percent_off=0,
            cap_fen=0,
            threshold_fen=0,
            gift_name="",
            parking_hours=0,
            validity=Validity.RELATIVE,
            valid_from=None,
            valid_until=None,
            valid_days=30,
            claim_starts=now - timedelta(minutes=1),
            claim_ends=now + timedelta(days=1),
            total_stock=1_000_000,
            per_member_total=PER_MEMBER_TOTAL,
            per_member_daily=0,
            channels=[Channel.APP],
            funder=Party.MALL,
            restore_on_refund=False,
            scope_mall_ids=[],
            scope_shop_ids=[],
            scope_categories=[],
        )
        template = template_create(
            actor=ops,
            district_id=shop.mall.district_id,
            issuer=Party.MALL,
            mall_id=shop.mall_id,
            shop=None,
            spec=spec,
        )
        return template_set_status(actor=ops, template=template, status=TemplateStatus.ACTIVE)

    # one template serves PER_MEMBER_TOTAL claims of each member; more rounds, more templates
    templates = [
        new_template()
        for _ in range(-(-(total_rounds + len(members)) // (len(members) * PER_MEMBER_TOTAL)))
    ]
    print(
        f"{len(members)} demo members with points take turns at {shop.name} ({shop.mall.name}); "
        f"each member checkout: {SUBTOTAL_FEN} fen, a {COUPON_FEN} fen mall coupon, "
        f"{POINTS} points, the rest by wechat through the sandbox"
    )

    problems: Counter[str] = Counter()
    repeated: list[tuple[str, str, int, str]] = []  # scenario, step, times, statement
    earned: list[int] = []

    def member_checkout(i: int, steps: Steps) -> None:
        member = members[i % len(members)]
        template = templates[(i // len(members)) // PER_MEMBER_TOTAL]
        # the shopper's side, before the till: untimed
        coupon = coupon_claim(member=member, template=template)
        code = member_code_issue(member=member).code
        steps.marks.clear()
        steps.mark("start")
        r = till.post(f"/shops/{shop.pk}/orders", {"lines": LINES, "member_code": code})
        assert r.status == 201, (r.status, r.body)
        oid = r.body["id"]
        steps.mark("POST orders (member code)")
        r = till.post(f"/orders/{oid}/apply", {"points": POINTS})
        assert r.status == 200, (r.status, r.body)
        steps.mark("POST apply (auto coupon, points)")
        chosen = [c["code"] for c in r.body["coupons"] if c["chosen"]]
        if coupon.code not in chosen:
            problems["the bench's coupon was not chosen"] += 1
        payable = r.body["payable_fen"]
        r = till.post(
            f"/orders/{oid}/submit",
            {"payments": [{"method": "wechat", "amount_fen": payable}]},
            headers={"Idempotency-Key": f"bench-member-{i}"},
        )
        assert r.status == 200 and r.body["status"] == "pending", (r.status, r.body)
        steps.mark("POST submit (wechat -> sandbox)")
        token = r.body["payments"][0]["code_url"].rstrip("/").rsplit("/", 1)[-1]
        sandbox_pay(token=token, duplicate=False, late=False)
        steps.mark("sandbox pays, signed notice")
        # the outcome, untimed
        done = till.get(f"/orders/{oid}").body
        assert done["status"] == "paid" and done["paid_fen"] == payable, done
        assert done["discount_fen"] >= COUPON_FEN and done["points_used"] == POINTS, done
        earned.append(done["points_earned"])

    def cash_sale(i: int, steps: Steps) -> None:
        steps.marks.clear()
        steps.mark("start")
        r = till.post(f"/shops/{shop.pk}/orders", {"lines": LINES})
        assert r.status == 201, (r.status, r.body)
        steps.mark("POST orders")
        payment = {"method": "cash", "amount_fen": SUBTOTAL_FEN, "tendered_fen": 10_000}
        r = till.post(
            f"/orders/{r.body['id']}/submit",
            {"payments": [payment]},
            headers={"Idempotency-Key": f"bench-cash-{i}"},
        )
        assert r.status == 200 and r.body["status"] == "paid", (r.status, r.body)
        steps.mark("POST submit (cash)")

    def orm_floor(i: int, steps: Steps) -> None:
        steps.marks.clear()
        steps.mark("start")
        when = timezone.now()
        with transaction.atomic():
            order = Order.objects.create(
                number=f"F{secrets.token_hex(8).upper()}"[:20],
                district_id=shop.mall.district_id,
                mall_id=shop.mall_id,
                shop=shop,
                channel="pos",
                subtotal_fen=SUBTOTAL_FEN,
                payable_fen=SUBTOTAL_FEN,
                created_at=when,
            )
            OrderLine.objects.create(
                order=order,
                position=1,
                name="拿铁 大杯",
                quantity=1,
                unit_price_fen=SUBTOTAL_FEN,
                amount_fen=SUBTOTAL_FEN,
            )
        steps.mark("INSERT order + line")
        Order.objects.filter(pk=order.pk, status="open").update(
            status="paid", paid_fen=SUBTOTAL_FEN, paid_at=when
        )
        steps.mark("UPDATE to paid")

    cases: list[tuple[str, Callable[[int, Steps], None]]] = list(
        zip(SCENARIOS, (member_checkout, cash_sale, orm_floor), strict=True)
    )
    turns: Counter[str] = Counter()  # each scenario's iteration number: keys, member turns

    def once(fn: Callable[[int, Steps], None], steps: Steps) -> None:
        fn(turns[fn.__name__], steps)
        turns[fn.__name__] += 1

    def count_queries(label: str) -> dict[str, list[tuple[str, int]]]:
        """One untimed iteration of each scenario under CaptureQueriesContext: queries per
        step."""
        out: dict[str, list[tuple[str, int]]] = {}
        for name, fn in cases:
            with CaptureQueriesContext(connection) as ctx:
                steps = Steps(queries=partial(len, ctx))
                once(fn, steps)
            per_step = [
                (step, q - prev_q)
                for (step, _, q), (_, _, prev_q) in zip(
                    steps.marks[1:], steps.marks[:-1], strict=True
                )
            ]
            out[name] = per_step
            if args.show_queries and fn is member_checkout:
                print(f"--- SQL of one member checkout ({label}) ---")
                bounds = [(s, q) for s, _, q in steps.marks]
                for (step, q0), (_, q1) in zip(bounds[1:], bounds[:-1], strict=True):
                    print(f"[{step}]")
                    for query in ctx.captured_queries[q1:q0]:
                        print("   ", query["sql"][:300])
            if label == "at the end":
                for (step, _, q1), (_, _, q0) in zip(
                    steps.marks[1:], steps.marks[:-1], strict=True
                ):
                    seen = Counter(shape(q["sql"]) for q in ctx.captured_queries[q0:q1])
                    for sql, n in seen.items():
                        if n >= 2 and not sql.startswith(TRANSACTION_CONTROL):
                            repeated.append((name, step, n, brief(sql)))
        return out

    for _ in members:  # every member's first visit: joins the brand programme, untimed
        once(member_checkout, Steps())
    for _ in range(args.warmup):
        for _, fn in cases:
            once(fn, Steps())
    queries_first = count_queries("after warm-up")

    samples: dict[str, list[float]] = {name: [] for name, _ in cases}
    step_samples: dict[str, dict[str, list[float]]] = {name: {} for name, _ in cases}
    deadline = time.perf_counter() + args.max_seconds
    timed_started = time.perf_counter()
    for r in range(args.iterations):
        if time.perf_counter() > deadline:
            print(f"stopped after {r} of {args.iterations} rounds (--max-seconds)")
            break
        for name, fn in cases:
            steps = Steps()
            once(fn, steps)
            samples[name].append(steps.marks[-1][1] - steps.marks[0][1])
            for (step, t1, _), (_, t0, _) in zip(steps.marks[1:], steps.marks[:-1], strict=True):
                step_samples[name].setdefault(step, []).append(t1 - t0)
    timed_s = time.perf_counter() - timed_started
    queries_last = count_queries("at the end")

    p50 = {name: statistics.median(s) for name, s in samples.items()}
    cash, floor = p50[SCENARIOS[1]], p50[SCENARIOS[2]]
    n_rounds = len(samples[SCENARIOS[0]])
    print(
        f"{n_rounds} interleaved rounds after {args.warmup} warm-up rounds, "
        f"{timed_s:.1f} s timed; times in ms"
    )
    head = (
        f"{'scenario':32} {'n':>4} {'p50':>8} {'p99':>8} {'mean':>8} "
        f"{'p50/cash':>9} {'p50/floor':>10} {'queries':>8}"
    )
    print(head)
    print("-" * len(head))
    for name, _ in cases:
        s = samples[name]
        qf = sum(n for _, n in queries_first[name])
        ql = sum(n for _, n in queries_last[name])
        queries = f"{qf}" if qf == ql else f"{qf}->{ql}"
        print(
            f"{name:32} {len(s):4d} {p50[name] * 1000:8.2f} {percentile(s, 99) * 1000:8.2f} "
            f"{statistics.fmean(s) * 1000:8.2f} {p50[name] / cash:9.2f} {p50[name] / floor:10.1f} "
            f"{queries:>8}"
        )
    print("\nsteps (p50 ms, queries):")
    for name, _ in cases:
        print(f"  {name}")
        first = dict(queries_first[name])
        last = dict(queries_last[name])
        for step, values in step_samples[name].items():
            q = f"{first[step]}" if first[step] == last[step] else f"{first[step]}->{last[step]}"
            print(f"    {step:34} {statistics.median(values) * 1000:8.2f} ms {q:>8} queries")
    if earned and min(earned) <= 0:
        problems["a member checkout earned no points (a daily cap reached?)"] += sum(
            1 for e in earned if e <= 0
        )
    if earned:
        print(
            f"\npoints earned per member checkout: min {min(earned)}, max {max(earned)} "
            f"({sum(1 for e in earned if e > 0)} of {len(earned)} earned some)"
        )
    if problems:
        print("\nproblems:")
        for what, n in problems.items():
            print(f"  {what} ({n} times)")
    if repeated:
        print("\nthe same statement more than once in one step (redundant reads, or N+1):")
        for name, step, n, sql in repeated:
            print(f"  {name} / {step}: {n}x {sql}")


if __name__ == "__main__":
    main()
