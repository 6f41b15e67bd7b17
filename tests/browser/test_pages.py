"""The pages in a real browser: every role signs in through the page, lands on its home in
Chinese, switches to English, and opens a floor plan; the directory's live search; the merchant
application approved through the operator's console."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import STAFF_PASSWORD, Server

pytestmark = pytest.mark.browser

MALL = "万象城"
STARBUCKS = "星巴克"
SHOPPER_PHONE = "13800000001"
FLOORPLAN_PNG = os.environ.get("AGORA_FLOORPLAN_PNG", "/tmp/floorplan.png")  # noqa: S108


def staff_sign_in(page: Page, username: str, password: str = STAFF_PASSWORD) -> None:
    page.goto("/staff/login/")
    expect(page.locator("h1")).to_have_text("员工登录")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def switch_to_english(page: Page) -> None:
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def open_ground_floor(page: Page) -> None:
    """From the home page, the 1F plan of the first mall; it is drawn as SVG with 星巴克."""
    page.goto("/")
    page.locator("article.mall", has_text=MALL).get_by_role("link", name="1F", exact=True).click()
    expect(page.locator("h1")).to_have_text(f"{MALL} · 1F")
    plan = page.locator("svg#floor-plan")
    expect(plan).to_be_visible()
    assert plan.locator("polygon.zone").count() > 10
    expect(plan.locator("tspan", has_text=STARBUCKS)).to_have_count(1)
    expect(page.locator(".tabs a[aria-current=page]")).to_have_text("1F")


ROLE_HOMES = [
    # username, home, Chinese (h1, text), English (h1, text)
    ("admin", "/ops/", ("商圈概览", "空置率"), ("District overview", "Vacancy")),
    ("district-ops", "/ops/", ("商圈概览", "商圈运营"), ("District overview", "District operator")),
    ("mall-ops-1", "/ops/", ("商圈概览", "商场运营"), ("District overview", "Mall operator")),
    ("gov", "/gov/", ("商圈概况", "政府工作人员"), ("District at a glance", "Government officer")),
    (
        "shop-owner-1",
        "/merchant/",
        ("商户后台", "修改营业时间和联系方式"),
        ("Merchant console", "Edit hours and contact"),
    ),
    (
        "shop-cashier-1",
        "/merchant/",
        ("商户后台", "您的角色可以查看本店信息，但不能修改。"),
        ("Merchant console", "Your role can view this shop but not change it."),
    ),
]


@pytest.mark.parametrize(
    ("username", "home", "zh", "en"), ROLE_HOMES, ids=[r[0] for r in ROLE_HOMES]
)
def test_staff_role_signs_in_switches_language_and_opens_a_floor_plan(  # type: ignore[no-untyped-def]
    new_page, server: Server, username: str, home: str, zh: tuple[str, str], en: tuple[str, str]
) -> None:
    page = new_page()
    staff_sign_in(page, username)
    assert page.url == server.url + home
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("main h1")).to_have_text(zh[0])
    expect(page.locator("body")).to_contain_text(zh[1])
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()

    switch_to_english(page)
    assert page.url == server.url + home
    expect(page.locator("main h1")).to_have_text(en[0])
    expect(page.locator("body")).to_contain_text(en[1])
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    open_ground_floor(page)
    expect(page.locator("body")).to_contain_text("Shops on this floor")


def test_shopper_signs_in_by_sms_and_opens_a_floor_plan(new_page, server: Server) -> None:  # type: ignore[no-untyped-def]
    page = new_page()
    page.goto("/login/")
    expect(page.locator("h1")).to_have_text("手机号登录")
    offset = server.log_size()
    page.get_by_label("手机号").fill(SHOPPER_PHONE)
    page.get_by_role("button", name="获取验证码").click()
    code_field = page.get_by_label("短信验证码")
    expect(code_field).to_be_visible()
    code_field.fill(server.sms_code(SHOPPER_PHONE, after=offset))
    page.locator("#sms-form").get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(server.url + "/")
    expect(page.locator("main h1")).to_have_text("一个应用，逛遍商圈所有商场")
    expect(page.locator(".badge.role")).to_have_text("顾客")
    expect(page.get_by_role("link", name="我的数据与授权")).to_be_visible()

    switch_to_english(page)
    expect(page.locator("main h1")).to_have_text("Every mall of the district in one app")
    expect(page.get_by_role("link", name="My data & consents")).to_be_visible()

    open_ground_floor(page)


def test_directory_live_search_finds_starbucks_by_initials(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page()
    page.goto("/")
    page.locator("#q").press_sequentially("xbk", delay=40)
    results = page.locator("#directory-results .shop-name")
    expect(results.first).to_have_text(STARBUCKS)
    expect(results).to_have_count(2)
    assert page.url.endswith("/")  # HTMX swapped the results in; no page load


def test_apply_then_approve_through_the_pages(new_page, server: Server) -> None:  # type: ignore[no-untyped-def]
    applicant = new_page()
    applicant.goto("/apply/")
    expect(applicant.locator("h1")).to_have_text("在商圈开店")
    applicant.get_by_label("商场").select_option(label=MALL)
    applicant.get_by_label("店铺名称").fill("拾光书店")
    applicant.get_by_label("品牌").fill("拾光")
    applicant.get_by_label("业态").select_option(label="生活服务")
    applicant.get_by_label("联系人").fill("林晓")
    applicant.get_by_label("手机号").fill("13912345678")
    applicant.get_by_label("电子邮箱").fill("lin@example.com")
    applicant.get_by_label("统一社会信用代码").fill("91440300MA5FXK2Q1X")
    applicant.get_by_role("button", name="提交申请").click()
    expect(applicant.locator("h1")).to_have_text("申请已提交")

    ops = new_page(width=1280, height=900)
    staff_sign_in(ops, "mall-ops-1")
    ops.get_by_role("link", name="商户入驻").click()
    card = ops.locator("article.application", has_text="拾光书店")
    expect(card).to_be_visible()
    first_unit = card.locator("select[name=unit_ids] option").first.get_attribute("value")
    card.locator("select[name=unit_ids]").select_option([first_unit or ""])
    card.get_by_role("button", name="通过").click()
    expect(ops.locator("h1")).to_have_text("申请已通过")
    username = ops.get_by_test_id("owner-username").inner_text()
    password = ops.get_by_test_id("owner-password").inner_text()
    assert re.fullmatch(r"shop\d+-owner", username)

    owner = new_page()
    staff_sign_in(owner, username, password)
    assert owner.url == server.url + "/merchant/"
    expect(owner.locator("article.shop h2")).to_have_text("拾光书店")
    expect(owner.locator("article.shop .badge.status-fitting_out")).to_have_text("装修中")


def test_floor_plan_screenshot(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page(width=1280, height=900, service_workers="allow")
    open_ground_floor(page)
    page.screenshot(path=FLOORPLAN_PNG, full_page=True)
    # the PWA: the manifest is linked and the service worker takes control
    expect(page.locator('link[rel="manifest"]')).to_have_attribute("href", "/manifest.webmanifest")
    scope = page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.scope)",
    )
    assert scope.endswith("/")
