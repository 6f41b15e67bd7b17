"""Refunds, full and partial, through the original payments.

The amount is reserved first by one conditional UPDATE (``refunded_fen + amount <= paid_fen``),
so two refunds racing can never exceed what was paid. Then each part goes to its payment's
provider (cash and card are handed back at the till); a part the provider refuses is released
again. Points follow the money in proportion: of the points the order earned, the refunded
share is taken back (when the member has already spent them, the shortfall is recorded, never
a negative balance); of the points that paid, the refunded share is given back. A full refund
gives the coupons back when their template says so and takes the purchase out of the tier
spend. A red-letter invoice follows when the order was invoiced."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.checkout.choices import OrderStatus, PaymentStatus, RefundStatus
from agora.checkout.models import Order, Payment, Refund, RefundPart
from agora.checkout.providers import provider_named
from agora.checkout.providers.base import ProviderError, RefundRequest
from agora.checkout.services.orders import new_number
from agora.checkout.services.payments import coupons_give_back
from agora.core.errors import Conflict, IdempotencyKeyReused, field_error
from agora.core.services import audit_record, body_hash
from agora.members.services.purchases import purchase_reverse
from agora.points.models import LedgerTransaction
from agora.points.services.ledger import points_partial_reverse

log = logging.getLogger("agora.checkout")

REFUNDABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


def _replay(key: str, payload: dict[str, Any]) -> Refund | None:
    previous = Refund.objects.filter(key=key).first()
    if previous is None:
        return None
    if previous.request_hash != body_hash(payload):
        raise IdempotencyKeyReused(detail="this idempotency key was used for another refund")
    return previous


def refund_create(
    *,
    actor: Actor | None,
    order: Order,
    amount_fen: int,
    reason: str,
    key: str,
    now: datetime | None = None,
) -> Refund:
    """Refund ``amount_fen`` of a paid order (0 on an order paid entirely with points and
    coupons: gives those back). Once per idempotency key."""
    when = now or timezone.now()
    if not key:
        raise field_error("Idempotency-Key", "every refund needs an idempotency key", "required")
    if len(key) > 200:
        raise field_error("Idempotency-Key", "must be at most 200 characters", "too_long")
    reason = reason.strip()
    if not 2 <= len(reason) <= 200:
        raise field_error("reason", "say why, in 2 to 200 characters", "required")
    payload = {"order": order.pk, "amount_fen": amount_fen, "reason": reason}
    previous = _replay(key, payload)
    if previous is not None:
        return previous
    order.refresh_from_db()
    if order.status not in REFUNDABLE:
        raise Conflict(code="order_not_paid", detail="only a paid order can be refunded")
    left = order.paid_fen - order.refunded_fen
    if order.paid_fen == 0:
        if amount_fen != 0:
            raise field_error("amount_fen", "nothing was paid in money: refund 0", "range")
    elif not 1 <= amount_fen <= left:
        raise Conflict(
            code="refund_exceeds_paid",
            detail=f"at most {left} fen of this order can be refunded",
            extra={"refundable_fen": left},
        )
    try:
        refund = _reserve(actor, order, amount_fen, reason, key, payload, when)
    except IntegrityError:
        previous = _replay(key, payload)
        if previous is None:
            raise
        return previous
    _send(refund, when)
    _follow(actor, refund, when)
    refund.refresh_from_db()
    return refund


def _reserve(
    actor: Actor | None,
    order: Order,
    amount_fen: int,
    reason: str,
    key: str,
    payload: dict[str, Any],
    when: datetime,
) -> Refund:
    with transaction.atomic():
        won = Order.objects.filter(
            pk=order.pk,
            status__in=REFUNDABLE,
            refunded_fen__lte=F("paid_fen") - amount_fen,
        ).update(refunded_fen=F("refunded_fen") + amount_fen)
        if not won and amount_fen > 0:
            raise Conflict(
                code="refund_exceeds_paid",
                detail="another refund took what was left of this order",
            )
        if amount_fen == 0 and not Order.objects.filter(pk=order.pk, status__in=REFUNDABLE).update(
            status=OrderStatus.REFUNDED
        ):
            raise Conflict(code="order_not_paid", detail="only a paid order can be refunded")
        refund = Refund.objects.create(
            order=order,
            number=new_number("R", when, 10),
            key=key,
            request_hash=body_hash(payload),
            amount_fen=amount_fen,
            reason=reason,
            status=RefundStatus.PROCESSING,
            created_by=actor.user if actor else None,
            created_at=when,
        )
        need = amount_fen
        payments = Payment.objects.filter(
            order=order,
            status__in=(PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED),
        ).order_by("-paid_at", "-id")
        for i, payment in enumerate(payments):
            if need == 0:
                break
            take = min(need, payment.amount_fen - payment.refunded_fen)
            if take <= 0:
                continue
            if not Payment.objects.filter(
                pk=payment.pk, refunded_fen__lte=F("amount_fen") - take
            ).update(refunded_fen=F("refunded_fen") + take):
                raise Conflict(code="busy", detail="the payment changed, try again")
            RefundPart.objects.create(
                refund=refund,
                payment=payment,
                number=f"{refund.number}{i + 1}",
                amount_fen=take,
                status=RefundStatus.PROCESSING,
                created_at=when,
            )
            need -= take
        if need:
            raise AssertionError(f"refund {refund.number}: {need} fen not allocated")
        if actor is not None and actor.user is not None:
            audit_record(
                actor=actor,
                action="order.refund",
                target=order,
                after={"refund": refund.number, "amount_fen": amount_fen, "reason": reason},
                mall_id=order.mall_id,
                shop_id=order.shop_id,
            )
    return refund


def _send(refund: Refund, when: datetime) -> None:
    """Each part through its payment's provider (outside any transaction)."""
    for part in refund.parts.select_related("payment"):
        payment = part.payment
        if not payment.provider:
            RefundPart.objects.filter(pk=part.pk).update(status=RefundStatus.SUCCEEDED)
            continue
        try:
            result = provider_named(payment.provider).refund(
                RefundRequest(
                    out_trade_no=payment.number,
                    out_refund_no=part.number,
                    refund_fen=part.amount_fen,
                    total_fen=payment.amount_fen,
                    reason=refund.reason,
                )
            )
            state, ref, detail = result.state, result.provider_refund_id, result.detail
        except ProviderError as exc:
            state, ref, detail = "failed", "", str(exc)
        if state == "failed":
            log.warning("refund part failed", extra={"part": part.number, "detail": detail})
            with transaction.atomic():
                Payment.objects.filter(pk=payment.pk).update(
                    refunded_fen=F("refunded_fen") - part.amount_fen
                )
                Order.objects.filter(pk=refund.order_id).update(
                    refunded_fen=F("refunded_fen") - part.amount_fen
                )
        RefundPart.objects.filter(pk=part.pk).update(
            status=state, provider_refund_id=ref[:64], detail=detail[:200]
        )


def _follow(actor: Actor | None, refund: Refund, when: datetime) -> None:
    """Points, coupons and statuses after the money went back."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        parts = list(refund.parts.all())
        money = sum(p.amount_fen for p in parts if p.status != RefundStatus.FAILED)
        if parts and money == 0:
            Refund.objects.filter(pk=refund.pk).update(
                status=RefundStatus.FAILED, completed_at=when
            )
            return
        full = order.refunded_fen == order.paid_fen
        share_num, share_den = (order.refunded_fen, order.paid_fen) if order.paid_fen else (1, 1)
        clawed = returned = shortfall = 0
        if order.earn_txn_id and order.points_earned:
            due = order.points_earned * share_num // share_den - order.points_clawed_back
            if due > 0:
                txn = points_partial_reverse(
                    actor=actor,
                    original=LedgerTransaction.objects.get(pk=order.earn_txn_id),
                    points=due,
                    reason=f"refund {refund.number} of order {order.number}",
                    key=f"refund:{refund.number}:clawback",
                    allow_shortfall=True,
                )
                clawed = -txn.points if txn else 0
                shortfall = due - clawed
        if order.spend_txn_id and order.points_used:
            due = order.points_used * share_num // share_den - order.points_returned
            if due > 0:
                txn = points_partial_reverse(
                    actor=actor,
                    original=LedgerTransaction.objects.get(pk=order.spend_txn_id),
                    points=due,
                    reason=f"refund {refund.number} of order {order.number}",
                    key=f"refund:{refund.number}:return",
                )
                returned = txn.points if txn else 0
        restored = 0
        if full:
            restored = coupons_give_back(order=order, when=when, on_refund=True)
            if order.earn_txn_id:
                earn = LedgerTransaction.objects.select_related("purchase").get(
                    pk=order.earn_txn_id
                )
                if earn.purchase is not None and earn.purchase.reversed_at is None:
                    purchase_reverse(purchase=earn.purchase, now=when)
        Order.objects.filter(pk=order.pk).update(
            status=OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED,
            points_clawed_back=F("points_clawed_back") + clawed + shortfall,
            points_returned=F("points_returned") + returned,
        )
        for payment in Payment.objects.filter(order=order, refunded_fen__gt=0):
            Payment.objects.filter(pk=payment.pk).update(
                status=PaymentStatus.REFUNDED
                if payment.refunded_fen == payment.amount_fen
                else PaymentStatus.PARTIALLY_REFUNDED
            )
        Refund.objects.filter(pk=refund.pk).update(
            status=RefundStatus.SUCCEEDED,
            amount_fen=money if parts else 0,
            points_clawed_back=clawed,
            points_returned=returned,
            points_shortfall=shortfall,
            coupons_restored=restored,
            completed_at=when,
        )
    refund.refresh_from_db()
    try:
        from agora.checkout.services.invoices import invoice_credit

        invoice_credit(refund=refund, now=when)
    except Exception:  # the refund stands; the credit note can be issued again later
        log.exception("red-letter invoice failed", extra={"refund": refund.number})
