"""The operators' parking analytics and the entry gate display in a real browser (Debian's
chromium through Playwright), against gunicorn serving a temporary SQLite copy of the SMALL
demo district:

(a) the analytics page draws its ECharts charts (ECharts, vendored under static/, makes a
    canvas inside each chart box);
(b) the entry gate display of 万象城's car park follows the server-sent events: a space sensor
    reports a car on a free space, and the free-space number on the screen drops by one
    within a bounded wait, without a reload.

The server is this module's own (the urls of ``agora.parking.urls_ops`` are served whether or
not ``agora/urls.py`` includes them yet); the Chromium fixtures are the browser suite's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import conftest as browser
from tests.browser.support import STAFF_PASSWORD, Server

pytestmark = pytest.mark.browser

# the browser suite's page fixture, on this module's server, with a Chromium of this module
# only: a second session-wide Playwright (the browser suite starts its own later) would find
# this one's event loop still running
new_page = browser.new_page


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chrome = pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=browser.CHROMIUM_ARGS,
            timeout=30_000,
        )
        try:
            yield chrome
        finally:
            chrome.close()


ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
SHOTS = os.environ.get("AGORA_PARKING_SHOTS", "")  # a folder: save screenshots there


def ops_wsgi():  # type: ignore[no-untyped-def]
    """gunicorn's app factory: Agora, with the parking operators' urls when agora/urls.py
    does not include them yet."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    from django.conf import settings
    from django.urls import NoReverseMatch, clear_url_caches, reverse

    try:
        reverse("parking-ops", urlconf=settings.ROOT_URLCONF)
    except NoReverseMatch:
        settings.ROOT_URLCONF = "agora.parking.tests.test_ops_views"
        clear_url_caches()
    return app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("agora-parking-browser")
    db = tmp / "agora.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SMS_BACKEND": "agora.accounts.sms.ConsoleSmsBackend",
        "DJANGO_SETTINGS_MODULE": "agora.settings",
        "PYTHONUNBUFFERED": "1",
        "PARKING_DB": str(db),
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    subprocess.run(
        [*manage, "demo_district", "--seed", "42", "--small"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        stdout=subprocess.DEVNULL,
    )
    port = browser._free_port()
    url = f"http://127.0.0.1:{port}"
    env["SITE_URL"] = url
    log = tmp / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "agora.parking.tests.test_ops_browser:ops_wsgi()",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "3",
                "--no-control-socket",
                "--timeout",
                "40",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        browser._wait_until_up(url, proc, timeout=30)
        yield Server(url=url, log=log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def run_in_server_db(server: Server, script: str) -> str:
    """Run Python in ``manage.py shell`` against the server's database; its printed output."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{server.log.parent / 'agora.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "agora.settings",
    }
    done = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def sign_in(page: Page, username: str) -> None:
    page.goto("/staff/login/")
    form = page.locator("main form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(STAFF_PASSWORD)
    form.locator("[type=submit]").click()
    page.wait_for_load_state()


def test_analytics_page_draws_its_charts(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page(width=1280, height=900)
    sign_in(page, "mall-ops-1")
    page.goto("/ops/parking/")
    page.locator("[data-tab=analytics]").click()
    expect(page.locator("[data-tab=analytics]")).to_have_attribute("aria-current", "page")
    for chart in ("occupancy", "revenue", "stays", "discounts"):
        box = page.locator(f'[data-chart="{chart}"]')
        expect(box).to_have_attribute("data-drawn", "1", timeout=15_000)
        expect(box.locator("canvas")).to_have_count(1)
        assert box.get_attribute("_echarts_instance_")  # set by echarts.init
    # the numbers are in the tables too
    expect(page.locator("#occupancy-table tbody tr")).to_have_count(24)
    shot(page, "parking-analytics")


def test_entry_gate_display_follows_the_occupancy_live(new_page, server) -> None:  # type: ignore[no-untyped-def]
    page = new_page(width=1280, height=720)
    page.goto("/parking/gate/mixc-p/E1/")
    board = page.locator("#gate-board")
    expect(board).to_have_attribute("data-full", "0")
    free = page.locator("[data-testid=gate-free]")
    level = page.locator("[data-testid=gate-level-free]")
    before = int(free.inner_text())
    assert int(level.inner_text()) == before  # one level
    # wait until the stream has said its first word (the page then follows it)
    page.wait_for_timeout(1500)
    space = run_in_server_db(
        server,
        "from django.utils import timezone\n"
        "from agora.parking.models import Space\n"
        "from agora.parking.services.ingest import event_ingest\n"
        "s = Space.objects.filter(car_park__code='mixc-p', occupied=False, in_service=True)"
        ".exclude(kind='reserved').order_by('code').first()\n"
        "r = event_ingest(payload={'event_id': 'browser-occ-1', 'occupied': True,"
        " 'at': timezone.now().isoformat(), 'sensor': s.sensor},"
        " topic=f'agora/parking/mixc-p/space/{s.code}/occupancy', via='simulator')\n"
        "print(r.outcome, s.code)\n",
    )
    assert space.startswith("applied "), space
    started = time.monotonic()
    expect(free).to_have_text(str(before - 1), timeout=15_000)
    expect(level).to_have_text(str(before - 1))
    assert time.monotonic() - started < 15
    expect(board).to_have_attribute("data-full", "0")
    shot(page, "parking-gate")


def test_operators_live_page_lists_a_car_that_just_entered(new_page, server) -> None:  # type: ignore[no-untyped-def]
    """An entry read moves the free spaces: the page's stream tells it, and the queue and the
    list of cars reload themselves (HTMX) with the new car."""
    page = new_page(width=1280, height=900)
    sign_in(page, "mall-ops-1")
    page.goto("/ops/parking/")
    total = page.locator("#stays-total")
    before = int(total.inner_text())
    expect(page.locator("[data-stay] [data-plate]", has_text="粤S70001")).to_have_count(0)
    page.wait_for_timeout(1500)
    outcome = run_in_server_db(
        server,
        "from django.utils import timezone\n"
        "from agora.parking.services.ingest import event_ingest\n"
        "r = event_ingest(payload={'event_id': 'browser-in-1', 'plate': '粤S70001',"
        " 'at': timezone.now().isoformat(), 'confidence': 0.99},"
        " topic='agora/parking/mixc-p/gate/E1/plate', via='simulator')\n"
        "print(r.outcome)\n",
    )
    assert outcome == "applied"
    expect(page.locator("[data-stay] [data-plate]", has_text="粤S70001")).to_have_count(
        1, timeout=15_000
    )
    expect(total).to_have_text(str(before + 1))
    shot(page, "parking-live")
