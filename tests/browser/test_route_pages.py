"""Indoor navigation in a real browser (GUIDE-2, APP-3, APP-5): a shopper picks two shops by
typing, sees the route drawn floor by floor with Chinese directions, switches to English, then
to step-free and gets the lift; the maps pan and zoom; without JavaScript the page still works."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Server

pytestmark = pytest.mark.browser

ORIGIN = "周生生"  # 万象城 1F
DESTINATION = "海底捞"  # 星河COCO Park 2F


def pick(page: Page, field: str, text: str) -> None:
    """Type in a picker and click the place in its live results."""
    box = page.locator(f"#{field}-q")
    box.fill("")
    box.press_sequentially(text, delay=30)
    choice = page.locator(f"#{field}-results .place-choice a", has_text=text)
    expect(choice).to_have_count(1)
    choice.click()
    expect(page.locator(f"#{field}-q")).to_have_value(text)
    expect(page.locator(f'input[type=hidden][name="{field}"]')).to_have_value(
        re.compile(r"^shop:\d+$")
    )


def viewbox(page: Page, index: int = 0) -> list[float]:
    value = page.locator("svg.nav-map").nth(index).get_attribute("viewBox") or ""
    return [float(v) for v in value.split()]


def test_pick_two_shops_see_the_route_floor_by_floor_then_english_then_step_free(
    new_page, server: Server
) -> None:  # type: ignore[no-untyped-def]
    page = new_page()
    page.goto("/nav/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    pick(page, "from", ORIGIN)
    expect(page.locator("#route-steps")).to_have_count(0)
    pick(page, "to", DESTINATION)

    # the route, floor by floor: 万象城 1F, the street, COCO Park 1F, up to 2F
    steps = page.locator("#route-steps li")
    expect(steps.first).to_have_text("从周生生出发")
    expect(page.locator("section.nav-floor")).to_have_count(3)
    expect(page.locator("section.nav-floor .floor-name")).to_have_text(
        ["万象城 · 1F", "星河COCO Park · 1F", "星河COCO Park · 2F"]
    )
    expect(page.locator("svg.nav-map polyline.route-line")).to_have_count(3)
    expect(page.locator('svg.nav-map .floor-change[data-kind="escalator"]')).to_have_count(2)
    expect(page.locator('.transfer[data-kind="street"]')).to_contain_text("沿街步行约790米")
    expect(page.locator('#route-steps li[data-kind="escalator"]')).to_have_text(
        "乘扶梯（上行）上到2F"
    )
    expect(steps.filter(has_text="扶梯").filter(has_text="米")).to_have_text(
        ["下扶梯后左转，沿中庭步行约25米"]
    )
    expect(page.locator(".marker-start")).to_have_count(1)
    expect(page.locator(".marker-end")).to_have_count(1)
    assert re.search(r"/nav/\?from=shop%3A\d+&to=shop%3A\d+$", page.url), page.url

    # English: the same route, in English words
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator('#route-steps li[data-kind="escalator"]')).to_have_text(
        "Take the escalator up (扶梯（上行）) to 2F"
    )
    expect(page.locator("#route-steps li").first).to_have_text("Start at 周生生")

    # step-free: the lift instead of the escalator
    page.locator('[data-mode="step_free"]').click()
    expect(page.locator('#route[data-mode="step_free"]')).to_have_count(1)
    expect(page.locator('svg.nav-map .floor-change[data-kind="lift"]')).to_have_count(2)
    expect(page.locator('svg.nav-map .floor-change[data-kind="escalator"]')).to_have_count(0)
    lift = page.locator('#route-steps li[data-kind="lift"]')
    expect(lift).to_have_count(1)
    expect(lift).to_contain_text("lift")
    expect(lift).to_have_text(re.compile(r"^Take the lift \(客梯 \d\) to 2F$"))
    expect(page.locator('#route-steps li[data-kind="escalator"]')).to_have_count(0)
    assert "mode=step_free" in page.url
    # the shareable address draws the same route on its own
    page.reload()
    expect(page.locator('#route-steps li[data-kind="lift"]')).to_have_count(1)
    expect(page.locator('[data-mode="step_free"][aria-current="true"]')).to_have_count(1)


def test_maps_zoom_with_buttons_wheel_and_pinch_and_pan_by_dragging(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page()
    page.goto("/nav/")
    pick(page, "from", ORIGIN)
    pick(page, "to", DESTINATION)
    svg = page.locator("svg.nav-map").first
    svg.scroll_into_view_if_needed()
    home = viewbox(page)
    figure = page.locator("figure.nav-figure").first
    expect(figure.locator(".map-controls")).to_be_visible()

    figure.locator('button[data-zoom="in"]').click()
    zoomed = viewbox(page)
    assert zoomed[2] == pytest.approx(home[2] / 1.5, rel=1e-3)
    figure.locator('button[data-zoom="out"]').click()
    assert viewbox(page)[2] == pytest.approx(home[2], rel=1e-3)
    figure.locator('button[data-zoom="reset"]').click()
    assert viewbox(page) == home

    # drag to pan (first zoom in, so that there is room to move)
    figure.locator('button[data-zoom="in"]').click()
    before = viewbox(page)
    box = svg.bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 60, cy - 40, steps=6)
    page.mouse.up()
    after = viewbox(page)
    assert after[0] > before[0] and after[1] > before[1]
    assert after[2] == pytest.approx(before[2])

    # the wheel zooms in about the pointer
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -200)
    page.wait_for_function(
        "w => parseFloat(document.querySelector('svg.nav-map').getAttribute('viewBox')"
        ".split(' ')[2]) < w",
        arg=after[2],
    )

    # two fingers apart: zoom in
    figure.locator('button[data-zoom="reset"]').click()
    page.evaluate(
        """([cx, cy]) => {
          const svg = document.querySelector('svg.nav-map');
          const fire = (type, id, x) => svg.dispatchEvent(new PointerEvent(type, {
            pointerId: id, pointerType: 'touch', clientX: x, clientY: cy, bubbles: true,
            cancelable: true, isPrimary: id === 1}));
          fire('pointerdown', 1, cx - 20); fire('pointerdown', 2, cx + 20);
          for (let i = 1; i <= 5; i++) { fire('pointermove', 1, cx - 20 - 12 * i);
                                         fire('pointermove', 2, cx + 20 + 12 * i); }
          fire('pointerup', 1, cx - 80); fire('pointerup', 2, cx + 80);
        }""",
        [cx, cy],
    )
    pinched = viewbox(page)
    assert pinched[2] == pytest.approx(home[2] * 40 / 160, rel=1e-2)


def test_without_javascript_the_links_pick_places_and_switch_modes(
    chromium, server: Server
) -> None:  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        base_url=server.url,
        locale="zh-CN",
        viewport={"width": 412, "height": 915},
        java_script_enabled=False,
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/nav/")
        page.locator("#from-q").fill(ORIGIN)
        page.locator("#from-q").press("Enter")
        page.locator("#from-results a", has_text=ORIGIN).click()
        expect(page.locator("#from-q")).to_have_value(ORIGIN)
        page.locator("#to-q").fill(DESTINATION)
        page.locator("#to-q").press("Enter")
        page.locator("#to-results a", has_text=DESTINATION).click()
        expect(page.locator('#route-steps li[data-kind="escalator"]')).to_have_count(1)
        expect(page.locator("section.nav-floor")).to_have_count(3)
        page.locator('[data-mode="step_free"]').click()
        expect(page.locator('#route-steps li[data-kind="lift"]')).to_have_count(1)
        # the destination links to its shop page, whose button comes back here
        page.locator("a.route-to").click()
        expect(page.locator("h1.shop-name")).to_have_text(DESTINATION)
        page.locator("a.take-me").click()
        expect(page.locator("#to-q")).to_have_value(DESTINATION)
    finally:
        context.close()
