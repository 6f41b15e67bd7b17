"""WiFi positioning maths (pure): a log-distance path-loss model, a weighted centroid of the
heard access points, and k-nearest-neighbour fingerprint matching against survey points.

Coordinates are metres on one floor plan; RSSI is dBm (negative). ``simulate_scan`` is the same
model with log-normal shadowing, used by the demo to "survey" its floors and by the tests to
make observations at points the survey did not visit.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BSSID_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
RSSI_MIN, RSSI_MAX = -120, -1  # dBm a phone can report; anything else is garbage
MISSING_RSSI = -100.0  # an AP a fingerprint has but the scan did not hear (or the reverse)
PATH_LOSS_EXPONENT = 2.7  # indoor, shop fronts and people
FLOOR_LOSS_DB = 18.0  # one concrete slab
NOISE_FLOOR_DBM = -92.0  # weaker than this is not heard


def normalise_bssid(text: str) -> str | None:
    """``AA-BB-CC-DD-EE-FF`` / ``aabb.ccdd.eeff`` / ``aabbccddeeff`` → ``aa:bb:cc:dd:ee:ff``."""
    raw = re.sub(r"[^0-9a-fA-F]", "", text or "")
    if len(raw) != 12 or len(re.sub(r"[0-9a-fA-F:\-. ]", "", text or "")) != 0:
        return None
    value = ":".join(raw[i : i + 2] for i in range(0, 12, 2)).lower()
    return value if BSSID_RE.match(value) else None


@dataclass(frozen=True)
class AP:
    bssid: str
    level: int  # floor level, for the slab loss between floors of one building
    x: float
    y: float
    tx_power: float = -38.0  # RSSI at 1 m


@dataclass(frozen=True)
class Estimate:
    x: float
    y: float
    accuracy_m: float  # about the radius within which the true point lies half the time
    used: int  # access points (centroid) or survey points (fingerprint) behind the estimate


def expected_rssi(ap: AP, level: int, x: float, y: float) -> float:
    d = max(1.0, math.hypot(ap.x - x, ap.y - y))
    return (
        ap.tx_power
        - 10 * PATH_LOSS_EXPONENT * math.log10(d)
        - FLOOR_LOSS_DB * abs(ap.level - level)
    )


def distance_from_rssi(ap: AP, rssi: float) -> float:
    return max(1.0, 10 ** ((ap.tx_power - rssi) / (10 * PATH_LOSS_EXPONENT)))


def simulate_scan(
    aps: Iterable[AP], level: int, x: float, y: float, rng: random.Random, *, sigma: float = 4.0
) -> dict[str, int]:
    """What a phone at (level, x, y) would hear: the model plus shadowing of ``sigma`` dB."""
    heard: dict[str, int] = {}
    for ap in aps:
        rssi = expected_rssi(ap, level, x, y) + rng.gauss(0.0, sigma)
        if rssi >= NOISE_FLOOR_DBM:
            heard[ap.bssid] = max(RSSI_MIN, min(RSSI_MAX, round(rssi)))
    return heard


def weighted_centroid(
    aps: Sequence[AP], scan: Mapping[str, float], *, strongest: int = 5
) -> Estimate:
    """The centroid of the strongest heard APs of one floor, weighted by 1/d² of the distance
    the path-loss model gives for each RSSI. Accuracy: the weighted spread of those APs around
    the estimate, scaled down as more APs agree (never below 2 m)."""
    heard = sorted(((scan[ap.bssid], ap) for ap in aps if ap.bssid in scan), key=lambda p: -p[0])[
        :strongest
    ]
    if not heard:
        raise ValueError("no access point of this floor was heard")
    weights = [(1.0 / distance_from_rssi(ap, rssi) ** 2, ap) for rssi, ap in heard]
    total = sum(w for w, _ in weights)
    x = sum(w * ap.x for w, ap in weights) / total
    y = sum(w * ap.y for w, ap in weights) / total
    spread = math.sqrt(sum(w * ((ap.x - x) ** 2 + (ap.y - y) ** 2) for w, ap in weights) / total)
    nearest = distance_from_rssi(heard[0][1], heard[0][0])
    accuracy = max(2.0, 0.5 * spread + 0.5 * nearest) if len(heard) > 1 else max(2.0, nearest)
    return Estimate(x, y, accuracy, len(heard))


@dataclass(frozen=True)
class SurveyPoint:
    x: float
    y: float
    fingerprint: Mapping[str, float]


def signal_distance(scan: Mapping[str, float], fingerprint: Mapping[str, float]) -> float:
    """RMS difference in dB over the APs either side heard (unheard = the noise floor)."""
    keys = set(scan) | set(fingerprint)
    if not keys:
        return math.inf
    total = 0.0
    for k in keys:
        d = scan.get(k, MISSING_RSSI) - fingerprint.get(k, MISSING_RSSI)
        total += d * d
    return math.sqrt(total / len(keys))


def fingerprint_match(
    points: Sequence[SurveyPoint], scan: Mapping[str, float], *, k: int = 3
) -> Estimate:
    """k nearest survey points in signal space, weighted by 1/distance². Accuracy: the
    weighted spread of those points around the estimate plus half the survey spacing."""
    if not points:
        raise ValueError("no survey points")
    ranked = sorted(((signal_distance(scan, p.fingerprint), p) for p in points), key=lambda r: r[0])
    best = ranked[:k]
    weights = [(1.0 / max(d, 0.5) ** 2, p) for d, p in best]
    total = sum(w for w, _ in weights)
    x = sum(w * p.x for w, p in weights) / total
    y = sum(w * p.y for w, p in weights) / total
    spread = math.sqrt(sum(w * ((p.x - x) ** 2 + (p.y - y) ** 2) for w, p in weights) / total)
    return Estimate(x, y, max(1.5, spread + 1.0), len(best))


def floor_scores(aps: Iterable[AP], scan: Mapping[str, float]) -> dict[int, float]:
    """Received power (mW) summed per floor level: the floor heard loudest is the one."""
    scores: dict[int, float] = {}
    for ap in aps:
        if ap.bssid in scan:
            scores[ap.level] = scores.get(ap.level, 0.0) + 10 ** (scan[ap.bssid] / 10)
    return scores


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    if n == 0:
        raise ValueError("median of nothing")
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
