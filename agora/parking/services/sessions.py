"""Parking sessions from plate reads, and spaces from occupancy reads.

Entry read → a session (tariff version in force at entry, level from the gate, owner from a
bound plate, reservation arrived). Exit read → the open session of the same plate, or of a
plate the exit camera could have misread (one character, the province, 0/D, 8/B ...: see
``plates.misread_score``); when no entry fits, or several fit equally, the read goes to the
operators' review queue. At the exit the fee is computed; a paid stay still inside its grace
period, or a free one, leaves; a member with frictionless payment is charged; anyone else pays
at the exit (QR) and leaves when the payment lands.

Reads are matched by their own time, not by arrival: an exit whose entry arrives later sits in
review until that entry arrives, which then closes it."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from agora.parking.choices import (
    OPEN,
    EventOutcome,
    GateDirection,
    PlateSource,
    ReservationStatus,
    ReviewKind,
    ReviewStatus,
    SessionStatus,
)
from agora.parking.models import (
    CarPark,
    Gate,
    ParkingEvent,
    ParkingSession,
    Reservation,
    ReviewItem,
    Space,
    Tariff,
    Vehicle,
)
from agora.parking.plates import best_matches
from agora.parking.services import charging

if TYPE_CHECKING:
    from agora.parking.services.ingest import OccupancyRead, PlateRead

log = logging.getLogger("agora.parking")

#: a second entry read of a parked plate within this long is the same car read twice
REREAD_WINDOW = timedelta(minutes=10)
#: below this camera confidence an inexact exit match goes to review
LOW_CONFIDENCE = 0.6
#: an inexact match must be at least this good (see plates.misread_score)
MIN_SCORE = 0.7

Outcome = tuple[str, str, int | None]


def availability_touch(car_park_id: int) -> None:
    """Free spaces changed: live pages (SSE) and gate displays follow this counter."""
    CarPark.objects.filter(pk=car_park_id).update(
        availability_version=F("availability_version") + 1
    )


def tariff_at(car_park: CarPark, at: datetime) -> Tariff | None:
    return (
        Tariff.objects.filter(car_park=car_park, valid_from__lte=at).order_by("-version").first()
        or Tariff.objects.filter(car_park=car_park).order_by("version").first()
    )


def _owner_of(plate: str) -> int | None:
    if not plate:
        return None
    return (
        Vehicle.objects.filter(plate=plate, user__is_active=True)
        .order_by("-agreement_id", "id")
        .values_list("user_id", flat=True)
        .first()
    )


# --- entry ------------------------------------------------------------------------------------
def plate_apply(*, read: PlateRead, event: ParkingEvent) -> Outcome:
    if read.gate.direction == GateDirection.ENTRY:
        return _entry(read, event)
    return _exit(read, event)


def _entry(read: PlateRead, event: ParkingEvent) -> Outcome:
    car_park = read.car_park
    if not read.plate and not read.ticket:
        review = _review(read, event, ReviewKind.UNREADABLE, [])
        return EventOutcome.REVIEW, f"entry read unreadable: review {review.pk}", None
    if read.plate:
        inside = (
            ParkingSession.objects.filter(car_park=car_park, plate=read.plate, status__in=OPEN)
            .order_by("-entered_at")
            .first()
        )
        if inside is not None:
            return EventOutcome.STALE, f"already parked since {inside.entered_at:%H:%M}", inside.pk
        left = ParkingSession.objects.filter(
            car_park=car_park,
            plate=read.plate,
            entered_at__lte=read.at + REREAD_WINDOW,
            exited_at__gte=read.at,
        ).first()
        if left is not None:  # a late or repeated read of an entry already made
            return EventOutcome.STALE, "inside an earlier stay of this plate", left.pk
    tariff = tariff_at(car_park, read.at)
    if tariff is None:
        return EventOutcome.REJECTED, "the car park has no tariff", None
    try:
        with transaction.atomic():
            session = ParkingSession.objects.create(
                car_park=car_park,
                plate=read.plate,
                plate_colour=read.colour,
                source=PlateSource.TICKET if not read.plate else read.source,
                ticket=read.ticket or None,
                entry_gate=read.gate,
                entered_at=read.at,
                entry_event=read.event_id,
                entry_confidence=read.confidence,
                entry_image=read.image,
                floor_id=read.gate.floor_id,
                tariff=tariff,
                user_id=_owner_of(read.plate),
            )
    except IntegrityError:
        return EventOutcome.STALE, "a session for this plate or ticket is open", None
    if read.plate:
        Reservation.objects.filter(
            car_park=car_park,
            plate=read.plate,
            status=ReservationStatus.BOOKED,
            starts_at__lte=read.at + timedelta(minutes=30),
            ends_at__gt=read.at,
        ).update(status=ReservationStatus.ARRIVED)
    availability_touch(car_park.pk)
    detail = f"entry {read.plate or read.ticket}"
    # a waiting exit of this car (its read arrived before this entry) closes it now
    pending = _pending_exit_for(session)
    if pending is not None:
        _close_from_review(session, pending)
        detail += f"; matched waiting exit review {pending.pk}"
    return EventOutcome.APPLIED, detail, session.pk


def _pending_exit_for(session: ParkingSession) -> ReviewItem | None:
    if not session.plate:
        return None
    waiting = ReviewItem.objects.filter(
        car_park=session.car_park,
        kind=ReviewKind.EXIT_WITHOUT_ENTRY,
        status=ReviewStatus.OPEN,
        occurred_at__gt=session.entered_at,
    ).order_by("occurred_at")
    for review in waiting:
        if review.plate == session.plate or best_matches(review.plate, [session.plate]):
            return review
    return None


def _close_from_review(session: ParkingSession, review: ReviewItem) -> None:
    gate = review.gate
    score = (
        1.0 if review.plate == session.plate else best_matches(review.plate, [session.plate])[0][1]
    )
    session_exit(
        session=session,
        gate=gate,
        at=review.occurred_at,
        event_id=review.event.event_id,
        read_plate=review.plate,
        score=score,
    )
    ReviewItem.objects.filter(pk=review.pk).update(
        status=ReviewStatus.MATCHED,
        session=session,
        resolved_at=timezone.now(),
        note="matched when the entry read arrived",
    )
    ParkingEvent.objects.filter(pk=review.event_id).update(
        outcome=EventOutcome.APPLIED, session=session
    )


# --- exit -------------------------------------------------------------------------------------
def _review(
    read: PlateRead, event: ParkingEvent, kind: str, candidates: list[list[float]]
) -> ReviewItem:
    return ReviewItem.objects.create(
        car_park=read.car_park,
        kind=kind,
        event=event,
        plate=read.plate,
        gate=read.gate,
        occurred_at=read.at,
        candidates=candidates,
    )


def exit_candidates(
    car_park: CarPark, plate: str, at: datetime
) -> list[tuple[ParkingSession, float]]:
    """Open stays of ``car_park`` that entered before ``at`` and whose plate ``plate`` could
    be (best first)."""
    open_rows = list(
        ParkingSession.objects.filter(car_park=car_park, status__in=OPEN, entered_at__lte=at)
        .exclude(plate="")
        .only("id", "plate")
    )
    by_plate: dict[str, ParkingSession] = {}
    for row in open_rows:
        by_plate.setdefault(row.plate, row)
    return [(by_plate[p], score) for p, score in best_matches(plate, by_plate)]


def _exit(read: PlateRead, event: ParkingEvent) -> Outcome:
    car_park = read.car_park
    if read.ticket and not read.plate:
        session = ParkingSession.objects.filter(
            car_park=car_park, ticket=read.ticket, status__in=OPEN
        ).first()
        if session is None:
            review = _review(read, event, ReviewKind.EXIT_WITHOUT_ENTRY, [])
            return (
                EventOutcome.REVIEW,
                f"ticket {read.ticket} has no entry: review {review.pk}",
                None,
            )
        return _leave(session, read, 1.0)
    if not read.plate:
        review = _review(read, event, ReviewKind.UNREADABLE, [])
        return EventOutcome.REVIEW, f"exit read unreadable: review {review.pk}", None
    done = ParkingSession.objects.filter(
        car_park=car_park, plate=read.plate, exited_at__isnull=False, exit_event=read.event_id
    ).first()
    if done is not None:
        return EventOutcome.STALE, "this exit was applied", done.pk
    candidates = exit_candidates(car_park, read.plate, read.at)
    listed = [[s.pk, round(score, 3)] for s, score in candidates[:5]]
    if not candidates:
        recent = ParkingSession.objects.filter(
            car_park=car_park,
            plate=read.plate,
            exited_at__gte=read.at - REREAD_WINDOW,
            exited_at__lte=read.at + REREAD_WINDOW,
        ).first()
        if recent is not None:  # the second camera at the exit read it too
            return EventOutcome.STALE, "the car has left already", recent.pk
        review = _review(read, event, ReviewKind.EXIT_WITHOUT_ENTRY, listed)
        return EventOutcome.REVIEW, f"no entry for {read.plate}: review {review.pk}", None
    best, score = candidates[0]
    if score < 1.0:
        tied = len(candidates) > 1 and candidates[1][1] >= score
        if tied:
            review = _review(read, event, ReviewKind.AMBIGUOUS, listed)
            return (
                EventOutcome.REVIEW,
                f"several entries fit {read.plate}: review {review.pk}",
                None,
            )
        if score < MIN_SCORE or read.confidence < LOW_CONFIDENCE:
            review = _review(read, event, ReviewKind.LOW_CONFIDENCE, listed)
            return EventOutcome.REVIEW, f"unsure read {read.plate}: review {review.pk}", None
    session = ParkingSession.objects.select_for_update().get(pk=best.pk)
    return _leave(session, read, score)


def _leave(session: ParkingSession, read: PlateRead, score: float) -> Outcome:
    status = session_exit(
        session=session,
        gate=read.gate,
        at=read.at,
        event_id=read.event_id,
        read_plate=read.plate,
        score=score * (1.0 if score == 1.0 else read.confidence),
    )
    name = session.plate or session.ticket
    return EventOutcome.APPLIED, f"exit {name}: {status}", session.pk


def session_exit(
    *,
    session: ParkingSession,
    gate: Gate,
    at: datetime,
    event_id: str,
    read_plate: str,
    score: float,
) -> str:
    """The car is at the exit: price the stay; it leaves when nothing is due (paid within
    the grace period, free, or charged by its frictionless agreement), else it waits for the
    exit QR payment. Returns the session's new status."""
    exited = max(at, session.entered_at)
    ParkingSession.objects.filter(pk=session.pk).update(
        exit_gate=gate,
        exited_at=exited,
        exit_event=event_id,
        exit_plate=read_plate,
        match_score=round(score, 3),
    )
    session.refresh_from_db()
    quote = charging.session_quote(session=session, at=exited)
    due = quote.due_fen
    if due > 0 and session.user_id is not None:
        due = charging.frictionless_charge(session=session, quote=quote, at=exited)
    status = SessionStatus.CLOSED if due == 0 else SessionStatus.AWAITING_PAYMENT
    ParkingSession.objects.filter(pk=session.pk, status__in=OPEN).update(
        status=status,
        fee_fen=quote.fee.total_fen,
        closed_at=exited if status == SessionStatus.CLOSED else None,
    )
    if status == SessionStatus.CLOSED:
        charging.discounts_settle(session=session, quote=quote, at=exited)
    availability_touch(session.car_park_id)
    return str(status)


# --- occupancy --------------------------------------------------------------------------------
def occupancy_apply(*, read: OccupancyRead) -> Outcome:
    space = read.space
    changed = (
        Space.objects.filter(pk=space.pk)
        .filter(Q(state_at__isnull=True) | Q(state_at__lt=read.at))
        .update(
            occupied=read.occupied,
            plate=read.plate if read.occupied else "",
            state_at=read.at,
            sensor=read.sensor or space.sensor,
        )
    )
    if not changed:
        return EventOutcome.STALE, f"{space.code}: a newer state is applied", None
    session_id = None
    if read.occupied and read.plate:
        session = (
            ParkingSession.objects.filter(
                car_park_id=space.car_park_id, plate=read.plate, status__in=OPEN
            )
            .order_by("-entered_at")
            .first()
        )
        if session is not None:
            ParkingSession.objects.filter(pk=session.pk).update(
                space=space, floor_id=space.zone.floor_id
            )
            session_id = session.pk
    availability_touch(space.car_park_id)
    state = "occupied" if read.occupied else "free"
    return EventOutcome.APPLIED, f"{space.code} {state}", session_id


# --- operators: the review queue, no-plate tickets --------------------------------------------
def ticket_new() -> str:
    return "T" + secrets.token_hex(5).upper()
