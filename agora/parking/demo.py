"""Parking demo data: a car park for every mall — the B1 level of a mall with a basement
(spaces in rows beside its aisles, zones between the cross aisles, an entry and an exit gate at
the ramp), a surface lot for the others — each with its till, tariff v1, free hours by tier and
spending, points for hours; the year's public holidays; plates bound by a few demo shoppers
(one with frictionless payment, one owning a space he shares); and the cars parked right now
(the first dozen of each car park through the same ingest path as the devices' events)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.checkout.models import PaymentAgreement
from agora.checkout.services.agreements import agreement_sign
from agora.core.models import CalendarDay
from agora.district.choices import ZoneKind
from agora.district.models import District, Floor, Mall, Zone
from agora.district.services.shops import service_till_create
from agora.lib.timeutil import SHANGHAI
from agora.members.services.membership import member_ensure
from agora.parking.choices import CarParkKind, EventVia, GateDirection, SpaceKind
from agora.parking.models import (
    CarPark,
    Gate,
    IngestCounter,
    PageMessage,
    ParkingEvent,
    ParkingSession,
    ParkingZone,
    Reservation,
    ReviewItem,
    SessionPayment,
    Space,
    SpaceShare,
    Tariff,
    Vehicle,
)
from agora.parking.mqtt import occupancy_topic, plate_topic
from agora.parking.services.ingest import event_ingest
from agora.parking.services.ops import tariff_publish
from agora.parking.services.sessions import availability_touch

SPACE_W = 2.5
SPACE_D = 5.0
AISLE_HALF = 3.0
CROSS_CLEAR = 4.0
LETTERS = "ABCDEFGH"
LETTERS_PLATE = "ABCDEFGHJKLMNPQRSTUVWXYZ"
THROUGH_INGEST = 12  # cars per car park sent through event_ingest; the rest in bulk

#: 2026 public holidays (rest days) as the State Council announced them; operators keep the
#: calendar (and the make-up working days) up to date in the admin
HOLIDAYS_2026 = [
    (date(2026, 1, 1), 3, "元旦"),
    (date(2026, 2, 15), 9, "春节"),
    (date(2026, 4, 4), 3, "清明节"),
    (date(2026, 5, 1), 5, "劳动节"),
    (date(2026, 6, 19), 3, "端午节"),
    (date(2026, 9, 25), 3, "中秋节"),
    (date(2026, 10, 1), 7, "国庆节"),
]

#: plates of the 2nd, 3rd and 4th demo shoppers (not 13800000001, whom other demos rely on)
DRIVERS = [
    ("粤B8D6K2", True, False),  # frictionless payment
    ("粤BF12345", False, True),  # new-energy car; owns a space he shares
    ("粤B3N7Q8", False, False),
]


def plate_for(rng: random.Random) -> str:
    prov = rng.choices(["粤", "湘", "赣", "桂", "川", "鄂"], [80, 5, 4, 4, 4, 3])[0]
    city = "B" if prov == "粤" and rng.random() < 0.85 else rng.choice("ACDEFGHJ")
    if rng.random() < 0.2:  # new energy: D or F then five
        tail = rng.choice("DF") + "".join(rng.choice("0123456789") for _ in range(5))
    else:
        tail = "".join(
            rng.choice("0123456789" if rng.random() < 0.7 else LETTERS_PLATE) for _ in range(5)
        )
    return f"{prov}{city}{tail}"


def _basement_layout(
    car_park: CarPark, floor: Floor, zone: Zone, rng: random.Random
) -> tuple[list[Space], list[Gate]]:
    xs = [p[0] for p in zone.polygon]
    ys = [p[1] for p in zone.polygon]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    w, d = x1 - x0, y1 - y0
    n = max(1, round(w / 32.0))
    cross = [x0 + i * w / n for i in range(n + 1)]
    aisles = [y0 + 0.25 * d, y0 + 0.75 * d] if d >= 24 else [y0 + 0.5 * d]
    zones = []
    for i in range(n):
        letter = LETTERS[i % len(LETTERS)]
        zones.append(
            ParkingZone.objects.create(
                car_park=car_park,
                floor=floor,
                code=f"{floor.name}-{letter}",
                name=f"{floor.name} {letter}区",
                polygon=[
                    [round(cross[i], 2), y0],
                    [round(cross[i + 1], 2), y0],
                    [round(cross[i + 1], 2), y1],
                    [round(cross[i], 2), y1],
                    [round(cross[i], 2), y0],
                ],
            )
        )
    spaces: list[Space] = []
    numbers: dict[int, int] = {}
    for ay in aisles:
        for side in (-1, 1):
            y = round(ay + side * (AISLE_HALF + SPACE_D / 2), 2)
            if not y0 + SPACE_D / 2 <= y <= y1 - SPACE_D / 2:
                continue
            x = x0 + 2.0
            while x <= x1 - 2.0:
                if all(abs(x - c) > CROSS_CLEAR for c in cross):
                    zi = min(int((x - x0) / (w / n)), n - 1)
                    numbers[zi] = numbers.get(zi, 0) + 1
                    z = zones[zi]
                    spaces.append(
                        Space(
                            car_park=car_park,
                            zone=z,
                            code=f"{z.code}{numbers[zi]:03d}",
                            x=round(x, 2),
                            y=y,
                            sensor=f"S{car_park.pk:02d}{len(spaces) + 1:04d}",
                        )
                    )
                x += SPACE_W
    # kinds: accessible and family nearest the lift lobby (west), EV along the south row,
    # reserved (monthly renters) at the east end of the north row
    lobby = (x0, y0 + 0.5 * d)
    by_lobby = sorted(spaces, key=lambda s: (abs(s.x - lobby[0]) + abs(s.y - lobby[1]), s.code))
    for s in by_lobby[:4]:
        s.kind = SpaceKind.ACCESSIBLE
    for s in by_lobby[4:10]:
        s.kind = SpaceKind.FAMILY
    south = sorted((s for s in spaces if s.y == min(t.y for t in spaces)), key=lambda s: s.x)
    for s in south[: max(4, len(spaces) // 12)]:
        if s.kind == SpaceKind.STANDARD:
            s.kind = SpaceKind.EV
    north = sorted((s for s in spaces if s.y == max(t.y for t in spaces)), key=lambda s: -s.x)
    for s in north[:6]:
        s.kind = SpaceKind.RESERVED
    Space.objects.bulk_create(spaces)
    ramp_x = round(x1 - 1.5, 2)
    gates = [
        Gate.objects.create(
            car_park=car_park,
            code="E1",
            name="东入口",
            direction=GateDirection.ENTRY,
            floor=floor,
            x=ramp_x,
            y=round(aisles[0], 2),
        ),
        Gate.objects.create(
            car_park=car_park,
            code="X1",
            name="东出口",
            direction=GateDirection.EXIT,
            floor=floor,
            x=ramp_x,
            y=round(aisles[-1], 2),
        ),
    ]
    return list(Space.objects.filter(car_park=car_park)), gates


def _surface_layout(car_park: CarPark, rng: random.Random) -> tuple[list[Space], list[Gate]]:
    rows = rng.randint(3, 4)
    per_row = rng.randint(14, 20)
    spaces: list[Space] = []
    for zi, letter in enumerate("AB"):
        zone = ParkingZone.objects.create(
            car_park=car_park, code=f"P-{letter}", name=f"地面 {letter}区"
        )
        for r in range(rows):
            for c in range(per_row):
                spaces.append(
                    Space(
                        car_park=car_park,
                        zone=zone,
                        code=f"P{letter}{r * per_row + c + 1:03d}",
                        x=round(zi * 60 + 2 + c * SPACE_W, 2),
                        y=round(4 + r * 12, 2),
                        sensor=f"S{car_park.pk:02d}{len(spaces) + 1:04d}",
                    )
                )
    for s in spaces[:2]:
        s.kind = SpaceKind.ACCESSIBLE
    for s in spaces[2:8]:
        s.kind = SpaceKind.EV
    Space.objects.bulk_create(spaces)
    gates = [
        Gate.objects.create(
            car_park=car_park, code="E1", name="入口", direction=GateDirection.ENTRY
        ),
        Gate.objects.create(
            car_park=car_park, code="X1", name="出口", direction=GateDirection.EXIT
        ),
    ]
    return list(Space.objects.filter(car_park=car_park)), gates


def _car_park_for(mall: Mall, rng: random.Random, index: int) -> CarPark:
    basement = (
        Zone.objects.filter(floor__mall=mall, floor__level__lt=0, kind=ZoneKind.CAR_PARK)
        .select_related("floor")
        .order_by("floor__level")
        .first()
    )
    till = service_till_create(mall=mall, name=f"{mall.name}停车场")
    offset = 0.0009 * (1 if index % 2 else -1)
    car_park = CarPark.objects.create(
        district=mall.district,
        mall=mall,
        shop=till,
        name=f"{mall.name}{'地下' if basement else '地面'}停车场",
        code=f"{mall.code}-p",
        kind=CarParkKind.UNDERGROUND if basement else CarParkKind.SURFACE,
        latitude=mall.latitude + (0 if basement else type(mall.latitude)(f"{offset:.6f}")),
        longitude=mall.longitude,
        tier_free_minutes={"silver": 60, "gold": 120, "diamond": 180},
        spend_rules=[[20_000, 120], [50_000, 240]],
        points_per_hour=200,
        points_max_hours=4,
    )
    if basement is not None:
        _basement_layout(car_park, basement.floor, basement, rng)
    else:
        _surface_layout(car_park, rng)
    return car_park


def _tariff(car_park: CarPark, system: Actor, when: datetime) -> Tariff:
    if car_park.kind == CarParkKind.UNDERGROUND:
        spec: dict[str, Any] = {
            "free_minutes": 15,
            "unit_minutes": 15,
            "day_unit_fen": 200,  # ¥8 an hour
            "night_unit_fen": 50,
            "night_start": time(22, 0),
            "night_end": time(7, 0),
            "night_cap_fen": 1000,
            "day_cap_fen": 6000,
            "holiday_unit_fen": 250,
            "holiday_cap_fen": 8000,
        }
    else:
        spec = {
            "free_minutes": 30,
            "unit_minutes": 60,
            "day_unit_fen": 500,
            "night_unit_fen": 200,
            "night_start": time(22, 0),
            "night_end": time(7, 0),
            "night_cap_fen": 800,
            "day_cap_fen": 4000,
        }
    return tariff_publish(
        actor=system, car_park=car_park, valid_from=when, note="demo v1", now=when, **spec
    )


def _park_now(
    car_park: CarPark, spaces: list[Space], gates: list[Gate], rng: random.Random, share: float
) -> int:
    """Cars parked right now, minutes to hours ago. The first ``THROUGH_INGEST`` arrive as an
    entry read and a sensor event each, through the same ingest path as the devices' events
    (so the event log and counters have something); the rest are written in bulk, which keeps
    the full demo fast."""
    now = timezone.now()
    entry = next(g for g in gates if g.direction == GateDirection.ENTRY)
    public = [s for s in spaces if s.kind != SpaceKind.RESERVED]
    taken = rng.sample(public, round(len(public) * share))
    taken.sort(key=lambda s: s.code)
    used: set[str] = set(Vehicle.objects.values_list("plate", flat=True))
    tariff = Tariff.objects.filter(car_park=car_park).order_by("-version").first()
    assert tariff is not None
    bulk: list[ParkingSession] = []
    for i, space in enumerate(taken):
        plate = plate_for(rng)
        while plate in used:
            plate = plate_for(rng)
        used.add(plate)
        at = (now - timedelta(minutes=rng.randint(12, 300))).replace(microsecond=0)
        confidence = round(rng.uniform(0.9, 0.995), 3)
        if i < THROUGH_INGEST:
            event_ingest(
                payload={
                    "event_id": f"demo-{car_park.code}-in-{i}",
                    "plate": plate,
                    "colour": "green" if len(plate) == 8 else "blue",
                    "confidence": confidence,
                    "at": at.astimezone(SHANGHAI).isoformat(),
                    "source": "video",
                },
                topic=plate_topic(car_park.code, entry.code),
                via=EventVia.SIMULATOR,
            )
            event_ingest(
                payload={
                    "event_id": f"demo-{car_park.code}-occ-{i}",
                    "occupied": True,
                    "plate": plate,
                    "at": (at + timedelta(minutes=2)).astimezone(SHANGHAI).isoformat(),
                    "sensor": space.sensor,
                },
                topic=occupancy_topic(car_park.code, space.code),
                via=EventVia.SIMULATOR,
            )
            continue
        space.occupied, space.plate, space.state_at = True, plate, at + timedelta(minutes=2)
        bulk.append(
            ParkingSession(
                car_park=car_park,
                plate=plate,
                plate_colour="green" if len(plate) == 8 else "blue",
                source="video",
                entry_gate=entry,
                entered_at=at,
                entry_event=f"demo-{car_park.code}-in-{i}",
                entry_confidence=confidence,
                floor_id=space.zone.floor_id,
                space=space,
                tariff=tariff,
            )
        )
    ParkingSession.objects.bulk_create(bulk)
    Space.objects.bulk_update(taken[THROUGH_INGEST:], ["occupied", "plate", "state_at"])
    availability_touch(car_park.pk)
    return len(taken)


def build_parking_demo(
    *, seed: int, config: Any, district_id: int, progress: Callable[[str], None], **_: Any
) -> list[str]:
    rng = random.Random(seed * 17 + 5)
    admin = User.objects.get(username="admin")
    system = Actor(user=admin, is_admin=True)
    district = District.objects.get(pk=district_id)
    progress("parking: car parks, spaces, gates, tariffs and the cars parked now")
    for start, days, name in HOLIDAYS_2026:
        for i in range(days):
            CalendarDay.objects.get_or_create(
                date=start + timedelta(days=i), defaults={"rest": True, "name": name}
            )
    when = timezone.now() - timedelta(days=30)
    lines = []
    parks = []
    for index, mall in enumerate(Mall.objects.filter(district=district).order_by("id")):
        car_park = _car_park_for(mall, rng, index)
        _tariff(car_park, system, when)
        parks.append(car_park)
    # drivers: plates bound, one frictionless, one owner of a shared space
    first = parks[0]
    shoppers = list(
        User.objects.exclude(phone=None).exclude(phone="13800000001").order_by("id")[: len(DRIVERS)]
    )
    for user, (plate, frictionless, owner) in zip(shoppers, DRIVERS, strict=False):
        member_ensure(user=user, district_id=district_id)
        agreement: PaymentAgreement | None = None
        if frictionless:
            agreement = agreement_sign(user=user, method="wechat")
        Vehicle.objects.create(
            user=user,
            plate=plate,
            colour="green" if len(plate) == 8 else "blue",
            agreement=agreement,
            created_at=timezone.now(),
        )
        if owner:
            space = (
                Space.objects.filter(car_park=first, kind=SpaceKind.RESERVED)
                .order_by("code")
                .first()
            )
            if space is not None:
                Space.objects.filter(pk=space.pk).update(owner=user)
                today = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
                SpaceShare.objects.create(
                    space=space,
                    owner=user,
                    starts_at=today + timedelta(days=1),
                    ends_at=today + timedelta(days=1, hours=9),
                    price_fen_per_hour=500,
                    created_at=timezone.now(),
                )
    for car_park in parks:
        spaces = list(Space.objects.filter(car_park=car_park).select_related("zone"))
        gates = list(Gate.objects.filter(car_park=car_park))
        share = 0.4 if car_park == first else rng.uniform(0.55, 0.9)
        parked = _park_now(car_park, spaces, gates, rng, share)
        lines.append(f"parking: {car_park.name} — {len(spaces)} spaces, {parked} cars parked now")
    return lines


def reset_parking_demo() -> None:
    for model in (
        PageMessage,
        Reservation,
        SpaceShare,
        ReviewItem,
        ParkingEvent,
        SessionPayment,
        ParkingSession,
        Vehicle,
        Tariff,
        Gate,
        Space,
        ParkingZone,
        CarPark,
        IngestCounter,
        CalendarDay,
    ):
        model.objects.all().delete()
    PaymentAgreement.objects.all().delete()
