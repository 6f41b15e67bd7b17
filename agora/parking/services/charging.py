"""What a stay costs and how it is paid (PARK-2, PARK-6).

The fee comes from the tariff version in force at entry (``fees.parking_fee``, proven by its
table of cases) with the rest days of the operators' calendar. Free time, in this order: the
member tier's free minutes and the free minutes for today's spending at the mall (both
automatic, recorded on the stay when it closes), parking-hours coupons and hours bought with
points (both taken when the shopper applies them, with an idempotency key). Parking-fee
coupons take money off the fee.

Paying is always an order of the car park's till through checkout (``source="parking"``): in
the app before leaving (the stay is then paid up to that moment, and the car has
``grace_minutes`` to reach the exit), by the QR code at the exit, or frictionless — charged
on the member's payment agreement as the exit camera reads the plate. When checkout marks the
order paid, ``_order_paid`` (in the same transaction) updates the stay and opens the barrier
of a car waiting at the exit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.checkout.choices import Channel, OrderStatus
from agora.checkout.models import Order, PaymentAgreement
from agora.checkout.selectors import member_spend_on
from agora.checkout.services.orders import LineSpec, order_create
from agora.checkout.services.payments import PaymentSpec, on_order_paid, order_submit
from agora.core.errors import Conflict, field_error
from agora.core.selectors import rest_days
from agora.coupons.choices import CouponKind
from agora.coupons.services.wallet import parking_coupon_redeem, parking_coupons_usable
from agora.lib.timeutil import to_local
from agora.members.models import Member
from agora.members.selectors import member_of_user
from agora.parking.choices import OPEN, DiscountKind, PayChannel, SessionStatus
from agora.parking.fees import Fee, TariffRule, parking_fee
from agora.parking.models import ParkingSession, SessionDiscount, SessionPayment, Tariff, Vehicle
from agora.points.services.ledger import points_spend

log = logging.getLogger("agora.parking")

SOURCE = "parking"


def rule_of(tariff: Tariff) -> TariffRule:
    return TariffRule(
        free_minutes=tariff.free_minutes,
        unit_minutes=tariff.unit_minutes,
        day_unit_fen=tariff.day_unit_fen,
        night_unit_fen=tariff.night_unit_fen,
        night_start=tariff.night_start,
        night_end=tariff.night_end,
        night_cap_fen=tariff.night_cap_fen,
        day_cap_fen=tariff.day_cap_fen,
        holiday_unit_fen=tariff.holiday_unit_fen,
        holiday_cap_fen=tariff.holiday_cap_fen,
    )


@dataclass(frozen=True)
class DiscountLine:
    kind: str
    minutes: int
    fen: int
    label: str
    applied: bool  # True: taken already (coupon, points); False: automatic (tier, spend)


@dataclass(frozen=True)
class Quote:
    at: datetime
    stay_minutes: int
    gross_fen: int  # the fee without any discount
    fee: Fee  # the fee with the free minutes
    discount_minutes: int
    coupon_fen: int
    paid_fen: int
    due_fen: int
    in_grace: bool
    pay_by: datetime | None
    lines: list[DiscountLine] = field(default_factory=list)


def _member(session: ParkingSession) -> Member | None:
    if session.user_id is None:
        return None
    return Member.objects.select_related("tier").filter(user_id=session.user_id).first()


def _automatic(session: ParkingSession, member: Member | None, at: datetime) -> list[DiscountLine]:
    """Tier and spend free minutes (not yet recorded on the stay)."""
    if member is None:
        return []
    car_park = session.car_park
    out: list[DiscountLine] = []
    tier_minutes = int((car_park.tier_free_minutes or {}).get(member.tier.code, 0))
    if tier_minutes > 0:
        out.append(DiscountLine(DiscountKind.TIER, tier_minutes, 0, member.tier.name, False))
    rules = sorted((int(a), int(b)) for a, b in (car_park.spend_rules or []))
    if rules:
        spent = member_spend_on(
            member_id=member.pk,
            mall_id=car_park.mall_id,
            day=to_local(at).date(),
            exclude_source=SOURCE,
        )
        minutes = max((m for threshold, m in rules if spent >= threshold), default=0)
        if minutes > 0:
            out.append(DiscountLine(DiscountKind.SPEND, minutes, 0, f"{spent}", False))
    return out


def session_quote(*, session: ParkingSession, at: datetime | None = None) -> Quote:
    """The fee of the stay up to ``at`` (its exit when it has left), its discounts, what was
    paid and what is due now."""
    when = session.exited_at or at or timezone.now()
    when = max(when, session.entered_at)
    tariff = session.tariff
    rule = rule_of(tariff)
    rest = rest_days(
        start=to_local(session.entered_at).date() - timedelta(days=1),
        end=to_local(when).date() + timedelta(days=1),
    )
    gross = parking_fee(rule, session.entered_at, when, rest_day=rest)
    lines: list[DiscountLine] = []
    stored = list(session.discounts.all())
    stored_kinds = {d.kind for d in stored}
    for d in stored:
        lines.append(DiscountLine(d.kind, d.minutes, d.fen, d.reference, True))
    if not ({DiscountKind.TIER, DiscountKind.SPEND} & stored_kinds):
        lines += _automatic(session, _member(session), when)
    minutes = sum(line.minutes for line in lines)
    fee = parking_fee(rule, session.entered_at, when, rest_day=rest, discount_minutes=minutes)
    if fee.total_fen > gross.total_fen:
        # free hours move the first billed unit; where that lands it in a dearer period the
        # shopper still never pays more than with no discount at all
        fee = gross
    coupon_fen = sum(line.fen for line in lines)
    in_grace = bool(session.paid_fen and session.pay_by and when <= session.pay_by)
    due = 0 if in_grace else max(0, fee.total_fen - coupon_fen - session.paid_fen)
    return Quote(
        at=when,
        stay_minutes=gross.stay_minutes,
        gross_fen=gross.total_fen,
        fee=fee,
        discount_minutes=minutes,
        coupon_fen=coupon_fen,
        paid_fen=session.paid_fen,
        due_fen=due,
        in_grace=in_grace,
        pay_by=session.pay_by,
        lines=lines,
    )


def discounts_settle(*, session: ParkingSession, quote: Quote, at: datetime) -> None:
    """Record the automatic free minutes the stay used (for analytics), once."""
    for line in quote.lines:
        if line.applied:
            continue
        SessionDiscount.objects.get_or_create(
            session=session,
            kind=line.kind,
            defaults={"minutes": line.minutes, "reference": line.label[:64], "created_at": at},
        )
    ParkingSession.objects.filter(pk=session.pk).update(discount_minutes=quote.discount_minutes)


# --- shopper discounts ------------------------------------------------------------------------
def _open_for(session: ParkingSession) -> None:
    if session.status not in OPEN:
        raise Conflict(code="session_closed", detail="this stay has ended")


def _member_required(user: User) -> Member:
    member = member_of_user(user=user)
    if member is None:
        raise Conflict(code="not_a_member", detail="join the membership first")
    return member


def session_coupon_apply(
    *, user: User, session: ParkingSession, coupon_id: int, now: datetime | None = None
) -> SessionDiscount:
    """Use a parking coupon of the user's wallet on the stay: hours, or money off the fee."""
    when = now or timezone.now()
    _open_for(session)
    member = _member_required(user)
    with transaction.atomic():
        coupon = parking_coupon_redeem(
            member=member,
            coupon_id=coupon_id,
            shop=session.car_park.shop,
            reference=f"PK{session.pk}",
            now=when,
        )
        template = coupon.template
        hours = template.parking_hours if template.kind == CouponKind.PARKING_HOURS else 0
        return SessionDiscount.objects.create(
            session=session,
            kind=DiscountKind.COUPON,
            minutes=hours * 60,
            fen=template.value_fen if template.kind == CouponKind.PARKING_FEE else 0,
            coupon=coupon,
            reference=template.title[:64],
            created_at=when,
        )


def session_points_apply(
    *, user: User, session: ParkingSession, hours: int, key: str, now: datetime | None = None
) -> SessionDiscount:
    """Buy free hours with points (``points_per_hour`` each); the same key returns the same
    discount and spends nothing twice."""
    when = now or timezone.now()
    car_park = session.car_park
    if not key or len(key) > 100:
        raise field_error("key", "an idempotency key of 1–100 characters", "required")
    ref = f"PK{session.pk}:{key}"
    previous = SessionDiscount.objects.filter(
        session=session, kind=DiscountKind.POINTS, reference=ref
    ).first()
    if previous is not None:
        if previous.minutes != hours * 60:
            raise Conflict(code="idempotency_key_reused", detail="key used for other hours")
        return previous
    if car_park.points_per_hour == 0:
        raise Conflict(code="points_not_accepted", detail="this car park does not take points")
    used = sum(d.minutes for d in session.discounts.all() if d.kind == DiscountKind.POINTS) // 60
    room = car_park.points_max_hours - used
    if not 1 <= hours <= max(room, 0):
        raise field_error("hours", f"between 1 and {max(room, 0)} hours", "range")
    _open_for(session)
    member = _member_required(user)
    points = hours * car_park.points_per_hour
    with transaction.atomic():
        points_spend(
            actor=None,
            member=member,
            shop=car_park.shop,
            points=points,
            reference=f"PK{session.pk}",
            key=f"parking:{session.pk}:points:{key}",
        )
        return SessionDiscount.objects.create(
            session=session,
            kind=DiscountKind.POINTS,
            minutes=hours * 60,
            points=points,
            reference=ref,
            created_at=when,
        )


def parking_coupons_for(*, user: User, session: ParkingSession, now: datetime) -> list[Any]:
    member = member_of_user(user=user)
    if member is None:
        return []
    return parking_coupons_usable(member=member, mall_id=session.car_park.mall_id, now=now)


# --- paying -----------------------------------------------------------------------------------
def _order_for(
    *, actor: Actor | None, session: ParkingSession, quote: Quote, channel: str, key: str
) -> Order:
    member = _member(session)
    label = session.plate or session.ticket or ""
    hours, minutes = divmod(quote.stay_minutes, 60)
    return order_create(
        actor=actor,
        shop=session.car_park.shop,
        lines=[
            LineSpec(
                name=f"停车费 {label} {hours}小时{minutes}分"[:80],
                quantity=1,
                unit_price_fen=quote.due_fen,
                sku="PARKING",
            )
        ],
        channel=Channel.APP,
        member=member,
        source=SOURCE,
        note=f"{channel} PK{session.pk}",
        key=f"parking:{session.pk}:{key}"[:200],
    )


def session_pay(
    *,
    actor: Actor | None,
    session: ParkingSession,
    method: str,
    channel: str,
    key: str,
    now: datetime | None = None,
) -> tuple[SessionPayment, Order]:
    """Start paying what is due now, in the app or by the exit QR. Returns the stay's
    payment and its order (whose online payment carries the QR / pay link)."""
    when = now or timezone.now()
    if channel not in (PayChannel.APP, PayChannel.EXIT_QR):
        raise field_error("channel", "app or exit_qr", "invalid")
    if not key or len(key) > 100:
        raise field_error("key", "an idempotency key of 1–100 characters", "required")
    existing = (
        SessionPayment.objects.filter(
            session=session, order__key=f"parking:{session.pk}:{key}"[:200]
        )
        .select_related("order")
        .first()
    )
    if existing is not None:
        return existing, existing.order
    _open_for(session)
    quote = session_quote(session=session, at=when)
    if quote.due_fen == 0:
        raise Conflict(
            code="nothing_due",
            detail="nothing to pay now"
            + (" (paid, within the grace period)" if quote.in_grace else ""),
        )
    pending = SessionPayment.objects.filter(
        session=session, paid=False, order__status__in=[OrderStatus.OPEN, OrderStatus.PENDING]
    ).exists()
    if pending:
        raise Conflict(code="payment_pending", detail="a payment of this stay is in progress")
    order = _order_for(actor=actor, session=session, quote=quote, channel=channel, key=key)
    payment, _ = SessionPayment.objects.get_or_create(
        order=order,
        defaults={
            "session": session,
            "channel": channel,
            "amount_fen": quote.due_fen,
            "covers_until": quote.at,
            "created_at": when,
        },
    )
    order = order_submit(
        actor=actor,
        order=order,
        payments=[PaymentSpec(method=method, amount_fen=quote.due_fen)],
        key=f"parking:{session.pk}:{key}:submit"[:200],
        now=when,
    )
    payment.refresh_from_db()
    return payment, order


def _agreement_of(session: ParkingSession) -> PaymentAgreement | None:
    if session.user_id is None:
        return None
    vehicle = (
        Vehicle.objects.filter(user_id=session.user_id, plate=session.plate, agreement__active=True)
        .select_related("agreement")
        .first()
    )
    return vehicle.agreement if vehicle else None


def frictionless_charge(*, session: ParkingSession, quote: Quote, at: datetime) -> int:
    """Charge the due fee on the member's agreement as the car reaches the exit. Returns what
    is still due (0 when the charge went through; the fee when there is no agreement, it is
    over the agreement's limit, or the provider declined — the driver then pays by QR)."""
    agreement = _agreement_of(session) if session.plate else None
    if agreement is None or quote.due_fen > agreement.limit_fen:
        return quote.due_fen
    key = f"frictionless:{session.exit_event or int(at.timestamp())}"
    order = _order_for(
        actor=None, session=session, quote=quote, channel=PayChannel.FRICTIONLESS, key=key
    )
    SessionPayment.objects.get_or_create(
        order=order,
        defaults={
            "session": session,
            "channel": PayChannel.FRICTIONLESS,
            "amount_fen": quote.due_fen,
            "covers_until": quote.at,
            "created_at": at,
        },
    )
    order = order_submit(
        actor=None,
        order=order,
        payments=[
            PaymentSpec(
                method=agreement.method,
                amount_fen=quote.due_fen,
                agreement_no=agreement.agreement_no,
            )
        ],
        key=f"parking:{session.pk}:{key}:submit"[:200],
        now=at,
    )
    if order.status != OrderStatus.PAID:
        log.warning("frictionless charge not settled", extra={"order": order.number})
        return quote.due_fen
    return 0


def _order_paid(order: Order, when: datetime) -> None:
    """Checkout marked a parking order paid (inside its transaction)."""
    payment = SessionPayment.objects.select_related("session__car_park").filter(order=order).first()
    if payment is None:
        return
    if not SessionPayment.objects.filter(pk=payment.pk, paid=False).update(paid=True, paid_at=when):
        return
    session = payment.session
    grace = timedelta(minutes=session.car_park.grace_minutes)
    ParkingSession.objects.filter(pk=session.pk).update(
        paid_fen=F("paid_fen") + payment.amount_fen,
        paid_at=when,
        pay_by=payment.covers_until + grace,
    )
    session.refresh_from_db()
    if session.status == SessionStatus.AWAITING_PAYMENT:
        quote = session_quote(session=session, at=session.exited_at)
        if quote.due_fen == 0:
            ParkingSession.objects.filter(
                pk=session.pk, status=SessionStatus.AWAITING_PAYMENT
            ).update(status=SessionStatus.CLOSED, closed_at=when)
            discounts_settle(session=session, quote=quote, at=when)
            from agora.parking.services.sessions import availability_touch

            availability_touch(session.car_park_id)


on_order_paid(SOURCE, _order_paid)
