"""Payments: submitting an order, the payment state machine, provider notifications.

    payment:  created -> pending -> paid -> partially_refunded -> refunded
                                  \\-> closed (timeout, after asking the provider) / failed
    order:    open -> pending -> paid -> partially_refunded -> refunded
                   \\-> closed (cancelled or timed out; coupons and points given back)

Every transition is a conditional UPDATE from the states it may leave, so a duplicate, a late
or a concurrent notification changes nothing twice. The order row is locked first whenever a
payment of it changes, so the last payment of a split order completes the order exactly once,
and the points it earns are posted in that same database transaction (PAY-3)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.checkout.choices import (
    ONLINE_METHODS,
    Method,
    NoticeVerdict,
    OrderStatus,
    PaymentStatus,
)
from agora.checkout.models import Order, OrderCoupon, Payment, PaymentNotice
from agora.checkout.providers import provider_for, provider_named
from agora.checkout.providers.base import (
    NotificationRejected,
    ProviderError,
    StartRequest,
    Status,
)
from agora.checkout.services.orders import new_number
from agora.core.errors import Conflict, FieldError, ValidationFailed
from agora.core.services import audit_record
from agora.coupons.services.wallet import coupon_redeem, coupon_restore
from agora.points.models import LedgerTransaction
from agora.points.services.earning import points_earn
from agora.points.services.ledger import points_reverse, points_spend

log = logging.getLogger("agora.checkout")

MAX_PAYMENTS = 4
OPEN_STATES = (PaymentStatus.CREATED, PaymentStatus.PENDING)
PAID_STATES = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


@dataclass(frozen=True)
class PaymentSpec:
    method: str
    amount_fen: int
    tendered_fen: int | None = None  # cash handed over (change is given back)
    card_last4: str = ""
    auth_code: str = ""  # a payment code scanned at the till
    agreement_no: str = ""  # charge a standing agreement (frictionless parking); services only


def notify_url(provider: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/pay/notify/{provider}/"


def _spec_errors(order: Order, specs: list[PaymentSpec]) -> list[FieldError]:
    errors: list[FieldError] = []
    if order.payable_fen == 0:
        if specs:
            errors.append(FieldError("payments", "nothing is left to pay", "invalid"))
        return errors
    if not specs:
        return [FieldError("payments", "choose how to pay", "required")]
    if len(specs) > MAX_PAYMENTS:
        return [FieldError("payments", f"at most {MAX_PAYMENTS} payments", "too_long")]
    for i, spec in enumerate(specs):
        if spec.method not in Method.values:
            errors.append(
                FieldError(f"payments.{i}.method", f"one of {', '.join(Method.values)}", "invalid")
            )
        if not 0 < spec.amount_fen <= order.payable_fen:
            errors.append(
                FieldError(
                    f"payments.{i}.amount_fen", f"between 1 and {order.payable_fen} fen", "range"
                )
            )
        if spec.method == Method.CASH:
            if spec.tendered_fen is not None and spec.tendered_fen < spec.amount_fen:
                errors.append(
                    FieldError(f"payments.{i}.tendered_fen", "less than the amount", "range")
                )
        elif spec.tendered_fen is not None:
            errors.append(FieldError(f"payments.{i}.tendered_fen", "only for cash", "invalid"))
        if spec.card_last4 and (spec.method != Method.BANK_CARD or not _digits(spec.card_last4, 4)):
            errors.append(
                FieldError(f"payments.{i}.card_last4", "4 digits, for a bank card", "invalid")
            )
        if spec.auth_code and (
            spec.method not in ONLINE_METHODS or not _digits(spec.auth_code, None)
        ):
            errors.append(
                FieldError(f"payments.{i}.auth_code", "a scanned payment code", "invalid")
            )
    if not errors and sum(s.amount_fen for s in specs) != order.payable_fen:
        errors.append(
            FieldError(
                "payments",
                f"the payments add up to {sum(s.amount_fen for s in specs)} fen, "
                f"the order needs {order.payable_fen}",
                "sum",
            )
        )
    return errors


def _digits(text: str, length: int | None) -> bool:
    ok = text.isascii() and text.isdigit()
    return ok and (len(text) == length if length else 10 <= len(text) <= 32)


def order_submit(
    *,
    actor: Actor | None,
    order: Order,
    payments: list[PaymentSpec],
    key: str = "",
    now: datetime | None = None,
) -> Order:
    """Commit the order's coupons and points and start its payments. Cash and card are paid
    at once; online methods wait for the provider. An order that points and coupons cover
    entirely is paid here. Submitting again with the same ``key`` returns the order as it
    is (a retry); another submission of a submitted order is refused."""
    when = now or timezone.now()
    order.refresh_from_db()
    if key and order.submit_key == key:
        return order
    if order.status != OrderStatus.OPEN:
        raise Conflict(code="order_not_open", detail="the order was already submitted")
    errors = _spec_errors(order, payments)
    if errors:
        raise ValidationFailed(errors=errors)
    timeout = timedelta(minutes=settings.PAYMENT_TIMEOUT_MINUTES)
    created: list[Payment] = []
    with transaction.atomic():
        won = Order.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
            status=OrderStatus.PENDING,
            submitted_at=when,
            closes_at=when + timeout,
            submit_key=key[:200],
        )
        if not won:
            if key and Order.objects.filter(pk=order.pk, submit_key=key[:200]).exists():
                # the same submission sent twice at once: the other one did it
                order.refresh_from_db()
                return order
            raise Conflict(code="order_not_open", detail="the order was already submitted")
        for oc in OrderCoupon.objects.filter(order=order).select_related("coupon"):
            coupon_redeem(
                actor=actor,
                shop=order.shop,
                code=oc.coupon.code,
                amount_fen=order.subtotal_fen,
                reference=order.number,
                now=when,
            )
            OrderCoupon.objects.filter(pk=oc.pk).update(redeemed=True)
        if order.points_used:
            assert order.member is not None
            txn = points_spend(
                actor=actor,
                member=order.member,
                shop=order.shop,
                points=order.points_used,
                reference=order.number,
                key=f"order:{order.number}:spend",
            )
            Order.objects.filter(pk=order.pk).update(spend_txn=txn)
        for i, spec in enumerate(payments):
            online = spec.method in ONLINE_METHODS
            provider = provider_for(spec.method).name if online else ""
            created.append(
                Payment.objects.create(
                    order=order,
                    number=f"{order.number}{i + 1}",
                    method=spec.method,
                    provider=provider,
                    amount_fen=spec.amount_fen,
                    status=PaymentStatus.CREATED,
                    tendered_fen=spec.tendered_fen,
                    card_last4=spec.card_last4,
                    created_at=when,
                    expires_at=when + timeout if online else None,
                )
            )
        if order.payable_fen == 0:
            _complete(order.pk, when)
        for payment in created:  # cash and card are settled at the till, in this transaction
            if payment.method not in ONLINE_METHODS:
                payment_settle(
                    payment=payment, provider_txn_id="", amount_fen=payment.amount_fen, at=when
                )
    # online methods go to their provider outside the database transaction: a slow provider
    # must not hold locks
    for payment, spec in zip(created, payments, strict=True):
        if payment.method in ONLINE_METHODS:
            _start(payment, spec, order, when)
    order.refresh_from_db()
    return order


def _start(payment: Payment, spec: PaymentSpec, order: Order, when: datetime) -> None:
    provider = provider_named(payment.provider)
    request = StartRequest(
        out_trade_no=payment.number,
        amount_fen=payment.amount_fen,
        description=f"{order.shop.name} {order.number}"[:120],
        notify_url=notify_url(payment.provider),
        expires_at=payment.expires_at or when,
        method=payment.method,
        auth_code=spec.auth_code,
        agreement_no=spec.agreement_no,
    )
    try:
        started = provider.start(request)
    except ProviderError as exc:
        log.warning("payment start failed", extra={"payment": payment.number, "error": str(exc)})
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(
            status=PaymentStatus.FAILED
        )
        return
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(
        status=PaymentStatus.PENDING,
        provider_ref=started.provider_ref[:64],
        code_url=started.code_url[:300],
    )
    if started.paid:
        payment_settle(
            payment=payment,
            provider_txn_id=started.provider_txn_id,
            amount_fen=payment.amount_fen,
            at=when,
        )


# --- the state machine ------------------------------------------------------------------------
def payment_settle(
    *, payment: Payment, provider_txn_id: str, amount_fen: int, at: datetime | None = None
) -> str:
    """The provider (or the till) says the payment is paid. Returns the verdict: applied,
    duplicate, after_close or mismatch. Applying it completes the order when it was the last
    payment, earning the points in the same transaction."""
    when = at or timezone.now()
    if amount_fen != payment.amount_fen:
        return NoticeVerdict.MISMATCH
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        won = Payment.objects.filter(pk=payment.pk, status__in=OPEN_STATES).update(
            status=PaymentStatus.PAID, paid_at=when, provider_txn_id=provider_txn_id[:64]
        )
        if not won:
            current = Payment.objects.values_list("status", flat=True).get(pk=payment.pk)
            if current in PAID_STATES:
                return NoticeVerdict.DUPLICATE
            return NoticeVerdict.AFTER_CLOSE
        Order.objects.filter(pk=order.pk).update(paid_fen=F("paid_fen") + amount_fen)
        left = Payment.objects.filter(order_id=order.pk).exclude(status__in=PAID_STATES).exists()
        if not left and order.status == OrderStatus.PENDING:
            _complete(order.pk, when)
    return NoticeVerdict.APPLIED


#: what other modules do, in the paying transaction, when one of their orders is paid:
#: ``source`` (the order's ``source``: parking, food, ...) -> callbacks taking (order, when)
_PAID_HOOKS: dict[str, list[Callable[[Order, datetime], None]]] = {}


def on_order_paid(source: str, hook: Callable[[Order, datetime], None]) -> None:
    """Register ``hook`` for orders of ``source`` (called once per order, inside the
    transaction that marks it paid, so the module's own rows change with the payment)."""
    hooks = _PAID_HOOKS.setdefault(source, [])
    if hook not in hooks:
        hooks.append(hook)


def _complete(order_id: int, when: datetime) -> None:
    """The order is paid: mark it and earn its points (the caller holds the transaction)."""
    order = Order.objects.select_related("shop__mall", "member__tier").get(pk=order_id)
    done = Order.objects.filter(pk=order_id, status=OrderStatus.PENDING).update(
        status=OrderStatus.PAID, paid_at=when
    )
    if not done:
        return
    order.status, order.paid_at = OrderStatus.PAID, when
    for hook in _PAID_HOOKS.get(order.source, ()):
        hook(order, when)
    if order.member is not None and order.payable_fen > 0:
        txn = points_earn(
            actor=None,
            member=order.member,
            shop=order.shop,
            amount_fen=order.payable_fen,
            reference=order.number,
            source=order.channel,
            key=f"order:{order.number}:earn",
            at=when,
        )
        Order.objects.filter(pk=order_id).update(earn_txn=txn, points_earned=txn.points)


def payment_close(*, payment: Payment, now: datetime | None = None) -> str:
    """Close an unpaid payment: ask the provider first (it may have been paid and the
    notification lost), close it there, then here. Returns the payment's new status."""
    when = now or timezone.now()
    if payment.status not in OPEN_STATES and payment.status != PaymentStatus.FAILED:
        return str(payment.status)
    if payment.provider and payment.status == PaymentStatus.PENDING:
        provider = provider_named(payment.provider)
        status = provider.query(payment.number)
        if status.state == "paid":
            _apply_status(payment, status, when)
            payment.refresh_from_db()
            return str(payment.status)
        try:
            provider.close(payment.number)
        except ProviderError as exc:
            log.warning("provider close failed", extra={"payment": payment.number, "e": str(exc)})
            return str(payment.status)
    Payment.objects.filter(pk=payment.pk, status__in=(*OPEN_STATES, PaymentStatus.FAILED)).update(
        status=PaymentStatus.CLOSED, closed_at=when
    )
    payment.refresh_from_db()
    return str(payment.status)


def _apply_status(payment: Payment, status: Status, when: datetime) -> str:
    return payment_settle(
        payment=payment,
        provider_txn_id=status.provider_txn_id,
        amount_fen=status.amount_fen if status.amount_fen is not None else payment.amount_fen,
        at=status.paid_at or when,
    )


def payment_refresh(*, payment: Payment, now: datetime | None = None) -> Payment:
    """Ask the provider about a pending payment (the till's "query" button, the status poll)
    and apply the answer."""
    when = now or timezone.now()
    if payment.status == PaymentStatus.PENDING and payment.provider:
        try:
            status = provider_named(payment.provider).query(payment.number)
        except ProviderError:
            return payment
        if status.state == "paid":
            _apply_status(payment, status, when)
        payment.refresh_from_db()
    return payment


def order_close(
    *, actor: Actor | None, order: Order, reason: str, now: datetime | None = None
) -> Order:
    """Cancel an order that is not paid: close its payments (asking each provider first),
    give the coupons and points back. If a payment turns out to be paid, the order is not
    closed: it is refused and the money must be refunded instead."""
    when = now or timezone.now()
    order.refresh_from_db()
    if order.status == OrderStatus.CLOSED:
        return order
    if order.status not in (OrderStatus.OPEN, OrderStatus.PENDING):
        raise Conflict(code="order_paid", detail="a paid order is refunded, not cancelled")
    for payment in order.payments.all():
        payment_close(payment=payment, now=when)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if Payment.objects.filter(order=locked, status__in=PAID_STATES).exists():
            if (
                locked.status == OrderStatus.PENDING
                and not Payment.objects.filter(order=locked)
                .exclude(status__in=PAID_STATES)
                .exists()
            ):
                order.refresh_from_db()
                return order  # every payment was paid after all: the order completed
            raise Conflict(
                code="order_partly_paid",
                detail="part of the order is paid: refund it instead",
            )
        if Payment.objects.filter(order=locked, status__in=OPEN_STATES).exists():
            raise Conflict(code="provider_unreachable", detail="a payment could not be closed yet")
        done = Order.objects.filter(
            pk=order.pk, status__in=(OrderStatus.OPEN, OrderStatus.PENDING)
        ).update(status=OrderStatus.CLOSED, closed_at=when, close_reason=reason[:100])
        if done:
            _release(locked, when)
            if actor is not None and actor.user is not None:
                audit_record(
                    actor=actor,
                    action="order.close",
                    target=locked,
                    after={"reason": reason},
                    mall_id=locked.mall_id,
                    shop_id=locked.shop_id,
                )
    order.refresh_from_db()
    return order


def coupons_give_back(*, order: Order, when: datetime, on_refund: bool = False) -> int:
    """Give back the coupons the order redeemed (on a refund, only those whose template says
    so); returns how many came back."""
    rows = OrderCoupon.objects.filter(order=order, redeemed=True).select_related("coupon")
    if on_refund:
        rows = rows.filter(coupon__template__restore_on_refund=True)
    restored = 0
    for oc in rows:
        if coupon_restore(coupon=oc.coupon, reference=order.number, now=when):
            OrderCoupon.objects.filter(pk=oc.pk).update(redeemed=False, restored_at=when)
            restored += 1
    return restored


def _release(order: Order, when: datetime) -> None:
    coupons_give_back(order=order, when=when)
    if order.spend_txn_id:
        spend = LedgerTransaction.objects.get(pk=order.spend_txn_id)
        points_reverse(
            actor=None,
            original=spend,
            reason=f"order {order.number} closed unpaid",
            key=f"order:{order.number}:unspend",
        )


def orders_close_expired(*, now: datetime | None = None, limit: int = 500) -> int:
    """The job: close orders whose payments timed out (each provider is asked first)."""
    when = now or timezone.now()
    closed = 0
    due = Order.objects.filter(status=OrderStatus.PENDING, closes_at__lte=when).order_by(
        "closes_at"
    )[:limit]
    for order in due:
        try:
            result = order_close(actor=None, order=order, reason="payment timed out", now=when)
        except Conflict as exc:
            log.warning("order not closed", extra={"order": order.number, "code": exc.code})
            continue
        closed += result.status == OrderStatus.CLOSED
    return closed


# --- notifications ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Received:
    verdict: str
    status: int
    content_type: str
    body: bytes


def notice_receive(
    *,
    provider_name: str,
    headers: Mapping[str, str],
    body: bytes,
    remote_addr: str = "",
    now: datetime | None = None,
) -> Received:
    """Verify, log and apply one provider notification; answer as the provider expects.
    Forged, stale and malformed ones change nothing but the log; duplicates and late ones are
    acknowledged (so the provider stops) and change nothing."""
    when = now or timezone.now()
    provider = provider_named(provider_name)
    digest = hashlib.sha256(body).hexdigest()

    def logged(verdict: str, **fields: Any) -> None:
        PaymentNotice.objects.create(
            provider=provider_name,
            verdict=verdict,
            body_sha256=digest,
            remote_addr=remote_addr[:45],
            received_at=when,
            **fields,
        )

    try:
        notice = provider.parse_notice(headers, body, when)
    except NotificationRejected as exc:
        log.warning(
            "payment notification rejected",
            extra={"provider": provider_name, "reason": exc.reason, "detail": exc.detail},
        )
        logged(exc.reason, detail=exc.detail[:300])
        answer = provider.answer(False)
        return Received(exc.reason, answer.status, answer.content_type, answer.body)
    fields: dict[str, Any] = {
        "out_trade_no": notice.out_trade_no[:64],
        "event_id": notice.event_id[:64],
        "amount_fen": notice.amount_fen,
    }
    payment = Payment.objects.filter(number=notice.out_trade_no, provider=provider_name).first()
    if payment is None:
        logged(NoticeVerdict.UNKNOWN, detail="no such payment", **fields)
        answer = provider.answer(True)  # nothing to retry for
        return Received(NoticeVerdict.UNKNOWN, answer.status, answer.content_type, answer.body)
    if notice.state != "paid":
        logged(NoticeVerdict.IGNORED, payment=payment, detail=f"state {notice.state}", **fields)
        answer = provider.answer(True)
        return Received(NoticeVerdict.IGNORED, answer.status, answer.content_type, answer.body)
    try:
        verdict = payment_settle(
            payment=payment,
            provider_txn_id=notice.provider_txn_id,
            amount_fen=notice.amount_fen,
            at=notice.paid_at or when,
        )
    except IntegrityError:  # a concurrent duplicate lost a race on a unique row
        verdict = NoticeVerdict.DUPLICATE
    detail = ""
    if verdict == NoticeVerdict.MISMATCH:
        detail = f"notified {notice.amount_fen} fen, the payment is {payment.amount_fen}"
        log.error("payment amount mismatch", extra={"payment": payment.number, "detail": detail})
    elif verdict == NoticeVerdict.AFTER_CLOSE:
        detail = "paid after the payment was closed: refund it (see reconciliation)"
        log.error("payment after close", extra={"payment": payment.number})
    logged(verdict, payment=payment, detail=detail, **fields)
    answer = provider.answer(verdict != NoticeVerdict.MISMATCH)
    return Received(verdict, answer.status, answer.content_type, answer.body)


__all__ = [
    "PaymentSpec",
    "new_number",
    "notice_receive",
    "notify_url",
    "order_close",
    "order_submit",
    "orders_close_expired",
    "payment_close",
    "payment_refresh",
    "payment_settle",
]
