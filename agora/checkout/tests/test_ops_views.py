"""The operators' payments console (/ops/payments/) through Django's test client, on the SMALL
demo district: who may open it, the payments of the operator's malls, the provider
notification log, a reconciliation run that finds a mismatch, and the settlement with its CSV.

Orders are made by 星巴克's cashier (mall 1) through the API and paid through the sandbox."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agora.accounts.models import User
from agora.checkout.models import Order, PaymentNotice, ReconciliationRun, SandboxTrade
from agora.checkout.selectors_settlement import settlement_header
from agora.checkout.services.sandbox import sandbox_pay
from agora.district.models import Shop
from agora.testing.personas import as_persona, shop_id_of

pytestmark = pytest.mark.django_db

CASHIER = "shop-cashier-1"
SHOPPER = "13800000001"
HX = {"HX-Request": "true"}
PAGES = [
    "/ops/payments/",
    "/ops/payments/notifications/",
    "/ops/payments/reconciliation/",
    "/ops/payments/settlement/",
    "/ops/payments/settlement.csv",
]


def as_user(login: str) -> Client:
    client = Client()
    client.force_login(
        User.objects.get(phone=login) if login.isdigit() else User.objects.get(username=login)
    )
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


def starbucks() -> Shop:
    return Shop.objects.select_related("mall").get(pk=shop_id_of(CASHIER))


def till_sale(method: str, amount_fen: int, name: str = "拿铁") -> Order:
    """An order at the 星巴克 till, paid in full by ``method`` (online ones at the sandbox)."""
    till = as_persona(CASHIER)
    made = till.post(
        f"/shops/{shop_id_of(CASHIER)}/orders",
        {"lines": [{"name": name, "quantity": 1, "unit_price_fen": amount_fen}]},
    )
    assert made.status == 201, made.body
    submitted = till.post(
        f"/orders/{made.body['id']}/submit",
        {"payments": [{"method": method, "amount_fen": amount_fen}]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert submitted.status == 200, submitted.body
    if method in ("wechat", "alipay", "unionpay", "ecny"):
        trade = SandboxTrade.objects.get(out_trade_no=f"{made.body['number']}1")
        sandbox_pay(token=trade.token, late=False, duplicate=False)
    order = Order.objects.get(pk=made.body["id"])
    assert order.status == "paid"
    return order


# --- who may ---------------------------------------------------------------------------------
@pytest.mark.parametrize("login", ["shop-owner-1", "shop-cashier-1", "gov", SHOPPER])
def test_merchants_government_and_shoppers_get_403(login: str) -> None:
    client = as_user(login)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    before = ReconciliationRun.objects.count()
    today = timezone.localdate().isoformat()
    run = client.post("/ops/payments/reconciliation/run/", {"provider": "sandbox", "day": today})
    assert run.status_code == 403
    assert ReconciliationRun.objects.count() == before


def test_anonymous_visitors_go_to_the_staff_sign_in() -> None:
    response = Client().get("/ops/payments/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=/ops/payments/"


def test_mall_operators_see_all_but_the_notification_log() -> None:
    mall_ops, district_ops = as_user("mall-ops-1"), as_user("district-ops")
    for path in PAGES:
        expected = 403 if path == "/ops/payments/notifications/" else 200
        assert mall_ops.get(path).status_code == expected, path
        assert district_ops.get(path).status_code == 200, path
    tabs = text(mall_ops.get("/ops/payments/"))
    assert 'data-tab="notices"' not in tabs
    assert 'data-tab="notices"' in text(district_ops.get("/ops/payments/"))


# --- payments --------------------------------------------------------------------------------
def test_payments_of_the_operators_malls_with_filters_and_search() -> None:
    online = till_sale("wechat", 3000)
    cash = till_sale("cash", 1200, name="美式")
    client = as_user("mall-ops-1")
    body = text(client.get("/ops/payments/"))
    rows = re.findall(r'<tr data-number="(\w+)" data-status="(\w+)">', body)
    assert rows[:2] == [(f"{cash.number}1", "paid"), (f"{online.number}1", "paid")]
    row = body.split(f'<tr data-number="{online.number}1"')[1].split("</tr>")[0]
    assert f'<td class="mono">{online.number}</td>' in row
    assert "<td>星巴克</td>" in row
    assert '<td class="num">¥30.00</td>' in row

    only_cash = text(client.get("/ops/payments/", {"method": "cash"}))
    assert f'data-number="{cash.number}1"' in only_cash
    assert f'data-number="{online.number}1"' not in only_cash

    found = text(client.get("/ops/payments/", {"q": online.number[-6:]}))
    assert re.findall(r'<tr data-number="(\w+)"', found) == [f"{online.number}1"]

    pending = text(client.get("/ops/payments/", {"status": "pending"}))
    assert f'data-number="{online.number}1"' not in pending

    # the operator of the other mall does not see 星巴克 of mall 1
    other = text(as_user("mall-ops-2").get("/ops/payments/"))
    assert online.number not in other and cash.number not in other


def test_notification_log_highlights_forged_notices() -> None:
    till_sale("wechat", 3000)
    forged = Client().post(
        "/pay/notify/sandbox/",
        data=b'{"out_trade_no":"A000","trade_state":"paid","amount_fen":1}',
        content_type="application/json",
        headers={"Sandbox-Timestamp": "1", "Sandbox-Nonce": "x", "Sandbox-Signature": "bad"},
    )
    assert forged.status_code >= 400
    assert PaymentNotice.objects.filter(verdict="forged").count() == 1
    body = text(as_user("district-ops").get("/ops/payments/notifications/"))
    assert '<tr class="verdict-forged alert" data-verdict="forged">' in body
    assert '<tr class="verdict-applied" data-verdict="applied">' in body
    only = text(as_user("district-ops").get("/ops/payments/notifications/?verdict=forged"))
    assert re.findall(r'data-verdict="(\w+)"', only) == ["forged"]


# --- reconciliation ----------------------------------------------------------------------------
def test_reconciliation_run_lists_the_mismatch_it_finds() -> None:
    good = till_sale("wechat", 3000)
    bad = till_sale("alipay", 4500, name="星冰乐")
    # the provider's books say otherwise about one payment
    SandboxTrade.objects.filter(out_trade_no=f"{bad.number}1").update(amount_fen=4400)
    today = timezone.localdate()
    client = as_user("mall-ops-1")

    page = text(client.get("/ops/payments/reconciliation/"))
    assert 'hx-indicator="#reconcile-busy"' in page
    assert '<option value="sandbox" selected>sandbox</option>' in page

    response = client.post(
        "/ops/payments/reconciliation/run/",
        {"provider": "sandbox", "day": today.isoformat()},
        headers=HX,
    )
    assert response.status_code == 200
    body = text(response)
    assert body.startswith('<div id="runs">')
    run = ReconciliationRun.objects.get(provider="sandbox", day=today)
    assert (run.payments_checked, run.matched, run.mismatched) == (2, 1, 1)
    assert 'data-testid="run-result"' in body
    latest = body.split(f'data-run="{run.pk}"')[1].split("</section>")[0]
    assert '<dd data-testid="run-mismatched" class="bad">1</dd>' in latest
    assert '<dd data-testid="run-matched">1</dd>' in latest
    mismatch = re.search(r'<tr data-kind="amount" data-number="(\w+)">(.*?)</tr>', latest, re.S)
    assert mismatch, latest
    assert mismatch.group(1) == f"{bad.number}1"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", mismatch.group(2), re.S)
    assert cells[1:5] == [f"{bad.number}1", "", "¥45.00", "¥44.00"]
    assert good.number not in latest

    # without HTMX: run again, back to the tab with the run
    again = client.post(
        "/ops/payments/reconciliation/run/", {"provider": "sandbox", "day": today.isoformat()}
    )
    assert again.status_code == 302
    assert again["Location"] == f"/ops/payments/reconciliation/?run={run.pk}"
    assert ReconciliationRun.objects.filter(provider="sandbox", day=today).count() == 1


def test_reconciliation_refuses_a_future_day_and_an_unknown_provider() -> None:
    client = as_user("district-ops")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    future = client.post(
        "/ops/payments/reconciliation/run/", {"provider": "sandbox", "day": tomorrow}
    )
    assert future.status_code == 400
    unknown = client.post(
        "/ops/payments/reconciliation/run/",
        {"provider": "nopay", "day": timezone.localdate().isoformat()},
    )
    assert unknown.status_code == 400
    assert not ReconciliationRun.objects.exists()


# --- settlement ---------------------------------------------------------------------------------
def test_settlement_table_and_csv_with_exact_figures() -> None:
    till_sale("wechat", 3000)
    till_sale("cash", 1200, name="美式")
    shop = starbucks()
    today = timezone.localdate().isoformat()
    client = as_user("mall-ops-1")
    query: dict[str, str | int] = {
        "mall": shop.mall_id,
        "shop": "",
        "day_from": today,
        "day_to": today,
    }

    page = client.get("/ops/payments/settlement/", query)
    assert page.status_code == 200
    body = text(page)
    row = body.split(f'<tr data-shop="{shop.pk}" data-day="{today}">')[1].split("</tr>")[0]
    assert '<span class="by-method">微信支付 ¥30.00</span>' in row
    assert '<span class="by-method">现金 ¥12.00</span>' in row
    assert '<strong data-testid="net-payable">¥30.00</strong>' in row
    assert 'data-testid="settlement-csv"' in body

    response = client.get("/ops/payments/settlement.csv", query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="settlement-mall{shop.mall_id}-{today.replace("-", "")}'
        f'-{today.replace("-", "")}.csv"'
    )
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == settlement_header()
    assert rows[0][:4] == [
        "日期 date",
        "商户编号 shop_id",
        "商户 shop",
        "销售-微信支付 sales_wechat",
    ]
    assert rows[1:] == [
        [
            today,
            str(shop.pk),
            "星巴克",
            *["30.00", "0.00", "0.00", "0.00", "0.00", "12.00"],  # sales by method
            "30.00",  # online sales
            *["0.00"] * 6,  # refunds by method
            "0.00",  # online refunds
            "0.00",  # mall coupons
            "0.00",  # merchant coupons
            "0",  # points redeemed
            "0.00",
            "0",  # merchant-funded points
            "0.00",
            "30.00",  # net payable: the online sales; the cash stays at the till
        ]
    ]

    # one shop of the mall: the same row; a range the wrong way round is refused
    one = client.get("/ops/payments/settlement.csv", {**query, "shop": shop.pk})
    assert list(csv.reader(io.StringIO(one.content.decode("utf-8-sig"))))[1:] == rows[1:]
    wrong = client.get(
        "/ops/payments/settlement.csv", {**query, "day_from": today, "day_to": "2020-01-01"}
    )
    assert wrong.status_code == 400
    assert (
        client.get("/ops/payments/settlement/", {**query, "day_to": "2020-01-01"}).status_code
        == 400
    )


def test_settlement_of_another_operators_mall_is_not_offered() -> None:
    shop = starbucks()
    today = timezone.localdate().isoformat()
    response = as_user("mall-ops-2").get(
        "/ops/payments/settlement.csv",
        {"mall": str(shop.mall_id), "shop": str(shop.pk), "day_from": today, "day_to": today},
    )
    assert response.status_code == 400  # not one of the operator's malls: not a valid choice
