"""The merchant's POS pages (/merchant/pos/) through Django's test client on the SMALL demo
district: 星巴克 of mall 1 is shop-cashier-1's till; shopper 13800000001 is a 金卡 member with
points; 星巴克 立减5元 is a merchant coupon of ¥5 off.

Amounts typed in yuan become exact fen; another shop's cashier reaches nothing (404) and
changes nothing; a cash sale, an online sale found paid by the status poll, refunds, the
e-invoice, the order list and the receipt, each with exact values."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from agora.accounts.models import RoleGrant, User
from agora.checkout.forms_pos import parse_yuan
from agora.checkout.models import Invoice, Order, Payment, Refund, SandboxTrade
from agora.checkout.services.sandbox import sandbox_pay
from agora.coupons.models import Coupon, CouponTemplate
from agora.coupons.services.wallet import coupon_claim
from agora.district.models import Mall, Shop
from agora.members.models import Member
from agora.members.services.codes import member_code_issue
from agora.points.selectors import points_balance

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"
HX = {"HX-Request": "true"}


# --- helpers ----------------------------------------------------------------------------------
def as_user(username: str, *, english: bool = False) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    if english:
        client.cookies["django_language"] = "en"
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


def hidden(body: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', body)
    assert found, f"no hidden {name}"
    return found.group(1)


def by_testid(body: str, name: str) -> str:
    """The text of the element with this data-testid (tags inside stripped)."""
    found = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', body, re.S)
    assert found, f"no {name}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def mall(index: int = 1) -> Mall:
    return Mall.objects.order_by("id")[index - 1]


def starbucks(index: int = 1) -> Shop:
    return Shop.objects.get(mall=mall(index), name="星巴克")


def shopper() -> Member:
    return Member.objects.select_related("tier", "user").get(user__phone=SHOPPER)


def starbucks_coupon(member: Member) -> Coupon:
    template = CouponTemplate.objects.get(mall=mall(1), title="星巴克 立减5元")
    held = Coupon.objects.filter(member=member, template=template, status="active").first()
    return held or coupon_claim(member=member, template=template)


def base(shop: Shop | None = None) -> str:
    return f"/merchant/pos/{(shop or starbucks()).pk}/"


def create_order(client: Client, lines: list[tuple[str, int, str]]) -> Order:
    """Add each line through the cart form, then create the order; the order created."""
    body = text(client.get(base()))
    attempt = hidden(body, "attempt")
    cart: dict[str, list[str]] = {"line_name": [], "line_qty": [], "line_fen": []}
    for name, quantity, price in lines:
        response = client.post(
            base() + "cart/",
            {"attempt": attempt, "name": name, "quantity": quantity, "price": price, **cart},
            headers=HX,
        )
        assert response.status_code == 200
        page = text(response)
        cart = {
            key: re.findall(rf'name="{key}" value="([^"]*)"', page)
            for key in ("line_name", "line_qty", "line_fen")
        }
    response = client.post(base() + "sale/", {"attempt": attempt, **cart}, headers=HX)
    assert response.status_code == 200
    number = response.headers["HX-Redirect"].rstrip("/").split("/")[-1]
    return Order.objects.get(pk=int(number))


def sale(order: Order, action: str = "") -> str:
    return f"/merchant/pos/{order.shop_id}/sale/{order.pk}/" + (f"{action}/" if action else "")


def detail(order: Order, action: str = "") -> str:
    return f"/merchant/pos/{order.shop_id}/orders/{order.pk}/" + (f"{action}/" if action else "")


def pay(client: Client, order: Order, **fields: str) -> str:
    body = text(client.get(sale(order)))
    response = client.post(
        sale(order, "pay"), {"attempt": hidden(body, "attempt"), **fields}, headers=HX
    )
    assert response.status_code == 200
    return text(response)


def fingerprint(order: Order) -> tuple[Any, ...]:
    order.refresh_from_db()
    return (
        order.status,
        order.member_id,
        order.discount_fen,
        order.points_used,
        order.payable_fen,
        order.paid_fen,
        order.refunded_fen,
        Payment.objects.filter(order=order).count(),
        Refund.objects.filter(order=order).count(),
    )


# --- yuan ---------------------------------------------------------------------------------------
def test_yuan_parses_to_exact_fen_and_refuses_a_third_decimal() -> None:
    assert parse_yuan("36") == 3600
    assert parse_yuan("36.5") == 3650
    assert parse_yuan("36.50") == 3650
    assert parse_yuan("0.29") == 29
    assert parse_yuan(" ¥1,036.05 ") == 103605
    for bad, reason in [
        ("36.505", "decimals"),
        ("0.001", "decimals"),
        ("-1", "format"),
        ("1e3", "format"),
        ("abc", "format"),
        ("", "format"),
        (".5", "format"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_yuan(bad)


def test_cart_lines_in_yuan_exact_and_field_errors() -> None:
    client = as_user("shop-cashier-1", english=True)
    attempt = hidden(text(client.get(base())), "attempt")
    ok = client.post(
        base() + "cart/",
        {"attempt": attempt, "name": "可颂", "quantity": "3", "price": "0.29"},
        headers=HX,
    )
    body = text(ok)
    assert ok.status_code == 200 and "<html" not in body
    assert hidden(body, "line_fen") == "29"
    assert by_testid(body, "cart-subtotal") == "¥0.87"  # 3 × 0.29 exactly, no float drift
    for price, message in [
        ("36.505", "At most 2 decimal places (1 fen is ¥0.01)."),
        ("3,6a", "Enter an amount in yuan, like 36 or 36.50."),
        ("100000.01", "Enter an amount between ¥0.00 and ¥100,000.00."),
    ]:
        refused = client.post(
            base() + "cart/",
            {
                "attempt": attempt,
                "name": "拿铁",
                "quantity": "1",
                "price": price,
                "line_name": "可颂",
                "line_qty": "3",
                "line_fen": "29",
            },
            headers=HX,
        )
        page = text(refused)
        assert refused.status_code == 200  # an HTMX swap shows the error
        assert '<div class="field has-error" data-field="price">' in page
        assert message in page
        assert re.findall(r'name="line_name" value="([^"]*)"', page) == ["可颂"]  # nothing added
    # a damaged cart is refused whole
    damaged = client.post(
        base() + "sale/",
        {"attempt": attempt, "line_name": ["可颂"], "line_qty": ["3"], "line_fen": ["-29"]},
    )
    assert damaged.status_code == 400
    assert "The list of items was damaged: start the sale again." in text(damaged)
    assert not Order.objects.filter(shop=starbucks()).exists()


def test_sale_screen_reads_chinese_first_and_double_create_makes_one_order() -> None:
    client = as_user("shop-cashier-1")
    response = client.get("/merchant/pos/")
    body = text(response)
    assert response.status_code == 200
    assert "<title>新开单 · 星巴克 · Agora</title>" in body
    assert (
        '<span class="muted pos-shop" data-testid="pos-shop">万象城 · <strong>星巴克</strong>'
        in body
    )
    assert "创建订单" in body and "单价（元）" in body
    attempt = hidden(body, "attempt")
    data = {"attempt": attempt, "line_name": "拿铁", "line_qty": "2", "line_fen": "3600"}
    first = client.post(base() + "sale/", data)
    second = client.post(base() + "sale/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    [order] = Order.objects.filter(shop=starbucks())
    assert (order.subtotal_fen, order.payable_fen, order.channel, order.status) == (
        7200,
        7200,
        "pos",
        "open",
    )
    assert first["Location"] == f"/merchant/pos/{starbucks().pk}/sale/{order.pk}/"


def test_a_merchant_of_several_shops_picks_the_till_first() -> None:
    owner = User.objects.get(username="shop-owner-1b")
    own = RoleGrant.objects.get(user=owner).shop
    RoleGrant.objects.create(user=owner, role="merchant_cashier", shop=starbucks())
    client = Client()
    client.force_login(owner)
    body = text(client.get("/merchant/pos/"))
    assert own is not None
    assert f'href="/merchant/pos/{starbucks().pk}/"' in body
    assert f'href="/merchant/pos/{own.pk}/"' in body
    page = text(client.get(base()))
    assert (
        f'<a href="/merchant/pos/{starbucks().pk}/" aria-current="page">星巴克 · 万象城</a>' in page
    )


# --- access -------------------------------------------------------------------------------------
def test_another_shops_cashier_reaches_nothing_and_changes_nothing() -> None:
    mine = as_user("shop-cashier-1")
    order = create_order(mine, [("拿铁", 2, "36")])
    other_shop = starbucks(2)
    other = as_user("shop-cashier-2")
    assert text(other.get("/merchant/pos/")).count("星巴克") >= 1
    before = fingerprint(order)
    member_code = member_code_issue(member=shopper()).code
    attempts: list[tuple[str, str, dict[str, str]]] = [
        ("get", base(), {}),
        ("get", sale(order), {}),
        ("get", detail(order), {}),
        ("get", detail(order, "receipt"), {}),
        ("post", sale(order, "member"), {"code": member_code}),
        ("post", sale(order, "pay"), {"attempt": "a" * 32, "method": "cash"}),
        ("post", sale(order, "cancel"), {}),
        # the other cashier's own shop in the address, this shop's order
        ("get", f"/merchant/pos/{other_shop.pk}/sale/{order.pk}/", {}),
        (
            "post",
            f"/merchant/pos/{other_shop.pk}/sale/{order.pk}/pay/",
            {"attempt": "b" * 32, "method": "cash"},
        ),
        ("post", f"/merchant/pos/{other_shop.pk}/sale/{order.pk}/cancel/", {}),
        ("get", f"/merchant/pos/{other_shop.pk}/orders/{order.pk}/", {}),
        (
            "post",
            f"/merchant/pos/{other_shop.pk}/orders/{order.pk}/refund/",
            {"attempt": "c" * 32, "full": "1", "reason": "test"},
        ),
    ]
    for method, url, data in attempts:
        response = getattr(other, method)(url, data, headers=HX)
        assert response.status_code == 404, (url, response.status_code)
    assert fingerprint(order) == before
    # the other shop's list does not show the order either
    listing = text(other.get(f"/merchant/pos/{other_shop.pk}/orders/?day="))
    assert order.number not in listing
    # a shopper and an anonymous visitor
    shopper_client = Client()
    shopper_client.force_login(shopper().user)
    assert shopper_client.get(sale(order)).status_code == 404
    anonymous = Client().get(sale(order))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/login/")
    assert fingerprint(order) == before


# --- sales --------------------------------------------------------------------------------------
def test_cash_sale_with_phone_member_coupon_and_points_end_to_end() -> None:
    client = as_user("shop-cashier-1", english=True)
    member = shopper()
    coupon = starbucks_coupon(member)
    balance = points_balance(member=member)
    order = create_order(client, [("拿铁 大杯", 2, "36"), ("可颂", 1, "18.00")])
    assert order.subtotal_fen == 9000

    # the member by phone: masked phone, tier, balance; the Starbucks coupon chosen
    body = text(client.post(sale(order, "member"), {"code": SHOPPER}, headers=HX))
    assert by_testid(body, "member-phone") == "138****0001"
    assert by_testid(body, "member-tier") == "Gold"
    assert by_testid(body, "member-points") == str(balance)
    chosen = re.search(rf'data-code="{coupon.code}".*?</li>', body, re.S)
    assert chosen and 'data-testid="coupon-chosen">Chosen<' in chosen.group(0)
    assert by_testid(chosen.group(0), "coupon-discount") == "-¥5.00"
    assert by_testid(body, "payable") == "¥85.00"
    assert by_testid(body, "points-rate") == "100 points = ¥1"
    assert by_testid(body, "points-help").startswith("At most 8500 points for this order")
    order.refresh_from_db()
    assert (order.member_id, order.discount_fen, order.payable_fen) == (member.pk, 500, 8500)

    # 1,000 points pay ¥10; a step that does not make whole fen is refused
    applied = text(
        client.post(
            sale(order, "apply"),
            {"pick": "chosen", "coupon": str(coupon.pk), "points": "1000"},
            headers=HX,
        )
    )
    assert by_testid(applied, "points-fen") == "-¥10.00"
    assert by_testid(applied, "payable") == "¥75.00"
    to_earn = int(by_testid(applied, "points-to-earn"))
    assert to_earn == 450  # ¥75 at 星巴克's rule for a 金卡 member
    too_many = text(
        client.post(
            sale(order, "apply"),
            {"pick": "chosen", "coupon": str(coupon.pk), "points": "9000"},
            headers=HX,
        )
    )
    assert by_testid(too_many, "points-error") == "At most 8500 points can pay this order."
    order.refresh_from_db()
    assert (order.points_used, order.payable_fen) == (1000, 7500)  # unchanged by the refusal

    # cash: ¥100 handed over, ¥25 change; a second click of the same form pays nothing more
    page = text(client.get(sale(order)))
    attempt = hidden(page, "attempt")
    form = {"attempt": attempt, "method": "cash", "amount": "75", "tendered": "100"}
    done = text(client.post(sale(order, "pay"), form, headers=HX))
    again = client.post(sale(order, "pay"), form, headers=HX)
    assert again.status_code == 200
    assert by_testid(done, "pay-success") == "Payment successful"
    assert by_testid(done, "points-earned") == "The member earned 450 points."
    assert by_testid(done, "cash-change") == "Handed over ¥100.00, change ¥25.00"
    assert 'hx-trigger="every 2s"' not in done  # paid: the status is no longer polled
    order.refresh_from_db()
    assert (order.status, order.paid_fen, order.points_earned) == ("paid", 7500, 450)
    assert list(order.payments.values_list("method", "amount_fen", "tendered_fen", "status")) == [
        ("cash", 7500, 10000, "paid")
    ]
    assert Coupon.objects.get(pk=coupon.pk).status == "redeemed"
    assert points_balance(member=member) == balance - 1000 + 450


def test_split_payment_card_and_cash_and_amounts_that_do_not_add_up() -> None:
    client = as_user("shop-cashier-1", english=True)
    order = create_order(client, [("礼盒", 1, "120.50")])
    refused = pay(client, order, method="bank_card", amount="20", method2="cash", amount2="99")
    assert "The payments must add up to ¥120.50." in refused
    assert fingerprint(order)[0] == "open" and order.payments.count() == 0
    three = pay(client, order, method="cash", amount="20.005")
    assert "At most 2 decimal places (1 fen is ¥0.01)." in three
    assert order.payments.count() == 0
    done = pay(
        client,
        order,
        method="bank_card",
        amount="",
        card_last4="4321",
        method2="cash",
        amount2="100.50",
        tendered="101",
    )
    assert by_testid(done, "pay-success") == "Payment successful"
    order.refresh_from_db()
    assert order.status == "paid" and order.paid_fen == 12050
    assert list(
        order.payments.order_by("id").values_list(
            "method", "amount_fen", "card_last4", "tendered_fen"
        )
    ) == [("bank_card", 2000, "4321", None), ("cash", 10050, "", 10100)]


def test_online_payment_shows_the_qr_and_the_poll_finds_it_paid() -> None:
    client = as_user("shop-cashier-1", english=True)
    order = create_order(client, [("拿铁", 2, "36")])
    body = pay(client, order, method="wechat")
    payment = Payment.objects.get(order=order)
    assert payment.status == "pending" and payment.amount_fen == 7200
    assert 'data-testid="pay-qr"><svg' in body
    assert f'href="{payment.code_url}" data-testid="pay-link"' in body
    assert f'hx-get="{sale(order, "status")}" hx-trigger="every 2s"' in body
    waiting = text(client.get(sale(order, "status"), headers=HX))
    assert by_testid(waiting, "pay-waiting") == "Awaiting payment of ¥72.00…"
    # the shopper pays; the notification is lost: the poll asks the provider
    token = payment.code_url.rstrip("/").split("/")[-1]
    assert SandboxTrade.objects.get(token=token).out_trade_no == payment.number
    sandbox_pay(token=token, duplicate=False, late=False, deliver=False)
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    polled = client.get(sale(order, "status"), headers=HX)
    page = text(polled)
    assert polled.status_code == 200 and "<html" not in page
    assert by_testid(page, "pay-success") == "Payment successful"
    assert "hx-trigger" not in page
    assert 'data-testid="receipt-link"' in page and 'data-testid="cancel-order"' not in page
    order.refresh_from_db()
    assert (order.status, order.paid_fen) == ("paid", 7200)


def test_cancel_an_unpaid_order_gives_the_coupon_back() -> None:
    client = as_user("shop-cashier-1", english=True)
    member = shopper()
    coupon = starbucks_coupon(member)
    order = create_order(client, [("拿铁", 2, "36")])
    code = member_code_issue(member=member).code
    client.post(sale(order, "member"), {"code": code}, headers=HX)
    replayed = text(client.post(sale(order, "member"), {"code": code}, headers=HX))
    assert by_testid(replayed, "member-error") == (
        "This member code was already used: ask the shopper to show the card again."
    )
    unknown = text(client.post(sale(order, "member"), {"code": "13999999999"}, headers=HX))
    assert by_testid(unknown, "member-error") == (
        "No member with this code, card number or phone number."
    )
    assert by_testid(unknown, "member-phone") == "138****0001"  # the member stays
    pay(client, order, method="alipay", amount="67")
    assert Coupon.objects.get(pk=coupon.pk).status == "redeemed"
    body = text(client.post(sale(order, "cancel"), headers=HX))
    assert by_testid(body, "order-closed") == "This order was cancelled."
    order.refresh_from_db()
    assert order.status == "closed"
    assert Payment.objects.get(order=order).status == "closed"
    assert Coupon.objects.get(pk=coupon.pk).status == "active"
    # a paid order is not cancelled
    paid = create_order(client, [("拿铁", 1, "36")])
    pay(client, paid, method="cash")
    refused = text(client.post(sale(paid, "cancel"), headers=HX))
    assert by_testid(refused, "cancel-error") == "A paid order is refunded, not cancelled."
    assert fingerprint(paid)[0] == "paid"


# --- orders, refunds, invoices ------------------------------------------------------------------
def paid_member_order(client: Client) -> tuple[Order, Coupon]:
    member = shopper()
    coupon = starbucks_coupon(member)
    order = create_order(client, [("拿铁", 2, "36"), ("可颂", 1, "28")])
    client.post(sale(order, "member"), {"code": SHOPPER}, headers=HX)
    pay(client, order, method="cash")
    order.refresh_from_db()
    assert (order.status, order.paid_fen, order.points_earned) == ("paid", 9500, 570)
    return order, coupon


def test_partial_then_full_refund_moves_points_and_gives_the_coupon_back() -> None:
    client = as_user("shop-cashier-1", english=True)
    order, coupon = paid_member_order(client)
    balance = points_balance(member=shopper())
    page = text(client.get(detail(order)))
    assert "Up to ¥95.00 can be refunded." in page
    attempt = hidden(page, "attempt")
    form = {"attempt": attempt, "amount": "19", "reason": "少做一杯"}
    done = text(client.post(detail(order, "refund"), form, headers=HX))
    assert "Refunded ¥19.00" in done
    assert by_testid(done, "refund-points") == "Points taken back: 114; points given back: 0."
    replay = text(client.post(detail(order, "refund"), form, headers=HX))  # a double click
    assert "Refunded ¥19.00" in replay
    order.refresh_from_db()
    assert (order.status, order.refunded_fen, order.points_clawed_back) == (
        "partially_refunded",
        1900,
        114,
    )
    assert Refund.objects.filter(order=order).count() == 1
    assert points_balance(member=shopper()) == balance - 114

    # more than is left, three decimals, no reason: refused inline, nothing changes
    before = fingerprint(order)
    fresh = hidden(text(client.get(detail(order))), "attempt")
    for data, message in [
        (
            {"amount": "76.01", "reason": "太多"},
            "At most ¥76.00 of this order can still be refunded.",
        ),
        ({"amount": "1.001", "reason": "太多"}, "At most 2 decimal places (1 fen is ¥0.01)."),
        ({"amount": "1", "reason": ""}, "Say why, in 2 to 200 characters."),
    ]:
        refused = client.post(detail(order, "refund"), {"attempt": fresh, **data}, headers=HX)
        assert message in text(refused)
        assert fingerprint(order) == before

    full = text(
        client.post(
            detail(order, "refund"),
            {"attempt": fresh, "full": "1", "reason": "顾客退单"},
            headers=HX,
        )
    )
    assert "Refunded ¥76.00" in full
    assert by_testid(full, "refund-points") == "Points taken back: 456; points given back: 0."
    assert by_testid(full, "refund-coupons") == "1 coupon given back to the member."
    order.refresh_from_db()
    assert (order.status, order.refunded_fen, order.points_clawed_back) == ("refunded", 9500, 570)
    assert Coupon.objects.get(pk=coupon.pk).status == "active"
    assert 'data-testid="refund-submit"' not in full  # nothing left to refund


def test_invoice_for_the_shopper_with_the_pdf_link() -> None:
    client = as_user("shop-cashier-1", english=True)
    order = create_order(client, [("拿铁", 2, "36")])
    pay(client, order, method="cash")
    refused = text(
        client.post(
            detail(order, "invoice"),
            {"title_kind": "company", "title": "示例科技有限公司", "taxpayer_id": ""},
            headers=HX,
        )
    )
    assert "A company title needs its 18-character taxpayer ID." in refused
    assert not Invoice.objects.filter(order=order).exists()
    done = text(
        client.post(
            detail(order, "invoice"),
            {"title_kind": "personal", "title": "张三", "email": ""},
            headers=HX,
        )
    )
    invoice = Invoice.objects.get(order=order)
    assert (invoice.kind, invoice.title, invoice.amount_fen) == ("blue", "张三", 7200)
    assert by_testid(done, "invoice-done") == f"Invoice {invoice.number} issued."
    assert f'href="/api/v1/invoices/{invoice.pk}/pdf" data-testid="invoice-pdf"' in done
    assert 'data-testid="invoice-submit"' not in done
    pdf = client.get(f"/api/v1/invoices/{invoice.pk}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_order_list_today_search_and_status_filter_updates_by_polling() -> None:
    client = as_user("shop-cashier-1", english=True)
    member_order = create_order(client, [("拿铁", 1, "36")])
    client.post(sale(member_order, "member"), {"code": SHOPPER}, headers=HX)
    pay(client, member_order, method="cash")
    open_order = create_order(client, [("可颂", 1, "18")])
    orders_url = base() + "orders/"

    page = text(client.get(orders_url))
    rows = re.findall(r'data-testid="order-row" data-number="(\w+)" data-status="(\w+)"', page)
    assert rows == [(open_order.number, "open"), (member_order.number, "paid")]
    assert f'hx-get="{orders_url}?q=&amp;status=&amp;day=' in page
    assert 'hx-trigger="every 3s"' in page

    def numbers(query: str) -> list[str]:
        response = client.get(orders_url + query, headers=HX)
        assert "<html" not in text(response)
        return re.findall(r'data-testid="order-row" data-number="(\w+)"', text(response))

    assert numbers("?q=" + SHOPPER[-4:]) == [member_order.number]
    assert numbers("?q=" + open_order.number[-6:]) == [open_order.number]
    payment = Payment.objects.get(order=member_order)
    assert numbers("?q=" + payment.number) == [member_order.number]
    assert numbers("?status=open") == [open_order.number]
    assert numbers("?day=2020-01-01") == []
    assert numbers("?day=") == [open_order.number, member_order.number]


def test_receipt_prints_at_80mm_and_downloads_as_pdf() -> None:
    client = as_user("shop-cashier-1", english=True)
    order = create_order(client, [("拿铁", 2, "36")])
    pay(client, order, method="cash", tendered="100")
    page = text(client.get(detail(order, "receipt")))
    assert "@media print" in page and "width: 72mm" in page
    assert 'onclick="window.print()"' in page
    assert by_testid(page, "receipt-number") == order.number
    assert by_testid(page, "receipt-payable") == "¥72.00"
    assert "url(" not in page
    pdf = client.get(detail(order, "receipt") + "?format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"] == f'attachment; filename="receipt-{order.number}.pdf"'


def test_order_detail_in_english_and_in_chinese() -> None:
    english = as_user("shop-cashier-1", english=True)
    order = create_order(english, [("拿铁", 2, "36")])
    pay(english, order, method="cash")
    page = text(english.get(detail(order)))
    for label in ("Payments", "Refunds", "E-invoice", "Issue the invoice", "Refund everything"):
        assert label in page
    assert by_testid(page, "order-status") == "Paid"
    chinese = text(as_user("shop-cashier-1").get(detail(order)))
    for label in ("支付记录", "退款记录", "电子发票", "开具发票", "全额退款"):
        assert label in chinese
    assert by_testid(chinese, "order-status") == "已支付"


def test_scanned_codes_untick_and_points_paying_everything() -> None:
    client = as_user("shop-cashier-1", english=True)
    member = shopper()
    coupon = starbucks_coupon(member)
    order = create_order(client, [("拿铁", 1, "36")])
    client.post(sale(order, "member"), {"code": SHOPPER}, headers=HX)
    bad = text(client.post(sale(order, "apply"), {"code": "NOTACODE1234"}, headers=HX))
    assert by_testid(bad, "coupon-error") == "No coupon with this code."
    assert 'name="codes"' not in bad  # the bad code is not carried on
    # untick every coupon: nothing off; the best ones again: ¥5 off
    none = text(client.post(sale(order, "apply"), {"pick": "chosen"}, headers=HX))
    assert by_testid(none, "payable") == "¥36.00"
    assert 'data-testid="coupon-chosen"' not in none
    best = text(
        client.post(sale(order, "apply"), {"pick": "best", "code": coupon.code}, headers=HX)
    )
    assert by_testid(best, "payable") == "¥31.00"
    # the scanned code is carried by the member form and the coupon form
    assert re.findall(r'name="codes" value="([^"]*)"', best) == [coupon.code, coupon.code]
    # 3,100 points pay the rest: nothing to pay, the order is paid without a payment
    balance = points_balance(member=member)
    paid_by_points = text(
        client.post(
            sale(order, "apply"),
            {"pick": "chosen", "coupon": str(coupon.pk), "points": "3100", "codes": coupon.code},
            headers=HX,
        )
    )
    assert by_testid(paid_by_points, "payable") == "¥0.00"
    assert by_testid(paid_by_points, "nothing-to-pay").startswith("Nothing to pay")
    done = pay(client, order)
    assert by_testid(done, "pay-success") == "Payment successful"
    order.refresh_from_db()
    assert (order.status, order.points_used, order.paid_fen, order.points_earned) == (
        "paid",
        3100,
        0,
        0,
    )
    assert not order.payments.exists()
    assert points_balance(member=member) == balance - 3100
