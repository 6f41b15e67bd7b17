"""The merchant's POS in a real browser, end to end through the sandbox provider.

A shopper signs in by SMS, claims 星巴克 立减5元 in the coupon centre (unless they hold it) and
reads their live member code from 会员卡; in a second browser context (a tablet-sized window)
the cashier of 星巴克 (shop-cashier-1) opens /merchant/pos/, adds 拿铁 2 × 36, creates the
order and types the member code: the member appears, the coupon is chosen with ¥5 off and
¥67.00 is payable. 微信支付 shows the sandbox QR; the shopper opens its pay link and confirms;
the POS shows 支付成功 and the points earned without a reload (the status is polled every 2 s).
Then the receipt, the live order list, and the order detail in English.

The shopper signs in with a phone of their own (a new member: 普卡, 0 points, the coupon as the
only one in their wallet): the server refuses a second SMS code for one phone within 60 s, and
13800000001 signs in by SMS in tests/browser/test_pages.py (13900000301 in
test_member_pages.py), so reusing either would make whichever runs second wait."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Server
from tests.browser.test_console_pages import shopper_sign_in, staff_sign_in

pytestmark = pytest.mark.browser

MALL = "万象城"
COUPON = "星巴克 立减5元"
# a new shopper (see above); the last 4 digits cannot be part of an order number's yymmdd, so
# searching the order list by them finds this shopper's order only
SHOPPER_PHONE = "13900009917"
SHOTS = os.environ.get("AGORA_POS_SHOTS", "")  # a folder: save screenshots there


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def claim_coupon(page: Page) -> None:
    page.goto("/coupons/")
    page.locator("nav.filter").get_by_role("link", name=MALL, exact=True).click()
    offer = page.locator("article.offer", has_text=COUPON)
    expect(offer).to_have_count(1)
    claim = offer.get_by_role("button", name="领取", exact=True)
    if claim.count():
        claim.click()
    expect(offer.get_by_role("button", name="已领取")).to_be_disabled()


def member_code_of(page: Page) -> str:
    page.goto("/me/card/")
    box = page.locator(".member-code")
    expect(box.locator("svg.qr")).to_be_visible()
    code = box.get_attribute("data-code")
    assert code and code.startswith("AGM")
    return code


def test_pos_sale_with_member_code_coupon_and_sandbox_wechat_pay(  # type: ignore[no-untyped-def]
    new_page, server: Server
) -> None:
    started = time.monotonic()
    shopper = new_page()
    shopper_sign_in(shopper, server, SHOPPER_PHONE)
    claim_coupon(shopper)
    shopper.goto("/me/coupons/")
    coupon_code = shopper.locator("article.coupon", has_text=COUPON).get_attribute("data-code")
    assert coupon_code and re.fullmatch(r"[A-Z0-9]{12}", coupon_code)

    # the cashier's tablet
    pos = new_page(width=1024, height=1000)
    staff_sign_in(pos, "shop-cashier-1")
    pos.goto("/merchant/pos/")
    expect(pos.locator("main h1")).to_contain_text("收银台")
    expect(pos.get_by_test_id("pos-shop")).to_have_text(f"{MALL} · 星巴克")

    # 拿铁 2 × ¥36
    pos.get_by_label("商品", exact=True).fill("拿铁")
    pos.get_by_label("数量", exact=True).fill("2")
    pos.get_by_label("单价（元）", exact=True).fill("36")
    pos.get_by_test_id("add-line").click()
    expect(pos.get_by_test_id("cart-line")).to_have_count(1)
    expect(pos.get_by_test_id("cart-subtotal")).to_have_text("¥72.00")
    shot(pos, "pos-sale")
    sale_url = pos.url
    pos.get_by_test_id("create-order").click()
    pos.wait_for_url(re.compile(r"/merchant/pos/\d+/sale/\d+/$"))
    assert pos.url != sale_url
    order_number = pos.get_by_test_id("order-number").inner_text()
    assert re.fullmatch(r"A\d{6}[0-9A-Z]{8}", order_number)
    order_url = pos.url
    expect(pos.get_by_test_id("payable")).to_have_text("¥72.00")

    # the member by their live member code (read just now: it is valid for a minute)
    pos.get_by_placeholder("扫描会员码，或输入会员卡号、手机号").fill(member_code_of(shopper))
    pos.get_by_role("button", name="识别", exact=True).click()
    expect(pos.get_by_test_id("member-phone")).to_have_text(
        f"{SHOPPER_PHONE[:3]}****{SHOPPER_PHONE[-4:]}"
    )
    expect(pos.get_by_test_id("member-tier")).to_have_text("普卡")
    expect(pos.get_by_test_id("member-points")).to_have_text("0")
    option = pos.locator(f"[data-testid=coupon-option][data-code='{coupon_code}']")
    expect(option.get_by_test_id("coupon-chosen")).to_have_text("已选")
    expect(option.get_by_test_id("coupon-discount")).to_have_text("-¥5.00")
    expect(pos.get_by_test_id("discount")).to_have_text("-¥5.00")
    expect(pos.get_by_test_id("payable")).to_have_text("¥67.00")
    expect(pos.get_by_test_id("points-rate")).to_have_text("100 积分 = ¥1")
    to_earn = pos.get_by_test_id("points-to-earn").inner_text()
    assert re.fullmatch(r"\d+", to_earn) and int(to_earn) > 0
    assert pos.url == order_url  # swapped in place
    shot(pos, "pos-member")

    # 微信支付: the sandbox QR and its link
    pos.locator("label.method", has_text="微信支付").click()
    pos.get_by_test_id("pay-submit").click()
    expect(pos.get_by_test_id("pay-qr").locator("svg")).to_be_visible()
    expect(pos.get_by_test_id("pay-waiting")).to_have_text("等待支付 ¥67.00…")
    link = pos.get_by_test_id("pay-link").get_attribute("href")
    assert link and "/sandbox/pay/" in link
    shot(pos, "pos-qr")

    # the shopper scans it (the sandbox page, on the live server's origin) and confirms
    parts = urlsplit(link)
    shopper.goto(server.url + parts.path)
    expect(shopper.get_by_test_id("sandbox-amount")).to_be_visible()
    shopper.get_by_test_id("sandbox-confirm").click()
    expect(shopper.get_by_test_id("sandbox-paid")).to_be_visible()

    # the POS learns it by polling, without a reload
    expect(pos.get_by_test_id("pay-success")).to_have_text("支付成功", timeout=15_000)
    expect(pos.get_by_test_id("points-earned")).to_have_text(f"会员获得 {to_earn} 积分。")
    expect(pos.get_by_test_id("cancel-order")).to_have_count(0)
    assert pos.url == order_url
    shot(pos, "pos-paid")

    # the receipt
    pos.get_by_test_id("receipt-link").click()
    expect(pos.get_by_test_id("receipt-number")).to_have_text(order_number)
    expect(pos.get_by_test_id("receipt-payable")).to_have_text("¥67.00")
    expect(pos.get_by_test_id("receipt-lines")).to_contain_text("拿铁")
    expect(pos.get_by_test_id("receipt")).to_contain_text(COUPON)
    expect(pos.get_by_test_id("receipt-points")).to_have_text(to_earn)
    expect(pos.get_by_test_id("print")).to_have_text("打印")
    shot(pos, "pos-receipt")

    # the live order list: the order is there, paid; searching by the phone's last 4 digits
    pos.goto(order_url.split("/sale/")[0] + "/orders/")
    row = pos.locator(f"[data-testid=order-row][data-number='{order_number}']")
    expect(row).to_have_attribute("data-status", "paid")
    expect(pos.get_by_test_id("orders")).to_have_attribute("hx-trigger", "every 3s")
    pos.get_by_label("搜索", exact=True).fill(SHOPPER_PHONE[-4:])
    expect(pos.get_by_test_id("order-row")).to_have_count(1)
    expect(row).to_be_visible()
    shot(pos, "pos-orders")
    row.get_by_role("link").click()
    expect(pos.get_by_test_id("order-status")).to_have_text("已支付")
    expect(pos.locator("main")).to_contain_text("支付记录")

    # English after the language switch
    pos.get_by_role("button", name="English").click()
    pos.wait_for_load_state()
    expect(pos.locator("html")).to_have_attribute("lang", "en")
    expect(pos.get_by_test_id("order-status")).to_have_text("Paid")
    main = pos.locator("main")
    for label in ("Order summary", "Payments", "Refunds", "E-invoice", "Points earned"):
        expect(main).to_contain_text(label)
    expect(pos.get_by_test_id("order-payment")).to_contain_text("WeChat Pay")
    expect(pos.get_by_test_id("refund-full")).to_have_text("Refund everything (¥67.00)")
    expect(pos.get_by_test_id("order-points-earned")).to_have_text(to_earn)
    shot(pos, "pos-order-en")
    assert time.monotonic() - started < 90
