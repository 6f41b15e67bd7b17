"""Paying a till order on the phone, in a real browser, then the operator's payments console.

Setup through the live server's API as 星巴克's cashier (shop-cashier-1, a bearer token from
POST /api/v1/auth/tokens): a first order of ¥300 paid in cash with the shopper's phone, so that
the shopper has points, and the till order of ¥90 to pay on the phone (no member yet).

The shopper signs in by SMS with a phone of their own (13900000623: no other browser test uses
it; one SMS code a minute per phone), claims 星巴克 立减5元 in the coupon centre, opens
/pay/<number>/ (the order becomes theirs): the coupon is chosen, ¥85.00 to pay; 500 points
take ¥5.00 more off; 支付宝 through the sandbox page (a new tab, as the wallet app would be);
the pay page polls until 支付成功 with the points earned; the order is in 我的订单, an e-invoice
is issued with its PDF; the order page once in English. Then mall-ops-1 sees the payment in
/ops/payments/, reconciles today's sandbox bill (0 mismatches) and downloads the settlement
CSV."""

from __future__ import annotations

import json
import os
import re
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import STAFF_PASSWORD, Server
from tests.browser.test_console_pages import shopper_sign_in, staff_sign_in

pytestmark = pytest.mark.browser

SHOPPER_PHONE = "13900000623"  # a new shopper of this test only (see above)
MALL = "万象城"
COUPON = "星巴克 立减5元"
SHOTS = os.environ.get("AGORA_PAY_SHOTS", "")  # a folder: save screenshots there


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def api(
    server: Server, method: str, path: str, body: Any = None, *, token: str = "", key: str = ""
) -> Any:
    """One JSON call to the live server's API (bounded in time)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (the local test server)
        f"{server.url}/api/v1{path}", data=data, headers=headers, method=method
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def cashier(server: Server) -> tuple[str, int]:
    """A bearer token of 星巴克's cashier and the shop's id."""
    login = {"username": "shop-cashier-1", "password": STAFF_PASSWORD}
    token = api(server, "POST", "/auth/tokens", login)["token"]
    grants = api(server, "GET", "/me", token=token)["grants"]
    shop_id = next(g["shop_id"] for g in grants if g["shop_id"])
    return token, int(shop_id)


def till_order(
    server: Server, token: str, shop_id: int, lines: list[tuple[str, int, int]], **extra: Any
) -> dict[str, Any]:
    body = {
        "lines": [{"name": n, "quantity": q, "unit_price_fen": p} for n, q, p in lines],
        **extra,
    }
    return dict(api(server, "POST", f"/shops/{shop_id}/orders", body, token=token))


def test_shopper_pays_on_the_phone_then_the_operator_reconciles_and_settles(  # type: ignore[no-untyped-def]
    new_page, server: Server
) -> None:
    page = new_page()
    shopper_sign_in(page, server, SHOPPER_PHONE)

    # 领券中心: claim the Starbucks coupon (the first member page also enrols the shopper)
    page.goto("/coupons/")
    page.locator("nav.filter").get_by_role("link", name=MALL, exact=True).click()
    offer = page.locator("article.offer", has_text=COUPON)
    offer.get_by_role("button", name="领取").click()
    expect(offer.get_by_role("button", name="已领取")).to_be_disabled()

    # the till: a first order paid in cash earns the shopper points, then the order to pay
    token, shop_id = cashier(server)
    first = till_order(
        server, token, shop_id, [("咖啡豆礼盒", 1, 30000)], member_phone=SHOPPER_PHONE
    )
    paid_first = api(
        server,
        "POST",
        f"/orders/{first['id']}/submit",
        {"payments": [{"method": "cash", "amount_fen": 30000, "tendered_fen": 30000}]},
        token=token,
        key=uuid.uuid4().hex,
    )
    assert paid_first["status"] == "paid" and paid_first["points_earned"] > 0
    order = till_order(server, token, shop_id, [("拿铁 大杯", 2, 3600), ("可颂", 1, 1800)])
    number = order["number"]

    # the pay page: the order, the coupon chosen, what is left to pay
    page.goto(f"/pay/{number}/")
    expect(page.locator("main h1")).to_have_text("支付")
    expect(page.get_by_test_id("shop-name")).to_have_text("星巴克")
    expect(page.get_by_test_id("order-subtotal")).to_have_text("¥90.00")
    chosen = page.locator("label.coupon-option.chosen", has_text=COUPON)
    expect(chosen).to_have_count(1)
    expect(chosen.locator("input")).to_be_checked()
    expect(chosen.locator(".coupon-off")).to_have_text("-¥5.00")
    expect(page.get_by_test_id("discount")).to_have_text("-¥5.00")
    expect(page.get_by_test_id("payable")).to_have_text("¥85.00")
    expect(page.get_by_test_id("pay-submit")).to_have_text("支付 ¥85.00")
    shot(page, "pay-quote")

    # points: 500 of them take ¥5.00 off (HTMX asks for the totals again)
    points = page.get_by_label("使用积分", exact=True)
    points.fill("500")
    points.blur()
    expect(page.get_by_test_id("points-fen")).to_have_text("-¥5.00")
    expect(page.get_by_test_id("payable")).to_have_text("¥80.00")
    expect(page.get_by_test_id("points-slider")).to_have_value("500")
    expect(page.get_by_label("使用积分", exact=True)).to_have_value("500")

    # 支付宝: the page gives the provider's link and waits
    page.get_by_label("支付宝").check()
    page.get_by_test_id("pay-submit").click()
    link = page.get_by_test_id("pay-link")
    expect(link).to_have_text("去支付")
    expect(page.get_by_test_id("pending-amount")).to_have_text("¥80.00")
    expect(page.locator(".pay-panel svg.qr")).to_be_visible()
    assert (link.get_attribute("href") or "").startswith(f"{server.url}/sandbox/pay/")
    shot(page, "pay-waiting")

    # the wallet app (the sandbox page, in a new tab) confirms
    with page.context.expect_page() as opened:
        link.click()
    wallet = opened.value
    wallet.get_by_test_id("sandbox-confirm").click()
    expect(wallet.get_by_test_id("sandbox-paid")).to_be_visible()
    wallet.close()

    # the pay page finds out by itself (its poll asks the provider every 2 s)
    expect(page.get_by_test_id("pay-success")).to_have_text("支付成功", timeout=15_000)
    expect(page.get_by_test_id("paid-amount")).to_have_text("¥80.00")
    earned = page.get_by_test_id("points-earned").inner_text()
    assert re.fullmatch(r"[1-9]\d*", earned), earned
    shot(page, "pay-success")

    # 我的订单: the order, paid, with its points; the detail page; the e-invoice
    page.goto("/me/orders/")
    expect(page.locator("main h1")).to_have_text("我的订单")
    row = page.locator(f"li.order-row[data-number='{number}']")
    expect(row.get_by_test_id("order-status")).to_have_text("已支付")
    expect(row.get_by_test_id("order-paid")).to_have_text("¥80.00")
    expect(row.get_by_test_id("order-points")).to_have_text(f"+{earned} 积分")
    row.get_by_role("link", name="详情").click()
    expect(page.locator("main h1")).to_contain_text(number)
    page.get_by_label("发票抬头").fill("张三")
    page.get_by_test_id("invoice-submit").click()
    expect(page.locator(".messages")).to_contain_text("已开具")
    invoice_number = page.get_by_test_id("invoice-number").inner_text()
    assert invoice_number and invoice_number in page.locator(".messages").inner_text()
    expect(page.get_by_test_id("invoice-amount")).to_have_text("¥80.00")
    pdf_link = page.get_by_test_id("invoice-pdf")
    href = pdf_link.get_attribute("href") or ""
    assert re.fullmatch(r"/api/v1/invoices/\d+/pdf", href), href
    pdf = page.request.get(href, timeout=15_000)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    shot(page, "order-invoice")

    # once in English
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h2", has_text="Invoices")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.locator("nav.shopper-tabs a[aria-current=page]")).to_have_text("My orders")

    # the operator of the mall: the payment, today's reconciliation, the settlement CSV
    ops = new_page(width=1280, height=900)
    staff_sign_in(ops, "mall-ops-1")
    ops.goto("/ops/payments/")
    expect(ops.locator("main h1")).to_have_text("支付管理")
    payment = ops.locator(f"tr[data-number='{number}1']")
    expect(payment).to_contain_text("支付宝")
    expect(payment).to_contain_text("¥80.00")
    expect(payment).to_contain_text("已支付")
    shot(ops, "ops-payments")

    tabs = ops.locator("main nav.tabs")
    tabs.get_by_role("link", name="对账", exact=True).click()
    expect(ops.get_by_label("支付渠道")).to_have_value("sandbox")
    run = ops.get_by_test_id("reconcile-run")
    expect(run).to_have_attribute("data-testid", "reconcile-run")
    expect(ops.locator("form[hx-indicator='#reconcile-busy']")).to_have_count(1)
    run.click()
    result = ops.get_by_test_id("run-result")
    expect(result).to_contain_text("差异 0 笔")
    latest = ops.locator("section.run.latest")
    expect(latest.get_by_test_id("run-mismatched")).to_have_text("0")
    expect(ops.get_by_test_id("reconcile-busy")).to_be_hidden()
    shot(ops, "ops-reconcile")

    tabs.get_by_role("link", name="结算", exact=True).click()
    ops.locator("main form").get_by_role("button", name="查询").click()
    table = ops.get_by_test_id("settlement")
    expect(table.locator("tbody tr", has_text="星巴克").first).to_be_visible()
    shot(ops, "ops-settlement")
    with ops.expect_download(timeout=15_000) as downloading:
        ops.get_by_test_id("settlement-csv").click()
    download = downloading.value
    assert re.fullmatch(r"settlement-mall\d+-\d{8}-\d{8}\.csv", download.suggested_filename)
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("日期 date,商户编号 shop_id,商户 shop,销售-微信支付 sales_wechat,")
    assert lines[0].endswith(",应付商户 net_payable")
    assert any(f",{shop_id},星巴克," in line for line in lines[1:])
