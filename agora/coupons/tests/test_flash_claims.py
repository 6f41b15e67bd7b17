"""A flash sale: 10,000 claims of a coupon with 1,000 units, sent by real concurrent HTTP
clients to a live gunicorn server, on PostgreSQL (the test database) and on SQLite (a WAL file
copied from the test database). Exactly the stock is issued, no member holds more than the
template allows, and every refusal says why (convention 5, issue 3).

AGORA_FLASH_CLAIMS sets the number of claims (10,000 unless told)."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.live import (
    FlashWorld,
    call_in,
    database_url_of_test_database,
    flash_tally,
    flash_world,
    live_server,
    post_many,
    sqlite_copy_of_test_database,
)

pytestmark = pytest.mark.django_db(transaction=True)

CLAIMS = int(os.environ.get("AGORA_FLASH_CLAIMS", "10000"))
STOCK = 1000
MEMBERS = 2500
CLIENTS = 32


@pytest.fixture
def live_database(tmp_path: Path) -> str:
    """A database URL that this process, a seeding process and the server all reach."""
    if connection.vendor == "postgresql":
        return database_url_of_test_database()
    return sqlite_copy_of_test_database(tmp_path / "flash.sqlite3")


def _run(database_url: str, name: str, **kwargs: Any) -> Any:
    """A tests.live helper against the live database: here on PostgreSQL (this process uses
    the same database), in a fresh process on the SQLite file."""
    if connection.vendor == "postgresql":
        from dataclasses import asdict, is_dataclass

        out = {"flash_world": flash_world, "flash_tally": flash_tally}[name](**kwargs)
        return asdict(out) if is_dataclass(out) and not isinstance(out, type) else out
    return call_in(database_url, name, **kwargs)


def test_ten_thousand_claims_issue_exactly_the_stock(live_database: str, tmp_path: Path) -> None:
    world = FlashWorld(
        **_run(
            live_database,
            "flash_world",
            stock=STOCK,
            members=MEMBERS,
            per_member_total=1,
            per_member_daily=1,
            tokens=True,
        )
    )
    order = [n % MEMBERS for n in range(CLAIMS)]  # each member tries CLAIMS / MEMBERS times
    random.Random(3).shuffle(order)
    path = f"/api/v1/coupons/{world.template_id}/claim"
    requests = [
        (
            path,
            # a key per request: a retry on a dropped keep-alive connection claims nothing twice
            {"Authorization": f"Bearer {world.tokens[m]}", "Idempotency-Key": f"flash-{n}"},
            {},
        )
        for n, m in enumerate(order)
    ]
    with live_server(live_database, log=tmp_path / "gunicorn.log", workers=4, threads=4) as url:
        started = time.perf_counter()
        replies = post_many(url, requests, workers=CLIENTS, timeout=30, budget=300)
        elapsed = time.perf_counter() - started
    print(
        f"\n{connection.vendor}: {CLAIMS} claims by {CLIENTS} clients in {elapsed:.1f} s "
        f"({CLAIMS / elapsed:.0f}/s)"
    )

    outcomes = Counter((r.status, r.code) for r in replies)
    assert outcomes[(201, None)] == STOCK, outcomes
    assert set(outcomes) <= {(201, None), (409, "sold_out"), (409, "member_limit")}, outcomes
    assert sum(outcomes.values()) == CLAIMS
    codes = {r.body["code"] for r in replies if r.status == 201}
    assert len(codes) == STOCK  # a distinct coupon behind every success
    assert _run(live_database, "flash_tally", template_id=world.template_id) == {
        "coupons": STOCK,
        "members": STOCK,
        "most_per_member": 1,
        "issued": STOCK,
        "tally_total": STOCK,
    }
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log, log[-3000:]
