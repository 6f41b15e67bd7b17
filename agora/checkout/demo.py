"""Demo sales for the demo district: a morning of orders at the first cashier's shop (cash,
card, WeChat and Alipay through the built-in sandbox, one split payment, one half refunded,
one invoiced), so the POS order list, the shopper's order history, the operator's payments,
reconciliation and settlement have something to show. The test district (SMALL) gets none:
tests make their own orders. Registered as a demo step by CheckoutConfig.ready()."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from agora.accounts.models import User
from agora.checkout.models import (
    Invoice,
    Mismatch,
    Order,
    OrderCoupon,
    OrderLine,
    Payment,
    PaymentNotice,
    ReconciliationRun,
    Refund,
    RefundPart,
    SandboxNotice,
    SandboxRefund,
    SandboxTrade,
)
from agora.checkout.services.invoices import invoice_issue
from agora.checkout.services.orders import LineSpec, checkout_quote, order_apply, order_create
from agora.checkout.services.payments import PaymentSpec, order_submit
from agora.checkout.services.refunds import refund_create
from agora.checkout.services.sandbox import sandbox_pay
from agora.members.models import Member

MENU = [
    ("拿铁 大杯", 3600),
    ("美式 中杯", 2800),
    ("可颂", 1800),
    ("蓝莓麦芬", 2200),
    ("星冰乐", 4100),
]


def build_checkout_demo(
    *, seed: int, config: Any, district_id: int, progress: Callable[[str], None], **_: Any
) -> list[str]:
    from agora.district.demo import SMALL

    if config == SMALL:
        return []
    rng = random.Random(seed * 11 + 5)
    cashier = User.objects.filter(username="shop-cashier-1").first()
    if cashier is None:
        return []
    grant = cashier.grants.exclude(shop=None).select_related("shop__mall").first()
    if grant is None or grant.shop is None:
        return []
    shop = grant.shop
    members = list(
        Member.objects.filter(district_id=district_id)
        .exclude(user__phone="13800000001")  # the documented shopper keeps a clean history
        .select_related("tier", "user")
        .order_by("id")[:6]
    )
    progress("checkout: demo sales")
    made = 0
    for i in range(8):
        lines = [
            LineSpec(name, rng.randint(1, 2), price)
            for name, price in rng.sample(MENU, rng.randint(1, 3))
        ]
        member = members[i % len(members)] if members and i % 4 != 3 else None
        order = order_create(actor=None, shop=shop, lines=lines, member=member)
        if member is not None and i % 2 == 0:
            points = min(500, checkout_quote(order=order).points_max)
            order_apply(order=order, points=points)
            order.refresh_from_db()
        due = order.payable_fen
        method = ["cash", "wechat", "alipay", "bank_card", "wechat", "ecny", "unionpay", "cash"][i]
        if i == 5 and due > 1000:
            specs = [
                PaymentSpec("cash", 1000, tendered_fen=1000),
                PaymentSpec("wechat", due - 1000),
            ]
        elif method == "cash":
            specs = [PaymentSpec("cash", due, tendered_fen=(due // 10000 + 1) * 10000)]
        elif method == "bank_card":
            specs = [PaymentSpec("bank_card", due, card_last4="6222")]
        else:
            specs = [PaymentSpec(method, due)]
        order = order_submit(actor=None, order=order, payments=specs, key=f"demo-{i}")
        for payment in order.payments.exclude(provider=""):
            trade = SandboxTrade.objects.get(out_trade_no=payment.number)
            sandbox_pay(token=trade.token, duplicate=(i % 3 == 1), late=False)
        order.refresh_from_db()
        if i == 1 and order.status == "paid" and member is not None:
            invoice_issue(
                actor=None,
                order=order,
                title_kind="personal",
                title=member.user.display_name or "个人",
                taxpayer_id="",
                email="",
            )
        if i == 4 and order.status == "paid":
            refund_create(
                actor=None,
                order=order,
                amount_fen=order.paid_fen // 2,
                reason="顾客退了一半",
                key="demo-refund-4",
            )
        made += 1
    return [f"checkout: {made} demo sales at {shop.name}"]


def reset_checkout_demo() -> None:
    """Delete every checkout row, children before parents (for demo_reset)."""
    for model in (
        Mismatch,
        ReconciliationRun,
        Invoice,
        RefundPart,
        Refund,
        PaymentNotice,
        SandboxNotice,
        SandboxRefund,
        SandboxTrade,
        Payment,
        OrderCoupon,
        OrderLine,
    ):
        model.objects.all().delete()
    Order.objects.all().delete()
