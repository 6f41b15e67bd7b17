"""Pure helpers: money in fen, geometry, pinyin keys, cursors, env parsing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agora.lib import geometry
from agora.lib.env import EnvError, env_bool, env_int
from agora.lib.money import format_fen, yuan_to_fen
from agora.lib.pagination import BadCursor, decode_cursor, encode_cursor
from agora.lib.pinyin import search_keys


@pytest.mark.parametrize(
    ("text", "fen"), [("12.5", 1250), ("3", 300), ("0.005", 1), ("0.004", 0), ("-1.99", -199)]
)
def test_yuan_to_fen(text: str, fen: int) -> None:
    assert yuan_to_fen(text) == fen


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_fen_round_trips_through_its_text(fen: int) -> None:
    text = format_fen(fen).replace("¥", "").replace(",", "")
    assert yuan_to_fen(Decimal(text)) == fen


def test_format_fen() -> None:
    assert format_fen(123456789) == "¥1,234,567.89"
    assert format_fen(-5) == "-¥0.05"
    with pytest.raises(ValueError, match="not an amount"):
        yuan_to_fen("abc")
    with pytest.raises(ValueError, match="not an amount"):
        yuan_to_fen("NaN")


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("星巴克", "xingbake", "xbk"),
        ("海底捞火锅", "haidilaohuoguo", "hdlhg"),
        ("ZARA", "zara", "z"),
    ],
)
def test_search_keys(name: str, full: str, initials: str) -> None:
    assert search_keys(name) == (full, initials)


@given(st.integers(min_value=0, max_value=2**62))
def test_cursor_round_trip(last_id: int) -> None:
    assert decode_cursor(encode_cursor(last_id)) == last_id


@pytest.mark.parametrize("bad", ["", "!!!", "eyJhZnRlciI6LTF9", "eyJ4IjoxfQ", "bnVsbA"])
def test_bad_cursor(bad: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(bad)


@given(
    st.floats(min_value=0, max_value=500, allow_nan=False),
    st.floats(min_value=0, max_value=500, allow_nan=False),
    st.floats(min_value=0.1, max_value=100, allow_nan=False),
    st.floats(min_value=0.1, max_value=100, allow_nan=False),
)
def test_rectangles_are_valid_closed_polygons(x: float, y: float, w: float, h: float) -> None:
    ring = geometry.rectangle(x, y, w, h)
    assert ring[0] == ring[-1]
    poly = geometry.to_polygon(ring)
    assert poly.area == pytest.approx(
        (round(x + w, 2) - round(x, 2)) * (round(y + h, 2) - round(y, 2)), abs=1e-6
    )


def test_adjacent_rectangles_touch_but_do_not_overlap() -> None:
    a = geometry.to_polygon(geometry.rectangle(0, 0, 5, 5))
    b = geometry.to_polygon(geometry.rectangle(5, 0, 5, 5))
    c = geometry.to_polygon(geometry.rectangle(4, 0, 5, 5))
    assert geometry.overlaps(a, b) is False
    assert geometry.overlaps(a, c) is True
    outer = geometry.to_polygon(geometry.rectangle(0, 0, 10, 5))
    assert geometry.inside(a, outer) and geometry.inside(b, outer)
    assert not geometry.inside(geometry.to_polygon(geometry.rectangle(8, 0, 5, 5)), outer)


def test_env_helpers_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(EnvError, match="X_FLAG must be a boolean"):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(EnvError, match="X_NUM must be an integer"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(EnvError, match="X_NUM must be >= 1"):
        env_int("X_NUM", 1, minimum=1)
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG", False) is True
