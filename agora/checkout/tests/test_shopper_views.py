"""The shopper's payment pages through Django's test client, on the SMALL demo district: a till
order of 星巴克 (mall 1) paid on the phone through the sandbox, with the shopper's coupon and
points; order history, invoices, and who may see what. Exact amounts; a refused action
changes nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agora.accounts.models import User
from agora.checkout.models import Invoice, Order, Payment, SandboxTrade
from agora.checkout.services.sandbox import sandbox_pay
from agora.coupons.models import Coupon, CouponTemplate
from agora.coupons.services.wallet import coupon_claim
from agora.district.models import Shop
from agora.members.models import Member
from agora.points.selectors import points_balance
from agora.testing.personas import as_persona, shop_id_of

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"
CASHIER = "shop-cashier-1"
HX = {"HX-Request": "true"}


def text(response: Any) -> str:
    return str(response.content.decode())


def member(phone: str = SHOPPER) -> Member:
    return Member.objects.select_related("user").get(user__phone=phone)


def other_member() -> Member:
    """Another demo shopper (the second by id)."""
    return Member.objects.select_related("user").exclude(user__phone=SHOPPER).order_by("id")[0]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def english(client: Client) -> Client:
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    return client


def starbucks() -> Shop:
    return Shop.objects.get(pk=shop_id_of(CASHIER))


def held_or_claim(m: Member, template: CouponTemplate) -> Coupon:
    held = Coupon.objects.filter(member=m, template=template, status="active").first()
    return held or coupon_claim(member=m, template=template)


def claim_starbucks_coupon(m: Member) -> Coupon:
    return held_or_claim(m, CouponTemplate.objects.get(title="星巴克 立减5元", shop=starbucks()))


def till_order(*lines: tuple[str, int, int]) -> Order:
    """An open order at the 星巴克 till, made by the cashier through the API, no member."""
    body = {"lines": [{"name": n, "quantity": q, "unit_price_fen": p} for n, q, p in lines]}
    r = as_persona(CASHIER).post(f"/shops/{shop_id_of(CASHIER)}/orders", body)
    assert r.status == 201, r.body
    return Order.objects.get(pk=r.body["id"])


def coffee_order() -> Order:
    return till_order(("拿铁 大杯", 2, 3600), ("可颂", 1, 1800))  # ¥90.00


def hidden(body: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', body)
    assert found, f"no hidden {name}"
    return found.group(1)


def pay_form(body: str, **values: Any) -> dict[str, Any]:
    return {"key": hidden(body, "key"), **values}


def pay_through_sandbox(client: Client, order: Order, coupon: Coupon) -> Order:
    """Submit with the coupon, 1000 points and Alipay; pay at the sandbox (its notification
    late, so that only the page's poll finds the payment); poll once."""
    page = text(client.get(f"/pay/{order.number}/"))
    submit = client.post(
        f"/pay/{order.number}/submit/",
        pay_form(page, shop_coupon=coupon.pk, points=1000, method="alipay", payable=7500),
    )
    assert submit.status_code == 303, text(submit)
    trade = SandboxTrade.objects.get(out_trade_no=f"{order.number}1")
    sandbox_pay(token=trade.token, late=True, duplicate=False)
    assert Order.objects.get(pk=order.pk).status == "pending"  # the notice is not there yet
    poll = client.get(f"/pay/{order.number}/status/", headers=HX)
    assert poll.status_code == 200
    return Order.objects.get(pk=order.pk)


# --- the pay page ------------------------------------------------------------------------------
def test_anonymous_visitor_sees_the_order_and_is_asked_to_sign_in() -> None:
    order = coffee_order()
    response = Client().get(f"/pay/{order.number}/")
    assert response.status_code == 200
    body = text(response)
    assert "星巴克" in body
    assert "拿铁 大杯 × 2" in body
    assert '<strong class="num" data-testid="order-subtotal">¥90.00</strong>' in body
    assert f'href="/login/?next=%2Fpay%2F{order.number}%2F"' in body
    assert Order.objects.get(pk=order.pk).member_id is None  # nothing is claimed


def test_unknown_order_number_is_404() -> None:
    assert Client().get("/pay/A000000XXXXXXXX/").status_code == 404
    client = signed_in(member().user)
    assert client.get("/pay/A000000XXXXXXXX/").status_code == 404


def test_shopper_pays_with_coupon_points_and_alipay_through_the_sandbox() -> None:
    m = member()
    coupon = claim_starbucks_coupon(m)
    before = points_balance(member=m)
    assert before >= 1000
    order = coffee_order()
    client = signed_in(m.user)

    # opening the page makes the order the shopper's; the best coupon is proposed
    page = client.get(f"/pay/{order.number}/")
    assert page.status_code == 200
    body = text(page)
    assert Order.objects.get(pk=order.pk).member_id == m.pk
    chosen = re.search(
        rf'<label class="coupon-option chosen" data-coupon="{coupon.pk}".*?</label>', body, re.S
    )
    assert chosen, body
    assert f'name="shop_coupon" value="{coupon.pk}" checked' in chosen.group(0)
    assert '<span class="coupon-off num">-¥5.00</span>' in chosen.group(0)
    assert '<dd class="num" data-testid="discount">-¥5.00</dd>' in body
    assert '<dd class="payable num" data-testid="payable">¥85.00</dd>' in body
    # the 满200减30 of the mall does not apply to ¥90, and says why
    mall_template = CouponTemplate.objects.get(title=f"{starbucks().mall.name} 满200减30")
    mall_coupon = held_or_claim(m, mall_template)
    body = text(english(signed_in(m.user)).get(f"/pay/{order.number}/"))
    unusable = re.search(rf'<li data-coupon="{mall_coupon.pk}">.*?</li>', body, re.S)
    assert unusable, body
    assert "满200减30" in unusable.group(0)
    assert '<span class="reason small">Spend at least ¥200.00</span>' in unusable.group(0)
    body = text(client.get(f"/pay/{order.number}/"))
    # points: at most what pays the rest (8500 points for ¥85 when the balance allows)
    assert f'max="{min(before, 8500)}"' in body
    # only the online methods, no cash or card
    assert re.findall(r'name="method" value="(\w+)"', body) == [
        "wechat",
        "alipay",
        "unionpay",
        "ecny",
    ]

    # moving the points slider asks for a new quote (HTMX): ¥10 off
    quote = client.post(
        f"/pay/{order.number}/quote/",
        {"shop_coupon": coupon.pk, "mall_coupon": "", "points": 0, "points_slider": 1000},
        headers={**HX, "HX-Trigger-Name": "points_slider"},
    )
    assert quote.status_code == 200
    q = text(quote)
    assert q.startswith('<div id="pay-quote"')
    assert '<dd class="num" data-testid="points-fen">-¥10.00</dd>' in q
    assert '<dd class="payable num" data-testid="payable">¥75.00</dd>' in q
    assert 'name="points" min="0"' in q and 'value="1000" inputmode' in q
    assert Order.objects.get(pk=order.pk).points_used == 0  # a quote records nothing

    # submit: the coupon is used, the points spent, Alipay waits for the shopper
    key = hidden(body, "key")
    form = {
        "key": key,
        "shop_coupon": coupon.pk,
        "mall_coupon": "",
        "points": 1000,
        "method": "alipay",
        "payable": 7500,
    }
    submit = client.post(f"/pay/{order.number}/submit/", form)
    assert submit.status_code == 303
    assert submit["Location"] == f"/pay/{order.number}/"
    pending = Order.objects.get(pk=order.pk)
    assert (pending.status, pending.discount_fen, pending.points_used, pending.payable_fen) == (
        "pending",
        500,
        1000,
        7500,
    )
    [payment] = Payment.objects.filter(order=order)
    assert (payment.method, payment.amount_fen, payment.status) == ("alipay", 7500, "pending")
    assert Coupon.objects.get(pk=coupon.pk).status == "redeemed"
    assert points_balance(member=m) == before - 1000

    # the waiting page: the sandbox link and the poll
    waiting = text(client.get(f"/pay/{order.number}/"))
    assert f'href="{payment.code_url}"' in waiting
    assert 'data-testid="pay-link"' in waiting
    assert f'hx-get="/pay/{order.number}/status/" hx-trigger="every 2s"' in waiting

    # the same form sent again changes nothing
    again = client.post(f"/pay/{order.number}/submit/", form)
    assert again.status_code == 303
    assert Payment.objects.filter(order=order).count() == 1
    assert points_balance(member=m) == before - 1000

    # the shopper pays at the sandbox; its notification comes late, the poll asks the provider
    trade = SandboxTrade.objects.get(out_trade_no=payment.number)
    sandbox_pay(token=trade.token, late=True, duplicate=False)
    still = client.get(f"/pay/{order.number}/status/", headers=HX)
    assert still.status_code == 200
    paid = Order.objects.get(pk=order.pk)
    assert (paid.status, paid.paid_fen) == ("paid", 7500)
    assert paid.points_earned > 0
    assert still["HX-Retarget"] == "#pay-panel"
    assert still["HX-Reswap"] == "outerHTML"
    result = text(still)
    assert 'data-testid="pay-success"' in result
    assert '<p class="big-amount num" data-testid="paid-amount">¥75.00</p>' in result
    assert f'<dd data-testid="points-earned">{paid.points_earned}</dd>' in result
    assert points_balance(member=m) == before - 1000 + paid.points_earned

    # the page itself shows the result now
    final = text(client.get(f"/pay/{order.number}/"))
    assert 'data-testid="pay-success"' in final
    assert "hx-trigger" not in final.split('id="pay-panel"')[1].split("</section>")[0]


def test_pay_page_reads_chinese_first_then_english() -> None:
    m = member()
    order = coffee_order()
    client = signed_in(m.user)
    body = text(client.get(f"/pay/{order.number}/"))
    assert '<html lang="zh-Hans">' in body
    assert "<h1>支付</h1>" in body
    assert "支付宝" in body and "微信支付" in body and "云闪付" in body and "数字人民币" in body
    assert '<dt class="payable">应付</dt>' in body
    english(client)
    body = text(client.get(f"/pay/{order.number}/"))
    assert "Alipay" in body and "WeChat Pay" in body
    assert ">To pay</dt>" in body


def test_too_many_points_are_capped_with_a_note() -> None:
    m = member()
    order = till_order(("美式", 1, 2800))
    client = signed_in(m.user)
    client.get(f"/pay/{order.number}/")
    quote = client.post(
        f"/pay/{order.number}/quote/",
        {"points": 999999},
        headers={**HX, "HX-Trigger-Name": "points"},
    )
    q = text(quote)
    assert 'data-testid="pay-note"' in q
    assert '<dd class="payable num" data-testid="payable">¥0.00</dd>' in q
    assert '<dd class="num" data-testid="points-fen">-¥28.00</dd>' in q
    assert 'name="method"' not in q  # nothing left to pay with money

    # points pay it all: no method, paid at once
    before = points_balance(member=m)
    body = text(client.get(f"/pay/{order.number}/"))
    paid = client.post(f"/pay/{order.number}/submit/", pay_form(body, points=2800, payable=0))
    assert paid.status_code == 303
    done = Order.objects.get(pk=order.pk)
    assert (done.status, done.points_used, done.payable_fen, done.paid_fen) == ("paid", 2800, 0, 0)
    assert not Payment.objects.filter(order=order).exists()
    assert points_balance(member=m) == before - 2800
    assert 'data-testid="pay-success"' in text(client.get(f"/pay/{order.number}/"))


def test_changed_amount_is_refused_and_nothing_moves() -> None:
    m = member()
    before = points_balance(member=m)
    order = coffee_order()
    client = signed_in(m.user)
    body = text(client.get(f"/pay/{order.number}/"))
    response = client.post(
        f"/pay/{order.number}/submit/",
        pay_form(body, points=1000, method="wechat", payable=9000),
    )
    assert response.status_code == 409
    assert 'data-testid="pay-error"' in text(response)
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.status, fresh.points_used, fresh.discount_fen) == ("open", 0, 0)
    assert not Payment.objects.filter(order=order).exists()
    assert points_balance(member=m) == before


def test_submit_without_a_method_is_refused() -> None:
    m = member()
    order = coffee_order()
    client = signed_in(m.user)
    body = text(client.get(f"/pay/{order.number}/"))
    response = client.post(f"/pay/{order.number}/submit/", pay_form(body, payable=9000))
    assert response.status_code == 400
    assert Order.objects.get(pk=order.pk).status == "open"
    assert not Payment.objects.filter(order=order).exists()


def test_cash_is_not_a_shopper_method() -> None:
    m = member()
    order = coffee_order()
    client = signed_in(m.user)
    body = text(client.get(f"/pay/{order.number}/"))
    response = client.post(
        f"/pay/{order.number}/submit/", pay_form(body, method="cash", payable=9000)
    )
    assert response.status_code == 400
    assert 'data-testid="pay-error"' in text(response)
    assert Order.objects.get(pk=order.pk).status == "open"
    assert not Payment.objects.filter(order=order).exists()


def test_order_with_another_members_coupons_cannot_be_taken_over() -> None:
    first, second = member(), other_member()
    coupon = claim_starbucks_coupon(first)
    order = coffee_order()
    owner = signed_in(first.user)
    owner.get(f"/pay/{order.number}/")
    owner.post(
        f"/pay/{order.number}/quote/", {"shop_coupon": coupon.pk}, headers=HX
    )  # a quote records nothing: apply through the service as the till would
    from agora.checkout.services.orders import order_apply

    order_apply(order=Order.objects.get(pk=order.pk), coupon_ids=[coupon.pk])
    response = signed_in(second.user).get(f"/pay/{order.number}/")
    assert response.status_code == 409
    assert 'data-testid="pay-error"' in text(response)
    assert Order.objects.get(pk=order.pk).member_id == first.pk


def test_paid_order_of_another_shopper_is_404_everywhere() -> None:
    m = member()
    coupon = claim_starbucks_coupon(m)
    order = coffee_order()
    client = signed_in(m.user)
    pay_through_sandbox(client, order, coupon)
    stranger = signed_in(other_member().user)
    assert stranger.get(f"/pay/{order.number}/").status_code == 404
    assert stranger.get(f"/pay/{order.number}/status/", headers=HX).status_code == 404
    assert stranger.get(f"/me/orders/{order.pk}/").status_code == 404
    before = Invoice.objects.count()
    refused = stranger.post(
        f"/me/orders/{order.pk}/invoice/", {"title_kind": "personal", "title": "李四"}
    )
    assert refused.status_code == 404
    assert Invoice.objects.count() == before
    assert order.number not in text(stranger.get("/me/orders/"))


# --- orders and invoices -----------------------------------------------------------------------
def test_order_history_pages_with_more(monkeypatch: pytest.MonkeyPatch) -> None:
    from agora.checkout.views import shopper

    monkeypatch.setattr(shopper, "ORDERS_PER_PAGE", 2)
    m = other_member()
    client = signed_in(m.user)
    made = [till_order(("美式", 1, 2800 + i)) for i in range(3)]
    for order in made:
        client.get(f"/pay/{order.number}/")
    first = text(client.get("/me/orders/"))
    numbers = re.findall(r'<li class="card order-row" data-number="(\w+)">', first)
    assert numbers == [made[2].number, made[1].number]
    more = re.search(r'<a class="button" href="\?cursor=([^"]+)" data-testid="more">', first)
    assert more
    second = text(client.get(f"/me/orders/?cursor={more.group(1)}"))
    assert re.findall(r'<li class="card order-row" data-number="(\w+)">', second)[:1] == [
        made[0].number
    ]
    assert client.get("/me/orders/?cursor=junk").status_code == 404


def test_anonymous_order_pages_go_to_the_sms_sign_in() -> None:
    for path in ("/me/orders/", "/me/orders/1/", "/me/invoices/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"] == "/login/?next=" + path


def test_orders_newest_first_with_status_amounts_and_points() -> None:
    m = member()
    coupon = claim_starbucks_coupon(m)
    client = signed_in(m.user)
    paid = pay_through_sandbox(client, coffee_order(), coupon)
    open_order = till_order(("美式", 1, 2800))
    client.get(f"/pay/{open_order.number}/")
    body = text(english(client).get("/me/orders/"))
    numbers = re.findall(r'<li class="card order-row" data-number="(\w+)">', body)
    assert numbers[:2] == [open_order.number, paid.number]
    row = body.split(f'data-number="{paid.number}"')[1].split("</li>")[0]
    assert '<strong class="num" data-testid="order-paid">¥75.00</strong>' in row
    assert f"+{paid.points_earned}" in row
    assert '<span class="badge status-paid" data-testid="order-status">Paid</span>' in row


def test_invoice_request_with_exact_amounts_and_its_pdf() -> None:
    m = member()
    coupon = claim_starbucks_coupon(m)
    client = signed_in(m.user)
    order = pay_through_sandbox(client, coffee_order(), coupon)
    detail = text(client.get(f"/me/orders/{order.pk}/"))
    assert '<dd class="payable num" data-testid="order-payable">¥75.00</dd>' in detail
    assert f'action="/me/orders/{order.pk}/invoice/"' in detail

    # a company without a valid taxpayer id is refused; nothing is issued
    bad = client.post(
        f"/me/orders/{order.pk}/invoice/",
        {
            "title_kind": "company",
            "title": "深圳某某科技有限公司",
            "taxpayer_id": "91440300ABCDEFGHIJ",
        },
    )
    assert bad.status_code == 400
    assert 'data-field="taxpayer_id"' in text(bad)
    assert not Invoice.objects.filter(order=order).exists()

    response = client.post(
        f"/me/orders/{order.pk}/invoice/",
        {"title_kind": "personal", "title": "张三", "email": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/me/orders/{order.pk}/"
    invoice = Invoice.objects.get(order=order)
    assert (invoice.kind, invoice.amount_fen, invoice.tax_fen, invoice.title) == (
        "blue",
        7500,
        863,  # 7500 × 13 / 113, rounded half up
        "张三",
    )
    detail = text(client.get(f"/me/orders/{order.pk}/"))
    assert f'<span class="mono" data-testid="invoice-number">{invoice.number}</span>' in detail
    assert '<strong data-testid="invoice-amount">¥75.00</strong>' in detail
    assert f'href="/api/v1/invoices/{invoice.pk}/pdf"' in detail
    assert 'data-testid="invoice-submit"' not in detail  # one invoice per order
    pdf = client.get(f"/api/v1/invoices/{invoice.pk}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    # asking again is refused
    again = client.post(
        f"/me/orders/{order.pk}/invoice/", {"title_kind": "personal", "title": "张三"}
    )
    assert again.status_code == 400
    assert Invoice.objects.filter(order=order).count() == 1

    listing = text(client.get("/me/invoices/"))
    assert invoice.number in listing
    assert f'<a class="mono" href="/me/orders/{order.pk}/">{order.number}</a>' in listing
    assert f'href="/api/v1/invoices/{invoice.pk}/pdf"' in listing


def test_invoice_of_an_unpaid_order_is_refused() -> None:
    m = member()
    order = coffee_order()
    client = signed_in(m.user)
    client.get(f"/pay/{order.number}/")
    detail = text(client.get(f"/me/orders/{order.pk}/"))
    assert 'data-testid="invoice-submit"' not in detail
    response = client.post(
        f"/me/orders/{order.pk}/invoice/", {"title_kind": "personal", "title": "张三"}
    )
    assert response.status_code == 400
    assert not Invoice.objects.filter(order=order).exists()


def test_pay_page_of_a_closed_order_shows_its_status() -> None:
    m = member()
    order = coffee_order()
    client = signed_in(m.user)
    client.get(f"/pay/{order.number}/")
    from agora.checkout.services.payments import order_close

    order_close(actor=None, order=Order.objects.get(pk=order.pk), reason="test")
    body = text(client.get(f"/pay/{order.number}/"))
    assert 'data-testid="order-status"' in body
    assert 'name="method"' not in body
    anonymous = text(Client().get(f"/pay/{order.number}/"))
    assert "拿铁" not in anonymous  # details only for the shopper whose order it is


def test_keys_are_fresh_for_each_rendering() -> None:
    m = member()
    order = coffee_order()
    client = signed_in(m.user)
    first = hidden(text(client.get(f"/pay/{order.number}/")), "key")
    second = hidden(text(client.get(f"/pay/{order.number}/")), "key")
    assert first != second
    assert uuid.UUID(first) and uuid.UUID(second)
    assert timezone.now()
