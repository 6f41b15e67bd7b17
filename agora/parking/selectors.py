"""Parking reads: live free spaces (per car park, level, zone and kind), overflow guidance,
finding a car, the stays of a shopper, the review queue; ``access_*`` for ids users send."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.core.errors import NotFound
from agora.parking.choices import (
    OPEN,
    GateDirection,
    ReservationStatus,
    ReviewStatus,
    SpaceKind,
)
from agora.parking.models import (
    CarPark,
    ParkingSession,
    ParkingZone,
    Reservation,
    ReviewItem,
    Space,
    SpaceShare,
    Vehicle,
)
from agora.parking.plates import is_valid, normalise

#: spaces of this kind are let to named users, not offered to the public
PRIVATE_KINDS = (SpaceKind.RESERVED,)


def car_parks_of(*, district_id: int) -> QuerySet[CarPark]:
    return CarPark.objects.filter(district_id=district_id).select_related("mall").order_by("id")


def car_park_by_code(*, code: str) -> CarPark:
    row = CarPark.objects.select_related("mall", "shop").filter(code=code).first()
    if row is None:
        raise NotFound(detail="no such car park")
    return row


def car_parks_managed(*, actor: Actor) -> QuerySet[CarPark]:
    """The car parks an operator runs (their malls; a district operator's whole district)."""
    rows = CarPark.objects.select_related("mall")
    if actor.is_admin:
        return rows.order_by("id")
    return rows.filter(
        Q(mall_id__in=actor.operated_mall_ids) | Q(district_id__in=actor.district_operator_ids)
    ).order_by("id")


def access_car_park(*, actor: Actor, car_park_id: int) -> CarPark:
    """A car park the actor operates; any other id is NotFound (ADR 0006)."""
    row = car_parks_managed(actor=actor).filter(pk=car_park_id).first()
    if row is None:
        raise NotFound(detail="no such car park")
    return row


def reserved_now(*, car_park_id: int, at: datetime) -> set[int]:
    """Spaces held right now by a booking (from its start until it ends, unless it arrived)."""
    return set(
        Reservation.objects.filter(
            car_park_id=car_park_id,
            status=ReservationStatus.BOOKED,
            starts_at__lte=at,
            ends_at__gt=at,
        ).values_list("space_id", flat=True)
    )


def availability_of(*, car_park_id: int, at: datetime | None = None) -> dict[str, Any]:
    """Free spaces now, by level, zone and kind (public spaces only), with the overflow
    advice when the car park is past its threshold. JSON-able; gate displays get it over
    MQTT, pages over server-sent events."""
    when = at or timezone.now()
    car_park = CarPark.objects.select_related("mall").get(pk=car_park_id)
    held = reserved_now(car_park_id=car_park_id, at=when)
    zones = {
        z.pk: z for z in ParkingZone.objects.filter(car_park_id=car_park_id).select_related("floor")
    }
    rows = (
        Space.objects.filter(car_park_id=car_park_id, in_service=True)
        .exclude(kind__in=PRIVATE_KINDS)
        .values("zone_id", "kind")
        .annotate(total=Count("id"), occupied=Count("id", filter=Q(occupied=True)))
    )
    held_by_zone_kind: dict[tuple[int, str], int] = {}
    if held:
        for zone_id, kind in Space.objects.filter(pk__in=held, occupied=False).values_list(
            "zone_id", "kind"
        ):
            held_by_zone_kind[(zone_id, kind)] = held_by_zone_kind.get((zone_id, kind), 0) + 1
    total = free = 0
    by_zone: dict[int, dict[str, Any]] = {}
    by_level: dict[str, dict[str, Any]] = {}
    by_kind: dict[str, dict[str, int]] = {}
    for row in rows:
        zone = zones[row["zone_id"]]
        z_free = row["total"] - row["occupied"] - held_by_zone_kind.get((zone.pk, row["kind"]), 0)
        z_free = max(z_free, 0)
        total += row["total"]
        free += z_free
        entry = by_zone.setdefault(
            zone.pk, {"code": zone.code, "name": zone.name, "free": 0, "total": 0}
        )
        entry["free"] += z_free
        entry["total"] += row["total"]
        level_name = zone.floor.name if zone.floor else zone.name[:1]
        level = by_level.setdefault(
            level_name,
            {"name": level_name, "floor": zone.floor_id, "free": 0, "total": 0},
        )
        level["free"] += z_free
        level["total"] += row["total"]
        k = by_kind.setdefault(row["kind"], {"free": 0, "total": 0})
        k["free"] += z_free
        k["total"] += row["total"]
    pct = round(100 * (total - free) / total) if total else 100
    full = total == 0 or pct >= car_park.full_threshold_pct
    return {
        "car_park": car_park.code,
        "name": car_park.name,
        "mall": car_park.mall.name,
        "free": free,
        "total": total,
        "occupancy_pct": pct,
        "full": full,
        "threshold_pct": car_park.full_threshold_pct,
        "levels": list(by_level.values()),
        "zones": sorted(by_zone.values(), key=lambda z: z["code"]),
        "kinds": by_kind,
        "version": car_park.availability_version,
        "overflow": overflow_for(car_park=car_park, at=when) if full else [],
        "at": when.isoformat(timespec="seconds"),
    }


def _metres(a: CarPark, b: CarPark) -> float:
    lat1, lon1, lat2, lon2 = map(
        math.radians, [float(a.latitude), float(a.longitude), float(b.latitude), float(b.longitude)]
    )
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def free_counts(*, district_id: int, at: datetime | None = None) -> dict[int, tuple[int, int]]:
    """car park id → (free, total) of public spaces, for a whole district in two queries."""
    when = at or timezone.now()
    held = Reservation.objects.filter(
        car_park__district_id=district_id,
        status=ReservationStatus.BOOKED,
        starts_at__lte=when,
        ends_at__gt=when,
        space__occupied=False,
    ).values_list("car_park_id", flat=True)
    held_count: dict[int, int] = {}
    for cp in held:
        held_count[cp] = held_count.get(cp, 0) + 1
    rows = (
        Space.objects.filter(car_park__district_id=district_id, in_service=True)
        .exclude(kind__in=PRIVATE_KINDS)
        .values("car_park_id")
        .annotate(total=Count("id"), occupied=Count("id", filter=Q(occupied=True)))
    )
    return {
        r["car_park_id"]: (
            max(0, r["total"] - r["occupied"] - held_count.get(r["car_park_id"], 0)),
            r["total"],
        )
        for r in rows
    }


def overflow_for(
    *, car_park: CarPark, at: datetime | None = None, limit: int = 3
) -> list[dict[str, Any]]:
    """The nearest other car parks of the district that still have room (PUB-8)."""
    counts = free_counts(district_id=car_park.district_id, at=at)
    out = []
    for other in car_parks_of(district_id=car_park.district_id).exclude(pk=car_park.pk):
        free, total = counts.get(other.pk, (0, 0))
        if total == 0 or free == 0:
            continue
        pct = round(100 * (total - free) / total)
        if pct >= other.full_threshold_pct:
            continue
        out.append(
            {
                "car_park": other.code,
                "name": other.name,
                "mall": other.mall.name,
                "free": free,
                "total": total,
                "distance_m": round(_metres(car_park, other) / 10) * 10,
                "latitude": float(other.latitude),
                "longitude": float(other.longitude),
            }
        )
    out.sort(key=lambda o: (o["distance_m"], o["car_park"]))
    return out[:limit]


def district_parking(*, district_id: int) -> list[dict[str, Any]]:
    """Every car park of the district with its free spaces (life page, government)."""
    counts = free_counts(district_id=district_id)
    out = []
    for cp in car_parks_of(district_id=district_id):
        free, total = counts.get(cp.pk, (0, 0))
        pct = round(100 * (total - free) / total) if total else 100
        out.append(
            {
                "id": cp.pk,
                "car_park": cp.code,
                "name": cp.name,
                "mall": cp.mall.name,
                "mall_code": cp.mall.code,
                "free": free,
                "total": total,
                "occupancy_pct": pct,
                "full": total == 0 or pct >= cp.full_threshold_pct,
                "version": cp.availability_version,
            }
        )
    return out


def car_park_plan(*, code: str) -> dict[str, Any]:
    """What the simulator needs to drive a car park: its gates and spaces."""
    cp = car_park_by_code(code=code)
    gates = list(cp.gates.values_list("code", "direction"))
    spaces = list(cp.spaces.filter(in_service=True).order_by("code").values("code", "kind"))
    return {
        "code": cp.code,
        "entry_gates": [c for c, d in gates if d == GateDirection.ENTRY],
        "exit_gates": [c for c, d in gates if d == GateDirection.EXIT],
        "spaces": spaces,
        "capacity": len(spaces),
    }


# --- finding a car ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CarFound:
    session: ParkingSession
    car_park: CarPark
    level: str  # "B1" or "" for a surface lot
    zone: str  # "A区"
    space: str  # "B1-A-012" or "" when only the level is known
    place: str  # navigation place spec of the space or the level's lift lobby, or ""
    exact: bool  # True: a space sensor saw the car there


def car_find(*, district_id: int, plate: str) -> CarFound:
    """Where a parked car is (PUB-7): the space its sensor or guidance camera saw it on, else
    the level of its entry gate. Unknown or not parked → NotFound."""
    p = normalise(plate)
    if not is_valid(p):
        raise NotFound(detail="no parked car with this plate")
    session = (
        ParkingSession.objects.filter(car_park__district_id=district_id, plate=p, status__in=OPEN)
        .select_related("car_park__mall", "space__zone__floor", "floor", "entry_gate")
        .order_by("-entered_at")
        .first()
    )
    if session is None:
        raise NotFound(detail="no parked car with this plate")
    space = session.space
    if space is not None:
        floor = space.zone.floor
        place = f"point:{floor.pk}:{space.x:.1f}:{space.y:.1f}" if floor else ""
        return CarFound(
            session,
            session.car_park,
            floor.name if floor else "",
            space.zone.name,
            space.code,
            place,
            True,
        )
    floor = session.floor
    place = ""
    if floor is not None:
        gate = session.entry_gate
        place = f"point:{floor.pk}:{gate.x:.1f}:{gate.y:.1f}"
    return CarFound(session, session.car_park, floor.name if floor else "", "", "", place, False)


def vehicles_of(*, user: User) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(user=user).select_related("agreement").order_by("id")


def sessions_of_user(*, user: User) -> QuerySet[ParkingSession]:
    """The user's stays: of plates they bound, newest first."""
    plates = list(Vehicle.objects.filter(user=user).values_list("plate", flat=True))
    return (
        ParkingSession.objects.filter(Q(user=user) | Q(plate__in=plates))
        .exclude(plate="", user__isnull=True)
        .select_related("car_park__mall", "space__zone", "floor")
        .order_by("-entered_at")
    )


def access_session(*, user: User, session_id: int) -> ParkingSession:
    """A stay of one of the user's plates; anything else is NotFound."""
    row = sessions_of_user(user=user).filter(pk=session_id).first()
    if row is None:
        raise NotFound(detail="no such parking session")
    return row


def session_by_plate(*, car_park: CarPark, plate: str) -> ParkingSession:
    """The open stay of a plate (or QR ticket) at a car park: what the exit QR and the
    pay-by-plate page look up. Unknown → NotFound."""
    p = normalise(plate)
    rows = ParkingSession.objects.filter(car_park=car_park, status__in=OPEN)
    row = rows.filter(plate=p).first() if is_valid(p) else rows.filter(ticket=plate.strip()).first()
    if row is None:
        raise NotFound(detail="no car with this plate or ticket is in the car park")
    return row


def sessions_of_car_park(*, car_park: CarPark, status: str = "") -> QuerySet[ParkingSession]:
    rows = ParkingSession.objects.filter(car_park=car_park).select_related("space", "floor")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-entered_at")


def reviews_open(*, car_park: CarPark) -> QuerySet[ReviewItem]:
    return (
        ReviewItem.objects.filter(car_park=car_park, status=ReviewStatus.OPEN)
        .select_related("gate", "event")
        .order_by("occurred_at")
    )


def access_review(*, actor: Actor, review_id: int) -> ReviewItem:
    managed = car_parks_managed(actor=actor).values_list("id", flat=True)
    row = (
        ReviewItem.objects.filter(pk=review_id, car_park_id__in=list(managed))
        .select_related("car_park", "gate", "event")
        .first()
    )
    if row is None:
        raise NotFound(detail="no such review item")
    return row


# --- reservations and shared spaces -----------------------------------------------------------
def spaces_free_for(
    *, car_park: CarPark, kind: str, starts_at: datetime, ends_at: datetime
) -> QuerySet[Space]:
    """Public spaces of ``kind`` with no booking overlapping the window."""
    busy = Reservation.objects.filter(
        car_park=car_park,
        status__in=[ReservationStatus.BOOKED, ReservationStatus.ARRIVED],
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    ).values("space_id")
    rows = Space.objects.filter(car_park=car_park, in_service=True, owner__isnull=True, kind=kind)
    if starts_at <= timezone.now() + timedelta(minutes=30):
        rows = rows.filter(occupied=False)
    return rows.exclude(pk__in=busy).exclude(kind__in=PRIVATE_KINDS).order_by("code")


def shares_open(*, district_id: int, at: datetime | None = None) -> QuerySet[SpaceShare]:
    when = at or timezone.now()
    return (
        SpaceShare.objects.filter(
            space__car_park__district_id=district_id, withdrawn=False, ends_at__gt=when
        )
        .select_related("space__car_park__mall", "space__zone")
        .order_by("starts_at")
    )


def reservations_of(*, user: User) -> QuerySet[Reservation]:
    return (
        Reservation.objects.filter(user=user)
        .select_related("space__zone", "car_park")
        .order_by("-starts_at")
    )


def owned_spaces(*, user: User) -> QuerySet[Space]:
    return Space.objects.filter(owner=user).select_related("car_park", "zone").order_by("code")


def availability_version(*, car_park_id: int) -> int:
    return int(
        CarPark.objects.filter(pk=car_park_id)
        .values_list("availability_version", flat=True)
        .first()
        or 0
    )


def district_version(*, district_id: int) -> int:
    """Moves whenever any car park of the district changes (the sum of their counters)."""
    from django.db.models import Sum

    total = CarPark.objects.filter(district_id=district_id).aggregate(
        v=Sum("availability_version", default=0)
    )["v"]
    return int(total)
