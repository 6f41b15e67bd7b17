"""The simulated day (agora.parking.simulator): pure and seeded, so these tests need no
database. Figures are checked against the model's own parameters with tolerances of several
standard deviations, on fixed seeds."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime
from itertools import pairwise
from typing import Any

import pytest

from agora.parking.plates import is_valid, misread_score
from agora.parking.simulator import (
    WEEKDAY_TURNOVER,
    CarParkPlan,
    SimEvent,
    misread,
    simulate_day,
)

WEDNESDAY = date(2025, 6, 4)
SATURDAY = date(2025, 6, 7)

SPACES = (
    tuple((f"A{i:03d}", "standard") for i in range(170))
    + tuple((f"E{i:02d}", "ev") for i in range(16))
    + tuple((f"H{i}", "accessible") for i in range(6))
    + tuple((f"F{i}", "family") for i in range(6))
    + (("R0", "reserved"), ("R1", "reserved"))
)
PLAN = CarParkPlan(
    code="mixc-b1",
    entry_gates=("IN1", "IN2"),
    exit_gates=("OUT1", "OUT2"),
    spaces=SPACES,
    capacity=200,
)
USABLE = 198  # the two reserved spaces are left to reservations


def _first_deliveries(events: list[SimEvent]) -> list[SimEvent]:
    seen: set[str] = set()
    out = []
    for e in events:
        if e.payload["event_id"] not in seen:
            seen.add(e.payload["event_id"])
            out.append(e)
    return out


def _at(e: SimEvent) -> datetime:
    return datetime.fromisoformat(e.payload["at"])


def _entries(events: list[SimEvent]) -> list[SimEvent]:
    return [e for e in _first_deliveries(events) if "/gate/IN" in e.topic]


def _exits(events: list[SimEvent]) -> list[SimEvent]:
    return [e for e in _first_deliveries(events) if "/gate/OUT" in e.topic]


def test_same_seed_same_events_and_another_seed_others() -> None:
    a = simulate_day(car_park=PLAN, day=WEDNESDAY, seed=7)
    b = simulate_day(car_park=PLAN, day=WEDNESDAY, seed=7)
    c = simulate_day(car_park=PLAN, day=WEDNESDAY, seed=8)
    assert a == b
    assert [e.body() for e in a] == [e.body() for e in b]
    assert [e.payload for e in a] != [e.payload for e in c]
    assert not {e.payload["event_id"] for e in a} & {e.payload["event_id"] for e in c}


def test_a_weekday_has_plausible_counts_and_complete_stays() -> None:
    events = simulate_day(car_park=PLAN, day=WEDNESDAY, seed=1)
    entries, exits = _entries(events), _exits(events)
    expected = WEEKDAY_TURNOVER * USABLE  # ~515 cars, sd ~23 (weekday peak is not full)
    assert expected * 0.85 <= len(entries) <= expected * 1.15
    # most leave the same day: overnight stays and late visitors do not
    assert 0.85 * len(entries) <= len(exits) < len(entries)
    kinds = Counter(e.topic.rsplit("/", 1)[1] for e in _first_deliveries(events))
    assert kinds["plate"] == len(entries) + len(exits)
    # every car occupies a space on the way in; each exit had a free event before it
    occupied = [e for e in _first_deliveries(events) if e.payload.get("occupied") is True]
    freed = [e for e in _first_deliveries(events) if e.payload.get("occupied") is False]
    assert len(occupied) == len(entries)
    assert len(exits) <= len(freed) <= len(occupied)


def test_topics_payloads_and_times_are_well_formed() -> None:
    events = simulate_day(car_park=PLAN, day=WEDNESDAY, seed=2)
    for e in events:
        p = e.payload
        assert len(p["event_id"]) <= 64
        at = _at(e)
        assert p["at"].endswith("+08:00")
        assert at.date() == WEDNESDAY
        assert e.at >= at
        parts = e.topic.split("/")
        assert parts[:3] == ["agora", "parking", "mixc-b1"]
        if parts[3] == "gate":
            assert parts[5] == "plate"
            assert set(p) <= {
                "event_id", "plate", "colour", "confidence", "at", "source", "image", "ticket"
            }  # fmt: skip
            assert 0 <= p["confidence"] <= 1
            assert p["source"] in ("video", "etc", "bluetooth", "ticket")
            assert p["colour"] in ("blue", "yellow", "green", "unknown")
            if p["plate"] == "":
                assert p["source"] == "ticket" and p["ticket"]
        else:
            assert (parts[3], parts[5]) == ("space", "occupancy")
            assert isinstance(p["occupied"], bool)
            assert parts[4] not in ("R0", "R1")  # reserved spaces are left alone
    entry_plates = [e.payload["plate"] for e in _entries(events) if e.payload["plate"]]
    assert all(is_valid(p) for p in entry_plates)
    assert len(set(entry_plates)) == len(entry_plates)
    green = [p for p in entry_plates if len(p) == 8]
    assert 0.14 <= len(green) / len(entry_plates) <= 0.26
    assert all(
        e.payload["colour"] == "green" for e in _entries(events) if len(e.payload["plate"]) == 8
    )
    assert 0.7 <= sum(p.startswith("粤B") for p in entry_plates) / len(entry_plates) <= 0.9


def test_arrivals_peak_at_lunch_and_in_the_evening() -> None:
    events = []
    for seed in range(3):
        events += _entries(simulate_day(car_park=PLAN, day=WEDNESDAY, seed=seed, scale=0.5))
    by_hour = Counter(_at(e).hour for e in events)
    assert by_hour[12] > 1.5 * by_hour[15]
    assert by_hour[19] > 1.5 * by_hour[15]
    assert by_hour[12] > 2 * by_hour[9]
    assert sum(by_hour[h] for h in range(0, 6)) < 0.03 * len(events)


def test_a_weekend_brings_about_one_point_six_times_the_cars() -> None:
    # scale 0.4 keeps both days below capacity, so no car is turned away
    weekday = sum(
        len(_entries(simulate_day(car_park=PLAN, day=WEDNESDAY, seed=s, scale=0.4)))
        for s in range(4)
    )
    weekend = sum(
        len(_entries(simulate_day(car_park=PLAN, day=SATURDAY, seed=s, scale=0.4)))
        for s in range(4)
    )
    assert 1.45 <= weekend / weekday <= 1.75


def test_stays_have_a_two_hour_median_and_a_long_tail() -> None:
    events = _first_deliveries(simulate_day(car_park=PLAN, day=WEDNESDAY, seed=3))
    parked: dict[str, datetime] = {}
    stays: list[float] = []
    for e in sorted(events, key=_at):
        space = e.topic.split("/")[4] if "/space/" in e.topic else None
        if space is None:
            continue
        if e.payload["occupied"]:
            parked[space] = _at(e)
        else:
            stays.append((_at(e) - parked.pop(space)).total_seconds() / 3600)
    stays.sort()
    median = stays[len(stays) // 2]
    assert 1.6 <= median <= 2.3
    assert 0.02 <= sum(s >= 5 for s in stays) / len(stays) <= 0.10
    assert 0.05 <= sum(s <= 0.67 for s in stays) / len(stays) <= 0.16


@pytest.mark.parametrize("day", [WEDNESDAY, SATURDAY])
def test_never_more_cars_inside_than_capacity_even_when_demand_is_triple(day: date) -> None:
    plan = CarParkPlan(
        code="tiny", entry_gates=("IN1",), exit_gates=("OUT1",), spaces=SPACES[:30], capacity=25
    )
    events = _first_deliveries(simulate_day(car_park=plan, day=day, seed=4, scale=3.0))
    timeline: list[tuple[datetime, int, str, dict[str, Any]]] = [
        (_at(e), i, e.topic, e.payload) for i, e in enumerate(events)
    ]
    inside = most_inside = 0
    holder: dict[str, str] = {}  # space -> event id of the car on it
    for _, _, topic, payload in sorted(timeline):
        if "/gate/IN" in topic:
            inside += 1
        elif "/gate/OUT" in topic:
            inside -= 1
        else:
            space = topic.split("/")[4]
            if payload["occupied"]:
                assert space not in holder, f"{space} taken twice"
                holder[space] = payload["event_id"]
            else:
                del holder[space]
        assert len(holder) <= inside <= 25
        most_inside = max(most_inside, inside)
    assert most_inside == 25  # triple demand fills it...
    entries = len([e for e in events if "/gate/IN" in e.topic])
    demand = WEEKDAY_TURNOVER * 25 * 3.0 * (1.6 if day.weekday() >= 5 else 1)
    assert entries < 0.8 * demand  # ...and the cars that would have waited too long drive off


def test_misreads_at_the_exit_occur_at_the_given_rate() -> None:
    misread_exits = video_exits = 0
    for offset in range(5):
        day = date(2025, 6, 2 + offset)  # Monday to Friday
        events = simulate_day(car_park=PLAN, day=day, seed=5, misread_rate=0.03)
        entered = {e.payload["plate"] for e in _entries(events)}
        for e in _exits(events):
            if e.payload["source"] != "video" or not e.payload["plate"]:
                continue
            video_exits += 1
            if e.payload["plate"] not in entered:
                misread_exits += 1
                assert e.payload["confidence"] < 0.88
                assert any(misread_score(e.payload["plate"], p) for p in entered)
    assert video_exits > 2000
    assert 0.02 <= misread_exits / video_exits <= 0.04


def test_no_misreads_at_rate_zero() -> None:
    events = simulate_day(car_park=PLAN, day=WEDNESDAY, seed=6, misread_rate=0.0)
    entered = {e.payload["plate"] for e in _entries(events)}
    assert all(e.payload["plate"] in entered for e in _exits(events))


def test_a_misread_changes_exactly_one_character() -> None:
    rng = random.Random(1)
    for plate in ("粤B12345", "粤B08B88", "粤BD12345", "京A0D8B2"):
        for _ in range(200):
            read = misread(rng, plate)
            assert len(read) == len(plate)
            assert sum(a != b for a, b in zip(read, plate, strict=True)) == 1
            assert misread_score(read, plate) is not None
            assert is_valid(read)


def test_no_plate_cars_duplicates_and_late_occupancy_events() -> None:
    events: list[SimEvent] = []
    for seed in range(4):
        day = simulate_day(car_park=PLAN, day=SATURDAY, seed=seed)
        # delivery order: by delivery time, and some events arrive after newer ones
        assert all(a.at <= b.at for a, b in pairwise(day))
        assert any(_at(a) > _at(b) for a, b in pairwise(day))
        events += day
    entries = [e for e in _first_deliveries(events) if "/gate/IN" in e.topic]
    tickets = [e for e in entries if e.payload["plate"] == ""]
    assert 0.003 <= len(tickets) / len(entries) <= 0.02
    assert all(e.payload["ticket"] and e.payload["colour"] == "unknown" for e in tickets)
    ids = Counter(e.payload["event_id"] for e in events)
    twice = [i for i, n in ids.items() if n == 2]
    assert max(ids.values()) == 2
    assert 0.002 <= len(twice) / len(ids) <= 0.01
    copies = [e for e in events if e.payload["event_id"] in set(twice)]
    by_id: dict[str, list[SimEvent]] = {}
    for e in copies:
        by_id.setdefault(e.payload["event_id"], []).append(e)
    assert all(a.payload == b.payload and a.topic == b.topic for a, b in by_id.values())
    late = [e for e in _first_deliveries(events) if (e.at - _at(e)).total_seconds() >= 30]
    assert late and all("/occupancy" in e.topic for e in late)


def test_plan_from_the_selector_dict_and_degenerate_plans() -> None:
    plan = CarParkPlan.from_dict(
        {
            "code": "cp",
            "entry_gates": ["IN1"],
            "exit_gates": ["OUT1"],
            "spaces": [{"code": "A1", "kind": "standard"}, {"code": "R1", "kind": "reserved"}],
            "capacity": 2,
        }
    )
    assert plan == CarParkPlan(
        "cp", ("IN1",), ("OUT1",), (("A1", "standard"), ("R1", "reserved")), 2
    )
    assert simulate_day(car_park=plan, day=WEDNESDAY, seed=1)  # one usable space is enough
    no_exit = CarParkPlan("cp", ("IN1",), (), (("A1", "standard"),), 1)
    assert simulate_day(car_park=no_exit, day=WEDNESDAY, seed=1) == []
    with pytest.raises(ValueError):
        simulate_day(car_park=plan, day=WEDNESDAY, seed=1, misread_rate=1.5)
