"""Payment races with real concurrent clients on PostgreSQL (each thread its own connection,
released together by a barrier):

* the same signed notification delivered 20 times at once pays the order and earns its points
  once;
* two refunds of the whole remaining amount at once: one wins, the other is refused, and the
  refunded total never exceeds what was paid;
* a refund racing the notification of a split order: whatever the interleaving, the order
  ends consistent (refunded <= paid, points exact);
* 16 tills submitting the same order at once commit its coupon and points once."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.checkout.models import Order, Payment, PaymentNotice, Refund, SandboxTrade
from agora.checkout.providers import provider_named
from agora.checkout.services.orders import LineSpec, order_apply, order_create
from agora.checkout.services.payments import PaymentSpec, order_submit
from agora.checkout.services.refunds import refund_create
from agora.core.errors import Conflict
from agora.district.models import Shop
from agora.members.models import Member
from agora.points.models import LedgerEntry, LedgerTransaction
from agora.points.selectors import points_balance
from agora.points.services.earning import rule_set
from agora.points.services.ledger import points_adjust
from agora.testing.personas import ApiClient, ApiResponse
from tests.live import flash_world, race, till_world

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="concurrency is proven on PostgreSQL (the SQLite run serialises writers)",
    ),
    pytest.mark.django_db(transaction=True),
]


def _world(points: int = 0) -> tuple[Member, Shop, Any, Actor]:
    world = flash_world(stock=5, members=1)
    till = till_world(district_id=world.district_id)
    member = Member.objects.select_related("tier").get(pk=world.member_ids[0])
    shop = Shop.objects.select_related("mall").get(pk=till.shop_id)
    admin = Actor(user=User.objects.create(username=f"admin-{member.pk}"), is_admin=True)
    rule_set(
        actor=admin,
        district_id=world.district_id,
        mall_id=None,
        shop_id=None,
        category="",
        name="每元1分",
        points_per_yuan=Decimal("1"),
        funder="mall",
        daily_cap=None,
    )
    if points:
        points_adjust(
            actor=admin,
            member=member,
            points=points,
            reason="开户",
            mall_id=None,
            key=f"s{member.pk}",
        )
    return member, shop, till, admin


def _pending_order(member: Member, shop: Shop, specs: list[PaymentSpec], points: int = 0) -> Order:
    order = order_create(
        actor=None,
        shop=shop,
        lines=[LineSpec("礼盒", 1, 10000)],
        member=member,
    )
    if points:
        order_apply(order=order, points=points)
    return order_submit(actor=None, order=order, payments=specs, key=f"k{order.pk}")


def _sandbox_notice(payment: Payment) -> tuple[dict[str, str], bytes]:
    provider = provider_named("sandbox")
    trade = SandboxTrade.objects.get(out_trade_no=payment.number)
    assert provider.settle(trade, timezone.now())  # type: ignore[attr-defined]
    return provider.notification(trade, timezone.now())  # type: ignore[attr-defined]


def _deliver(headers: dict[str, str], body: bytes) -> int:
    response = Client().generic(
        "POST",
        "/pay/notify/sandbox/",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    return int(response.status_code)


def test_twenty_identical_notifications_at_once_pay_and_earn_once() -> None:
    member, shop, _till, _admin = _world()
    order = _pending_order(member, shop, [PaymentSpec("wechat", 10000)])
    payment = order.payments.get()
    headers, body = _sandbox_notice(payment)
    statuses = race(lambda _i: _deliver(headers, body), calls=20, workers=20)
    assert statuses == [200] * 20
    order.refresh_from_db()
    assert (order.status, order.paid_fen, order.points_earned) == ("paid", 10000, 100)
    verdicts = list(PaymentNotice.objects.filter(payment=payment).values_list("verdict", flat=True))
    assert sorted(verdicts) == ["applied"] + ["duplicate"] * 19
    assert LedgerTransaction.objects.filter(member=member, kind="earn").count() == 1
    assert points_balance(member=member) == 100


def test_two_refunds_of_what_is_left_at_once_one_wins() -> None:
    member, shop, _till, _admin = _world()
    order = _pending_order(member, shop, [PaymentSpec("cash", 10000, tendered_fen=10000)])
    assert order.status == "paid"

    def refund(i: int) -> str:
        try:
            refund_create(
                actor=None,
                order=Order.objects.get(pk=order.pk),
                amount_fen=10000,
                reason="整单退",
                key=f"race-{i}",
            )
            return "ok"
        except Conflict as exc:
            return exc.code

    results = race(refund, calls=8, workers=8)
    assert sorted(results) == ["ok"] + ["refund_exceeds_paid"] * 7
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == ("refunded", 10000)
    assert Refund.objects.filter(order=order).aggregate(s=Sum("amount_fen"))["s"] == 10000
    assert points_balance(member=member) == 0  # the 100 earned were taken back once


def test_a_refund_racing_the_last_notification_ends_consistent() -> None:
    member, shop, _till, _admin = _world(points=5000)
    order = _pending_order(
        member,
        shop,
        [PaymentSpec("cash", 4000, tendered_fen=4000), PaymentSpec("alipay", 5000)],
        points=1000,
    )
    online = order.payments.get(method="alipay")
    headers, body = _sandbox_notice(online)

    def act(i: int) -> Any:
        if i % 2 == 0:
            return _deliver(headers, body)
        try:
            return refund_create(
                actor=None,
                order=Order.objects.get(pk=order.pk),
                amount_fen=4000,
                reason="退现金部分",
                key=f"mix-{i}",
            ).status
        except Conflict as exc:
            return exc.code

    results = race(act, calls=8, workers=8)
    order.refresh_from_db()
    assert order.status in ("paid", "partially_refunded")
    assert order.paid_fen == 9000
    assert order.refunded_fen <= order.paid_fen
    refunds = Refund.objects.filter(order=order, status="succeeded")
    assert order.refunded_fen == sum(r.amount_fen for r in refunds)
    assert order.refunded_fen in (0, 4000, 8000)
    # refused refunds came before the payment completed, or found nothing left
    assert set(r for r in results if isinstance(r, str)) <= {
        "order_not_paid",
        "refund_exceeds_paid",
    }
    # the points: 1000 spent, 90 earned (paid in money), then the refunded share back
    earned = order.points_earned
    assert earned == 90
    share = order.refunded_fen
    expected = 5000 - 1000 + earned - earned * share // 9000 + 1000 * share // 9000
    assert points_balance(member=member) == expected
    for txn in LedgerTransaction.objects.filter(reference=order.number):
        assert LedgerEntry.objects.filter(transaction=txn).aggregate(s=Sum("amount"))["s"] == 0


def test_sixteen_tills_submitting_one_order_commit_its_points_once() -> None:
    member, shop, till, _admin = _world(points=3000)
    order = order_create(actor=None, shop=shop, lines=[LineSpec("礼盒", 1, 10000)], member=member)
    order_apply(order=order, points=2000)

    def submit(i: int) -> ApiResponse:
        return ApiClient(token=till.cashier_token).post(
            f"/orders/{order.pk}/submit",
            {"payments": [{"method": "cash", "amount_fen": 8000}]},
            headers={"Idempotency-Key": f"till-{i}"},
        )

    replies = race(submit, calls=16, workers=16)
    statuses = sorted(r.status for r in replies if isinstance(r, ApiResponse))
    assert statuses == [200] + [409] * 15
    assert {r.problem_code for r in replies if isinstance(r, ApiResponse) and r.status == 409} == {
        "order_not_open"
    }
    assert LedgerTransaction.objects.filter(member=member, kind="redeem").count() == 1
    assert Payment.objects.filter(order=order).count() == 1
    assert points_balance(member=member) == 3000 - 2000 + 80
