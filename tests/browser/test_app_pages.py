"""The location-aware home (APP-1) and the guide kiosk (DEV-3, GUIDE-1) in a real browser.

(a) Playwright emulates the phone's position: after the visitor allows location use on the page,
a position inside 万象城 shows its mall page; 60 m beyond its edge the page stays (hysteresis);
500 m away the life page replaces it. The positions are computed from the mall's latitude and
longitude (the south-west corner of its floor plans) and its floors' size, read from the API.

(b) The kiosk /kiosk/mixc-1f/ in landscape and portrait: search 星巴克 by its initials, the route
with its steps and the QR code for the phone; the network goes down: the offline banner shows
at the next heartbeat (every second with ?beat=1) while the route stays on screen; back online
the banner goes; untouched, the kiosk returns to its home state.

UI strings are compared with their zh-Hans translation as the server's catalogs have it (``zh``),
so the test holds before and after the .po fragment is merged."""

from __future__ import annotations

import json
import math
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Geolocation, Page, expect

from tests.browser.support import Server

pytestmark = pytest.mark.browser

MALL = "万象城"
SHOP = "星巴克"
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0
SHOTS = os.environ.get("AGORA_APP_SHOTS", "")  # a folder: save screenshots there


def zh(msgid: str) -> str:
    from django.utils import translation

    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def get(server: Server, path: str) -> Any:
    with urllib.request.urlopen(f"{server.url}/api/v1{path}", timeout=15) as response:  # noqa: S310 (the local test server)
        return json.loads(response.read())


def footprint(server: Server, code: str) -> tuple[float, float, float, float]:
    """The mall's corner (latitude, longitude) and its plans' width (east) and depth (north)."""
    mall = next(m for m in get(server, "/malls") if m["code"] == code)
    floors = get(server, f"/malls/{mall['id']}/floors")
    width = max(f["width_m"] for f in floors)
    depth = max(f["depth_m"] for f in floors)
    return float(mall["latitude"]), float(mall["longitude"]), width, depth


def at(lat0: float, lon0: float, east_m: float, north_m: float) -> Geolocation:
    """A position east_m east and north_m north of the corner (as agora.lib.geo converts)."""
    return {
        "latitude": lat0 + north_m / M_PER_DEG_LAT,
        "longitude": lon0 + east_m / (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))),
        "accuracy": 10,
    }


def moved_to(page: Page, position: Geolocation) -> dict[str, Any]:
    """Move the phone and wait for the page's question to the server; its answer."""
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/nav/context") and r.request.method == "POST"
    ) as answer:
        page.context.set_geolocation(position)
    return dict(answer.value.json())


def test_home_switches_between_mall_and_life_pages_as_the_shopper_moves(  # type: ignore[no-untyped-def]
    new_page, server: Server
) -> None:
    lat0, lon0, width, depth = footprint(server, "mixc")
    inside = at(lat0, lon0, width / 2, depth / 2)
    just_out = at(lat0, lon0, width / 2, depth + 60)  # 60 m north of the edge
    away = at(lat0, lon0, width / 2, depth + 500)

    page = new_page()
    page.context.grant_permissions(["geolocation"], origin=server.url)
    page.context.set_geolocation(inside)
    page.goto("/")
    main = page.locator("#home-main")
    expect(main).to_have_attribute("data-page", "life")  # nothing known yet
    ask = page.locator("#location-ask")
    expect(ask).to_be_visible()
    expect(ask).to_contain_text(
        zh("Allow location use to show the page of the mall you are in automatically")
    )

    # the visitor allows location use on the page: the mall page comes by itself
    with page.expect_response(lambda r: r.url.endswith("/api/v1/nav/context")) as first:
        page.locator("#location-allow").click()
    assert first.value.json()["page"] == "mall"
    expect(ask).to_be_hidden()
    expect(main).to_have_attribute("data-page", "mall")
    expect(main).to_have_attribute("data-mall", "mixc")
    expect(main.locator("h2.mall-title")).to_have_text(MALL)
    expect(main.locator("[data-section=food] .shop-name").first).to_be_visible()
    expect(page.locator("#home-tabs [aria-current=page]")).to_have_attribute("data-tab", "mall")
    expect(page.locator("#location-status")).to_have_text(
        zh("You are at {mall}").replace("{mall}", MALL)
    )
    shot(page, "app-mall")

    # 60 m out: the server keeps the mall page (the page says which mall it shows)
    answer = moved_to(page, just_out)
    assert answer["page"] == "mall"
    assert 55 <= answer["distance_m"] <= 65
    page.wait_for_timeout(500)
    expect(main).to_have_attribute("data-page", "mall")
    expect(main).to_have_attribute("data-mall", "mixc")

    # 500 m away: the life page, with the malls by distance
    answer = moved_to(page, away)
    assert answer["page"] == "life"
    expect(main).to_have_attribute("data-page", "life")
    expect(main).to_have_attribute("data-mall", "")
    nearby = main.locator(".nearby-mall")
    expect(nearby.first).to_have_attribute("data-mall", "mixc")
    expect(nearby.first.locator(".distance")).to_have_attribute("data-distance", "500")
    expect(main.locator(".soon-card")).to_have_count(5)
    expect(page.locator("#home-tabs [aria-current=page]")).to_have_attribute("data-tab", "life")
    shot(page, "app-life")

    # back inside: the mall page again; the shopper may still pick the citizen window
    moved_to(page, inside)
    expect(main).to_have_attribute("data-page", "mall")
    page.locator("#home-tabs [data-tab=citizen]").click()
    expect(main).to_have_attribute("data-page", "citizen")
    answer = moved_to(page, inside)  # the same place: their choice stays
    assert answer["page"] == "mall"
    page.wait_for_timeout(500)
    expect(main).to_have_attribute("data-page", "citizen")


@pytest.mark.parametrize(
    ("width", "height"), [(1920, 1080), (1080, 1920)], ids=["landscape", "portrait"]
)
def test_kiosk_routes_to_a_shop_shows_a_qr_code_and_survives_going_offline(  # type: ignore[no-untyped-def]
    new_page, server: Server, width: int, height: int
) -> None:
    page = new_page(width=width, height=height)
    with page.expect_response(lambda r: "/heartbeat" in r.url) as beat:
        page.goto("/kiosk/mixc-1f/?beat=1&idle=6")
    assert beat.value.status == 200
    kiosk = page.locator("#kiosk[data-kiosk='mixc-1f']")
    expect(kiosk).to_have_attribute("data-state", "home")
    expect(page.locator("#offline-banner")).to_be_hidden()
    expect(page.locator(".k-home .k-plan .k-dot")).to_be_visible()
    expect(page.locator(".k-you-label")).to_have_text(zh("You are here"))

    # the map and the directory both fit on the screen, side by side or one above the other
    stage = page.locator("#kiosk-stage").bounding_box()
    panel = page.locator(".k-panel").bounding_box()
    assert stage is not None and panel is not None
    for box in (stage, panel):
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
    if width > height:
        assert stage["x"] + stage["width"] <= panel["x"]
    else:
        assert stage["y"] + stage["height"] <= panel["y"]
    assert stage["width"] * stage["height"] >= 0.3 * width * height

    # search by initials, pick the shop: the route, drawn on the plan, and the QR code
    page.locator("#kiosk-q").press_sequentially("xbk", delay=50)
    results = page.locator("#kiosk-results .k-item")
    expect(results).to_have_count(1)
    expect(results.first.locator(".k-name")).to_have_text(SHOP)
    results.first.click()
    route = page.locator("#kiosk-route")
    expect(route).to_be_visible()
    expect(route.locator("h2")).to_contain_text(SHOP)
    expect(route.locator(".k-step").last).to_contain_text(SHOP)
    expect(page.locator(".k-route-line")).to_have_count(1)
    expect(page.locator("#kiosk-qr svg")).to_be_visible()
    link = page.locator("#kiosk-qr").get_attribute("data-link") or ""
    assert link.startswith(f"{server.url}/nav/?from=kiosk:mixc-1f&to=shop:")
    expect(kiosk).to_have_attribute("data-state", "route")
    shot(page, f"kiosk-route-{width}x{height}")

    # the network goes down: the banner at the next heartbeat, the route stays on screen
    page.context.set_offline(True)
    banner = page.locator("#offline-banner")
    expect(banner).to_be_visible(timeout=5_000)
    expect(banner).to_have_text(zh("Network down, reconnecting…"))
    expect(route).to_be_visible()
    shot(page, f"kiosk-offline-{width}x{height}")
    # offline, the directory still filters what the page has
    page.locator("#kiosk-q").fill("")
    page.locator("#kiosk-q").press_sequentially("xbk", delay=50)
    expect(results).to_have_count(1)
    expect(results.first.locator(".k-name")).to_have_text(SHOP)

    # back online: the banner goes at the next retry
    page.context.set_offline(False)
    expect(banner).to_be_hidden(timeout=5_000)

    # untouched for idle seconds: the home state again
    expect(kiosk).to_have_attribute("data-state", "home", timeout=12_000)
    expect(page.locator("#kiosk-q")).to_have_value("")
    expect(route).to_have_count(0)
    expect(page.locator(".k-home .k-plan")).to_be_visible()


def test_operator_closes_and_reopens_a_vacant_unit(new_page) -> None:  # type: ignore[no-untyped-def]
    """Mall → floor → area pickers refresh in place (HTMX); the reason typed stays. A vacant unit
    of 星河COCO Park 2F, so that no other test's route is affected."""
    from tests.browser.test_console_pages import staff_sign_in

    page = new_page(width=1280, height=900)
    with page.expect_response(lambda r: "/heartbeat" in r.url) as beat:
        page.goto("/kiosk/mixc-1f/")  # the kiosk reports in
    assert beat.value.status == 200
    staff_sign_in(page, "district-ops")
    page.goto("/ops/navigation/")
    expect(page.locator("main h1")).to_have_text(zh("Navigation operations"))
    form = page.locator("#closure-form")
    form.locator("#id_reason").fill("铺位改造")
    form.locator("#id_mall").select_option(label="星河COCO Park")
    expect(form.locator("#id_floor option")).to_have_text(["1F", "2F"])
    expect(form.locator("#id_reason")).to_have_value("铺位改造")
    # the floor's areas arrive with the form's refresh: wait for that response
    with page.expect_response(
        lambda r: "/ops/navigation/" in r.url and r.request.method == "GET" and "floor=" in r.url
    ):
        form.locator("#id_floor").select_option(label="2F")
    unit = form.locator("#id_target option", has_text="L2-007").first
    expect(unit).to_have_count(1, timeout=15_000)
    value = unit.get_attribute("value") or ""
    assert value.startswith("zone:")
    form.locator("#id_target").select_option(value)
    form.locator("[data-testid=close-submit]").click()
    row = page.locator("#closures tbody tr", has_text="L2-007")
    expect(row).to_have_count(1)
    expect(row.locator(".closure-reason")).to_have_text("铺位改造")
    row.get_by_role("button", name=zh("Reopen")).click()
    expect(page.locator("#closures tbody tr", has_text="L2-007")).to_have_count(0)
    expect(page.locator("#kiosks [data-kiosk='mixc-1f'] [data-status]")).to_have_attribute(
        "data-status", "online"
    )  # it reported in just now
