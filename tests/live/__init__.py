"""Real concurrent clients for the coupon and points races.

* ``flash_world`` seeds a small world straight into the database: its own district and entry
  tier, one coupon template, N shoppers enrolled as members (and, when asked, a bearer token
  each). It never meets the demo district, so it needs none of it.
* ``race`` calls a function from a pool of threads released together; each thread holds its
  own database connection and closes it when it is done.
* ``till_world`` adds a mall, a shop and a cashier (with a bearer token) to such a district.
* ``live_server`` serves the app with gunicorn against a database (the PostgreSQL test
  database, or a SQLite file in WAL mode copied from the test database), ``call_in`` runs a
  helper in a fresh process against it, and ``post_many`` fires bounded HTTP requests at the
  server from a thread pool.

Used by agora/coupons/tests/test_flash_claims.py, test_redeem_race.py,
agora/points/tests/test_points_race.py and bench/bench_flash_claims.py. Every request goes to
127.0.0.1 only; every loop is bounded in count and time."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


# --- the world ------------------------------------------------------------------------------
@dataclass
class FlashWorld:
    district_id: int
    template_id: int
    member_ids: list[int]
    user_ids: list[int]
    tokens: list[str] = field(default_factory=list)  # bearer secrets, one per member


def flash_world(
    *,
    stock: int,
    members: int,
    per_member_total: int = 1,
    per_member_daily: int = 1,
    tokens: bool = False,
) -> FlashWorld:
    """A district with one active app-channel coupon template of ``stock`` units, and
    ``members`` shoppers enrolled at the entry tier (bulk inserts: 2,500 take well under a
    second)."""
    from django.utils import timezone

    from agora.accounts.models import ApiToken, User
    from agora.accounts.selectors import secret_hash
    from agora.accounts.services.credentials import TOKEN_PREFIX
    from agora.coupons.choices import Channel, CouponKind, Party, TemplateStatus, Validity
    from agora.coupons.models import CouponTemplate
    from agora.district.models import District
    from agora.members.models import Member, Tier

    now = timezone.now()
    tag = secrets.token_hex(4)
    district = District.objects.create(name=f"抢券 {tag}", code=f"flash-{tag}", city="上海")
    tier = Tier.objects.create(
        district=district,
        code="basic",
        name="普卡",
        name_en="Basic",
        rank=0,
        min_spend_fen=0,
        keep_spend_fen=0,
    )
    template = CouponTemplate.objects.create(
        district=district,
        issuer=Party.MALL,
        funder=Party.MALL,
        kind=CouponKind.CASH_OFF,
        title="限量抢券 立减10元",
        value_fen=1000,
        validity=Validity.RELATIVE,
        valid_days=30,
        claim_starts=now - timedelta(hours=1),
        claim_ends=now + timedelta(days=1),
        total_stock=stock,
        per_member_total=per_member_total,
        per_member_daily=per_member_daily,
        channels=[Channel.APP],
        status=TemplateStatus.ACTIVE,
        created_at=now,
    )
    users = User.objects.bulk_create(
        [
            User(username=f"flash-{tag}-{i:05d}", display_name=f"抢券{i}", password="!")
            for i in range(members)
        ]
    )
    card_base = secrets.randbelow(10**6)
    rows = Member.objects.bulk_create(
        [
            Member(
                user=u,
                district=district,
                card_no=f"87{card_base:06d}{i:08d}",
                tier=tier,
                tier_since=now,
                qr_salt=secrets.token_hex(16),
                joined_at=now,
            )
            for i, u in enumerate(users)
        ]
    )
    secrets_out: list[str] = []
    if tokens:
        secrets_out = [TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in users]
        ApiToken.objects.bulk_create(
            [
                ApiToken(
                    user=u,
                    name="flash",
                    prefix=s[:12],
                    token_hash=secret_hash(s),
                    expires_at=now + timedelta(days=1),
                    last_used_at=now,  # a phone that was just used: no write to mark it
                )
                for u, s in zip(users, secrets_out, strict=True)
            ]
        )
    return FlashWorld(
        district_id=district.pk,
        template_id=template.pk,
        member_ids=[m.pk for m in rows],
        user_ids=[u.pk for u in users],
        tokens=secrets_out,
    )


def flash_tally(*, template_id: int) -> dict[str, int]:
    """What the database holds for the template: coupons, members holding one, the most one
    member holds, the template's ``issued`` counter and the members' total claim tallies."""
    from django.db.models import Count, Max, Sum

    from agora.coupons.models import ClaimTally, Coupon, CouponTemplate

    coupons = Coupon.objects.filter(template_id=template_id)
    per_member = coupons.values("member_id").annotate(n=Count("id"))
    return {
        "coupons": coupons.count(),
        "members": per_member.count(),
        "most_per_member": int(per_member.aggregate(m=Max("n"))["m"] or 0),
        "issued": CouponTemplate.objects.get(pk=template_id).issued,
        "tally_total": int(
            ClaimTally.objects.filter(template_id=template_id, period="total").aggregate(
                s=Sum("count")
            )["s"]
            or 0
        ),
    }


@dataclass
class TillWorld:
    mall_id: int
    shop_id: int
    cashier_token: str


def till_world(*, district_id: int) -> TillWorld:
    """A mall of the district with one open shop, and a cashier of that shop."""
    from datetime import time as clock
    from decimal import Decimal

    from agora.accounts.choices import Role
    from agora.accounts.models import RoleGrant, User
    from agora.accounts.services.credentials import api_token_create
    from agora.district.models import Mall, Shop

    tag = secrets.token_hex(4)
    mall = Mall.objects.create(
        district_id=district_id,
        name=f"抢券广场 {tag}",
        code=f"flash-mall-{tag}",
        latitude=Decimal("31.230000"),
        longitude=Decimal("121.470000"),
        opens_at=clock(10),
        closes_at=clock(22),
    )
    shop = Shop.objects.create(
        mall=mall,
        name="抢券咖啡",
        name_pinyin="qiangquan kafei",
        name_initials="qqkf",
        category="food",
        opens_at=clock(10),
        closes_at=clock(22),
    )
    cashier = User.objects.create(username=f"flash-cashier-{tag}", password="!")
    RoleGrant.objects.create(user=cashier, role=Role.MERCHANT_CASHIER, shop=shop)
    _, token = api_token_create(user=cashier)
    return TillWorld(mall_id=mall.pk, shop_id=shop.pk, cashier_token=token)


# --- threads with their own connections ---------------------------------------------------
def race[T](
    fn: Callable[[int], T], *, calls: int, workers: int, timeout: float = 120.0
) -> list[T | BaseException]:
    """Call ``fn(0) .. fn(calls - 1)`` from ``workers`` threads that start together (a
    barrier) and pull the next index from a shared counter. An exception is kept as that
    call's result. Each thread closes its database connections when it is done."""
    from django.db import connections

    results: list[T | BaseException | None] = [None] * calls
    lock = threading.Lock()
    cursor = [0]
    barrier = threading.Barrier(workers)
    deadline = time.monotonic() + timeout

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            while time.monotonic() < deadline:
                with lock:
                    i = cursor[0]
                    cursor[0] += 1
                if i >= calls:
                    return
                try:
                    results[i] = fn(i)
                except BaseException as exc:  # kept as the call's result
                    results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + 10))
    if any(t.is_alive() for t in threads) or cursor[0] < calls:
        raise TimeoutError(f"{calls} calls did not finish within {timeout} s")
    return [r if r is not None else RuntimeError("no result") for r in results]


# --- a live server ----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "agora.settings",
        "SMS_BACKEND": "agora.accounts.sms.ConsoleSmsBackend",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def call_in(database_url: str, name: str, **kwargs: Any) -> Any:
    """Call ``tests.live.<name>(**kwargs)`` in a fresh process against ``database_url`` and
    return its result (a dataclass comes back as a dict). On a SQLite file the first
    connection turns WAL on for good."""
    script = (
        "import json, sys, django; django.setup(); "
        "from dataclasses import asdict, is_dataclass; import tests.live as live; "
        "out = getattr(live, sys.argv[1])(**json.loads(sys.argv[2])); "
        "print(json.dumps(asdict(out) if is_dataclass(out) else out))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, name, json.dumps(kwargs)],
        cwd=ROOT,
        env=_server_env(database_url),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def sqlite_copy_of_test_database(path: Path) -> str:
    """Copy the (in-memory) SQLite test database, schema and all, into a file a server can
    share; returns its URL. Much faster than migrating a new file. Needs database access."""
    import sqlite3

    from django.db import connection

    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    return f"sqlite:///{path}"


def database_url_of_test_database() -> str:
    """A URL that reaches the database this test process uses (PostgreSQL)."""
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def live_server(
    database_url: str, *, log: Path, workers: int = 4, threads: int = 4
) -> Iterator[str]:
    """gunicorn (gthread) serving agora.wsgi on 127.0.0.1 against the database; yields its
    URL and stops it (the whole process group) on the way out."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "agora.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(workers),
                "--threads",
                str(threads),
                "-k",
                "gthread",
                "--backlog",
                "2048",
                "--preload",  # import the app once, before the workers fork
                "--no-control-socket",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=_server_env(database_url),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}: see {log}")
            try:
                with urllib.request.urlopen(url + "/manifest.webmanifest", timeout=2):  # noqa: S310 (local test server)
                    break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server at {url} did not answer within 30 s") from None
                time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


@dataclass
class Reply:
    status: int  # 0: no answer (connection error or timeout)
    code: str | None  # the problem+json code of a refusal
    body: Any = None


def post_many(
    url: str,
    requests: list[tuple[str, dict[str, str], Any]],
    *,
    workers: int = 32,
    timeout: float = 30.0,
    budget: float = 300.0,
) -> list[Reply]:
    """POST each (path, headers, json body) once, from ``workers`` threads released together,
    over keep-alive connections to 127.0.0.1. Bounded: each request by ``timeout``, all of
    them by ``budget`` seconds (what is left is answered with status 0)."""
    host, port = url.removeprefix("http://").split(":")
    assert host == "127.0.0.1", "live tests talk to this machine only"
    out: list[Reply] = [Reply(0, None)] * len(requests)
    lock = threading.Lock()
    cursor = [0]
    barrier = threading.Barrier(workers)
    deadline = time.monotonic() + budget

    def worker() -> None:
        conn: http.client.HTTPConnection | None = None
        barrier.wait(timeout=30)
        while time.monotonic() < deadline:
            with lock:
                i = cursor[0]
                cursor[0] += 1
            if i >= len(requests):
                break
            path, headers, body = requests[i]
            data = json.dumps(body).encode()
            for _attempt in range(2):  # a keep-alive connection the server closed: reconnect
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
                    conn.request(
                        "POST",
                        path,
                        body=data,
                        headers={**headers, "Content-Type": "application/json"},
                    )
                    response = conn.getresponse()
                    raw = response.read()
                    parsed = json.loads(raw) if raw else None
                    code = (
                        parsed.get("code")
                        if response.status >= 400 and isinstance(parsed, dict)
                        else None
                    )
                    out[i] = Reply(response.status, code, parsed)
                    if response.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + timeout + 5))
    return out
