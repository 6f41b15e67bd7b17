"""Car-park analytics (``agora.parking.selectors_analytics``) on a small fixed day at 万象城's
car park (``mixc-p``, 44 spaces in service), built through the device ingest with fixed times:

=====  ==========  ===============  ===============  ==================================
stay   plate       in               out              paid
=====  ==========  ===============  ===============  ==================================
A      粤S10001    06-09 09:00      06-09 11:00      exit QR 16.00 at 11:01
B      粤S10002    06-09 09:30      06-09 10:10      in the app 4.00 at 10:00 (grace)
C      粤S10003    06-09 10:00      06-09 13:00      frictionless 8.00 (gold: 120 min free)
D      粤S10004    06-09 23:30      06-10 00:30      not paid (night units, 2.00 due)
E      粤S10005    06-10 08:00      (parked)
=====  ==========  ===============  ===============  ==================================

plus an exit read of 粤S19999 (no entry) at 06-09 14:00, sent to review. Every figure is
checked exactly; occupancy is worked out by hand in the comments."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest

from agora.checkout.services.agreements import agreement_sign
from agora.lib.timeutil import SHANGHAI
from agora.parking.choices import EventVia, SessionStatus
from agora.parking.models import CarPark, ParkingSession
from agora.parking.selectors_analytics import (
    CSV_HEADER,
    analytics_csv,
    analytics_range,
    car_park_analytics,
    district_flow,
)
from agora.parking.services.charging import session_pay
from agora.parking.services.ingest import event_ingest
from agora.parking.services.shopper import vehicle_bind, vehicle_frictionless
from agora.testing.personas import user

pytestmark = pytest.mark.django_db

DAY1 = date(2026, 6, 9)  # a Tuesday
DAY2 = date(2026, 6, 10)
SHOPPER = "13800000001"  # a gold member of the demo


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI)


def read(gate: str, plate: str, when: datetime, event_id: str, car_park: str = "mixc-p") -> str:
    """A plate read at a gate, received when it happened; returns the outcome."""
    result = event_ingest(
        payload={
            "event_id": event_id,
            "plate": plate,
            "at": when.isoformat(),
            "confidence": 0.98,
            "source": "video",
        },
        topic=f"agora/parking/{car_park}/gate/{gate}/plate",
        via=EventVia.SIMULATOR,
        received_at=when,
    )
    return result.outcome


def stay(plate: str) -> ParkingSession:
    return ParkingSession.objects.select_related("car_park").get(plate=plate)


def pay(plate: str, channel: str, when: datetime) -> None:
    session_pay(
        actor=None,
        session=stay(plate),
        method="cash",
        channel=channel,
        key=f"t-{plate}-{channel}",
        now=when,
    )


@dataclass
class Scenario:
    car_park: CarPark
    a: ParkingSession
    b: ParkingSession
    c: ParkingSession
    d: ParkingSession
    e: ParkingSession


def build_scenario() -> Scenario:
    shopper = user(SHOPPER)
    vehicle = vehicle_bind(user=shopper, plate="粤S10003")
    agreement = agreement_sign(user=shopper, method="wechat")
    vehicle_frictionless(user=shopper, vehicle_id=vehicle.pk, agreement_id=agreement.pk)
    assert read("E1", "粤S10001", at(DAY1, 9), "t-an-a-in") == "applied"
    assert read("E1", "粤S10002", at(DAY1, 9, 30), "t-an-b-in") == "applied"
    pay("粤S10002", "app", at(DAY1, 10))
    assert read("E1", "粤S10003", at(DAY1, 10), "t-an-c-in") == "applied"
    assert read("X1", "粤S10002", at(DAY1, 10, 10), "t-an-b-out") == "applied"
    assert read("X1", "粤S10001", at(DAY1, 11), "t-an-a-out") == "applied"
    pay("粤S10001", "exit_qr", at(DAY1, 11, 1))
    assert read("X1", "粤S10003", at(DAY1, 13), "t-an-c-out") == "applied"
    assert read("X1", "粤S19999", at(DAY1, 14), "t-an-ghost-out") == "review"
    assert read("E1", "粤S10004", at(DAY1, 23, 30), "t-an-d-in") == "applied"
    assert read("X1", "粤S10004", at(DAY2, 0, 30), "t-an-d-out") == "applied"
    assert read("E1", "粤S10005", at(DAY2, 8), "t-an-e-in") == "applied"
    s = Scenario(
        CarPark.objects.get(code="mixc-p"),
        stay("粤S10001"),
        stay("粤S10002"),
        stay("粤S10003"),
        stay("粤S10004"),
        stay("粤S10005"),
    )
    assert [x.status for x in (s.a, s.b, s.c, s.d, s.e)] == [
        SessionStatus.CLOSED,
        SessionStatus.CLOSED,
        SessionStatus.CLOSED,
        SessionStatus.AWAITING_PAYMENT,
        SessionStatus.PARKED,
    ]
    # B is priced 6.00 for 40 minutes but paid 4.00 at 10:00 and left within the grace period
    assert [x.fee_fen for x in (s.a, s.b, s.c, s.d)] == [1600, 600, 800, 200]
    assert [x.paid_fen for x in (s.a, s.b, s.c, s.d)] == [1600, 400, 800, 0]
    return s


#: 06-09 by hour: (average cars, peak cars). 09: A all hour, B from 09:30 → 1.5, peak 2;
#: 10: A all hour, B until 10:10, C from 10:00 → 2 + 1/6, peak 3 (A, B and C at 10:00);
#: 11 and 12: C only (A left at 11:00 sharp, so it is not in hour 11); 13: C left at 13:00;
#: 23: D from 23:30.
DAY1_HOURS = {9: ("1.50", 2), 10: ("2.17", 3), 11: ("1.00", 1), 12: ("1.00", 1), 23: ("0.50", 1)}


def expected_csv_rows() -> list[list[str]]:
    day = DAY1.isoformat()
    rows = [
        CSV_HEADER,
        [day, "entries", "", "4"],
        [day, "exits", "", "3"],
        [day, "turnover", "", "0.09"],  # 4 entries / 44 spaces
        [day, "stays", "", "3"],
        [day, "stay_avg_min", "", "113.3"],  # (120 + 40 + 180) / 3
        [day, "stay_median_min", "", "120.0"],
        [day, "revenue_yuan", "app", "4.00"],
        [day, "revenue_yuan", "exit_qr", "16.00"],
        [day, "revenue_yuan", "frictionless", "8.00"],
        [day, "revenue_yuan", "total", "28.00"],
        [day, "discount_count", "tier", "1"],
        [day, "discount_minutes", "tier", "120"],
        [day, "discount_yuan", "tier", "0.00"],
    ]
    rows += [
        [day, "occupancy_avg", f"{h:02d}", DAY1_HOURS.get(h, ("0.00", 0))[0]] for h in range(24)
    ]
    rows += [
        [day, "occupancy_peak", f"{h:02d}", str(DAY1_HOURS.get(h, ("0.00", 0))[1])]
        for h in range(24)
    ]
    return rows


def test_one_day_figures_are_exact() -> None:
    s = build_scenario()
    a = car_park_analytics(car_park=s.car_park, day_from=DAY1, day_to=DAY1)
    assert (a.capacity, a.entries, a.exits, a.stays) == (44, 4, 3, 3)
    assert a.turnover == Decimal("0.09")
    assert (a.stay_avg_min, a.stay_median_min) == (Decimal("113.3"), Decimal("120.0"))
    assert [(b.low, b.high, b.count) for b in a.stay_buckets] == [
        (0, 30, 0),
        (30, 60, 1),  # B, 40 min
        (60, 120, 0),
        (120, 240, 2),  # A 120 min, C 180 min
        (240, 480, 0),
        (480, None, 0),
    ]
    assert a.revenue_fen == {"app": 400, "exit_qr": 1600, "frictionless": 800}
    assert a.revenue_total_fen == 2800
    assert [(d.kind, d.count, d.minutes, d.fen) for d in a.discounts] == [
        ("coupon", 0, 0, 0),
        ("tier", 1, 120, 0),
        ("spend", 0, 0, 0),
        ("points", 0, 0, 0),
        ("reservation", 0, 0, 0),
    ]
    hours = {h.hour: (str(h.avg_cars), h.peak_cars) for h in a.by_hour if h.avg_cars or h.peak_cars}
    assert hours == DAY1_HOURS
    ten = a.by_hour[10]
    assert (ten.avg_pct, ten.peak_pct, ten.days) == (Decimal("4.9"), Decimal("6.8"), 1)
    assert [h.hour for h in a.peak_hours] == [10, 9, 11]
    assert a.reviews_by_status == {"open": 1, "matched": 0, "dismissed": 0}
    assert a.reviews_by_kind["exit_without_entry"] == 1
    assert sum(a.reviews_by_kind.values()) == 1
    assert a.reviews_open_now == 1
    # eight reads received that day: seven applied, one sent to review
    assert a.events_by_outcome == {"applied": 7, "stale": 0, "review": 1, "rejected": 0}
    assert {(c.via, c.outcome) for c in a.ingest} >= {
        ("simulator", "applied"),
        ("simulator", "review"),
    }
    (day,) = a.days
    assert (day.entries, day.exits, day.stays) == (4, 3, 3)
    assert day.revenue_fen == {"app": 400, "exit_qr": 1600, "frictionless": 800}


def test_two_days_average_the_hours_and_stop_at_now() -> None:
    s = build_scenario()
    a = car_park_analytics(car_park=s.car_park, day_from=DAY1, day_to=DAY2)
    assert (a.entries, a.exits, a.stays) == (5, 4, 4)
    assert a.turnover == Decimal("0.06")  # 5 / (44 × 2)
    # D (60 min) left on 06-10: stays 40, 60, 120, 180 → mean 100, median 90
    assert (a.stay_avg_min, a.stay_median_min) == (Decimal("100.0"), Decimal("90.0"))
    assert [d.exits for d in a.days] == [3, 1]
    assert [d.stay_median_min for d in a.days] == [Decimal("120.0"), Decimal("60.0")]
    # 00: D until 00:30 on day 2 → (0 + 0.5) / 2; 09: (1.5 + E 1.0) / 2, peak 2
    assert (a.by_hour[0].avg_cars, a.by_hour[0].peak_cars) == (Decimal("0.25"), 1)
    assert (a.by_hour[9].avg_cars, a.by_hour[9].peak_cars) == (Decimal("1.25"), 2)
    # E stays parked to the end of the range
    assert (a.by_hour[23].avg_cars, a.by_hour[23].peak_cars) == (Decimal("0.75"), 1)
    assert a.days[1].hours[23] is not None and a.days[1].hours[23].avg_cars == Decimal("1.00")

    # at 12:30 on day 2, its later hours have not begun: left out, not counted as empty
    noon = car_park_analytics(car_park=s.car_park, day_from=DAY1, day_to=DAY2, now=at(DAY2, 12, 30))
    second = noon.days[1]
    assert second.hours[12] is not None and second.hours[12].avg_cars == Decimal("1.00")
    assert second.hours[13] is None
    assert (noon.by_hour[12].days, noon.by_hour[13].days) == (2, 1)
    assert noon.by_hour[23].avg_cars == Decimal("0.50")  # day 1 only
    assert noon.by_hour[12].avg_cars == Decimal("1.00")  # C on day 1, E on day 2


def test_voided_stays_are_left_out() -> None:
    s = build_scenario()
    ParkingSession.objects.filter(pk=s.e.pk).update(
        status=SessionStatus.VOIDED, closed_at=at(DAY2, 9)
    )
    a = car_park_analytics(car_park=s.car_park, day_from=DAY2, day_to=DAY2)
    assert a.entries == 0
    assert a.by_hour[8].avg_cars == Decimal("0.00")


def test_csv_has_one_row_per_day_and_metric() -> None:
    s = build_scenario()
    text = analytics_csv(car_park_analytics(car_park=s.car_park, day_from=DAY1, day_to=DAY1))
    assert text.endswith("\r\n")
    assert list(csv.reader(io.StringIO(text))) == expected_csv_rows()


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "expected"),
    [
        ("", "", (date(2026, 6, 4), date(2026, 6, 10))),
        ("2026-06-01", "2026-06-03", (date(2026, 6, 1), date(2026, 6, 3))),
        ("", "2026-06-03", (date(2026, 5, 28), date(2026, 6, 3))),
    ],
)
def test_range_defaults_to_the_last_seven_days(
    raw_from: str, raw_to: str, expected: tuple[date, date]
) -> None:
    assert analytics_range(raw_from=raw_from, raw_to=raw_to, today=DAY2) == expected


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "field"),
    [
        ("2026-06-10", "2026-06-09", "to"),
        ("2026-01-01", "2026-06-09", "to"),
        ("yesterday", "", "from"),
        ("", "2026-13-01", "to"),
    ],
)
def test_bad_ranges_name_the_field(raw_from: str, raw_to: str, field: str) -> None:
    from agora.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        analytics_range(raw_from=raw_from, raw_to=raw_to, today=DAY2)
    assert [e.field for e in caught.value.errors] == [field]


def test_district_flow_counts_entries_and_exits_per_hour() -> None:
    s = build_scenario()
    flow = district_flow(district_id=s.car_park.district_id, day=DAY1)
    expected_in = [0] * 24
    expected_in[9], expected_in[10], expected_in[23] = 2, 1, 1
    expected_out = [0] * 24
    expected_out[10], expected_out[11], expected_out[13] = 1, 1, 1
    assert (flow.entries, flow.exits) == (expected_in, expected_out)
    assert (flow.entries_total, flow.exits_total) == (4, 3)
    open_now = ParkingSession.objects.filter(
        car_park__district_id=s.car_park.district_id,
        status__in=[SessionStatus.PARKED, SessionStatus.AWAITING_PAYMENT],
    ).count()
    assert flow.parked_now == open_now
