"""The parking fee (agora.parking.fees): a table of hand-computed stays, one or more per rule of
the module docstring, the errors, and hypothesis invariants. No database.

Calendar used throughout: 2026-03-02 is a Monday, 2026-03-06 Friday, 2026-03-07 Saturday,
2026-03-08 Sunday. Times are Asia/Shanghai unless a case says otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.parking.fees import (
    Fee,
    FeeLine,
    TariffRule,
    fee_to_dict,
    parking_fee,
    weekend,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")

# ¥5 an hour by day, ¥2 an hour at night (22:00-07:00), a night costs at most ¥10, any 24 hours
# from entry at most ¥40, the first 30 minutes free; rest days cost the same as weekdays.
STANDARD = TariffRule(
    free_minutes=30,
    unit_minutes=60,
    day_unit_fen=500,
    night_unit_fen=200,
    night_start=time(22),
    night_end=time(7),
    night_cap_fen=1000,
    day_cap_fen=4000,
    holiday_unit_fen=0,
    holiday_cap_fen=0,
)
# STANDARD with ¥8 an hour by day on rest days and ¥60 for a 24-hour window starting on one.
HOLIDAY = replace(STANDARD, holiday_unit_fen=800, holiday_cap_fen=6000)
# Quarter hours: ¥1.50 by day, ¥1 at night, 15 minutes free, no caps.
QUARTER = replace(
    STANDARD,
    free_minutes=15,
    unit_minutes=15,
    day_unit_fen=150,
    night_unit_fen=100,
    night_cap_fen=0,
    day_cap_fen=0,
)
# ¥3 an hour around the clock: no night period, no caps, nothing free.
FLAT = TariffRule(
    free_minutes=0,
    unit_minutes=60,
    day_unit_fen=300,
    night_unit_fen=0,
    night_start=None,
    night_end=None,
    night_cap_fen=0,
    day_cap_fen=0,
    holiday_unit_fen=0,
    holiday_cap_fen=0,
)
# A night that does not wrap midnight: 00:00-06:00 at ¥1 an hour, at most ¥3; ¥4 an hour by day.
EARLY = replace(
    FLAT,
    day_unit_fen=400,
    night_unit_fen=100,
    night_start=time(0),
    night_end=time(6),
    night_cap_fen=300,
)


def at(text: str, tz: tzinfo = SHANGHAI) -> datetime:
    """``"03-02 10:00"`` (or with seconds) as an aware datetime in 2026."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(f"2026-{text}", fmt).replace(tzinfo=tz)


def only_wednesday(d: date) -> bool:
    return d == date(2026, 3, 4)


def never(d: date) -> bool:
    return False


@dataclass(frozen=True)
class Case:
    rule: TariffRule
    entered: datetime
    left: datetime
    total: int
    gross: int
    discount: int = 0
    rest_day: Callable[[date], bool] = weekend


CASES = {
    # Rule 2: 30 minutes exactly is within the free 30 minutes.
    "within_free_minutes": Case(STANDARD, at("03-02 10:00"), at("03-02 10:30"), 0, 0),
    # Rule 2: 31 minutes is charged from entry: one unit starting 10:00 by day = 500.
    "one_minute_over_free": Case(STANDARD, at("03-02 10:00"), at("03-02 10:31"), 500, 500),
    # Rule 1/2: durations are exact, one second over the free time is charged: 500.
    "one_second_over_free": Case(STANDARD, at("03-02 10:00"), at("03-02 10:30:01"), 500, 500),
    # Rule 2 with a discount: a 20-minute stay is free, the coupon is not even used.
    "free_minutes_before_discount": Case(
        STANDARD, at("03-02 10:00"), at("03-02 10:20"), 0, 0, discount=120
    ),
    # Rule 4: two whole hours are exactly two units (10:00, 11:00) = 2 x 500.
    "exact_unit_boundary": Case(STANDARD, at("03-02 10:00"), at("03-02 12:00"), 1000, 1000),
    # Rule 4: one second into the third hour starts a third unit = 3 x 500.
    "second_past_unit_boundary": Case(
        STANDARD, at("03-02 10:00"), at("03-02 12:00:01"), 1500, 1500
    ),
    # Rule 4, 15-minute units: 40 minutes = units at 10:00, 10:15, 10:30 = 3 x 150.
    "quarter_hour_units": Case(QUARTER, at("03-02 10:00"), at("03-02 10:40"), 450, 450),
    # Rule 4, 15-minute units into the night: 21:30, 21:45 by day (2 x 150), 22:00, 22:15 at
    # night (2 x 100) = 500.
    "quarter_hours_into_night": Case(QUARTER, at("03-02 21:30"), at("03-02 22:20"), 500, 500),
    # Rule 4, hourly into the night: 20:30, 21:30 by day (2 x 500), 22:30 at night (200).
    "hourly_crossing_into_night": Case(STANDARD, at("03-02 20:30"), at("03-02 23:10"), 1200, 1200),
    # Rule 4: the price is set by the unit's start: one unit from 21:50, mostly at night, is a
    # day unit = 500.
    "unit_priced_at_its_start": Case(STANDARD, at("03-02 21:50"), at("03-02 22:40"), 500, 500),
    # Rule 5: 22:00-07:00 is 9 night units = 1800, capped at 1000 for the night.
    "whole_night_night_cap": Case(STANDARD, at("03-02 22:00"), at("03-03 07:00"), 1000, 1800),
    # Rule 4/5, wrap-around: 22:00 Mon-04:00 Tue is ONE night (6 x 200 = 1200, capped 1000);
    # split at midnight it would be 400 + 800, under the cap.
    "night_wraps_midnight": Case(STANDARD, at("03-02 22:00"), at("03-03 04:00"), 1000, 1200),
    # Rule 5 with a night that does not wrap (00:00-06:00): Mon 22:00, 23:00 by day (800),
    # 00:00-05:00 six night units (600 capped 300), 06:00, 07:00 by day (800) = 1900.
    "night_not_wrapping": Case(EARLY, at("03-02 22:00"), at("03-03 08:00"), 1900, 2200),
    # Rule 6, 30 hours Mon 09:00-Tue 15:00: window [Mon 09:00, Tue 09:00) holds 13 day units
    # (6500), a night (1800 -> 1000) and Tue 07:00, 08:00 (1000) -> capped 4000; window
    # [Tue 09:00, ...) holds 09:00-14:00 = 6 x 500 = 3000. Total 7000; gross 12300.
    "overnight_30h_daily_caps": Case(STANDARD, at("03-02 09:00"), at("03-03 15:00"), 7000, 12300),
    # Rules 5/6, Mon 22:00-Wed 07:00: night 1 (1800 -> 1000) + Tue 07:00-21:00 (15 x 500) in
    # window 1 -> capped 4000; night 2 (1800 -> 1000) in window 2. Total 5000; gross 11100.
    "two_nights_and_a_day": Case(STANDARD, at("03-02 22:00"), at("03-04 07:00"), 5000, 11100),
    # Rule 6, three whole days from Mon 10:00: each 24 hours holds 15 day units and a night
    # (9300 gross) and is capped at 4000: 3 x 4000 = 12000; gross 3 x 9300 = 27900.
    "three_days": Case(STANDARD, at("03-02 10:00"), at("03-05 10:00"), 12000, 27900),
    # Rules 5/6 together: Tue 03:00-Wed 05:00. Night A 03:00-06:00 (800), Tue 07:00-21:00 (7500)
    # and night B's first 5 units (1000, its cap) fill window 1 to its 4000 cap; night B's units
    # Wed 03:00, 04:00 in window 2 are free since that night reached its cap. Total 4000.
    "night_split_by_24h_window": Case(STANDARD, at("03-03 03:00"), at("03-04 05:00"), 4000, 9700),
    # Rule 4: a Saturday without a holiday price is charged at the day price: 3 x 500.
    "rest_day_without_holiday_price": Case(
        STANDARD, at("03-07 10:00"), at("03-07 13:00"), 1500, 1500
    ),
    # Rule 6: a window starting on a Saturday without a holiday cap uses the day cap:
    # 12 x 500 = 6000 capped 4000.
    "rest_day_window_without_holiday_cap": Case(
        STANDARD, at("03-07 08:00"), at("03-07 20:00"), 4000, 6000
    ),
    # Rule 4: Saturday day units at the holiday price: 3 x 800.
    "holiday_rate": Case(HOLIDAY, at("03-07 10:00"), at("03-07 13:00"), 2400, 2400),
    # Rule 6: 13 Saturday units (10400) in a window starting on Saturday: holiday cap 6000.
    "holiday_cap": Case(HOLIDAY, at("03-07 08:00"), at("03-07 21:00"), 6000, 10400),
    # Rule 6: a window that starts on Friday 20:00 uses the DAY cap although most of it is
    # Saturday: Fri 20:00, 21:00 (1000) + night (1800 -> 1000) + 13 Saturday units (10400)
    # -> 4000. Gross 13200.
    "window_from_friday_uses_day_cap": Case(
        HOLIDAY, at("03-06 20:00"), at("03-07 20:00"), 4000, 13200
    ),
    # Rules 4/6: Sun 20:00, 21:00 holiday (1600) + night (1800 -> 1000) + Mon 07:00, 08:00 day
    # (1000) = 3600 under the holiday cap 6000; night units on a Sunday are night units.
    "sunday_into_monday": Case(HOLIDAY, at("03-08 20:00"), at("03-09 09:00"), 3600, 4400),
    # Rule 4 with a calendar: Wednesday 2026-03-04 declared a rest day: 2 x 800.
    "custom_rest_day": Case(
        HOLIDAY, at("03-04 10:00"), at("03-04 12:00"), 1600, 1600, rest_day=only_wednesday
    ),
    # Rule 4 with a calendar: a working Saturday is charged at the day price: 2 x 500.
    "working_saturday": Case(
        HOLIDAY, at("03-07 10:00"), at("03-07 12:00"), 1000, 1000, rest_day=never
    ),
    # Rule 3: a 2-hour coupon on a 3.5-hour stay charges 12:00-13:30: 2 units = 1000.
    "coupon_shorter_than_stay": Case(
        STANDARD, at("03-02 10:00"), at("03-02 13:30"), 1000, 1000, discount=120
    ),
    # Rule 3: a 2-hour coupon on a 1.5-hour stay leaves nothing to charge.
    "coupon_longer_than_stay": Case(
        STANDARD, at("03-02 10:00"), at("03-02 11:30"), 0, 0, discount=120
    ),
    # Rule 3: a 2-hour coupon on exactly 2 hours: the charged interval is empty.
    "coupon_equal_to_stay": Case(
        STANDARD, at("03-02 10:00"), at("03-02 12:00"), 0, 0, discount=120
    ),
    # Rule 3/4: the coupon moves the start to 22:30, so the one unit is a night unit (200);
    # without it: 20:30, 21:30 by day + 22:30 at night = 1200.
    "coupon_moves_start_into_night": Case(
        STANDARD, at("03-02 20:30"), at("03-02 23:30"), 200, 200, discount=120
    ),
    # Rule 6: windows count from entry, not from the discounted start. Mon 09:00-Tue 11:00 with
    # 2 hours off charges Mon 11:00-Tue 11:00: window [Mon 09:00, Tue 09:00) holds Mon
    # 11:00-21:00 (5500), the night (1000), Tue 07:00, 08:00 -> 4000; window 2 holds Tue 09:00,
    # 10:00 = 1000. Total 5000 (from the discounted start it would be one window: 4000).
    "discount_keeps_windows_from_entry": Case(
        STANDARD, at("03-02 09:00"), at("03-03 11:00"), 5000, 9300, discount=120
    ),
    # Rule 1: instants given in UTC are read in Shanghai: 13:30Z-15:30Z is 21:30-23:30 local:
    # 21:30 by day (500) + 22:30 at night (200). (Read as UTC it would be 2 x 500.)
    "utc_instants_read_in_shanghai": Case(
        STANDARD, at("03-02 13:30", UTC), at("03-02 15:30", UTC), 700, 700
    ),
    # Rule 1, DST is irrelevant: New York's clocks jump at 02:00 on Sun 2026-03-08, so its wall
    # clock shows 6 hours from Sat 23:00 to Sun 05:00, but 5 hours passed (Sun 12:00-17:00 in
    # Shanghai, a rest day at the day price): 5 x 500.
    "dst_elsewhere_irrelevant": Case(
        STANDARD, at("03-07 23:00", NEW_YORK), at("03-08 05:00", NEW_YORK), 2500, 2500
    ),
    # No night period: Mon 20:00-Tue 02:00 is 6 hours at 300 = 1800.
    "no_night_period": Case(FLAT, at("03-02 20:00"), at("03-03 02:00"), 1800, 1800),
    # Rule 2: leaving when entering is free even with no free minutes (0 <= 0).
    "leaving_when_entering": Case(FLAT, at("03-02 10:00"), at("03-02 10:00"), 0, 0),
    # Rule 4 with no free minutes: one second is one started unit = 300.
    "one_second_no_free_minutes": Case(FLAT, at("03-02 10:00"), at("03-02 10:00:01"), 300, 300),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fee_table(case: Case) -> None:
    fee = parking_fee(
        case.rule,
        case.entered,
        case.left,
        rest_day=case.rest_day,
        discount_minutes=case.discount,
    )
    assert (fee.total_fen, fee.gross_fen) == (case.total, case.gross)
    assert fee.capped == (case.total < case.gross)
    assert sum(line.fen for line in fee.lines) == fee.gross_fen


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 25


def test_full_fee_of_a_capped_stay_across_kinds() -> None:
    fee = parking_fee(HOLIDAY, at("03-06 20:00"), at("03-07 20:00"))
    assert fee == Fee(
        total_fen=4000,
        gross_fen=13200,
        stay_minutes=1440,
        free_minutes_used=0,
        charged_minutes=1440,
        lines=(
            FeeLine("day", 2, 1000),
            FeeLine("night", 9, 1800),
            FeeLine("holiday", 13, 10400),
        ),
        capped=True,
    )
    assert fee_to_dict(fee) == {
        "total_fen": 4000,
        "gross_fen": 13200,
        "stay_minutes": 1440,
        "free_minutes_used": 0,
        "charged_minutes": 1440,
        "lines": [
            {"kind": "day", "units": 2, "fen": 1000},
            {"kind": "night", "units": 9, "fen": 1800},
            {"kind": "holiday", "units": 13, "fen": 10400},
        ],
        "capped": True,
    }


def test_minutes_of_a_discounted_stay() -> None:
    # 3 h 30 min 59 s with a 2-hour coupon: 210 whole minutes, 120 of them free, 90 charged
    # (12:00-13:30:59 is two started hours).
    fee = parking_fee(STANDARD, at("03-02 10:00"), at("03-02 13:30:59"), discount_minutes=120)
    assert fee == Fee(1000, 1000, 210, 120, 90, (FeeLine("day", 2, 1000),), False)


def test_minutes_when_the_coupon_covers_the_stay() -> None:
    fee = parking_fee(STANDARD, at("03-02 10:00"), at("03-02 11:30"), discount_minutes=120)
    assert fee == Fee(0, 0, 90, 90, 0, (), False)


def test_minutes_within_the_free_time_use_no_discount() -> None:
    fee = parking_fee(STANDARD, at("03-02 10:00"), at("03-02 10:20:30"), discount_minutes=120)
    assert fee == Fee(0, 0, 20, 0, 0, (), False)


def test_the_tariff_zone_sets_time_of_day_and_dates() -> None:
    # 13:30Z-15:30Z: in Shanghai 21:30 (day) + 22:30 (night) = 700; read in UTC both units
    # start by day = 1000.
    entered, left = at("03-02 13:30", UTC), at("03-02 15:30", UTC)
    assert parking_fee(STANDARD, entered, left).total_fen == 700
    assert parking_fee(STANDARD, entered, left, tz=ZoneInfo("UTC")).total_fen == 1000
    # Fri 2026-03-06 20:00Z-22:00Z is Saturday 04:00-06:00 in Shanghai: night units; in UTC a
    # Friday evening by day at the weekday price.
    entered, left = at("03-06 20:00", UTC), at("03-06 22:00", UTC)
    assert parking_fee(HOLIDAY, entered, left).lines == (FeeLine("night", 2, 400),)
    assert parking_fee(HOLIDAY, entered, left, tz=ZoneInfo("UTC")).lines == (
        FeeLine("day", 2, 1000),
    )


def test_a_rest_day_without_holiday_price_is_a_day_line() -> None:
    fee = parking_fee(STANDARD, at("03-07 10:00"), at("03-07 13:00"))
    assert fee.lines == (FeeLine("day", 3, 1500),)


def test_a_discount_can_shift_units_into_a_dearer_period() -> None:
    # Rule 3 shifts the whole unit grid. Mon 06:50-08:50: without a coupon the units start
    # 06:50 (night, 200) and 07:50 (day, 500) = 700; with 10 minutes off they start 07:00 and
    # 08:00, both by day = 1000. Known consequence of the rule, reported to the lead.
    entered, left = at("03-02 06:50"), at("03-02 08:50")
    assert parking_fee(STANDARD, entered, left).total_fen == 700
    assert parking_fee(STANDARD, entered, left, discount_minutes=10).total_fen == 1000


def test_a_thirty_day_stay_in_quarter_hours() -> None:
    # 30 days x 96 quarter hours = 2880 units; each day 15 h by day (60 x 150) and 9 h at night
    # (36 x 100) = 12600, no caps.
    fee = parking_fee(QUARTER, at("03-02 07:00"), at("03-02 07:00") + timedelta(days=30))
    assert fee.total_fen == 30 * 12600
    assert fee.lines == (FeeLine("day", 1800, 1800 * 150), FeeLine("night", 1080, 108000))


# --- errors ---------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 2, 10, 0)
    with pytest.raises(ValueError, match="entered_at must be an aware datetime"):
        parking_fee(STANDARD, naive, at("03-02 12:00"))
    with pytest.raises(ValueError, match="left_at must be an aware datetime"):
        parking_fee(STANDARD, at("03-02 10:00"), naive)


def test_leaving_before_entering_is_refused() -> None:
    with pytest.raises(ValueError, match="left_at is before entered_at"):
        parking_fee(STANDARD, at("03-02 10:00"), at("03-02 09:59:59"))


def test_a_negative_discount_is_refused() -> None:
    with pytest.raises(ValueError, match="discount_minutes must not be negative"):
        parking_fee(STANDARD, at("03-02 10:00"), at("03-02 12:00"), discount_minutes=-1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"unit_minutes": 0}, "unit_minutes must be positive"),
        ({"day_unit_fen": -1}, "day_unit_fen must not be negative"),
        ({"free_minutes": -5}, "free_minutes must not be negative"),
        ({"night_cap_fen": -1}, "night_cap_fen must not be negative"),
        ({"night_end": None}, "both set or both None"),
        ({"night_start": time(7)}, "must differ"),
        ({"night_start": time(22, tzinfo=UTC)}, "without tzinfo"),
    ],
    ids=[
        "unit_zero",
        "negative_price",
        "negative_free",
        "negative_cap",
        "half_night",
        "empty_night",
        "aware_night",
    ],
)
def test_bad_tariffs_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(STANDARD, **changes)  # type: ignore[arg-type]


# --- invariants -----------------------------------------------------------------------------


@st.composite
def tariffs(draw: st.DrawFn) -> TariffRule:
    night = draw(st.booleans())
    night_start = night_end = None
    if night:
        night_start = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30])))
        night_end = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30])))
        if night_start == night_end:
            night_end = None
            night_start = None
    fen = st.integers(0, 2000)
    cap = st.one_of(st.just(0), st.integers(1, 20000))
    return TariffRule(
        free_minutes=draw(st.integers(0, 120)),
        unit_minutes=draw(st.sampled_from([1, 15, 30, 60, 90])),
        day_unit_fen=draw(fen),
        night_unit_fen=draw(fen),
        night_start=night_start,
        night_end=night_end,
        night_cap_fen=draw(cap),
        day_cap_fen=draw(cap),
        holiday_unit_fen=draw(st.one_of(st.just(0), fen)),
        holiday_cap_fen=draw(cap),
    )


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SHANGHAI)
)
stays = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))
discounts = st.integers(0, 600)


@settings(max_examples=200, deadline=None)
@given(tariffs(), instants, stays, stays, discounts)
def test_a_longer_stay_never_costs_less(
    rule: TariffRule, entered: datetime, stay: timedelta, more: timedelta, discount: int
) -> None:
    shorter = parking_fee(rule, entered, entered + stay, discount_minutes=discount)
    longer = parking_fee(rule, entered, entered + stay + more, discount_minutes=discount)
    assert shorter.total_fen <= longer.total_fen


@settings(max_examples=200, deadline=None)
@given(tariffs(), instants, stays, discounts)
def test_fee_is_consistent(
    rule: TariffRule, entered: datetime, stay: timedelta, discount: int
) -> None:
    fee = parking_fee(rule, entered, entered + stay, discount_minutes=discount)
    assert 0 <= fee.total_fen <= fee.gross_fen
    assert fee.capped == (fee.total_fen < fee.gross_fen)
    assert sum(line.fen for line in fee.lines) == fee.gross_fen
    kinds = [line.kind for line in fee.lines]
    assert kinds == sorted(kinds, key=["day", "night", "holiday"].index)
    assert all(line.units > 0 for line in fee.lines)
    assert fee.stay_minutes == stay // timedelta(minutes=1)
    assert 0 <= fee.free_minutes_used <= fee.stay_minutes
    assert 0 <= fee.charged_minutes <= fee.stay_minutes
    if stay <= timedelta(minutes=rule.free_minutes):
        assert fee == Fee(0, 0, fee.stay_minutes, 0, 0, (), False)
    else:
        assert fee.free_minutes_used + fee.charged_minutes == fee.stay_minutes
        units = sum(line.units for line in fee.lines)
        charged = stay - timedelta(minutes=discount)
        assert units == max(0, -(-charged // timedelta(minutes=rule.unit_minutes)))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 120),
    st.sampled_from([1, 15, 30, 60]),
    st.integers(0, 1000),
    instants,
    stays,
    discounts,
    discounts,
)
def test_more_discount_never_costs_more_on_a_flat_tariff(
    free: int,
    unit: int,
    price: int,
    entered: datetime,
    stay: timedelta,
    discount: int,
    extra: int,
) -> None:
    # One price for every unit and no caps (see the docstring: otherwise shifting the unit
    # grid can cost more, test_a_discount_can_shift_units_into_a_dearer_period).
    rule = replace(FLAT, free_minutes=free, unit_minutes=unit, day_unit_fen=price)
    left = entered + stay
    smaller = parking_fee(rule, entered, left, discount_minutes=discount)
    larger = parking_fee(rule, entered, left, discount_minutes=discount + extra)
    assert larger.total_fen <= smaller.total_fen


@settings(max_examples=100, deadline=None)
@given(tariffs(), instants, st.integers(0, 120), discounts)
def test_a_stay_within_the_free_minutes_is_free(
    rule: TariffRule, entered: datetime, minutes: int, discount: int
) -> None:
    stay = timedelta(minutes=min(minutes, rule.free_minutes))
    fee = parking_fee(rule, entered, entered + stay, discount_minutes=discount)
    assert fee.total_fen == 0
    assert fee.gross_fen == 0


@settings(max_examples=50, deadline=None)
@given(tariffs(), instants, stays, discounts)
def test_the_zone_of_the_instants_does_not_matter(
    rule: TariffRule, entered: datetime, stay: timedelta, discount: int
) -> None:
    left = entered + stay
    in_shanghai = parking_fee(rule, entered, left, discount_minutes=discount)
    in_utc = parking_fee(
        rule, entered.astimezone(UTC), left.astimezone(NEW_YORK), discount_minutes=discount
    )
    assert in_shanghai == in_utc
