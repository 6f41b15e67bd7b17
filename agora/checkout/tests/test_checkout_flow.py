"""Checkout through the API with the built-in sandbox: the member recognised, the best coupons
chosen (with the reason each other one is not), points paying part, the sandbox paying the
rest with its quirks (duplicate and late notifications), then refunds that move points and
coupons back in proportion."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from agora.checkout.models import Order, Payment, PaymentNotice, Refund, SandboxNotice, SandboxTrade
from agora.checkout.providers import provider_named
from agora.checkout.services.payments import notice_receive, orders_close_expired
from agora.checkout.services.sandbox import sandbox_deliver_due, sandbox_pay
from agora.coupons.models import Coupon, CouponTemplate
from agora.coupons.services.wallet import coupon_claim
from agora.district.models import Shop
from agora.members.models import Member
from agora.members.services.codes import member_code_issue
from agora.points.models import LedgerTransaction
from agora.points.selectors import points_balance
from agora.testing.personas import ApiClient, as_persona, shop_id_of

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"
CASHIER = "shop-cashier-1"


def _member() -> Member:
    return Member.objects.select_related("tier", "user").get(user__phone=SHOPPER)


def _claim(title: str) -> Coupon:
    """A coupon of the template with this title valid at the cashier's shop."""
    shop = Shop.objects.get(pk=shop_id_of(CASHIER))
    template = (
        CouponTemplate.objects.filter(title=title)
        .filter(Q(shop=shop) | Q(shop=None, mall=shop.mall) | Q(shop=None, mall=None))
        .get()
    )
    held = Coupon.objects.filter(member=_member(), template=template, status="active").first()
    return held or coupon_claim(member=_member(), template=template)


def _order(till: ApiClient, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    r = till.post(f"/shops/{shop_id_of(CASHIER)}/orders", {"lines": lines, **extra})
    assert r.status == 201, r.body
    return r.body


def _key(name: str) -> dict[str, dict[str, str]]:
    return {"headers": {"Idempotency-Key": name}}


def test_member_coupon_points_and_sandbox_wechat_then_refunds() -> None:
    till = as_persona(CASHIER)
    member = _member()
    starbucks = _claim("星巴克 立减5元")
    code = member_code_issue(member=member).code
    order = _order(
        till,
        [
            {"name": "拿铁 大杯", "quantity": 2, "unit_price_fen": 3600},
            {"name": "可颂", "quantity": 1, "unit_price_fen": 1800},
        ],
        member_code=code,
    )
    assert order["subtotal_fen"] == 9000
    assert order["member"]["card_no"] == member.card_no
    oid = order["id"]
    before = points_balance(member=member)

    quote = till.post(f"/orders/{oid}/quote", {"points": 1000}).body
    chosen = [c for c in quote["coupons"] if c["chosen"]]
    assert [(c["code"], c["discount_fen"]) for c in chosen] == [(starbucks.code, 500)]
    assert quote["discount_fen"] == 500
    assert quote["points_fen"] == 1000
    assert quote["payable_fen"] == 7500
    assert quote["points_balance"] == before

    applied = till.post(f"/orders/{oid}/apply", {"points": 1000}).body
    assert applied["payable_fen"] == 7500
    submitted = till.post(
        f"/orders/{oid}/submit",
        {"payments": [{"method": "wechat", "amount_fen": 7500}]},
        **_key("pay-1"),
    )
    assert submitted.status == 200, submitted.body
    body = submitted.body
    assert body["status"] == "pending"
    [payment] = body["payments"]
    assert payment["status"] == "pending" and payment["provider"] == "sandbox"
    assert "/sandbox/pay/" in payment["code_url"]
    # committed at submit: the coupon is used, the points are spent
    assert Coupon.objects.get(pk=starbucks.pk).status == "redeemed"
    assert points_balance(member=member) == before - 1000

    # the retry of the same submit returns the order as it is and moves nothing
    again = till.post(
        f"/orders/{oid}/submit",
        {"payments": [{"method": "wechat", "amount_fen": 7500}]},
        **_key("pay-1"),
    )
    assert again.status == 200 and again.body["status"] == "pending"

    # the shopper pays in the sandbox; it notifies twice
    trade = SandboxTrade.objects.get(out_trade_no=payment["number"])
    sandbox_pay(token=trade.token, duplicate=True, late=False)
    sandbox_deliver_due(now=timezone.now() + timezone.timedelta(seconds=5))
    paid = till.get(f"/orders/{oid}").body
    assert paid["status"] == "paid"
    assert paid["paid_fen"] == 7500
    verdicts = list(
        PaymentNotice.objects.filter(out_trade_no=payment["number"])
        .order_by("id")
        .values_list("verdict", flat=True)
    )
    assert verdicts == ["applied", "duplicate"]
    earn = LedgerTransaction.objects.get(key=f"order:{paid['number']}:earn")
    assert paid["points_earned"] == earn.points > 0
    assert points_balance(member=member) == before - 1000 + earn.points
    earned = earn.points

    # refund half of the money: half the earned points back out, half the used points back in
    r = till.post(f"/orders/{oid}/refunds", {"amount_fen": 3750, "reason": "退一杯"}, **_key("r1"))
    assert r.status == 201, r.body
    assert r.body["status"] == "succeeded"
    assert r.body["points_clawed_back"] == earned // 2
    assert r.body["points_returned"] == 500
    assert r.body["coupons_restored"] == 0
    half = till.get(f"/orders/{oid}").body
    assert half["status"] == "partially_refunded"
    assert half["refunded_fen"] == 3750
    assert points_balance(member=member) == before - 1000 + earned - earned // 2 + 500
    assert SandboxTrade.objects.get(pk=trade.pk).refunded_fen == 3750

    # more than what is left is refused and changes nothing
    over = till.post(f"/orders/{oid}/refunds", {"amount_fen": 3751, "reason": "太多"}, **_key("r2"))
    assert over.status == 409 and over.problem_code == "refund_exceeds_paid"
    assert Refund.objects.filter(order_id=oid).count() == 1

    # the rest: everything is back, and the coupon too (its template restores on refund)
    assert starbucks.template.restore_on_refund
    rest = till.post(f"/orders/{oid}/refunds", {"amount_fen": 3750, "reason": "全退"}, **_key("r3"))
    assert rest.status == 201
    done = till.get(f"/orders/{oid}").body
    assert done["status"] == "refunded"
    assert done["points_clawed_back"] == earned
    assert done["points_returned"] == 1000
    assert points_balance(member=member) == before
    assert Coupon.objects.get(pk=starbucks.pk).status == "active"
    assert rest.body["coupons_restored"] == 1


def test_best_coupons_stack_one_per_funder_and_explain_the_rest() -> None:
    till = as_persona(CASHIER)
    member = _member()
    mall_coupon = _claim(f"{Shop.objects.get(pk=shop_id_of(CASHIER)).mall.name} 满200减30")
    small = _claim("星巴克 立减5元")
    order = _order(
        till,
        [{"name": "礼盒", "quantity": 1, "unit_price_fen": 25000}],
        member_code=member_code_issue(member=member).code,
    )
    quote = till.post(f"/orders/{order['id']}/quote", {}).body
    by_code = {c["code"]: c for c in quote["coupons"]}
    assert by_code[mall_coupon.code]["chosen"] and by_code[mall_coupon.code]["discount_fen"] == 3000
    assert by_code[small.code]["chosen"] and by_code[small.code]["discount_fen"] == 500
    assert quote["discount_fen"] == 3500
    assert quote["payable_fen"] == 21500


def test_cash_sale_is_paid_at_once_with_change() -> None:
    till = as_persona(CASHIER)
    order = _order(till, [{"name": "美式", "quantity": 1, "unit_price_fen": 2800}])
    r = till.post(
        f"/orders/{order['id']}/submit",
        {"payments": [{"method": "cash", "amount_fen": 2800, "tendered_fen": 5000}]},
        **_key("cash-1"),
    )
    assert r.status == 200, r.body
    assert r.body["status"] == "paid"
    assert r.body["payments"][0]["change_fen"] == 2200
    assert r.body["points_earned"] == 0


def test_payments_must_add_up_and_nothing_changes() -> None:
    till = as_persona(CASHIER)
    order = _order(till, [{"name": "美式", "quantity": 1, "unit_price_fen": 2800}])
    r = till.post(
        f"/orders/{order['id']}/submit",
        {
            "payments": [
                {"method": "wechat", "amount_fen": 2000},
                {"method": "cash", "amount_fen": 700},
            ]
        },
        **_key("sum-1"),
    )
    assert r.status == 422, r.body
    assert r.field_names() == ["payments"], r.body
    assert Order.objects.get(pk=order["id"]).status == "open"
    assert not Payment.objects.filter(order_id=order["id"]).exists()


def test_unpaid_order_times_out_after_asking_the_provider_and_gives_everything_back() -> None:
    till = as_persona(CASHIER)
    member = _member()
    coupon = _claim("星巴克 立减5元")
    before = points_balance(member=member)
    order = _order(
        till,
        [{"name": "拿铁", "quantity": 1, "unit_price_fen": 3600}],
        member_code=member_code_issue(member=member).code,
    )
    till.post(f"/orders/{order['id']}/apply", {"points": 100})
    till.post(
        f"/orders/{order['id']}/submit",
        {"payments": [{"method": "alipay", "amount_fen": 3000}]},
        **_key("late-1"),
    )
    assert points_balance(member=member) == before - 100
    later = timezone.now() + timezone.timedelta(minutes=20)
    assert orders_close_expired(now=later) == 1
    closed = Order.objects.get(pk=order["id"])
    assert closed.status == "closed"
    assert Coupon.objects.get(pk=coupon.pk).status == "active"
    assert points_balance(member=member) == before
    trade = SandboxTrade.objects.get(out_trade_no=f"{closed.number}1")
    assert trade.state == "closed"
    assert SandboxNotice.objects.count() == 0
    # the provider took the money after all (after the close): the notification is
    # acknowledged, logged as after_close, and the closed order stays closed and unpaid
    SandboxTrade.objects.filter(pk=trade.pk).update(state="paid", paid_at=later, txn_id="SBXLATE1")
    trade.refresh_from_db()
    headers, body = provider_named("sandbox").notification(trade, later)  # type: ignore[attr-defined]
    received = notice_receive(provider_name="sandbox", headers=headers, body=body, now=later)
    assert (received.verdict, received.status) == ("after_close", 200)
    closed.refresh_from_db()
    assert (closed.status, closed.paid_fen, closed.points_earned) == ("closed", 0, 0)
    assert points_balance(member=member) == before


def test_another_shops_cashier_gets_404_and_changes_nothing() -> None:
    till = as_persona(CASHIER)
    order = _order(till, [{"name": "美式", "quantity": 1, "unit_price_fen": 2800}])
    till.post(
        f"/orders/{order['id']}/submit",
        {"payments": [{"method": "cash", "amount_fen": 2800}]},
        **_key("own-1"),
    )
    other = as_persona("shop-cashier-2")
    oid = order["id"]
    assert other.get(f"/orders/{oid}").status == 404
    r = other.post(
        f"/orders/{oid}/refunds", {"amount_fen": 2800, "reason": "不是我的"}, **_key("x")
    )
    assert r.status == 404
    assert other.post(f"/orders/{oid}/cancel", {}).status == 404
    after = Order.objects.get(pk=oid)
    assert (after.status, after.refunded_fen) == ("paid", 0)
    assert not Refund.objects.filter(order_id=oid).exists()
