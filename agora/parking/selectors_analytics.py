"""Car-park analytics for the operators (PARK-5) and the civic figures for the government
(PUB-8), plus the small reads the operators' pages and the gate displays need.

Days and hours are Asia/Shanghai days and hours (fixed UTC+08:00, no daylight saving, so a
day is always 24 hours of 3600 s). A range ``day_from``–``day_to`` is inclusive. Voided stays
(ghost reads an operator ended) are left out of every figure.

* **Occupancy by hour**: for every hour of every day, the average number of cars parked
  (car-seconds in the hour ÷ the seconds of the hour that have passed) and the peak (most
  cars at one instant); a stay runs from ``entered_at`` to ``exited_at`` (its close time
  when it has none; now while it is parked). Hour-of-day figures are the mean of the days'
  averages and the highest peak; their share is of the capacity (every space in service,
  reserved ones included, since renters' cars are counted too). Hours not begun yet are
  left out.
* **Turnover**: stays entered per space per day.
* **Stays**: the stays that left in the range (by exit time): count, mean, median, and how
  many fall in each length bucket.
* **Revenue**: paid ``SessionPayment`` amounts by pay channel and by day of payment.
* **Discounts** (coupon usage): ``SessionDiscount`` rows given in the range by kind: count,
  free minutes, money off.
* **Review queue**: items read in the range by status and kind, and those open now.
* **Ingest**: this car park's events received in the range by outcome; the ingest paths'
  global counters (``IngestCounter`` is not per car park).

Counts come from SQL aggregations (``TruncDate`` with the Asia/Shanghai zone, the same on
SQLite and PostgreSQL); occupancy is a sweep over the stays' intervals in Python, exact to the
microsecond (fractions, rounded half up only for display)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from agora.core.errors import FieldError, NotFound, ValidationFailed
from agora.lib.timeutil import SHANGHAI, to_local
from agora.parking.choices import (
    OPEN,
    DiscountKind,
    EventOutcome,
    PayChannel,
    ReviewKind,
    ReviewStatus,
    SessionStatus,
)
from agora.parking.models import (
    CarPark,
    Gate,
    IngestCounter,
    PageMessage,
    ParkingEvent,
    ParkingSession,
    ReviewItem,
    SessionDiscount,
    SessionPayment,
    Space,
    Tariff,
)

HOUR_US = 3600 * 1_000_000
MAX_RANGE_DAYS = 92
CHANNELS = [c.value for c in PayChannel]
DISCOUNT_KINDS = [k.value for k in DiscountKind]
#: stay-length buckets in minutes: [low, high)
STAY_BUCKETS: list[tuple[int, int | None]] = [
    (0, 30),
    (30, 60),
    (60, 120),
    (120, 240),
    (240, 480),
    (480, None),
]
_EPOCH = datetime(1970, 1, 1, tzinfo=SHANGHAI)


def _us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _dec(value: Fraction | int, places: int) -> Decimal:
    """A fraction rounded half up to ``places`` decimals, exactly."""
    q = Decimal(1).scaleb(-places)
    frac = Fraction(value)
    return (Decimal(frac.numerator) / Decimal(frac.denominator)).quantize(q, ROUND_HALF_UP)


def day_bounds(day_from: date, day_to: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day_from, time.min, tzinfo=SHANGHAI)
    end = datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=SHANGHAI)
    return start, end


def analytics_range(*, raw_from: str, raw_to: str, today: date) -> tuple[date, date]:
    """The range a page asked for (ISO dates); empty: the last 7 days up to ``today``.
    ValidationFailed names the bad field."""
    errors: list[FieldError] = []
    day_to, day_from = today, today - timedelta(days=6)
    try:
        if raw_to.strip():
            day_to = date.fromisoformat(raw_to.strip())
    except ValueError:
        errors.append(FieldError("to", "a date such as 2026-06-09", "invalid"))
    try:
        if raw_from.strip():
            day_from = date.fromisoformat(raw_from.strip())
        elif raw_to.strip():
            day_from = day_to - timedelta(days=6)
    except ValueError:
        errors.append(FieldError("from", "a date such as 2026-06-09", "invalid"))
    if not errors:
        if day_from > day_to:
            errors.append(FieldError("to", "on or after the first day", "range"))
        elif (day_to - day_from).days + 1 > MAX_RANGE_DAYS:
            errors.append(FieldError("to", f"at most {MAX_RANGE_DAYS} days", "too_long"))
    if errors:
        raise ValidationFailed(detail="the date range is invalid", errors=errors)
    return day_from, day_to


# --- figures ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class HourFigure:
    hour: int
    avg_cars: Decimal  # two decimals
    peak_cars: int
    avg_pct: Decimal  # one decimal, of the capacity
    peak_pct: Decimal
    days: int  # how many days had this hour (begun)


@dataclass(frozen=True)
class SlotFigure:
    avg_cars: Decimal
    peak_cars: int


@dataclass(frozen=True)
class DiscountFigure:
    kind: str
    count: int
    minutes: int
    fen: int


@dataclass(frozen=True)
class StayBucket:
    low: int  # minutes
    high: int | None
    count: int


@dataclass(frozen=True)
class DayFigure:
    day: date
    entries: int
    exits: int
    turnover: Decimal
    stays: int
    stay_avg_min: Decimal | None
    stay_median_min: Decimal | None
    revenue_fen: dict[str, int]  # every channel, in PayChannel order
    revenue_total_fen: int
    hours: list[SlotFigure | None]  # 24; None: the hour has not begun
    discounts: list[DiscountFigure]  # the kinds given that day, in DiscountKind order


@dataclass(frozen=True)
class IngestFigure:
    via: str
    outcome: str
    count: int
    last_at: datetime | None


@dataclass(frozen=True)
class ParkingAnalytics:
    car_park_id: int
    code: str
    day_from: date
    day_to: date
    capacity: int
    entries: int
    exits: int
    turnover: Decimal  # stays entered per space per day
    stays: int
    stay_avg_min: Decimal | None
    stay_median_min: Decimal | None
    stay_buckets: list[StayBucket]
    by_hour: list[HourFigure]  # 24, hours not begun on any day have days == 0
    peak_hours: list[HourFigure]  # the three busiest hours (average, then peak)
    revenue_fen: dict[str, int]
    revenue_total_fen: int
    days: list[DayFigure]
    discounts: list[DiscountFigure]  # every kind, in DiscountKind order
    reviews_by_status: dict[str, int]
    reviews_by_kind: dict[str, int]
    reviews_open_now: int
    events_by_outcome: dict[str, int]
    ingest: list[IngestFigure] = field(default_factory=list)

    @property
    def day_count(self) -> int:
        return (self.day_to - self.day_from).days + 1


def capacity_of(*, car_park_id: int) -> int:
    """Every space in service (reserved ones too: renters' cars are counted as parked)."""
    return Space.objects.filter(car_park_id=car_park_id, in_service=True).count()


def _counted(car_park: CarPark) -> QuerySet[ParkingSession]:
    return ParkingSession.objects.filter(car_park=car_park).exclude(status=SessionStatus.VOIDED)


def _by_day(qs: QuerySet[Any], stamp: str) -> dict[date, int]:
    rows = (
        qs.annotate(day=TruncDate(stamp, tzinfo=SHANGHAI))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["day"]: r["n"] for r in rows}


def _slots(
    car_park: CarPark, start: datetime, end: datetime, now: datetime
) -> tuple[list[Fraction], list[int]]:
    """Average cars and peak cars for each hour from ``start`` that has begun before ``end``
    and ``now``."""
    until = min(end, now)
    if until <= start:
        return [], []
    start_us, until_us = _us(start), _us(until)
    n = -(-(until_us - start_us) // HOUR_US)
    rows = (
        _counted(car_park)
        .filter(entered_at__lt=until)
        .filter(
            Q(exited_at__gt=start)
            | Q(exited_at__isnull=True, closed_at__gt=start)
            | Q(exited_at__isnull=True, closed_at__isnull=True)
        )
        .values_list("entered_at", "exited_at", "closed_at")
        .order_by()
    )
    net: dict[int, int] = defaultdict(int)
    for entered, exited, closed in rows:
        left = exited or closed
        s = max(_us(entered), start_us)
        e = min(_us(left), until_us) if left is not None else until_us
        if e > s:
            net[s] += 1
            net[e] -= 1
    areas = [0] * n
    peaks = [0] * n
    count, t, k = 0, start_us, 0
    slot_end = start_us + HOUR_US
    for te in sorted(net):
        while te >= slot_end and k < n - 1:
            areas[k] += count * (slot_end - t)
            t, k = slot_end, k + 1
            slot_end += HOUR_US
            peaks[k] = count
        areas[k] += count * (te - t)
        t = te
        count += net[te]
        if te == slot_end - HOUR_US:  # at the hour's first instant
            peaks[k] = count
        else:
            peaks[k] = max(peaks[k], count)
    while True:
        limit = min(slot_end, until_us)
        areas[k] += count * (limit - t)
        t = limit
        if k == n - 1:
            break
        k += 1
        slot_end += HOUR_US
        peaks[k] = count
    averages = []
    for i in range(n):
        length = min(start_us + (i + 1) * HOUR_US, until_us) - (start_us + i * HOUR_US)
        averages.append(Fraction(areas[i], length))
    return averages, peaks


def _median(values: list[Fraction]) -> Fraction:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def _stay_stats(minutes: list[Fraction]) -> tuple[Decimal | None, Decimal | None]:
    if not minutes:
        return None, None
    return _dec(sum(minutes, Fraction(0)) / len(minutes), 1), _dec(_median(minutes), 1)


def _pct(part: Fraction | int, whole: int) -> Decimal:
    return _dec(Fraction(part) * 100 / whole, 1) if whole else Decimal("0.0")


def car_park_analytics(
    *, car_park: CarPark, day_from: date, day_to: date, now: datetime | None = None
) -> ParkingAnalytics:
    """Every figure of the analytics page (see the module docstring) for the inclusive
    Asia/Shanghai range."""
    when = now or timezone.now()
    start, end = day_bounds(day_from, day_to)
    n_days = (day_to - day_from).days + 1
    days = [day_from + timedelta(days=i) for i in range(n_days)]
    capacity = capacity_of(car_park_id=car_park.pk)
    sessions = _counted(car_park)

    entries = _by_day(sessions.filter(entered_at__gte=start, entered_at__lt=end), "entered_at")
    exits = _by_day(sessions.filter(exited_at__gte=start, exited_at__lt=end), "exited_at")

    stays_by_day: dict[date, list[Fraction]] = defaultdict(list)
    for entered, exited in (
        sessions.filter(exited_at__gte=start, exited_at__lt=end)
        .values_list("entered_at", "exited_at")
        .order_by()
    ):
        if exited is None:  # filtered out above; for the type checker
            continue
        minutes = Fraction(_us(exited) - _us(entered), 60 * 1_000_000)
        stays_by_day[to_local(exited).date()].append(max(minutes, Fraction(0)))
    all_stays = [m for d in days for m in stays_by_day.get(d, [])]
    buckets = []
    for low, high in STAY_BUCKETS:
        buckets.append(
            StayBucket(
                low,
                high,
                sum(1 for m in all_stays if m >= low and (high is None or m < high)),
            )
        )

    revenue: dict[date, dict[str, int]] = defaultdict(dict)
    for rev in (
        SessionPayment.objects.filter(
            session__car_park=car_park, paid=True, paid_at__gte=start, paid_at__lt=end
        )
        .annotate(day=TruncDate("paid_at", tzinfo=SHANGHAI))
        .values("day", "channel")
        .annotate(fen=Sum("amount_fen"))
        .order_by()
    ):
        revenue[rev["day"]][rev["channel"]] = int(rev["fen"] or 0)

    discounts: dict[date, dict[str, DiscountFigure]] = defaultdict(dict)
    for disc in (
        SessionDiscount.objects.filter(
            session__car_park=car_park, created_at__gte=start, created_at__lt=end
        )
        .exclude(session__status=SessionStatus.VOIDED)
        .annotate(day=TruncDate("created_at", tzinfo=SHANGHAI))
        .values("day", "kind")
        .annotate(n=Count("id"), minutes=Sum("minutes"), fen=Sum("fen"))
        .order_by()
    ):
        discounts[disc["day"]][disc["kind"]] = DiscountFigure(
            disc["kind"], disc["n"], int(disc["minutes"] or 0), int(disc["fen"] or 0)
        )

    averages, peaks = _slots(car_park, start, end, when)

    day_figures = []
    for i, d in enumerate(days):
        hours: list[SlotFigure | None] = []
        for h in range(24):
            k = i * 24 + h
            hours.append(SlotFigure(_dec(averages[k], 2), peaks[k]) if k < len(averages) else None)
        by_channel = {c: revenue.get(d, {}).get(c, 0) for c in CHANNELS}
        avg, median = _stay_stats(stays_by_day.get(d, []))
        day_figures.append(
            DayFigure(
                day=d,
                entries=entries.get(d, 0),
                exits=exits.get(d, 0),
                turnover=_dec(Fraction(entries.get(d, 0), capacity), 2)
                if capacity
                else Decimal("0.00"),
                stays=len(stays_by_day.get(d, [])),
                stay_avg_min=avg,
                stay_median_min=median,
                revenue_fen=by_channel,
                revenue_total_fen=sum(by_channel.values()),
                hours=hours,
                discounts=[discounts[d][k] for k in DISCOUNT_KINDS if k in discounts.get(d, {})],
            )
        )

    by_hour = []
    for h in range(24):
        slots = [k for k in range(h, len(averages), 24)]
        if slots:
            mean = sum((averages[k] for k in slots), Fraction(0)) / len(slots)
            peak = max(peaks[k] for k in slots)
        else:
            mean, peak = Fraction(0), 0
        by_hour.append(
            HourFigure(
                h, _dec(mean, 2), peak, _pct(mean, capacity), _pct(peak, capacity), len(slots)
            )
        )
    peak_hours = sorted(
        (f for f in by_hour if f.days and (f.avg_cars or f.peak_cars)),
        key=lambda f: (-f.avg_cars, -f.peak_cars, f.hour),
    )[:3]

    totals_rev = {c: sum(f.revenue_fen[c] for f in day_figures) for c in CHANNELS}
    totals_disc = []
    for kind in DISCOUNT_KINDS:
        rows = [discounts[d][kind] for d in days if kind in discounts.get(d, {})]
        totals_disc.append(
            DiscountFigure(
                kind,
                sum(r.count for r in rows),
                sum(r.minutes for r in rows),
                sum(r.fen for r in rows),
            )
        )

    reviews = ReviewItem.objects.filter(
        car_park=car_park, occurred_at__gte=start, occurred_at__lt=end
    )
    by_status = {s.value: 0 for s in ReviewStatus}
    for st in reviews.values("status").annotate(n=Count("id")).order_by():
        by_status[st["status"]] = st["n"]
    by_kind = {k.value: 0 for k in ReviewKind}
    for kd in reviews.values("kind").annotate(n=Count("id")).order_by():
        by_kind[kd["kind"]] = kd["n"]
    events = {o.value: 0 for o in EventOutcome}
    for ev in (
        ParkingEvent.objects.filter(car_park=car_park, received_at__gte=start, received_at__lt=end)
        .values("outcome")
        .annotate(n=Count("id"))
        .order_by()
    ):
        events[ev["outcome"]] = ev["n"]
    total_entries = sum(entries.get(d, 0) for d in days)
    avg, median = _stay_stats(all_stays)
    return ParkingAnalytics(
        car_park_id=car_park.pk,
        code=car_park.code,
        day_from=day_from,
        day_to=day_to,
        capacity=capacity,
        entries=total_entries,
        exits=sum(exits.get(d, 0) for d in days),
        turnover=(
            _dec(Fraction(total_entries, capacity * n_days), 2) if capacity else Decimal("0.00")
        ),
        stays=len(all_stays),
        stay_avg_min=avg,
        stay_median_min=median,
        stay_buckets=buckets,
        by_hour=by_hour,
        peak_hours=peak_hours,
        revenue_fen=totals_rev,
        revenue_total_fen=sum(totals_rev.values()),
        days=day_figures,
        discounts=totals_disc,
        reviews_by_status=by_status,
        reviews_by_kind=by_kind,
        reviews_open_now=ReviewItem.objects.filter(
            car_park=car_park, status=ReviewStatus.OPEN
        ).count(),
        events_by_outcome=events,
        ingest=[
            IngestFigure(c.via, c.outcome, c.count, c.last_at)
            for c in IngestCounter.objects.order_by("via", "outcome")
        ],
    )


# --- CSV --------------------------------------------------------------------------------------
CSV_HEADER = ["日期 day", "指标 metric", "维度 dimension", "数值 value"]


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}"


def analytics_csv(analytics: ParkingAnalytics) -> str:
    """The figures as CSV text (RFC 4180, CRLF line ends), in long form: one row per day per
    metric (per dimension), days in order, metrics in this order:

    ===================  =====================  ================================================
    metric               dimension              value
    ===================  =====================  ================================================
    entries              —                      stays entered that day
    exits                —                      stays that left that day
    turnover             —                      entries per space (two decimals)
    stays                —                      stays that left that day (as in the stay figures)
    stay_avg_min         —                      mean stay in minutes (one decimal; empty: none)
    stay_median_min      —                      median stay in minutes (one decimal; empty: none)
    revenue_yuan         app, exit_qr,          paid that day on the channel, and in all (yuan,
                         frictionless, total    two decimals)
    discount_count       kind                   discounts given that day (only kinds given)
    discount_minutes     kind                   their free minutes
    discount_yuan        kind                   their money off (yuan, two decimals)
    occupancy_avg        hour 00–23             average cars parked in the hour (two decimals)
    occupancy_peak       hour 00–23             most cars parked at once in the hour
    ===================  =====================  ================================================

    Hours not begun yet have no occupancy rows. The header is bilingual; the file is UTF-8
    (the view adds the BOM for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for d in analytics.days:
        day = d.day.isoformat()

        def row(metric: str, dimension: str, value: object, day: str = day) -> None:
            writer.writerow([day, metric, dimension, "" if value is None else str(value)])

        row("entries", "", d.entries)
        row("exits", "", d.exits)
        row("turnover", "", d.turnover)
        row("stays", "", d.stays)
        row("stay_avg_min", "", d.stay_avg_min)
        row("stay_median_min", "", d.stay_median_min)
        for channel in CHANNELS:
            row("revenue_yuan", channel, _yuan(d.revenue_fen[channel]))
        row("revenue_yuan", "total", _yuan(d.revenue_total_fen))
        for disc in d.discounts:
            row("discount_count", disc.kind, disc.count)
            row("discount_minutes", disc.kind, disc.minutes)
            row("discount_yuan", disc.kind, _yuan(disc.fen))
        for hour, slot in enumerate(d.hours):
            if slot is not None:
                row("occupancy_avg", f"{hour:02d}", slot.avg_cars)
        for hour, slot in enumerate(d.hours):
            if slot is not None:
                row("occupancy_peak", f"{hour:02d}", slot.peak_cars)
    return buffer.getvalue()


# --- government: civic figures only (no plates, no money) -------------------------------------
@dataclass(frozen=True)
class DistrictFlow:
    day: date
    entries: list[int]  # 24, by hour of entry
    exits: list[int]  # 24, by hour of exit
    parked_now: int

    @property
    def entries_total(self) -> int:
        return sum(self.entries)

    @property
    def exits_total(self) -> int:
        return sum(self.exits)


def district_flow(*, district_id: int, day: date | None = None) -> DistrictFlow:
    """Vehicles in and out per hour of ``day`` (today) across the district's car parks, and
    how many are parked now: counts only."""
    the_day = day or timezone.localdate()
    start, end = day_bounds(the_day, the_day)
    rows = ParkingSession.objects.filter(car_park__district_id=district_id).exclude(
        status=SessionStatus.VOIDED
    )

    def per_hour(stamp: str) -> list[int]:
        out = [0] * 24
        for r in (
            rows.filter(**{f"{stamp}__gte": start, f"{stamp}__lt": end})
            .annotate(hour=ExtractHour(stamp, tzinfo=SHANGHAI))
            .values("hour")
            .annotate(n=Count("id"))
            .order_by()
        ):
            out[int(r["hour"])] = r["n"]
        return out

    return DistrictFlow(
        day=the_day,
        entries=per_hour("entered_at"),
        exits=per_hour("exited_at"),
        parked_now=rows.filter(status__in=OPEN).count(),
    )


# --- reads for the operators' pages and the gate displays -------------------------------------
def stays_open(*, car_park: CarPark) -> QuerySet[ParkingSession]:
    """The cars in the car park now, newest first, ready for ``session_quote``."""
    return (
        ParkingSession.objects.filter(car_park=car_park, status__in=OPEN)
        .select_related("car_park", "space", "floor", "tariff", "entry_gate")
        .prefetch_related("discounts")
        .order_by("-entered_at", "-id")
    )


def session_of_car_park(*, car_park: CarPark, session_id: int) -> ParkingSession:
    row = (
        ParkingSession.objects.filter(car_park=car_park, pk=session_id)
        .select_related("car_park")
        .first()
    )
    if row is None:
        raise NotFound(detail="no such parking session")
    return row


def sessions_by_id(*, car_park: CarPark, ids: list[int]) -> dict[int, ParkingSession]:
    rows = ParkingSession.objects.filter(car_park=car_park, pk__in=ids).select_related(
        "space", "floor", "entry_gate"
    )
    return {r.pk: r for r in rows}


def tariffs_of(*, car_park: CarPark) -> QuerySet[Tariff]:
    return (
        Tariff.objects.filter(car_park=car_park).select_related("created_by").order_by("-version")
    )


def pages_of(*, car_park: CarPark, limit: int = 50) -> list[PageMessage]:
    return list(
        PageMessage.objects.filter(car_park=car_park)
        .select_related("sent_by")
        .prefetch_related("deliveries")
        .order_by("-created_at", "-id")[:limit]
    )


def gate_of(*, car_park: CarPark, code: str) -> Gate:
    row = Gate.objects.filter(car_park=car_park, code=code).select_related("floor").first()
    if row is None:
        raise NotFound(detail="no such gate")
    return row


def last_exit_at(*, gate: Gate, since: datetime) -> ParkingSession | None:
    """The last car that reached this exit gate from ``since`` on."""
    return (
        ParkingSession.objects.filter(exit_gate=gate, exited_at__gte=since)
        .exclude(status=SessionStatus.VOIDED)
        .select_related("car_park", "tariff")
        .prefetch_related("discounts")
        .order_by("-exited_at", "-id")
        .first()
    )
