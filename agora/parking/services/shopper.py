"""What shoppers do: bind plates (and frictionless payment), reserve spaces, share their own
space's idle hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from agora.accounts.models import User
from agora.checkout.services.agreements import access_agreement
from agora.core.errors import Conflict, FieldError, NotFound, ValidationFailed, field_error
from agora.parking.choices import OPEN, PlateColour, ReservationStatus, SpaceKind
from agora.parking.models import CarPark, ParkingSession, Reservation, Space, SpaceShare, Vehicle
from agora.parking.plates import is_valid, normalise
from agora.parking.selectors import spaces_free_for

MAX_VEHICLES = 5
MAX_RESERVATION = timedelta(hours=12)
BOOK_AHEAD = timedelta(days=7)


def plate_checked(plate: str, field: str = "plate") -> str:
    p = normalise(plate)
    if not is_valid(p):
        raise field_error(field, "a Chinese plate such as 粤B12345", "invalid")
    return p


def vehicle_bind(
    *, user: User, plate: str, colour: str = PlateColour.BLUE, now: datetime | None = None
) -> Vehicle:
    p = plate_checked(plate)
    if colour not in PlateColour.values:
        raise field_error("colour", "one of " + ", ".join(PlateColour.values), "invalid")
    existing = Vehicle.objects.filter(user=user, plate=p).first()
    if existing is not None:
        return existing
    if Vehicle.objects.filter(user=user).count() >= MAX_VEHICLES:
        raise Conflict(code="too_many_vehicles", detail=f"at most {MAX_VEHICLES} plates")
    when = now or timezone.now()
    try:
        with transaction.atomic():
            vehicle = Vehicle.objects.create(user=user, plate=p, colour=colour, created_at=when)
            # a car already parked becomes this member's stay (tier hours, frictionless)
            ParkingSession.objects.filter(plate=p, status__in=OPEN, user__isnull=True).update(
                user=user
            )
            return vehicle
    except IntegrityError:
        return Vehicle.objects.get(user=user, plate=p)


def access_vehicle(*, user: User, vehicle_id: int) -> Vehicle:
    row = Vehicle.objects.filter(pk=vehicle_id, user=user).first()
    if row is None:
        raise NotFound(detail="no such vehicle")
    return row


def vehicle_unbind(*, user: User, vehicle_id: int) -> None:
    vehicle = access_vehicle(user=user, vehicle_id=vehicle_id)
    with transaction.atomic():
        ParkingSession.objects.filter(plate=vehicle.plate, status__in=OPEN, user=user).update(
            user=None
        )
        vehicle.delete()


def vehicle_frictionless(*, user: User, vehicle_id: int, agreement_id: int | None) -> Vehicle:
    """Turn frictionless payment on (with one of the user's agreements) or off (None)."""
    vehicle = access_vehicle(user=user, vehicle_id=vehicle_id)
    agreement = None
    if agreement_id is not None:
        try:
            agreement = access_agreement(user=user, agreement_id=agreement_id)
        except NotFound:
            raise field_error("agreement_id", "one of your active agreements", "unknown") from None
    Vehicle.objects.filter(pk=vehicle.pk).update(agreement=agreement)
    vehicle.refresh_from_db()
    return vehicle


# --- reservations -----------------------------------------------------------------------------
def _window_errors(starts_at: datetime, ends_at: datetime, now: datetime) -> list[FieldError]:
    errors: list[FieldError] = []
    if starts_at < now - timedelta(minutes=5):
        errors.append(FieldError("starts_at", "not in the past", "range"))
    elif starts_at > now + BOOK_AHEAD:
        errors.append(FieldError("starts_at", "within 7 days", "range"))
    if ends_at <= starts_at:
        errors.append(FieldError("ends_at", "after starts_at", "range"))
    elif ends_at - starts_at > MAX_RESERVATION:
        errors.append(FieldError("ends_at", "at most 12 hours after starts_at", "range"))
    return errors


def reservation_create(
    *,
    user: User,
    car_park: CarPark,
    plate: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    key: str,
    share_id: int | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold a space of ``kind`` (or a shared space) for a plate over a window. Two bookings
    of one space never overlap: the space row is locked while the overlap is checked."""
    when = now or timezone.now()
    errors = _window_errors(starts_at, ends_at, when)
    p = normalise(plate)
    if not is_valid(p):
        errors.append(FieldError("plate", "a Chinese plate such as 粤B12345", "invalid"))
    if kind not in SpaceKind.values or kind == SpaceKind.RESERVED:
        errors.append(FieldError("kind", "standard, ev, accessible or family", "invalid"))
    if not key or len(key) > 100:
        errors.append(FieldError("key", "an idempotency key of 1–100 characters", "required"))
    if errors:
        raise ValidationFailed(detail="the reservation has invalid fields", errors=errors)
    full_key = f"{user.pk}:{key}"
    previous = Reservation.objects.filter(key=full_key).first()
    if previous is not None:
        return previous
    share = None
    if share_id is not None:
        share = (
            SpaceShare.objects.select_related("space")
            .filter(pk=share_id, withdrawn=False, space__car_park=car_park)
            .first()
        )
        if share is None:
            raise field_error("share_id", "an open shared space of this car park", "unknown")
        if not (share.starts_at <= starts_at and ends_at <= share.ends_at):
            raise field_error("starts_at", "inside the shared hours", "range")
    for _ in range(3):
        with transaction.atomic():
            if share is not None:
                candidates = [share.space]
            else:
                candidates = list(
                    spaces_free_for(
                        car_park=car_park, kind=kind, starts_at=starts_at, ends_at=ends_at
                    )[:5]
                )
            for space in candidates:
                Space.objects.select_for_update().filter(pk=space.pk).first()
                overlap = Reservation.objects.filter(
                    space=space,
                    status__in=[ReservationStatus.BOOKED, ReservationStatus.ARRIVED],
                    starts_at__lt=ends_at,
                    ends_at__gt=starts_at,
                ).exists()
                if overlap:
                    continue
                hours = -(-int((ends_at - starts_at).total_seconds()) // 3600)
                return Reservation.objects.create(
                    car_park=car_park,
                    space=space,
                    share=share,
                    user=user,
                    plate=p,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    price_fen=share.price_fen_per_hour * hours if share else 0,
                    key=full_key,
                    created_at=when,
                )
            if not candidates:
                break
    raise Conflict(code="no_space", detail="no space of this kind is free for that window")


def reservation_cancel(*, user: User, reservation_id: int) -> Reservation:
    row = Reservation.objects.filter(pk=reservation_id, user=user).first()
    if row is None:
        raise NotFound(detail="no such reservation")
    done = Reservation.objects.filter(pk=row.pk, status=ReservationStatus.BOOKED).update(
        status=ReservationStatus.CANCELLED
    )
    if not done:
        raise Conflict(code="not_cancellable", detail=f"the reservation is {row.status}")
    row.refresh_from_db()
    return row


def reservations_expire(*, now: datetime | None = None) -> int:
    """Bookings whose car never came: the space is given back after the hold time."""
    when = now or timezone.now()
    n = 0
    for car_park in CarPark.objects.all():
        n += Reservation.objects.filter(
            car_park=car_park,
            status=ReservationStatus.BOOKED,
            starts_at__lt=when - timedelta(minutes=car_park.reservation_hold_minutes),
        ).update(status=ReservationStatus.EXPIRED)
    return n


# --- shared spaces ----------------------------------------------------------------------------
def share_publish(
    *,
    user: User,
    space_id: int,
    starts_at: datetime,
    ends_at: datetime,
    price_fen_per_hour: int,
    now: datetime | None = None,
) -> SpaceShare:
    when = now or timezone.now()
    space = Space.objects.filter(pk=space_id, owner=user).first()
    if space is None:
        raise field_error("space_id", "a space you own", "unknown")
    errors = []
    if ends_at <= starts_at:
        errors.append(FieldError("ends_at", "after starts_at", "range"))
    if ends_at <= when:
        errors.append(FieldError("ends_at", "in the future", "range"))
    if starts_at > when + timedelta(days=30):
        errors.append(FieldError("starts_at", "within 30 days", "range"))
    if not 0 <= price_fen_per_hour <= 10_000:
        errors.append(FieldError("price_fen_per_hour", "0 to 10000 fen", "range"))
    if errors:
        raise ValidationFailed(detail="the shared hours have invalid fields", errors=errors)
    overlapping = SpaceShare.objects.filter(
        space=space, withdrawn=False, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists()
    if overlapping:
        raise Conflict(code="share_overlaps", detail="these hours overlap hours you shared")
    return SpaceShare.objects.create(
        space=space,
        owner=user,
        starts_at=starts_at,
        ends_at=ends_at,
        price_fen_per_hour=price_fen_per_hour,
        created_at=when,
    )


def share_withdraw(*, user: User, share_id: int) -> SpaceShare:
    share = SpaceShare.objects.filter(pk=share_id, owner=user).first()
    if share is None:
        raise NotFound(detail="no such shared space")
    if Reservation.objects.filter(share=share, status=ReservationStatus.BOOKED).exists():
        raise Conflict(code="share_booked", detail="someone booked these hours")
    SpaceShare.objects.filter(pk=share.pk).update(withdrawn=True)
    share.refresh_from_db()
    return share
