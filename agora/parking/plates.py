"""Chinese licence plates: normalising, validating, masking, and tolerating gate-camera misreads.

Pure functions, no Django. Every function that compares or displays plates normalises its
input first (``normalise`` is idempotent), so a camera read such as ``"粤B·1234５"`` and a stored
``"粤B12345"`` compare equal.

Plate shapes (on a normalised plate, see ``is_valid``)::

    粤B12345    ordinary, 7 characters: province + letter + 5 of [A-HJ-NP-Z0-9]
    粤BD12345   new-energy, 8 characters: province + letter + 6 of [A-HJ-NP-Z0-9]
    粤B1234挂   7 characters: province + letter + 4 of [A-HJ-NP-Z0-9] + one of 挂学警港澳

Misread tolerance (``misread_score``): an exit read must find its open entry although the
camera may have misread one character. Scores:

* 1.0  -- equal plates;
* 0.9  -- same length, only the province character (position 0) differs;
* 0.85 -- same length, exactly one other position differs and the two characters are a known
  confusable pair: exactly {0,D}, {0,Q}, {8,B}, {2,Z}, {5,S} (``CONFUSABLE_PAIRS``);
* 0.7  -- same length, exactly one other position differs (any other substitution);
* None -- no match: two or more differences, different lengths, or an empty plate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, Literal

PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
"""The 31 province-level abbreviations that open a plate."""

SUFFIXES: Final = "挂学警港澳"
"""Characters that may close a 7-character plate (trailer, driving school, police, HK, Macau)."""

CONFUSABLE_PAIRS: Final = frozenset(
    frozenset(pair) for pair in (("0", "D"), ("0", "Q"), ("8", "B"), ("2", "Z"), ("5", "S"))
)
"""Character pairs a gate camera is known to swap; a single such swap scores 0.85."""

SCORE_EXACT: Final = 1.0
SCORE_PROVINCE: Final = 0.9
SCORE_CONFUSABLE: Final = 0.85
SCORE_OTHER: Final = 0.7

PlateKind = Literal["ordinary", "new_energy"]

# Separators dropped by normalise (after full-width characters became half-width): the
# middle dot in its usual spellings, the full stop and the hyphen.
_SEPARATORS: Final = frozenset("·・•.-")

_BODY = "[A-HJ-NP-Z0-9]"
_PLATE_RE: Final = re.compile(
    f"[{PROVINCES}][A-HJ-NP-Z](?:{_BODY}{{5,6}}|{_BODY}{{4}}[{SUFFIXES}])", re.ASCII
)


def _half_width(char: str) -> str:
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII variants: ！ .. ～
        return chr(code - 0xFEE0)
    if code == 0x3000:  # ideographic space
        return " "
    return char


def normalise(text: str) -> str:
    """The plate as stored and compared: full-width characters made half-width, whitespace and
    separators (``·``, ``.``, ``-``) removed, latin letters upper-cased (``"粤 b·１２３45"`` ->
    ``"粤B12345"``). Idempotent; it does not validate (see ``is_valid``)."""
    out = []
    for raw in text:
        char = _half_width(raw)
        if char.isspace() or char in _SEPARATORS:
            continue
        if "a" <= char <= "z":
            char = char.upper()
        out.append(char)
    return "".join(out)


def is_valid(plate: str) -> bool:
    """Whether a normalised plate has one of the three shapes in the module docstring (the
    letters I and O never occur; the province must be one of ``PROVINCES``)."""
    return _PLATE_RE.fullmatch(plate) is not None


def kind_of(plate: str) -> PlateKind:
    """``"new_energy"`` for an 8-character (normalised) plate, else ``"ordinary"``."""
    return "new_energy" if len(normalise(plate)) == 8 else "ordinary"


def misread_score(read: str, candidate: str) -> float | None:
    """How likely ``candidate`` is the plate the camera misread as ``read`` (scores in the module
    docstring); None when they cannot be the same plate. Both are normalised first."""
    read, candidate = normalise(read), normalise(candidate)
    if not read or not candidate or len(read) != len(candidate):
        return None
    if read == candidate:
        return SCORE_EXACT
    differences = [i for i, (a, b) in enumerate(zip(read, candidate, strict=True)) if a != b]
    if len(differences) != 1:
        return None
    position = differences[0]
    if position == 0:
        return SCORE_PROVINCE
    if frozenset((read[position], candidate[position])) in CONFUSABLE_PAIRS:
        return SCORE_CONFUSABLE
    return SCORE_OTHER


def best_matches(read: str, candidates: Iterable[str]) -> list[tuple[str, float]]:
    """The candidates that may be ``read`` as ``(normalised candidate, score)``, best score
    first, equal scores ordered by the plate string; candidates equal after normalising count
    once."""
    scored: dict[str, float] = {}
    for candidate in candidates:
        plate = normalise(candidate)
        if plate in scored:
            continue
        score = misread_score(read, plate)
        if score is not None:
            scored[plate] = score
    return sorted(scored.items(), key=lambda item: (-item[1], item[0]))


def mask(plate: str) -> str:
    """The normalised plate for people who need not see it: the first two and the last
    character kept, the rest ``*`` (``粤B12345`` -> ``粤B****5``). Anything of three characters
    or fewer is masked whole, since keeping three would show all of it."""
    plate = normalise(plate)
    if len(plate) <= 3:
        return "*" * len(plate)
    return plate[:2] + "*" * (len(plate) - 3) + plate[-1]
