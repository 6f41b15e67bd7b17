"""WiFi positioning through POST /api/v1/nav/position, measured on the demo's registry.

万象城 (mall 1) was surveyed (a fingerprint every ~6 m along its corridors, atrium and car-park
aisles): positions there come from fingerprint matching. 星河COCO Park (mall 2) has access
points but no survey: positions there are weighted centroids. Each test point is a random spot
of a circulation zone (corridor, atrium, car park), 30 per floor, not on a survey point; the
phone's scan comes from the same path-loss model as the demo's survey (``simulate_scan``, 4 dB
shadowing) over that mall's access points.

The bounds on the median error were measured on this demo (30 seeds of 60 points each, through
``position_from_wifi``): fingerprint medians 3.4 to 4.9 m (4.2 typical), centroid medians 3.5
to 5.9 m (4.5 typical). The survey follows the centre lines only, so a point in the 16 m wide
atrium or between car-park aisles is placed on the nearest surveyed line: that, not the
matching, sets the ~4 m floor. The bounds (5.5 m and 6.5 m) sit just above the worst median
seen; a wrong floor, mixed-up axes or a centroid over the whole mall gives 10 m and more.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from typing import Any

import pytest
from django.conf import settings
from shapely.geometry import Point, Polygon

from agora.accounts.models import User
from agora.accounts.services.credentials import api_token_create
from agora.district.models import Floor, Mall, Zone
from agora.lib.wifi import AP, simulate_scan
from agora.navigation.models import AccessPoint, SurveyPoint
from agora.testing.personas import ApiClient, anonymous

pytestmark = pytest.mark.django_db

PHONE = "13912340077"  # this file's own shopper (13800000001 is left alone)
PER_FLOOR = 30
FINGERPRINT_MEDIAN_M = 5.5
CENTROID_MEDIAN_M = 6.5
CIRCULATION = ["corridor", "atrium", "car_park"]
UNKNOWN = ["02:00:00:00:00:01", "02:00:00:00:00:02"]


def _shopper(*, consent: bool = True) -> ApiClient:
    user = User.objects.create(username=f"p{PHONE}", phone=PHONE, display_name="定位测试")
    _, secret = api_token_create(user=user)
    client = ApiClient(token=secret)
    if consent:
        granted = client.put(
            "/me/consents/location_tracking",
            {"granted": True, "policy_version": settings.PRIVACY_POLICY_VERSION},
        )
        assert granted.status == 200, granted.body
    return client


def _registry(mall: Mall) -> list[AP]:
    return [
        AP(a.bssid, a.floor.level, a.x, a.y, a.tx_power)
        for a in AccessPoint.objects.filter(floor__mall=mall).select_related("floor").order_by("id")
    ]


def _spots(mall: Mall, rng: random.Random) -> list[tuple[Floor, float, float]]:
    """PER_FLOOR random spots of each floor's circulation zones, none within 1 m of a survey
    point."""
    surveyed = list(SurveyPoint.objects.filter(floor__mall=mall).values_list("floor_id", "x", "y"))
    spots: list[tuple[Floor, float, float]] = []
    for floor in Floor.objects.filter(mall=mall).order_by("level"):
        zones = [
            Polygon([(p[0], p[1]) for p in z.polygon])
            for z in Zone.objects.filter(floor=floor, kind__in=CIRCULATION).order_by("id")
        ]
        assert zones, floor
        taken = 0
        while taken < PER_FLOOR:
            poly = rng.choices(zones, weights=[z.area for z in zones])[0]
            x0, y0, x1, y1 = poly.bounds
            x, y = round(rng.uniform(x0, x1), 2), round(rng.uniform(y0, y1), 2)
            if not poly.contains(Point(x, y)):
                continue
            if any(f == floor.pk and math.hypot(sx - x, sy - y) < 1.0 for f, sx, sy in surveyed):
                continue
            spots.append((floor, x, y))
            taken += 1
    return spots


def _observations(scan: dict[str, int]) -> list[dict[str, Any]]:
    return [{"bssid": b, "rssi": r} for b, r in scan.items()]


def _measure(client: ApiClient, mall_code: str, seed: int) -> tuple[float, float, set[str]]:
    """(median error m, share of right floors, methods seen) over the mall's test spots."""
    mall = Mall.objects.get(code=mall_code)
    aps = _registry(mall)
    rng = random.Random(seed)
    errors: list[float] = []
    right_floor = 0
    methods: set[str] = set()
    for floor, x, y in _spots(mall, rng):
        scan = simulate_scan(aps, floor.level, x, y, rng)
        r = client.post("/nav/position", {"observations": _observations(scan)})
        assert r.status == 200, r.body
        assert r.body["mall_id"] == mall.pk and r.body["ignored"] == []
        right_floor += r.body["floor_id"] == floor.pk
        methods.add(r.body["method"])
        errors.append(math.hypot(r.body["x"] - x, r.body["y"] - y))
    return statistics.median(errors), right_floor / len(errors), methods


def test_fingerprint_in_the_surveyed_mall_and_centroid_elsewhere() -> None:
    client = _shopper()
    fp_median, fp_floors, fp_methods = _measure(client, "mixc", seed=2024)
    c_median, c_floors, c_methods = _measure(client, "coco-park", seed=2025)
    print(
        f"\n万象城 (fingerprint): median error {fp_median:.2f} m, right floor {fp_floors:.0%}"
        f"\n星河COCO Park (centroid): median error {c_median:.2f} m, right floor {c_floors:.0%}"
    )
    assert fp_methods == {"fingerprint"}
    assert c_methods == {"centroid"}
    assert fp_floors >= 0.95
    assert c_floors >= 0.95
    assert fp_median <= FINGERPRINT_MEDIAN_M
    assert c_median <= CENTROID_MEDIAN_M


def _known(n: int = 4) -> list[str]:
    mall = Mall.objects.get(code="mixc")
    return list(
        AccessPoint.objects.filter(floor__mall=mall, floor__level=1)
        .order_by("id")
        .values_list("bssid", flat=True)[:n]
    )


def test_unknown_access_points_are_listed_and_ignored() -> None:
    client = _shopper()
    known = _known()
    obs = [{"bssid": b.upper(), "rssi": -55 - 5 * i} for i, b in enumerate(known)]
    obs += [{"bssid": b, "rssi": -60} for b in UNKNOWN]
    r = client.post("/nav/position", {"observations": obs})
    assert r.status == 200, r.body
    floor = Floor.objects.get(mall__code="mixc", level=1)
    assert r.body["floor_id"] == floor.pk
    assert r.body["floor"] == "1F"
    assert r.body["mall"] == "万象城"
    assert r.body["ignored"] == UNKNOWN
    assert (r.body["method"], r.body["used"]) == ("fingerprint", 3)  # the 3 nearest fingerprints
    assert r.body["place"] == f"point:{floor.pk}:{r.body['x']}:{r.body['y']}"

    only_unknown = client.post("/nav/position", {"observations": _observations_of(UNKNOWN)})
    assert only_unknown.status == 422
    assert only_unknown.field_names() == ["observations"]
    assert only_unknown.body["errors"][0]["code"] == "unknown_access_points"


def _observations_of(bssids: list[str], rssi: Any = -60) -> list[dict[str, Any]]:
    return [{"bssid": b, "rssi": rssi} for b in bssids]


@pytest.mark.parametrize("rssi", [0, 5, -200, "abc", None, True])
def test_rssi_garbage_is_refused(rssi: Any) -> None:
    client = _shopper()
    obs = _observations_of(_known(1), rssi)
    r = client.post("/nav/position", {"observations": obs})
    assert r.status == 422, r.body
    assert r.field_names() == ["observations.0.rssi"]


@pytest.mark.parametrize("bssid", ["not-a-mac", "aa:bb:cc:dd:ee", "gg:hh:ii:jj:kk:ll", ""])
def test_malformed_bssid_is_refused(bssid: str) -> None:
    client = _shopper()
    r = client.post("/nav/position", {"observations": [{"bssid": bssid, "rssi": -60}]})
    assert r.status == 422, r.body
    assert r.field_names() == ["observations.0.bssid"]


def test_empty_and_oversized_scans_are_refused() -> None:
    client = _shopper()
    empty = client.post("/nav/position", {"observations": []})
    assert empty.status == 422, empty.body
    assert empty.body["errors"] == [
        {"field": "observations", "reason": "send at least one access point", "code": "required"}
    ]
    many = [f"02:00:00:00:01:{i:02x}" for i in range(65)]
    too_many = client.post("/nav/position", {"observations": _observations_of(many)})
    assert too_many.status == 422, too_many.body
    assert too_many.field_names() == ["observations"]
    assert too_many.body["errors"][0]["code"] == "too_long"
    not_json = client.post("/nav/position", '{"observations": [{"bssid": "x", "rssi": -6')
    assert not_json.status == 400, not_json.body


def test_positioning_needs_location_consent() -> None:
    body = {"observations": _observations_of(_known())}
    no_consent = _shopper(consent=False).post("/nav/position", body)
    assert no_consent.status == 403, no_consent.body
    assert no_consent.problem_code == "consent_required"
    visitor = anonymous().post("/nav/position", body)
    assert visitor.status == 403, visitor.body
    assert visitor.problem_code == "consent_required"


def test_withdrawn_consent_stops_positioning() -> None:
    client = _shopper()
    body = {"observations": _observations_of(_known())}
    assert client.post("/nav/position", body).status == 200
    withdrawn = client.put(
        "/me/consents/location_tracking",
        {"granted": False, "policy_version": settings.PRIVACY_POLICY_VERSION},
    )
    assert withdrawn.status == 200, withdrawn.body
    again = client.post("/nav/position", body)
    assert again.status == 403
    assert again.problem_code == "consent_required"


def test_request_body_is_json_object() -> None:
    client = _shopper()
    r = client.post("/nav/position", json.dumps([{"bssid": _known(1)[0], "rssi": -60}]))
    assert r.status == 422, r.body


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_refused(literal: str) -> None:
    """Python's JSON parser reads NaN and Infinity: the range check still refuses them."""
    client = _shopper()
    bssid = _known(1)[0]
    raw = f'{{"observations": [{{"bssid": "{bssid}", "rssi": {literal}}}]}}'
    r = client.post("/nav/position", raw)
    assert r.status == 422, r.body
    assert r.body["errors"] == [
        {"field": "observations.0.rssi", "reason": "RSSI is dBm from -120 to -1", "code": "range"}
    ]
