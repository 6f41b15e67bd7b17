"""The shopper's parking pages in a real browser (Debian's chromium through Playwright):

* live free spaces: the car park's page follows its stream (server-sent events) and its
  number drops by exactly one when a sensor reports a car on a free space, and comes back
  when the car leaves, without reloading the page;
* reverse car finding: a car that drove in and parked on a known space is found by its
  plate, and the walking route from a shop on 1F down to it is drawn on the B1 map.

The server is gunicorn (threads, so a stream holds no worker) against a SQLite file: a copy
of the test database (the SMALL demo) on SQLite, a freshly built demo on PostgreSQL. The
sensors' events are applied to that file by a separate process through ``event_ingest``,
as the ingest worker would. Everything is bounded in time and talks to 127.0.0.1 only.
Plates used here are used by no other test (粤B9P4xx)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from agora.lib.timeutil import SHANGHAI
from tests.browser.support import CHROMIUM_ARGS
from tests.live import sqlite_copy_of_test_database

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[3]
CP = "mixc-p"
FOUND_PLATE = "粤B9P401"
LIVE_TIMEOUT_MS = 10_000  # the stream polls every second; a change shows well within this

INGEST = (
    "import json, sys, django; django.setup(); "
    "from agora.parking.services.ingest import event_ingest; "
    "out = [event_ingest(payload=p, topic=None, via='simulator').outcome "
    "for p in json.loads(sys.argv[1])]; print(json.dumps(out))"
)


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "agora.settings"),
        "SMS_BACKEND": "agora.accounts.sms.ConsoleSmsBackend",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fresh_demo(path: Path) -> str:
    """A new SQLite file with the SMALL demo (when the tests run on PostgreSQL)."""
    url = f"sqlite:///{path}"
    manage = [sys.executable, str(ROOT / "manage.py")]
    for args in (["migrate", "--noinput", "-v", "0"], ["demo_district", "--seed", "42", "--small"]):
        subprocess.run(
            [*manage, *args],
            cwd=ROOT,
            env=_env(url),
            check=True,
            timeout=180,
            stdout=subprocess.DEVNULL,
        )
    return url


@contextmanager
def _gunicorn(database_url: str, log: Path) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**_env(database_url), "SITE_URL": url}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "agora.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-k",
                "gthread",
                "-w",
                "2",
                "--threads",
                "8",
                "--no-control-socket",
                "--timeout",
                "60",
                "--graceful-timeout",
                "3",
            ],
            cwd=ROOT,
            env=env,
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
                break
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


@pytest.fixture(scope="module")
def parking_site(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: Any, django_db_blocker: Any
) -> Iterator[tuple[str, str]]:
    """(the server's URL, its database URL)."""
    tmp = tmp_path_factory.mktemp("parking-browser")
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            database_url = sqlite_copy_of_test_database(tmp / "parking.sqlite3")
        else:
            database_url = _fresh_demo(tmp / "parking.sqlite3")
    log = tmp / "gunicorn.log"
    with _gunicorn(database_url, log) as url:
        yield url, database_url
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text, text[-3000:]


@contextmanager
def phone_page(base_url: str) -> Iterator[Any]:
    """A phone-sized page whose browser asks for Chinese. Playwright runs inside the test
    only: its event loop must not be running while the test database is set up or rolled
    back (Django refuses database calls from a thread with a running loop)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
            timeout=30_000,
        )
        try:
            context = browser.new_context(
                base_url=base_url,
                locale="zh-CN",
                viewport={"width": 412, "height": 915},
                service_workers="block",
            )
            context.set_default_timeout(10_000)
            yield context.new_page()
        finally:
            browser.close()


def ingest(database_url: str, payloads: list[dict[str, Any]]) -> None:
    """Apply sensor and camera events to the served database, as the ingest worker would."""
    done = subprocess.run(
        [sys.executable, "-c", INGEST, json.dumps(payloads, ensure_ascii=False)],
        cwd=ROOT,
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcomes == ["applied"] * len(payloads), outcomes


def _at(minutes: float = 0) -> str:
    when = timezone.now() + timedelta(minutes=minutes)
    return when.astimezone(SHANGHAI).isoformat(timespec="seconds")


def occupancy(space: str, occupied: bool, at: str, plate: str = "") -> dict[str, Any]:
    return {
        "event_id": f"pk-browser-{uuid.uuid4().hex[:12]}",
        "type": "occupancy",
        "car_park": CP,
        "space": space,
        "occupied": occupied,
        "plate": plate,
        "at": at,
    }


def entry(plate: str, at: str) -> dict[str, Any]:
    return {
        "event_id": f"pk-browser-{uuid.uuid4().hex[:12]}",
        "type": "plate",
        "car_park": CP,
        "gate": "E1",
        "plate": plate,
        "confidence": 0.98,
        "at": at,
    }


def test_free_spaces_change_live_without_a_reload(parking_site: tuple[str, str]) -> None:
    url, database = parking_site
    with phone_page(url) as page:
        _live_free_spaces(page, database)


def _live_free_spaces(page: Any, database: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"/parking/{CP}/")
    live = page.locator("#car-park-live")
    expect(live).to_have_attribute("data-live", "on", timeout=LIVE_TIMEOUT_MS)
    free = page.locator(f'[data-free="{CP}"]')
    before = int(free.inner_text())
    space = page.locator('rect.pk-space[data-state="free"][data-kind="standard"]').first
    code = space.get_attribute("data-space")
    assert code
    page.evaluate("window.pkSamePage = true")  # gone if the page reloads

    ingest(database, [occupancy(code, True, _at())])
    expect(free).to_have_text(str(before - 1), timeout=LIVE_TIMEOUT_MS)
    expect(page.locator(f'rect[data-space="{code}"]')).to_have_attribute(
        "data-state", "occupied", timeout=LIVE_TIMEOUT_MS
    )
    expect(page.locator('[data-level-free="B1"]')).to_have_text(str(before - 1))

    ingest(database, [occupancy(code, False, _at(0.05))])
    expect(free).to_have_text(str(before), timeout=LIVE_TIMEOUT_MS)
    expect(page.locator(f'rect[data-space="{code}"]')).to_have_attribute(
        "data-state", "free", timeout=LIVE_TIMEOUT_MS
    )
    assert page.evaluate("window.pkSamePage") is True


def test_find_my_car_by_plate_and_walk_there_from_a_shop(parking_site: tuple[str, str]) -> None:
    url, database = parking_site
    with phone_page(url) as page:
        _find_my_car(page, database)


def _find_my_car(page: Any, database: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"/parking/{CP}/")
    code = page.locator(
        'rect.pk-space[data-state="free"][data-kind="standard"]'
    ).last.get_attribute("data-space")
    assert code
    ingest(
        database,
        [entry(FOUND_PLATE, _at(-25)), occupancy(code, True, _at(-23), plate=FOUND_PLATE)],
    )

    page.goto("/parking/find/")
    page.locator('input[data-field="plate"]').fill(FOUND_PLATE)
    page.locator('[data-action="find"]').click()
    expect(page.locator('[data-result="found"]')).to_have_attribute("data-plate", FOUND_PLATE)
    expect(page.locator('[data-found="space"]')).to_have_text(code)
    expect(page.locator('[data-found="level"]')).to_have_text("B1")

    picker = page.locator('select[data-field="from"]')
    shop = picker.locator('optgroup[label*="1F"] option[value^="shop:"]').first
    picker.select_option(shop.get_attribute("value"))
    page.locator('[data-action="route"]').click()

    floors = page.locator("section.nav-floor")
    expect(floors).to_have_count(2)
    expect(floors.nth(0).locator(".floor-name")).to_contain_text("1F")
    b1 = floors.nth(1)
    expect(b1.locator(".floor-name")).to_contain_text("B1")
    line = b1.locator("polyline.route-line")
    points = line.get_attribute("points") or ""
    assert len(points.split()) >= 2
    box = line.bounding_box()
    assert box is not None and box["width"] + box["height"] > 10  # drawn, not collapsed
    expect(b1.locator('[data-role="end"] .marker-label')).to_contain_text(code)
    down = page.locator(
        '#route-steps li[data-kind="stairs"], #route-steps li[data-kind="lift"], '
        '#route-steps li[data-kind="escalator"]'
    )
    expect(down.first).to_contain_text("B1")
    expect(page.locator('#route-steps li[data-kind="arrive"]')).to_contain_text(code)
    expect(page.locator('[data-found="space"]')).to_have_text(code)
