"""End to end with WeChat Pay: an order with a coupon and points at the till, the rest paid by
WeChat through the real ``wechatpayv3`` SDK against the local fake WeChat Pay server (signed
requests, signed and AES-GCM encrypted notification posted to Agora's notify URL), an invoice,
then half refunded. Every ledger, the coupon, the invoices and the provider's own books are
checked, and the day reconciles with the fake's bill."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db.models import Q, Sum
from django.test import Client
from django.utils import timezone

from agora.checkout.models import Invoice, Order, Payment, PaymentNotice
from agora.checkout.providers import reset_providers
from agora.checkout.services.reconcile import reconcile_day
from agora.coupons.models import Coupon, CouponTemplate
from agora.coupons.services.wallet import coupon_claim
from agora.district.models import Shop
from agora.members.models import Member
from agora.members.services.codes import member_code_issue
from agora.points.models import LedgerAccount, LedgerEntry, LedgerTransaction
from agora.points.selectors import points_balance
from agora.testing.fake_wechatpay import FakeWeChatPay, generate_key, merchant_options
from agora.testing.personas import as_persona, shop_id_of

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"
CASHIER = "shop-cashier-1"


@pytest.fixture
def wechat(settings: Any) -> Iterator[FakeWeChatPay]:
    with FakeWeChatPay(platform_key=generate_key(), merchant_key=generate_key()) as fake:
        settings.PAYMENT_PROVIDERS = {
            **settings.PAYMENT_PROVIDERS,
            "wechatpay": {
                "class": "agora.checkout.providers.wechatpay.WeChatPayProvider",
                **merchant_options(fake),
            },
        }
        settings.PAYMENT_ROUTES = {**settings.PAYMENT_ROUTES, "wechat": "wechatpay"}
        reset_providers()
        yield fake
    reset_providers()


def _notify(headers: dict[str, str], body: bytes) -> Any:
    return Client().generic(
        "POST",
        "/pay/notify/wechatpay/",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )


def _pool_total(**lookup: Any) -> int:
    account = LedgerAccount.objects.filter(**lookup).first()
    if account is None:
        return 0
    return int(LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or 0)


def test_coupon_points_and_wechat_then_half_refunded(
    wechat: FakeWeChatPay, django_capture_on_commit_callbacks: Any
) -> None:
    till = as_persona(CASHIER)
    shop = Shop.objects.select_related("mall").get(pk=shop_id_of(CASHIER))
    member = Member.objects.select_related("tier").get(user__phone=SHOPPER)
    template = CouponTemplate.objects.get(title="星巴克 立减5元", shop=shop)
    coupon = coupon_claim(member=member, template=template)
    before = points_balance(member=member)
    pool_before = _pool_total(kind="merchant_pool", shop=shop)
    redeemed_before = CouponTemplate.objects.get(pk=template.pk).redeemed

    order = till.post(
        f"/shops/{shop.pk}/orders",
        {
            "lines": [
                {"name": "拿铁 大杯", "quantity": 2, "unit_price_fen": 3600},
                {"name": "蓝莓麦芬", "quantity": 1, "unit_price_fen": 2800},
            ],
            "member_code": member_code_issue(member=member).code,
        },
    ).body
    oid, number = order["id"], order["number"]
    quote = till.post(f"/orders/{oid}/apply", {"coupon_codes": [coupon.code], "points": 2000}).body
    assert (quote["subtotal_fen"], quote["discount_fen"], quote["points_fen"]) == (10000, 500, 2000)
    assert quote["payable_fen"] == 7500
    submitted = till.post(
        f"/orders/{oid}/submit",
        {"payments": [{"method": "wechat", "amount_fen": 7500}]},
        headers={"Idempotency-Key": "wx-e2e"},
    ).body
    [payment] = submitted["payments"]
    assert payment["provider"] == "wechatpay"
    assert payment["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    trade = wechat.trades[payment["number"]]
    assert trade.total_fen == 7500
    assert trade.notify_url.endswith("/pay/notify/wechatpay/")

    # a forged and a stale notification change nothing and WeChat is told to retry
    wechat.pay(payment["number"])
    forged = _notify(*wechat.notification(payment["number"], wrong_key=True))
    stale_at = int((timezone.now() - timedelta(minutes=10)).timestamp())
    stale = _notify(*wechat.notification(payment["number"], timestamp=stale_at))
    tampered = _notify(*wechat.notification(payment["number"], tamper=True))
    assert (forged.status_code, stale.status_code, tampered.status_code) == (500, 500, 500)
    assert Order.objects.get(pk=oid).status == "pending"
    assert Payment.objects.get(number=payment["number"]).status == "pending"

    # the real one pays the order and earns the points in the same transaction
    ok = _notify(*wechat.notification(payment["number"]))
    assert ok.status_code == 200
    again = _notify(*wechat.notification(payment["number"]))
    assert again.status_code == 200
    verdicts = list(
        PaymentNotice.objects.filter(provider="wechatpay")
        .order_by("id")
        .values_list("verdict", flat=True)
    )
    assert verdicts == ["forged", "stale", "forged", "applied", "duplicate"]
    paid = Order.objects.get(pk=oid)
    assert (paid.status, paid.paid_fen) == ("paid", 7500)
    earn = LedgerTransaction.objects.get(key=f"order:{number}:earn")
    assert paid.earn_txn_id == earn.pk and paid.points_earned == earn.points
    assert earn.points > 0
    earned = earn.points
    assert points_balance(member=member) == before - 2000 + earned
    spend = LedgerTransaction.objects.get(key=f"order:{number}:spend")
    assert spend.points == -2000
    assert Coupon.objects.get(pk=coupon.pk).status == "redeemed"
    assert Coupon.objects.get(pk=coupon.pk).reference == number
    assert CouponTemplate.objects.get(pk=template.pk).redeemed == redeemed_before + 1

    # the shopper asks for an invoice
    shopper = as_persona(SHOPPER)
    with django_capture_on_commit_callbacks(execute=True):
        inv = shopper.post(
            f"/orders/{oid}/invoice",
            {"title_kind": "personal", "title": "张三", "email": "zhang@example.com"},
        )
    assert inv.status == 201, inv.body
    assert inv.body["amount_fen"] == 7500
    assert inv.body["tax_fen"] == 863  # 7500 * 13 / 113 = 862.8
    blue = Invoice.objects.get(pk=inv.body["id"])
    assert bytes(blue.pdf).startswith(b"%PDF")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["zhang@example.com"]

    # refund half through WeChat
    refund = till.post(
        f"/orders/{oid}/refunds",
        {"amount_fen": 3750, "reason": "退一杯拿铁"},
        headers={"Idempotency-Key": "wx-refund-1"},
    )
    assert refund.status == 201, refund.body
    body = refund.body
    assert body["status"] == "succeeded"
    assert [(p["method"], p["amount_fen"], p["status"]) for p in body["parts"]] == [
        ("wechat", 3750, "succeeded")
    ]
    assert body["points_clawed_back"] == earned // 2
    assert body["points_returned"] == 1000
    assert wechat.trades[payment["number"]].refunded_fen == 3750
    after = Order.objects.get(pk=oid)
    assert (after.status, after.refunded_fen) == ("partially_refunded", 3750)
    assert Payment.objects.get(number=payment["number"]).status == "partially_refunded"
    assert points_balance(member=member) == before - 2000 + earned - earned // 2 + 1000
    # the coupon stays used on a partial refund
    assert Coupon.objects.get(pk=coupon.pk).status == "redeemed"
    # the red-letter invoice
    red = Invoice.objects.get(order_id=oid, kind="red")
    assert (red.amount_fen, red.original_id) == (-3750, blue.pk)
    assert red.tax_fen == -431  # 3750 * 13 / 113 = 431.4
    # the ledger balances: every transaction of this order sums to zero
    for txn in LedgerTransaction.objects.filter(Q(reference=number)):
        assert LedgerEntry.objects.filter(transaction=txn).aggregate(s=Sum("amount"))["s"] == 0
    # the shop's pool got the spent points (net of the half returned), and paid for the
    # earned points it funds (net of the half taken back)
    pool_change = _pool_total(kind="merchant_pool", shop=shop) - pool_before
    funded = -int(
        LedgerEntry.objects.filter(
            account__kind="merchant_pool",
            account__shop=shop,
            transaction__reference=number,
            transaction__kind__in=["earn", "clawback"],
        ).aggregate(s=Sum("amount"))["s"]
        or 0
    )
    assert pool_change == 1000 - funded

    # the provider's bill for today matches Agora's books
    run = reconcile_day(provider="wechatpay", day=timezone.localdate())
    assert run.error == ""
    assert (run.payments_checked, run.refunds_checked, run.mismatched) == (1, 1, 0)
