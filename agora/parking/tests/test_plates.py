"""Licence plates (agora.parking.plates): normalising, validating, misread scores, matching and
masking. No database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agora.parking.plates import (
    CONFUSABLE_PAIRS,
    PROVINCES,
    best_matches,
    is_valid,
    kind_of,
    mask,
    misread_score,
    normalise,
)


def test_provinces() -> None:
    assert len(PROVINCES) == 31
    assert len(set(PROVINCES)) == 31
    assert "粤" in PROVINCES
    assert "京" in PROVINCES
    assert "港" not in PROVINCES


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("粤B12345", "粤B12345"),
        ("粤b12345", "粤B12345"),
        ("粤B·12345", "粤B12345"),
        (" 粤 B 123 45 ", "粤B12345"),
        ("粤B.123-45", "粤B12345"),
        ("粤Ｂ１２３４５", "粤B12345"),  # full-width letter and digits
        ("粤ｂ\u3000１２３４５", "粤B12345"),  # full-width lower case and ideographic space
        ("粤Ｂ．１２３－４５", "粤B12345"),  # full-width full stop and hyphen
        ("京a·d12345", "京AD12345"),
        ("粤B1234挂", "粤B1234挂"),
        ("", ""),
    ],
)
def test_normalise(text: str, plate: str) -> None:
    assert normalise(text) == plate
    assert normalise(plate) == plate  # idempotent


@pytest.mark.parametrize(
    ("plate", "valid"),
    [
        ("粤B12345", True),  # ordinary, 7 characters
        ("京AD12345", True),  # new energy, 8 characters
        ("沪AF12345", True),  # new energy, 8 characters
        ("粤B1234挂", True),  # trailer
        ("粤B1234学", True),  # driving school
        ("粤B1234警", True),  # police
        ("粤Z1234港", True),  # Hong Kong
        ("粤Z1234澳", True),  # Macau
        ("粤BABCDE", True),  # letters only after the city letter
        ("粤I12345", False),  # I is never used
        ("粤O12345", False),  # O is never used
        ("粤B1I345", False),
        ("粤B12O45", False),
        ("港B12345", False),  # not a province
        ("AB12345", False),  # no province
        ("粤112345", False),  # the second character must be a letter
        ("粤B1234", False),  # too short
        ("粤B", False),
        ("", False),
        ("粤B1234567", False),  # too long
        ("粤B12345挂", False),  # suffix only on a 7-character plate
        ("粤B123挂5", False),  # suffix only at the end
        ("粤B1234使", False),  # not a suffix we accept
        ("粤b12345", False),  # not normalised
        ("粤B12345\n", False),
        ("粤B１２３４５", False),  # full-width digits: normalise first
    ],
)
def test_is_valid(plate: str, valid: bool) -> None:
    assert is_valid(plate) is valid


@pytest.mark.parametrize(
    ("plate", "kind"),
    [("粤B12345", "ordinary"), ("京AD12345", "new_energy"), ("粤B1234挂", "ordinary")],
)
def test_kind_of(plate: str, kind: str) -> None:
    assert kind_of(plate) == kind


def test_confusable_pairs_are_exactly_the_documented_set() -> None:
    assert {tuple(sorted(pair)) for pair in CONFUSABLE_PAIRS} == {
        ("0", "D"),
        ("0", "Q"),
        ("8", "B"),
        ("2", "Z"),
        ("5", "S"),
    }


@pytest.mark.parametrize(
    ("read", "candidate", "score"),
    [
        ("粤B12345", "粤B12345", 1.0),  # equal
        ("粤B·12345", "粤b12345", 1.0),  # equal after normalising
        ("京AD12345", "京AD12345", 1.0),
        ("粤B12345", "桂B12345", 0.9),  # province differs
        ("粤B12340", "粤B1234D", 0.85),  # 0/D
        ("粤B1234D", "粤B12340", 0.85),  # D/0, either way round
        ("粤B12340", "粤B1234Q", 0.85),  # 0/Q
        ("粤B18345", "粤B1B345", 0.85),  # 8/B
        ("粤B8A345", "粤BBA345", 0.85),  # 8/B at the letter position
        ("粤B12345", "粤BZ2345", 0.7),  # 1/Z is not a confusable pair
        ("粤B12345", "粤B1Z345", 0.85),  # 2/Z
        ("粤B12345", "粤B1234S", 0.85),  # 5/S
        ("粤B12345", "粤B12346", 0.7),  # other single substitution
        ("粤B12345", "粤B72345", 0.7),  # 1/7 deliberately not confusable
        ("粤BD2345", "粤BQ2345", 0.7),  # D/Q: each is confusable with 0, not with each other
        ("粤B12345", "粤B12354", None),  # two differences
        ("粤B12345", "桂B12346", None),  # province and another position
        ("粤B12345", "粤BD12345", None),  # length differs
        ("粤B12345", "粤B1234", None),
        ("", "", None),  # empty never matches
        ("", "粤B12345", None),
        ("粤B12345", "", None),
        (" · ", "-", None),  # empty after normalising
    ],
)
def test_misread_score(read: str, candidate: str, score: float | None) -> None:
    assert misread_score(read, candidate) == score
    assert misread_score(candidate, read) == score  # symmetric


def test_best_matches_orders_by_score_then_plate() -> None:
    candidates = [
        "粤B12346",  # 0.7
        "粤B12345",  # 1.0
        "桂B12345",  # 0.9 (province)
        "粤B1234S",  # 0.85 (5/S)
        "粤B12344",  # 0.7
        "粤B12354",  # two differences: no match
        "粤BD12345",  # length differs: no match
        "粤b·12345",  # same as 粤B12345 after normalising: counted once
        "粤B12346",  # duplicate
        "闽B12345",  # 0.9 (province)
    ]
    assert best_matches("粤B 12345", candidates) == [
        ("粤B12345", 1.0),
        ("桂B12345", 0.9),
        ("闽B12345", 0.9),
        ("粤B1234S", 0.85),
        ("粤B12344", 0.7),
        ("粤B12346", 0.7),
    ]


def test_best_matches_of_nothing() -> None:
    assert best_matches("粤B12345", []) == []
    assert best_matches("粤B12345", iter(["京AD12345", "粤B99999"])) == []
    assert best_matches("", ["粤B12345"]) == []


@pytest.mark.parametrize(
    ("plate", "masked"),
    [
        ("粤B12345", "粤B****5"),
        ("京AD12345", "京A*****5"),
        ("粤B1234挂", "粤B****挂"),
        ("粤b·12345", "粤B****5"),  # normalised first
        ("粤B12", "粤B*2"),
        ("粤B1", "***"),  # three characters or fewer: all masked
        ("粤B", "**"),
        ("", ""),
    ],
)
def test_mask(plate: str, masked: str) -> None:
    assert mask(plate) == masked


plates = st.builds(
    lambda province, letter, body: province + letter + body,
    st.sampled_from(PROVINCES),
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=5, max_size=6),
)


@given(plates)
def test_generated_plates_are_valid_and_match_themselves(plate: str) -> None:
    assert is_valid(plate)
    assert kind_of(plate) == ("new_energy" if len(plate) == 8 else "ordinary")
    assert misread_score(plate, plate) == 1.0
    assert best_matches(plate, [plate, plate]) == [(plate, 1.0)]
    masked = mask(plate)
    assert len(masked) == len(plate)
    assert masked[:2] == plate[:2]
    assert masked[-1] == plate[-1]
    assert set(masked[2:-1]) == {"*"}


@given(plates, st.integers(0, 7), st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789京粤"))
def test_one_substitution_always_scores(plate: str, position: int, char: str) -> None:
    position %= len(plate)
    other = plate[:position] + char + plate[position + 1 :]
    score = misread_score(plate, other)
    if other == plate:
        assert score == 1.0
    else:
        assert score in {0.9, 0.85, 0.7}
        assert (score == 0.9) == (position == 0)
