"""Who sees which orders: a merchant its own shop's, an operator its malls', a shopper their
own; government sees none (commerce stays the operators')."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet, Sum

from agora.accounts.actor import Actor
from agora.accounts.choices import MERCHANT_ROLES
from agora.checkout.choices import OrderStatus
from agora.checkout.models import (
    Invoice,
    Order,
    Payment,
    PaymentNotice,
    ReconciliationRun,
)
from agora.core.errors import NotFound, PermissionDenied
from agora.lib.timeutil import SHANGHAI

DETAIL_RELATED = ("shop", "member__user", "member__tier")
DETAIL_PREFETCH = (
    "lines",
    "coupons__coupon",
    "payments",
    "refunds__parts__payment",
    "invoices",
)


def orders_visible(*, actor: Actor) -> QuerySet[Order]:
    qs = Order.objects.all()
    if actor.is_admin:
        return qs
    cond = Q(pk__in=[])
    if actor.api_key is not None:
        key = actor.api_key
        if key.shop_id:
            cond |= Q(shop_id=key.shop_id)
        if key.mall_id:
            cond |= Q(mall_id=key.mall_id)
        return qs.filter(cond)
    shops = [s for s, roles in actor.shop_roles.items() if roles & MERCHANT_ROLES]
    if shops:
        cond |= Q(shop_id__in=shops)
    if actor.operated_mall_ids:
        cond |= Q(mall_id__in=actor.operated_mall_ids)
    if actor.user is not None:
        cond |= Q(member__user=actor.user)
    return qs.filter(cond)


def access_order(*, actor: Actor, order_id: int) -> Order:
    order = (
        orders_visible(actor=actor)
        .select_related(*DETAIL_RELATED)
        .prefetch_related(*DETAIL_PREFETCH)
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound(detail="order not found")
    return order


def access_order_brief(*, actor: Actor, order_id: int) -> Order:
    """The order without its lines, payments and refunds (for actions that reload it)."""
    order = (
        orders_visible(actor=actor)
        .select_related("shop__mall", "member__user", "member__tier")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound(detail="order not found")
    return order


def is_staff_of(actor: Actor, order: Order) -> bool:
    """Shop staff, the mall's operators, an API key of the shop or mall, or an admin."""
    if actor.is_admin or actor.operates_mall(order.mall_id):
        return True
    if actor.api_key is not None:
        return actor.api_key.shop_id == order.shop_id or actor.api_key.mall_id == order.mall_id
    return actor.has_shop_role(order.shop_id, MERCHANT_ROLES)


def require_staff(actor: Actor, order: Order) -> None:
    if not is_staff_of(actor, order):
        raise PermissionDenied(detail="only the shop's staff or the mall's operators may do this")


def require_owner_or_staff(actor: Actor, order: Order) -> None:
    if is_staff_of(actor, order):
        return
    if (
        order.member is not None
        and actor.user is not None
        and order.member.user_id == actor.user.pk
    ):
        return
    raise PermissionDenied(detail="this is not your order")


def orders_search(
    *, qs: QuerySet[Order], status: str | None = None, q: str = "", day: Any = None
) -> QuerySet[Order]:
    if status:
        qs = qs.filter(status=status)
    text = q.strip()
    if text:
        cond = Q(number__icontains=text) | Q(payments__number__icontains=text)
        if text.isdigit() and len(text) == 4:
            cond |= Q(member__user__phone__endswith=text)
        qs = qs.filter(cond).distinct()
    if day is not None:
        qs = qs.filter(created_at__date=day)
    return qs.select_related("shop")


def orders_of_member(*, member: Any) -> QuerySet[Order]:
    return Order.objects.filter(member=member).select_related("shop")


def access_payment(*, actor: Actor, payment_id: int) -> Payment:
    payment = (
        Payment.objects.filter(pk=payment_id, order__in=orders_visible(actor=actor))
        .select_related("order")
        .first()
    )
    if payment is None:
        raise NotFound(detail="payment not found")
    return payment


def access_invoice(*, actor: Actor, invoice_id: int) -> Invoice:
    invoice = (
        Invoice.objects.filter(pk=invoice_id, order__in=orders_visible(actor=actor))
        .select_related("order", "original")
        .first()
    )
    if invoice is None:
        raise NotFound(detail="invoice not found")
    return invoice


def invoices_of_member(*, member: Any) -> QuerySet[Invoice]:
    return Invoice.objects.filter(order__member=member).select_related("order", "original")


def payments_of_malls(*, mall_ids: set[int] | None) -> QuerySet[Payment]:
    qs = Payment.objects.select_related("order", "order__shop")
    if mall_ids is not None:
        qs = qs.filter(order__mall_id__in=mall_ids)
    return qs.order_by("-created_at", "-id")


def notices_recent(*, providers: list[str] | None = None) -> QuerySet[PaymentNotice]:
    qs = PaymentNotice.objects.all()
    if providers:
        qs = qs.filter(provider__in=providers)
    return qs


def runs_recent() -> QuerySet[ReconciliationRun]:
    return ReconciliationRun.objects.prefetch_related("mismatches")


def member_spend_on(*, member_id: int, mall_id: int, day: date, exclude_source: str = "") -> int:
    """What a member paid at a mall's shops on ``day`` (Asia/Shanghai), net of refunds:
    paid orders only, so an unpaid basket earns nothing (spend-based free parking)."""
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    rows = Order.objects.filter(
        member_id=member_id,
        mall_id=mall_id,
        paid_at__gte=start,
        paid_at__lt=start + timedelta(days=1),
        status__in=[OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED],
    )
    if exclude_source:
        rows = rows.exclude(source=exclude_source)
    total = rows.aggregate(
        paid=Sum(F("paid_fen") + F("points_fen") - F("refunded_fen"), default=0)
    )["paid"]
    return max(0, int(total))
