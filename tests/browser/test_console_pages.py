"""The till in a real browser, end to end with the shopper's pages: a shopper claims 星巴克
立减5元 in the coupon centre, reads the coupon code from 我的券包 and the live member code from
会员卡; the cashier of 星巴克 (another browser context) identifies the member by that code,
checks the coupon on a 30 yuan order (5 yuan off), redeems it, and a second redemption of the
same coupon (a second till that had checked it too) is refused as already used.

The shopper is the demo district's second shopper (its phone read from the server's database
in a setup step), so that this test and tests/browser/test_member_pages.py (which claims the
same coupon for 13800000001) do not depend on each other's order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import STAFF_PASSWORD, Server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
MALL = "万象城"
COUPON = "星巴克 立减5元"
FIRST_SHOPPER = "13800000001"
SHOTS = os.environ.get("AGORA_CONSOLE_SHOTS", "")  # a folder: save screenshots there


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def second_shopper_phone(server: Server) -> str:
    """The phone of the demo's second shopper, from the server's database (setup only)."""
    database = server.log.parent / "agora.sqlite3"
    script = (
        "from agora.accounts.models import User;"
        "print(User.objects.filter(phone__startswith='138')"
        f".exclude(phone='{FIRST_SHOPPER}')"
        ".order_by('id').values_list('phone', flat=True).first())"
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{database}",
            "DJANGO_SETTINGS_MODULE": "agora.settings",
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    phone = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"138\d{8}", phone), result.stdout
    return phone


def shopper_sign_in(page: Page, server: Server, phone: str) -> None:
    page.goto("/login/")
    expect(page.locator("h1")).to_have_text("手机号登录")
    page.get_by_label("手机号").fill(phone)
    for _attempt in range(2):
        offset = server.log_size()
        page.get_by_role("button", name="获取验证码").click()
        code_field = page.get_by_label("短信验证码")
        wait = page.locator("#sms-form .error", has_text="请等待")
        expect(code_field.or_(wait)).to_be_visible()
        if code_field.is_visible():
            break
        seconds = re.search(r"(\d+)", wait.inner_text())
        time.sleep(int(seconds.group(1)) + 1 if seconds else 61)
    code_field.fill(server.sms_code(phone, after=offset))
    page.locator("#sms-form").get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(server.url + "/")


def staff_sign_in(page: Page, username: str) -> None:
    page.goto("/staff/login/")
    expect(page.locator("h1")).to_have_text("员工登录")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def check_coupon(till: Page, code: str, amount: str) -> None:
    section = till.locator("#till-coupon")
    section.get_by_label("券码").fill(code)
    section.get_by_label("订单金额（元）").fill(amount)
    section.get_by_role("button", name="查验").click()


def test_shopper_coupon_redeemed_at_the_till(new_page, server: Server) -> None:  # type: ignore[no-untyped-def]
    phone = second_shopper_phone(server)

    # the shopper: claim the coupon, read its code and the member code
    shopper = new_page()
    shopper_sign_in(shopper, server, phone)
    shopper.goto("/coupons/")
    shopper.locator("nav.filter").get_by_role("link", name=MALL, exact=True).click()
    offer = shopper.locator("article.offer", has_text=COUPON)
    expect(offer).to_have_count(1)
    offer.get_by_role("button", name="领取").click()
    expect(offer.get_by_role("button", name="已领取")).to_be_disabled()
    shopper.goto("/me/coupons/")
    coupon = shopper.locator("article.coupon", has_text=COUPON)
    expect(coupon).to_have_count(1)
    coupon_code = coupon.get_attribute("data-code")
    assert coupon_code and re.fullmatch(r"[A-Z0-9]{12}", coupon_code)
    shopper.goto("/me/card/")
    tier = shopper.get_by_test_id("tier").inner_text()
    balance = shopper.get_by_test_id("balance").inner_text()
    member_code = shopper.get_by_test_id("member-code").inner_text()
    assert member_code.startswith("AGM")

    # the cashier of 星巴克, in another browser context
    till = new_page(width=1024, height=900)
    staff_sign_in(till, "shop-cashier-1")
    till.goto("/merchant/loyalty/")
    expect(till.locator("main h1")).to_have_text("会员与优惠券")
    expect(till.get_by_test_id("till-shop")).to_contain_text("星巴克")
    url = till.url

    # 会员识别: the member appears without a page load
    till.get_by_placeholder("扫描或输入会员码、会员卡号").fill(member_code)
    till.get_by_role("button", name="识别", exact=True).click()
    member = till.get_by_test_id("member")
    expect(member).to_be_visible()
    expect(till.get_by_test_id("member-tier")).to_have_text(tier)
    expect(till.get_by_test_id("member-balance")).to_have_text(balance)
    expect(member.locator("li", has_text=COUPON).locator(".coupon-code")).to_have_text(coupon_code)
    expect(member.locator("li", has_text=COUPON)).to_contain_text("可在本店使用")
    assert till.url == url
    shot(till, "till-member")

    # the same code again is a replay
    till.get_by_placeholder("扫描或输入会员码、会员卡号").fill(member_code)
    till.get_by_role("button", name="识别", exact=True).click()
    expect(till.locator("#till-member [role=alert]")).to_have_text(
        "此会员码已使用，请顾客重新出示会员码。"
    )

    # 核销优惠券: check on a 30 yuan order, a second till checks it too
    check_coupon(till, coupon_code, "30")
    expect(till.get_by_test_id("coupon-applies")).to_have_text(
        "可用：¥30.00 减 ¥5.00，顾客应付 ¥25.00。"
    )
    second = till.context.new_page()
    second.goto("/merchant/loyalty/")
    check_coupon(second, coupon_code, "30")
    expect(second.get_by_test_id("coupon-applies")).to_contain_text("¥5.00")

    shot(till, "till-check")
    till.get_by_role("button", name="核销", exact=True).click()
    result = till.get_by_test_id("redeem-result")
    expect(result).to_contain_text("优惠券已核销。")
    expect(result).to_contain_text("优惠 ¥5.00，顾客应付 ¥25.00。")
    assert till.url == url

    second.get_by_role("button", name="核销", exact=True).click()
    expect(second.get_by_test_id("redeem-error")).to_have_text("此券已使用。")

    # checked again: not usable, already used; the shopper's wallet says it was used
    check_coupon(till, coupon_code, "30")
    expect(till.get_by_test_id("coupon-not-applies")).to_have_text("不可用：已使用")
    shopper.goto("/me/coupons/?tab=used")
    used = shopper.locator(f"article.coupon[data-code='{coupon_code}']")
    expect(used).to_have_count(1)


TABS = [
    ("规则与活动", "生效中的积分规则"),
    ("优惠券", "剩余库存"),
    ("会员", "手机尾号"),
    ("清算", "优惠券清算"),
    ("服务台", "发送促销消息"),
]


def test_operator_console_tabs(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page(width=1280, height=900)
    staff_sign_in(page, "mall-ops-1")
    page.locator("nav.menu").get_by_role("link", name="会员营销").click()
    expect(page.locator("main h1")).to_have_text(f"会员营销 · {MALL}")
    for label, text in TABS:
        page.locator("main nav.tabs").get_by_role("link", name=label, exact=True).click()
        expect(page.locator("main nav.tabs a[aria-current=page]")).to_have_text(label)
        expect(page.locator("main")).to_contain_text(text)
        shot(page, f"ops-{label}")
    page.locator("main nav.tabs").get_by_role("link", name="会员", exact=True).click()
    page.get_by_placeholder("手机号、手机尾号 4 位或卡号").fill(FIRST_SHOPPER[-4:])
    page.get_by_role("button", name="搜索").click()
    page.locator("table.members").get_by_role("link").first.click()
    expect(page.get_by_test_id("member-detail")).to_be_visible()
    shot(page, "ops-member")
    page.locator("main nav.tabs").get_by_role("link", name="优惠券", exact=True).click()
    row = page.locator("tr", has_text=f"{MALL} 满200减30")
    expect(row.locator("[data-stat=stock_left]")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("#coupon-rows")).to_have_attribute("hx-trigger", "every 10s")
