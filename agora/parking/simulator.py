"""A realistic day of one car park's device events, as a pure, seeded function (no Django, no
database, no network): ``simulate_day(car_park=..., day=..., seed=...)`` gives the plate reads
and occupancy events the gate cameras and space sensors would send, in delivery order, with
their MQTT topics. ``manage.py parking_simulate`` feeds them to the ingest (directly or over
MQTT); the tests and ``bench/bench_parking_mqtt.py`` use them as a workload.

The day, in Asia/Shanghai:

* arrivals follow a two-peak curve (lunch around 12:00, a higher evening peak around 19:00, a
  plateau from 9:00 to 21:30, a trickle at night); a weekday brings about ``WEEKDAY_TURNOVER``
  cars per space (times ``scale``), Saturday and Sunday ``WEEKEND_FACTOR`` times as many;
* stays: ``SHORT_SHARE`` of cars stop briefly (8 to 40 minutes), most stay a log-normal time
  (median 2 h, a tail of 5 to 8 h), ``OVERNIGHT_SHARE`` stay 14 to 20 hours;
* capacity is respected: a car enters only while fewer than ``capacity`` cars are inside;
  when the car park is full it queues at the entry and gets in when a car leaves, unless that
  takes longer than its patience (2 to 15 minutes): then it drives away and sends nothing;
* each car: a plate read at an entry gate; a minute or two later its space's sensor says
  occupied (with the plate, as the guidance camera reads it); when it leaves, the space says
  free and a few minutes later the exit gate reads the plate. Green (new-energy) cars prefer
  EV spaces, a few cars accessible or family spaces; ``reserved`` spaces are left to
  reservations and never used here;
* plates are valid Chinese plates (mostly 粤B, some other 粤 cities and provinces; about 20 %
  green 8-character new-energy plates, a few yellow ones), unique within the day;
* imperfections: a video read at the exit is misread with probability ``misread_rate`` (one
  character: a confusable pair such as 0/D or 8/B, the province, or any character) with a
  lower confidence; about ``NO_PLATE_SHARE`` of cars have no plate and take a QR ticket at
  the entry (plate ``""`` and ``ticket`` on both reads); about ``DUPLICATE_SHARE`` of events
  are delivered twice (same event id, seconds apart); about ``LATE_SHARE`` of occupancy events
  arrive late (30 s to 10 min after they happened), so they can come after newer events.

Only events that happen on ``day`` are returned: the car park starts the day empty and cars
still inside at midnight (the overnight ones, late evening visitors) have no exit events.
Event ids are unique per (car park, day, seed, scale, misread rate), so simulating another day
or seed never collides with an earlier run.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from agora.lib.timeutil import SHANGHAI
from agora.parking.mqtt import DEFAULT_PREFIX, occupancy_topic, plate_topic
from agora.parking.plates import CONFUSABLE_PAIRS, PROVINCES

WEEKDAY_TURNOVER = 2.6  # cars per usable space on a weekday at scale 1
WEEKEND_FACTOR = 1.6
SHORT_SHARE = 0.10
OVERNIGHT_SHARE = 0.02
STAY_MEDIAN_MIN = 120.0
STAY_SIGMA = 0.55
GREEN_SHARE = 0.20
YELLOW_SHARE = 0.02
NO_PLATE_SHARE = 0.01
DUPLICATE_SHARE = 0.005
LATE_SHARE = 0.03
SOURCES = (("video", 0.93), ("etc", 0.05), ("bluetooth", 0.02))
KINDS_USED = ("standard", "ev", "accessible", "family")

_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
_DIGITS = "0123456789"
_BODY = _LETTERS + _DIGITS
_GUANGDONG_CITIES = "ACDEFGHJKLMNPQRSTUVWXY"  # 粤 letters other than B
_OTHER_PROVINCES = PROVINCES.replace("粤", "")
_CONFUSABLE: dict[str, list[str]] = {}
for _pair in sorted(CONFUSABLE_PAIRS, key=sorted):
    _a, _b = sorted(_pair)
    _CONFUSABLE.setdefault(_a, []).append(_b)
    _CONFUSABLE.setdefault(_b, []).append(_a)


@dataclass(frozen=True)
class CarParkPlan:
    """What the simulator needs of a car park: its code, gates and spaces."""

    code: str
    entry_gates: tuple[str, ...]
    exit_gates: tuple[str, ...]
    spaces: tuple[tuple[str, str], ...]  # (space code, kind), kind as in SpaceKind
    capacity: int  # at most this many cars inside at once (the usable spaces bound it too)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CarParkPlan:
        """From ``agora.parking.selectors.car_park_plan``'s dict (code, entry_gates,
        exit_gates, spaces [{"code", "kind"}], capacity)."""
        return cls(
            code=str(data["code"]),
            entry_gates=tuple(str(g) for g in data["entry_gates"]),
            exit_gates=tuple(str(g) for g in data["exit_gates"]),
            spaces=tuple((str(s["code"]), str(s["kind"])) for s in data["spaces"]),
            capacity=int(data["capacity"]),
        )


class SimEvent(NamedTuple):
    """One delivery: its topic, its payload (``payload["at"]`` is when it happened) and
    ``at``, when it is delivered (later than it happened for a late event)."""

    topic: str
    payload: dict[str, Any]
    at: datetime

    def body(self) -> bytes:
        """The payload as the device sends it: UTF-8 JSON."""
        return json.dumps(self.payload, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class _Car:
    arrival: datetime
    plate: str
    colour: str
    source: str
    ticket: str
    stay: timedelta
    patience: timedelta
    entry_gate: str
    exit_gate: str
    wants: str  # preferred space kind


def _gauss(h: float, mu: float, sigma: float) -> float:
    return math.exp(-0.5 * ((h - mu) / sigma) ** 2)


def arrival_intensity(hour: float) -> float:
    """Relative arrival rate at ``hour`` (0..24, local time): a night trickle, a morning
    ramp, a day plateau, peaks at lunch (~12:00) and in the evening (~19:00)."""
    if hour < 6.0 or hour >= 23.5:
        base = 0.03
    elif hour < 9.0:
        base = 0.03 + (hour - 6.0) / 3.0 * 0.32
    elif hour < 21.5:
        base = 0.35
    else:
        base = 0.35 - (hour - 21.5) / 2.0 * 0.32
    return base + 0.9 * _gauss(hour, 12.0, 1.2) + 1.2 * _gauss(hour, 19.0, 1.4)


_PEAK_INTENSITY = max(arrival_intensity(h / 20) for h in range(24 * 20)) * 1.01


def _weighted[T](rng: random.Random, options: tuple[tuple[T, float], ...]) -> T:
    r = rng.random() * sum(w for _, w in options)
    for value, weight in options:
        r -= weight
        if r < 0:
            return value
    return options[-1][0]


def _body(rng: random.Random, n: int) -> str:
    chars = [rng.choice(_DIGITS) if rng.random() < 0.8 else rng.choice(_LETTERS) for _ in range(n)]
    return "".join(chars)


def _plate(rng: random.Random) -> tuple[str, str]:
    """A plate and its colour."""
    r = rng.random()
    if r < 0.80:
        head = "粤B"
    elif r < 0.88:
        head = "粤" + rng.choice(_GUANGDONG_CITIES)
    else:
        head = rng.choice(_OTHER_PROVINCES) + rng.choice(_LETTERS)
    r = rng.random()
    if r < GREEN_SHARE:  # new energy: D (electric) or F (hybrid), then five characters
        return head + rng.choice("DF") + _body(rng, 5), "green"
    if r < GREEN_SHARE + YELLOW_SHARE:
        return head + _body(rng, 5), "yellow"
    return head + _body(rng, 5), "blue"


def misread(rng: random.Random, plate: str) -> str:
    """``plate`` with one character misread: a confusable pair (0/D, 8/B, ...) where the
    plate has one, else the province, else any character after the province. The result is
    still a valid plate (recognition engines only answer in plate shapes): the city letter
    is never read as a digit."""
    r = rng.random()
    swappable = [i for i in range(2, len(plate)) if plate[i] in _CONFUSABLE]
    if r < 0.45 and swappable:
        i = rng.choice(swappable)
        return plate[:i] + rng.choice(_CONFUSABLE[plate[i]]) + plate[i + 1 :]
    if r < 0.65:
        return rng.choice(_OTHER_PROVINCES if plate[0] == "粤" else "粤") + plate[1:]
    i = rng.randrange(1, len(plate))
    pool = (_LETTERS if i == 1 else _BODY).replace(plate[i], "")
    return plate[:i] + rng.choice(pool) + plate[i + 1 :]


def _arrivals(rng: random.Random, day: date, expected: float) -> list[datetime]:
    n = max(0, round(rng.gauss(expected, math.sqrt(expected)))) if expected > 0 else 0
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    out: list[float] = []
    while len(out) < n:  # rejection sampling from the intensity curve
        hour = rng.uniform(0.0, 24.0)
        if rng.random() * _PEAK_INTENSITY <= arrival_intensity(hour):
            out.append(hour)
    return [start + timedelta(seconds=round(h * 3600)) for h in sorted(out)]


def _stay(rng: random.Random) -> timedelta:
    r = rng.random()
    if r < SHORT_SHARE:
        minutes = rng.uniform(8, 40)
    elif r < 1 - OVERNIGHT_SHARE:
        minutes = min(max(rng.lognormvariate(math.log(STAY_MEDIAN_MIN), STAY_SIGMA), 20), 600)
    else:
        minutes = rng.uniform(14 * 60, 20 * 60)
    return timedelta(seconds=round(minutes * 60))


def _iso(at: datetime) -> str:
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds")


def simulate_day(
    *,
    car_park: CarParkPlan,
    day: date,
    seed: int,
    scale: float = 1.0,
    misread_rate: float = 0.03,
    prefix: str = DEFAULT_PREFIX,
) -> list[SimEvent]:
    """The events of ``car_park`` on ``day`` in delivery order (see the module docstring).
    The same arguments always give the same events."""
    if scale < 0 or not 0 <= misread_rate <= 1:
        raise ValueError("scale must be >= 0 and misread_rate within 0..1")
    usable = [(code, kind) for code, kind in car_park.spaces if kind in KINDS_USED]
    capacity = min(car_park.capacity, len(usable))
    if capacity <= 0 or not car_park.entry_gates or not car_park.exit_gates:
        return []
    key = f"{car_park.code}|{day.isoformat()}|{seed}|{scale!r}|{misread_rate!r}"
    rng = random.Random(key)
    tag = hashlib.sha256(key.encode()).hexdigest()[:8]
    id_prefix = f"sim-{day:%y%m%d}-{tag}"
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)

    expected = WEEKDAY_TURNOVER * capacity * scale * (WEEKEND_FACTOR if day.weekday() >= 5 else 1)
    plates_used: set[str] = set()
    cars: list[_Car] = []
    for n, arrival in enumerate(_arrivals(rng, day, expected)):
        ticket = ""
        if rng.random() < NO_PLATE_SHARE:
            plate, colour, source = "", "unknown", "ticket"
            ticket = f"S{day:%y%m%d}{tag[:4]}{n:05d}".upper()
        else:
            plate, colour = _plate(rng)
            while plate in plates_used:
                plate, colour = _plate(rng)
            plates_used.add(plate)
            source = _weighted(rng, SOURCES)
        r = rng.random()
        wants = "ev" if colour == "green" and r < 0.6 else "standard"
        if r >= 0.96:
            wants = "accessible"
        elif r >= 0.88:
            wants = "family"
        cars.append(
            _Car(
                arrival=arrival,
                plate=plate,
                colour=colour,
                source=source,
                ticket=ticket,
                stay=_stay(rng),
                patience=timedelta(seconds=rng.randint(120, 900)),
                entry_gate=rng.choice(car_park.entry_gates),
                exit_gate=rng.choice(car_park.exit_gates),
                wants=wants,
            )
        )

    free: dict[str, list[str]] = {kind: [] for kind in KINDS_USED}
    for code, kind in usable:
        free[kind].append(code)
    kind_of = dict(usable)
    busy: list[tuple[datetime, str]] = []  # (space free again at, space)
    inside: list[datetime] = []  # exit times of the cars inside (a heap)
    raw: list[tuple[datetime, int, str, dict[str, Any]]] = []  # (happened, seq, topic, payload)
    seq = 0

    def emit(at: datetime, topic: str, payload: dict[str, Any]) -> None:
        nonlocal seq
        if at >= day_end:
            return
        payload = {"event_id": f"{id_prefix}-{seq:06d}", **payload, "at": _iso(at)}
        raw.append((at, seq, topic, payload))
        seq += 1

    for car in cars:
        entry = car.arrival
        if len(inside) >= capacity:
            first_out = inside[0]
            if first_out > car.arrival + car.patience:
                continue  # full, and no car leaves soon enough: it drives away
            heapq.heappop(inside)
            entry = max(car.arrival, first_out + timedelta(seconds=5))
        while busy and busy[0][0] <= entry:
            _, code = heapq.heappop(busy)
            free[kind_of[code]].append(code)
        order = [car.wants] + [
            k for k in ("standard", "family", "ev", "accessible") if k != car.wants
        ]
        kind = next(k for k in order if free[k])
        pool = free[kind]
        i = rng.randrange(len(pool))
        pool[i], pool[-1] = pool[-1], pool[i]
        space = pool.pop()
        parked = entry + timedelta(seconds=rng.randint(45, 150))
        leaves = parked + car.stay
        out = leaves + timedelta(seconds=rng.randint(90, 300))
        heapq.heappush(busy, (leaves, space))
        heapq.heappush(inside, out)

        read: dict[str, Any] = {"plate": car.plate, "colour": car.colour}
        if car.ticket:
            read["ticket"] = car.ticket
        entry_read = {
            **read,
            "confidence": round(rng.uniform(0.88, 0.995), 3) if car.source == "video" else 1.0,
            "source": car.source,
        }
        if car.source == "video":
            entry_read["image"] = f"snap/{car.entry_gate}/{entry:%H%M%S}-{seq}.jpg"
        emit(entry, plate_topic(car_park.code, car.entry_gate, prefix=prefix), entry_read)
        sensor = {"sensor": f"GS-{space}"}
        seen = {"plate": car.plate} if car.plate else {}
        topic = occupancy_topic(car_park.code, space, prefix=prefix)
        emit(parked, topic, {"occupied": True, **seen, **sensor})
        emit(leaves, topic, {"occupied": False, **sensor})
        exit_read = {**read, "source": car.source}
        if car.source == "video":
            if car.plate and rng.random() < misread_rate:
                exit_read["plate"] = misread(rng, car.plate)
                exit_read["confidence"] = round(rng.uniform(0.62, 0.86), 3)
            else:
                exit_read["confidence"] = round(rng.uniform(0.88, 0.995), 3)
            exit_read["image"] = f"snap/{car.exit_gate}/{out:%H%M%S}-{seq}.jpg"
        else:
            exit_read["confidence"] = 1.0
        emit(out, plate_topic(car_park.code, car.exit_gate, prefix=prefix), exit_read)

    deliveries: list[tuple[datetime, int, SimEvent]] = []
    for happened, n, topic, payload in sorted(raw, key=lambda r: (r[0], r[1])):
        delivered = happened
        if topic.endswith("/occupancy") and rng.random() < LATE_SHARE:
            delivered = happened + timedelta(seconds=rng.randint(30, 600))
        deliveries.append((delivered, n, SimEvent(topic, payload, delivered)))
        if rng.random() < DUPLICATE_SHARE:
            again = delivered + timedelta(seconds=rng.randint(1, 30))
            deliveries.append((again, n, SimEvent(topic, dict(payload), again)))
    deliveries.sort(key=lambda d: (d[0], d[1]))
    return [event for _, _, event in deliveries]
