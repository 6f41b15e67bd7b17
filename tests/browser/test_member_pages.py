"""The shopper's member pages in a real browser: sign in by SMS, claim a coupon in the coupon
centre (HTMX), find it in the wallet with its QR, open the member card with its live QR code
and code text, and read the pages in English after the language switch.

The shopper here signs in with a phone of their own: the server refuses a second SMS code for
one phone within SMS_CODE_MIN_INTERVAL_SECONDS (60 s), so reusing the demo shopper of
test_pages.py would make whichever of the two runs second wait or fail. Their first sign-in
creates the account and the first member page enrols them (普卡, 0 points)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Server

pytestmark = pytest.mark.browser

MALL = "万象城"
COUPON = "星巴克 立减5元"
SHOPPER_PHONE = "13900000301"  # a new shopper (see above)


def shopper_sign_in(page: Page, server: Server, phone: str = SHOPPER_PHONE) -> None:
    """The SMS sign-in of tests/browser/test_pages.py. A code asked for this phone less than a
    minute earlier (by another browser test) makes the page say how long to wait: wait, ask
    again."""
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


def test_shopper_claims_a_coupon_sees_it_in_the_wallet_and_shows_the_member_code(  # type: ignore[no-untyped-def]
    new_page, server: Server
) -> None:
    page = new_page()
    shopper_sign_in(page, server)

    # 领券中心: filter by the first mall, claim the Starbucks coupon (HTMX swaps the offer)
    page.goto("/coupons/")
    expect(page.locator("main h1")).to_have_text("领券中心")
    page.locator("nav.filter").get_by_role("link", name=MALL, exact=True).click()
    expect(page.locator("nav.filter a[aria-current=page]")).to_have_text(MALL)
    offer = page.locator("article.offer", has_text=COUPON)
    expect(offer).to_have_count(1)
    expect(offer.locator(".offer-value")).to_have_text("立减5元")
    url_before = page.url
    offer.get_by_role("button", name="领取").click()
    expect(offer.locator("[role=status]")).to_have_text("领取成功，已放入我的券包。")
    expect(offer.get_by_role("button", name="已领取")).to_be_disabled()
    assert page.url == url_before  # swapped in place, no page load

    # 我的券包: the coupon with its code and a QR for the cashier
    page.locator("nav.member-tabs").get_by_role("link", name="我的券包").click()
    expect(page.locator("main h1")).to_have_text("我的券包")
    coupon = page.locator("article.coupon", has_text=COUPON)
    expect(coupon).to_have_count(1)
    code = coupon.get_attribute("data-code")
    assert code and re.fullmatch(r"[A-Z0-9]{12}", code)
    expect(coupon.locator(".coupon-code code")).to_have_text(code)
    expect(coupon.locator("svg.qr")).to_be_visible()

    # 会员卡: the live member QR (inline SVG) and its code, as text and data
    page.locator("nav.member-tabs").get_by_role("link", name="会员卡").click()
    expect(page.locator("main h1")).to_have_text("会员卡")
    box = page.locator(".member-code")
    expect(box.locator("svg.qr")).to_be_visible()
    # read the data attribute and the text at once: HTMX swaps in a new code when it expires
    member_code, shown = box.evaluate(
        "el => [el.dataset.code, el.querySelector('[data-testid=member-code]').textContent]"
    )
    assert re.fullmatch(r"AGM[A-Z2-7]{30,}", member_code)
    assert shown == member_code
    expect(box).to_have_attribute("hx-get", "/me/card/code/")
    expect(page.get_by_test_id("countdown")).to_have_text(re.compile(r"^\d{1,2}$"))
    expect(page.get_by_test_id("tier")).to_have_text("普卡")
    expect(page.get_by_test_id("balance")).to_have_text("0")
    expect(page.get_by_test_id("to-next")).to_have_text("再消费 ¥3000 即可升级为银卡。")

    # English after the switch
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Member card")
    expect(page.get_by_test_id("tier")).to_have_text("Classic")
    expect(page.get_by_test_id("to-next")).to_have_text("Spend ¥3000 more to reach Silver.")
    expect(page.locator("main")).to_contain_text("Physical cards")
    expect(page.locator("main")).to_contain_text("Show this code at the till")
    tabs = page.locator("nav.member-tabs")
    for label in ("Member card", "Points", "Coupon centre", "My coupons", "Points exchange"):
        expect(tabs.get_by_role("link", name=label, exact=True)).to_be_visible()
    tabs.get_by_role("link", name="My coupons").click()
    expect(page.locator("main h1")).to_have_text("My coupons")
    expect(page.locator("article.coupon", has_text=COUPON).locator(".badge")).to_have_text("Usable")
    expect(page.locator("main")).to_contain_text("Show this code to the cashier.")
