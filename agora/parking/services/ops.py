"""What car-park operators do: resolve the review queue, publish a tariff version, take a
space out of service, issue a no-plate ticket, page a car's owner (PARK-4)."""

from __future__ import annotations

from datetime import datetime, time

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.accounts.sms import get_backend
from agora.core.errors import Conflict, FieldError, ValidationFailed, field_error
from agora.core.services import audit_record, snapshot
from agora.members.selectors import mask_phone, member_of_user
from agora.members.services.inbox import message_notice
from agora.parking.choices import (
    OPEN,
    DeliveryChannel,
    DeliveryStatus,
    EventOutcome,
    PageReason,
    ReviewStatus,
    SessionStatus,
)
from agora.parking.models import (
    CarPark,
    PageDelivery,
    PageMessage,
    ParkingEvent,
    ParkingSession,
    ReviewItem,
    Tariff,
    Vehicle,
)
from agora.parking.plates import normalise
from agora.parking.services.sessions import session_exit
from agora.parking.services.shopper import plate_checked


def review_match(
    *, actor: Actor, review: ReviewItem, session_id: int, now: datetime | None = None
) -> ParkingSession:
    """The operator says which stay an exit read belongs to: it leaves as if matched."""
    when = now or timezone.now()
    if review.status != ReviewStatus.OPEN:
        raise Conflict(code="review_closed", detail="this item is resolved")
    with transaction.atomic():
        session = (
            ParkingSession.objects.select_for_update()
            .filter(pk=session_id, car_park=review.car_park, status__in=OPEN)
            .first()
        )
        if session is None:
            raise field_error("session_id", "an open stay of this car park", "unknown")
        if session.entered_at > review.occurred_at:
            raise field_error("session_id", "a stay that entered before this read", "range")
        won = ReviewItem.objects.filter(pk=review.pk, status=ReviewStatus.OPEN).update(
            status=ReviewStatus.MATCHED,
            session=session,
            resolved_by=actor.user,
            resolved_at=when,
        )
        if not won:
            raise Conflict(code="review_closed", detail="this item is resolved")
        session_exit(
            session=session,
            gate=review.gate,
            at=review.occurred_at,
            event_id=review.event.event_id,
            read_plate=review.plate,
            score=1.0,
        )
        ParkingEvent.objects.filter(pk=review.event_id).update(
            outcome=EventOutcome.APPLIED, session=session
        )
        audit_record(
            actor=actor,
            action="parking.review.match",
            target=review,
            after={"session": session.pk, "plate": session.plate},
            mall_id=review.car_park.mall_id,
        )
    session.refresh_from_db()
    return session


def review_dismiss(*, actor: Actor, review: ReviewItem, note: str) -> ReviewItem:
    if not note.strip() or len(note) > 200:
        raise field_error("note", "why it is dismissed (1–200 characters)", "required")
    with transaction.atomic():
        won = ReviewItem.objects.filter(pk=review.pk, status=ReviewStatus.OPEN).update(
            status=ReviewStatus.DISMISSED,
            resolved_by=actor.user,
            resolved_at=timezone.now(),
            note=note.strip(),
        )
        if not won:
            raise Conflict(code="review_closed", detail="this item is resolved")
        audit_record(
            actor=actor,
            action="parking.review.dismiss",
            target=review,
            after={"note": note.strip()},
            mall_id=review.car_park.mall_id,
        )
    review.refresh_from_db()
    return review


def tariff_publish(
    *,
    actor: Actor,
    car_park: CarPark,
    valid_from: datetime,
    free_minutes: int,
    unit_minutes: int,
    day_unit_fen: int,
    night_unit_fen: int = 0,
    night_start: time | None = None,
    night_end: time | None = None,
    night_cap_fen: int = 0,
    day_cap_fen: int = 0,
    holiday_unit_fen: int = 0,
    holiday_cap_fen: int = 0,
    note: str = "",
    now: datetime | None = None,
) -> Tariff:
    """A new tariff version (stays entering from ``valid_from`` pay it)."""
    when = now or timezone.now()
    errors: list[FieldError] = []
    if not 0 <= free_minutes <= 24 * 60:
        errors.append(FieldError("free_minutes", "0 to 1440", "range"))
    if not 1 <= unit_minutes <= 240:
        errors.append(FieldError("unit_minutes", "1 to 240", "range"))
    for name, value in (
        ("day_unit_fen", day_unit_fen),
        ("night_unit_fen", night_unit_fen),
        ("night_cap_fen", night_cap_fen),
        ("day_cap_fen", day_cap_fen),
        ("holiday_unit_fen", holiday_unit_fen),
        ("holiday_cap_fen", holiday_cap_fen),
    ):
        if not 0 <= value <= 1_000_000:
            errors.append(FieldError(name, "0 to 1000000 fen", "range"))
    if (night_start is None) != (night_end is None):
        errors.append(
            FieldError("night_end", "both night_start and night_end, or neither", "invalid")
        )
    elif night_start is not None and night_start == night_end:
        errors.append(FieldError("night_end", "different from night_start", "invalid"))
    if valid_from < when:
        errors.append(
            FieldError("valid_from", "now or later (versions are never rewritten)", "range")
        )
    if len(note) > 200:
        errors.append(FieldError("note", "at most 200 characters", "too_long"))
    if errors:
        raise ValidationFailed(detail="the tariff has invalid fields", errors=errors)
    with transaction.atomic():
        CarPark.objects.select_for_update().filter(pk=car_park.pk).first()
        last = Tariff.objects.filter(car_park=car_park).aggregate(v=Max("version"))["v"] or 0
        tariff = Tariff.objects.create(
            car_park=car_park,
            version=last + 1,
            valid_from=valid_from,
            free_minutes=free_minutes,
            unit_minutes=unit_minutes,
            day_unit_fen=day_unit_fen,
            night_unit_fen=night_unit_fen,
            night_start=night_start,
            night_end=night_end,
            night_cap_fen=night_cap_fen,
            day_cap_fen=day_cap_fen,
            holiday_unit_fen=holiday_unit_fen,
            holiday_cap_fen=holiday_cap_fen,
            note=note.strip(),
            created_by=actor.user,
            created_at=when,
        )
        audit_record(
            actor=actor,
            action="parking.tariff.publish",
            target=tariff,
            after=snapshot(tariff, ["version", "free_minutes", "unit_minutes", "day_unit_fen"]),
            mall_id=car_park.mall_id,
        )
    return tariff


# --- paging -----------------------------------------------------------------------------------
PAGE_TEXT = {
    PageReason.LIGHTS_ON: "您的车辆 {plate} 停在{where}，车灯未关，请尽快处理。",
    PageReason.BLOCKING: "您的车辆 {plate} 停在{where}，挡住了其他车辆，请尽快挪车。",
    PageReason.ALARM: "您的车辆 {plate} 停在{where}，防盗报警正在鸣响，请尽快查看。",
    PageReason.FIRE_ACCESS: "紧急：您的车辆 {plate} 停在{where}，占用消防通道，请立即挪车。",
    PageReason.OTHER: "您的车辆 {plate} 停在{where}：{text}",
}


def _recipients(car_park: CarPark, plate: str) -> list[User]:
    users: dict[int, User] = {}
    for v in Vehicle.objects.filter(plate=plate).select_related("user"):
        if v.user.is_active:
            users[v.user_id] = v.user
    session = (
        ParkingSession.objects.filter(car_park=car_park, plate=plate, user__isnull=False)
        .select_related("user")
        .order_by("-entered_at")
        .first()
    )
    if session is not None and session.user is not None and session.user.is_active:
        users.setdefault(session.user.pk, session.user)
    return list(users.values())


def page_send(
    *, actor: Actor, car_park: CarPark, plate: str, reason: str, text: str = ""
) -> PageMessage:
    """Page the owner of a plate by app notification and SMS; every attempt is logged
    (``PageDelivery``). A plate nobody bound is still logged, with no delivery: the operator
    then uses the car park's loudspeaker."""
    p = plate_checked(plate)
    if reason not in PageReason.values:
        raise field_error("reason", "one of " + ", ".join(PageReason.values), "invalid")
    if reason == PageReason.OTHER and not text.strip():
        raise field_error("text", "say what the owner should do", "required")
    if len(text) > 120:
        raise field_error("text", "at most 120 characters", "too_long")
    session = (
        ParkingSession.objects.filter(car_park=car_park, plate=p, status__in=OPEN)
        .select_related("space__zone__floor", "floor")
        .first()
    )
    where = car_park.name
    if session is not None and session.space is not None:
        where = f"{car_park.name} {session.space.code}"
    elif session is not None and session.floor is not None:
        where = f"{car_park.name} {session.floor.name}"
    body = PAGE_TEXT[PageReason(reason)].format(plate=p, where=where, text=text.strip())
    now = timezone.now()
    with transaction.atomic():
        page = PageMessage.objects.create(
            car_park=car_park, plate=p, reason=reason, text=body, sent_by=actor.user, created_at=now
        )
        deliveries = []
        for user in _recipients(car_park, p):
            member = member_of_user(user=user)
            if member is not None:
                message_notice(
                    member=member,
                    kind="service",
                    title="停车场紧急寻呼",
                    body=body,
                    mall_id=car_park.mall_id,
                )
                deliveries.append(
                    PageDelivery(
                        page=page,
                        user=user,
                        channel=DeliveryChannel.APP,
                        address=member.card_no[-4:],
                        status=DeliveryStatus.SENT,
                        at=now,
                    )
                )
            if user.phone:
                status, detail = DeliveryStatus.SENT, ""
                try:
                    get_backend().send(phone=user.phone, text=f"【Agora停车】{body}")
                except Exception as exc:  # a carrier failure is logged, not raised
                    status, detail = DeliveryStatus.FAILED, str(exc)[:200]
                deliveries.append(
                    PageDelivery(
                        page=page,
                        user=user,
                        channel=DeliveryChannel.SMS,
                        address=mask_phone(user.phone),
                        status=status,
                        detail=detail,
                        at=now,
                    )
                )
        PageDelivery.objects.bulk_create(deliveries)
        audit_record(
            actor=actor,
            action="parking.page",
            target=page,
            after={"plate": normalise(p), "reason": reason, "deliveries": len(deliveries)},
            mall_id=car_park.mall_id,
        )
    return page


def session_void(*, actor: Actor, session: ParkingSession, note: str) -> ParkingSession:
    """An operator ends a stay that is wrong (a ghost read, a car towed away)."""
    if not note.strip() or len(note) > 200:
        raise field_error("note", "why (1–200 characters)", "required")
    with transaction.atomic():
        won = ParkingSession.objects.filter(pk=session.pk, status__in=OPEN).update(
            status=SessionStatus.VOIDED, closed_at=timezone.now(), note=note.strip()
        )
        if not won:
            raise Conflict(code="session_closed", detail="this stay has ended")
        audit_record(
            actor=actor,
            action="parking.session.void",
            target=session,
            after={"note": note.strip()},
            mall_id=session.car_park.mall_id,
        )
    session.refresh_from_db()
    return session
