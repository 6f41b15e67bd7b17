"""The parking fee of one stay, as a pure function of a tariff and two instants (no Django).

``parking_fee(rule, entered_at, left_at, rest_day=..., discount_minutes=..., tz=...)`` computes
the fee by these rules (each is proved by a named case in ``tests/test_fees.py``):

1. ``entered_at`` and ``left_at`` are aware datetimes (naive ones raise ValueError); time of day
   and dates are read in ``tz`` (Asia/Shanghai by default). ``left_at < entered_at`` and a
   negative ``discount_minutes`` raise ValueError. Durations are exact (seconds count).
2. The stay is ``left_at - entered_at``. A stay of at most ``free_minutes`` is free, whatever
   the discount (free minutes are checked before discounts). A longer stay is charged from
   entry: the free minutes are not deducted.
3. Otherwise the charged interval is ``[entered_at + discount_minutes, left_at]``: free time from
   coupons, tiers, spend or points removes the first minutes of the stay. If it is empty (the
   discount covers the whole stay) the fee is 0.
4. The charged interval is cut into consecutive units of ``unit_minutes`` starting at its start;
   every started unit is charged in full. A unit's price depends on the instant it starts:
   in the night period (time of day in ``[night_start, night_end)``, wrapping midnight when
   ``night_end < night_start``) it is a "night" unit at ``night_unit_fen``; else, if its local
   date is a rest day, a "holiday" unit at ``holiday_unit_fen`` -- or, when that is 0, a "day"
   unit at ``day_unit_fen``; else a "day" unit at ``day_unit_fen``.
5. Night cap: the units starting inside one occurrence of the night period (e.g. 22:00 Monday
   to 07:00 Tuesday) cost together at most ``night_cap_fen`` (0 = no cap).
6. 24-hour cap: the stay is cut into windows of 24 hours counted from ``entered_at`` (not from
   the discounted start); the units starting in one window, at their amounts after the night
   cap, cost together at most the window's cap: ``holiday_cap_fen`` if the window starts on a
   rest day and ``holiday_cap_fen > 0``, else ``day_cap_fen`` (0 = no cap).
7. Money is integer fen throughout; no floats.

Caps are applied like a running meter: units are charged in time order, and once a night's or
a window's cap is reached its later units cost nothing (the unit that reaches the cap costs only
the rest). So the fee of a longer stay is never lower than that of a shorter one.

Beware: a discount shifts the whole unit grid, so it can move a unit's start into a dearer
period or window and, in rare cases, a larger discount costs more than a smaller one (see
``test_a_discount_can_shift_units_into_a_dearer_period``). With one price for every unit and
no caps, more discount never costs more.

``Fee.lines`` is the meter before caps: one line per kind that occurs (day, night, holiday, in
that order) with its units and their undiscounted amount, so ``sum(line.fen) == gross_fen``;
``total_fen`` is what is owed after the caps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from agora.lib.timeutil import SHANGHAI

FeeKind = Literal["day", "night", "holiday"]
KINDS: tuple[FeeKind, ...] = ("day", "night", "holiday")

_MINUTE = timedelta(minutes=1)
_DAY = timedelta(hours=24)


def weekend(d: date) -> bool:
    """The default rest-day rule: Saturday and Sunday."""
    return d.weekday() >= 5


@dataclass(frozen=True)
class TariffRule:
    """One car park's tariff. Amounts are fen; a cap of 0 means no cap."""

    free_minutes: int  # stay this long or less: free; longer: charged from entry
    unit_minutes: int  # billing unit, e.g. 15 or 60; every started unit is charged
    day_unit_fen: int  # price of a unit that starts in the day period
    night_unit_fen: int  # price of a unit that starts in the night period
    night_start: time | None  # e.g. 22:00; None = no night period
    night_end: time | None  # e.g. 07:00 (the night wraps midnight when end < start)
    night_cap_fen: int  # most one night period costs; 0 = no cap
    day_cap_fen: int  # most any 24 hours counted from entry cost; 0 = no cap
    holiday_unit_fen: int  # day-period unit price on rest days; 0 = same as day_unit_fen
    holiday_cap_fen: int  # cap of a 24-hour window that starts on a rest day; 0 = day_cap_fen

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and value < 0:
                raise ValueError(f"{f.name} must not be negative")
        if self.unit_minutes <= 0:
            raise ValueError("unit_minutes must be positive")
        if (self.night_start is None) != (self.night_end is None):
            raise ValueError("night_start and night_end are both set or both None")
        if self.night_start is not None and self.night_end is not None:
            if self.night_start.tzinfo is not None or self.night_end.tzinfo is not None:
                raise ValueError("night_start and night_end are local times without tzinfo")
            if self.night_start == self.night_end:
                raise ValueError("night_start and night_end must differ")


@dataclass(frozen=True)
class FeeLine:
    """The units of one kind and their amount before caps."""

    kind: FeeKind
    units: int
    fen: int


@dataclass(frozen=True)
class Fee:
    total_fen: int  # after caps
    gross_fen: int  # before caps
    stay_minutes: int  # whole minutes of the stay (floor of seconds/60)
    free_minutes_used: int  # discount minutes actually used (<= stay_minutes)
    charged_minutes: int  # whole minutes of the charged interval (stay - discount used)
    lines: tuple[FeeLine, ...]  # one per kind that occurs, in order day, night, holiday
    capped: bool  # a cap lowered the total (total_fen < gross_fen)


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be an aware datetime")


def _night_of(rule: TariffRule, local: datetime) -> date | None:
    """The date on which the night period containing ``local`` began, or None by day."""
    start, end = rule.night_start, rule.night_end
    if start is None or end is None:
        return None
    t = local.time()
    if start < end:
        return local.date() if start <= t < end else None
    if t >= start:
        return local.date()
    if t < end:
        return local.date() - timedelta(days=1)
    return None


def parking_fee(
    rule: TariffRule,
    entered_at: datetime,
    left_at: datetime,
    *,
    rest_day: Callable[[date], bool] = weekend,
    discount_minutes: int = 0,
    tz: ZoneInfo = SHANGHAI,
) -> Fee:
    """The fee for a stay from ``entered_at`` to ``left_at`` (rules in the module docstring)."""
    _require_aware("entered_at", entered_at)
    _require_aware("left_at", left_at)
    # In UTC: Python subtracts and adds wall-clock times when both share a tzinfo, which is
    # wrong across a DST change; instants in UTC make all arithmetic absolute.
    entered_at = entered_at.astimezone(UTC)
    left_at = left_at.astimezone(UTC)
    if left_at < entered_at:
        raise ValueError("left_at is before entered_at")
    if discount_minutes < 0:
        raise ValueError("discount_minutes must not be negative")

    stay = left_at - entered_at
    stay_minutes = stay // _MINUTE
    if stay <= rule.free_minutes * _MINUTE:
        return Fee(0, 0, stay_minutes, 0, 0, (), False)

    free_used = min(discount_minutes, stay_minutes)
    start = entered_at + discount_minutes * _MINUTE
    if start >= left_at:
        return Fee(0, 0, stay_minutes, free_used, 0, (), False)
    charged_minutes = stay_minutes - free_used

    unit = rule.unit_minutes * _MINUTE
    n_units = -((start - left_at) // unit)  # ceiling: every started unit counts

    rest_days: dict[date, bool] = {}

    def is_rest(d: date) -> bool:
        if d not in rest_days:
            rest_days[d] = bool(rest_day(d))
        return rest_days[d]

    units_by_kind = dict.fromkeys(KINDS, 0)
    fen_by_kind = dict.fromkeys(KINDS, 0)
    night_spent: dict[date, int] = {}  # night occurrence -> amount charged so far
    window_spent: dict[int, int] = {}  # 24-hour window index -> amount charged so far
    window_caps: dict[int, int] = {}
    gross = total = 0

    for k in range(n_units):
        instant = start + k * unit
        local = instant.astimezone(tz)
        night = _night_of(rule, local)
        kind: FeeKind
        if night is not None:
            kind, price = "night", rule.night_unit_fen
        elif rule.holiday_unit_fen > 0 and is_rest(local.date()):
            kind, price = "holiday", rule.holiday_unit_fen
        else:
            kind, price = "day", rule.day_unit_fen
        units_by_kind[kind] += 1
        fen_by_kind[kind] += price
        gross += price

        amount = price
        if night is not None and rule.night_cap_fen > 0:
            spent = night_spent.get(night, 0)
            amount = min(amount, rule.night_cap_fen - spent)
            night_spent[night] = spent + amount

        window = (instant - entered_at) // _DAY
        if window not in window_caps:
            window_start = (entered_at + window * _DAY).astimezone(tz).date()
            if rule.holiday_cap_fen > 0 and is_rest(window_start):
                window_caps[window] = rule.holiday_cap_fen
            else:
                window_caps[window] = rule.day_cap_fen
        cap = window_caps[window]
        if cap > 0:
            spent = window_spent.get(window, 0)
            amount = min(amount, cap - spent)
            window_spent[window] = spent + amount

        total += amount

    lines = tuple(
        FeeLine(kind, units_by_kind[kind], fen_by_kind[kind])
        for kind in KINDS
        if units_by_kind[kind]
    )
    return Fee(
        total_fen=total,
        gross_fen=gross,
        stay_minutes=stay_minutes,
        free_minutes_used=free_used,
        charged_minutes=charged_minutes,
        lines=lines,
        capped=total < gross,
    )


def fee_to_dict(fee: Fee) -> dict[str, Any]:
    """The fee as JSON-ready data (lines as a list of dicts)."""
    return {
        "total_fen": fee.total_fen,
        "gross_fen": fee.gross_fen,
        "stay_minutes": fee.stay_minutes,
        "free_minutes_used": fee.free_minutes_used,
        "charged_minutes": fee.charged_minutes,
        "lines": [{"kind": line.kind, "units": line.units, "fen": line.fen} for line in fee.lines],
        "capped": fee.capped,
    }
