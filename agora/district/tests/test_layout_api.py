"""Floors, zones and facilities through the API: public reads, operator writes, geometry
validated with a clear field error and nothing written on bad input."""

from __future__ import annotations

import pytest

from agora.core.models import AuditLog
from agora.district.models import Facility, Floor, Zone
from agora.testing.personas import anonymous, as_persona, mall_id_of

pytestmark = pytest.mark.django_db

SQUARE = [[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0], [1.0, 1.0]]
BIG = [[0, 0], [50, 0], [50, 30], [0, 30], [0, 0]]


@pytest.fixture
def floor() -> Floor:
    f = (
        Floor.objects.filter(mall_id=mall_id_of("mall-ops-1"), level__gte=1)
        .order_by("level")
        .first()
    )
    assert f is not None
    return f


def _counts() -> tuple[int, int, int, int]:
    return (
        Zone.objects.count(),
        Floor.objects.count(),
        Facility.objects.count(),
        AuditLog.objects.count(),
    )


def test_floor_plan_is_public(floor: Floor) -> None:
    response = anonymous().get(f"/floors/{floor.pk}")
    assert response.status == 200
    assert response.body["id"] == floor.pk
    assert response.body["name"] == floor.name
    assert len(response.body["zones"]) == Zone.objects.filter(floor=floor).count()
    kinds = {z["kind"] for z in response.body["zones"]}
    assert {"corridor", "shop_unit", "evacuation_exit"} <= kinds
    assert anonymous().get("/floors/999999").status == 404


def test_mall_floors_listed_in_level_order() -> None:
    mall_id = mall_id_of("mall-ops-1")
    levels = [f["level"] for f in anonymous().get(f"/malls/{mall_id}/floors").body]
    expected = (
        Floor.objects.filter(mall_id=mall_id).order_by("level").values_list("level", flat=True)
    )
    assert levels == list(expected)


def test_operator_creates_zone_and_it_is_audited(floor: Floor) -> None:
    ops = as_persona("mall-ops-1")
    before = AuditLog.objects.count()
    body = {"kind": "service_desk", "name": "咨询台", "code": "SD-9", "polygon": SQUARE}
    response = ops.post(f"/floors/{floor.pk}/zones", body)
    assert response.status == 201, response.body
    assert response.body["area_m2"] == 4.0
    assert response.body["kind"] == "service_desk"
    zone = Zone.objects.get(pk=response.body["id"])
    assert zone.polygon == SQUARE
    assert AuditLog.objects.count() == before + 1
    entry = AuditLog.objects.latest("id")
    assert (entry.action, entry.actor_label, entry.target_id) == (
        "zone.create",
        "mall-ops-1",
        str(zone.pk),
    )
    assert entry.after is not None and entry.after["code"] == "SD-9"


@pytest.mark.parametrize(
    ("polygon", "reason"),
    [
        (
            [[1, 1], [3, 1], [3, 3], [1, 3]],
            "polygon is not closed: the last point must equal the first",
        ),
        ([[1, 1], [3, 1], [1, 1]], "a polygon needs at least 3 corners plus the closing point"),
        ([[0, 0], [4, 4], [4, 0], [0, 4], [0, 0]], None),  # self-intersecting bow-tie
        ([[1, 1], [1, 1], [1, 1], [1, 1]], None),
        ([[-5, -5], [-1, -5], [-1, -1], [-5, -1], [-5, -5]], None),  # outside the floor
    ],
)
def test_bad_geometry_is_422_on_polygon_and_writes_nothing(
    floor: Floor, polygon: list[list[float]], reason: str | None
) -> None:
    before = _counts()
    body = {"kind": "atrium", "name": "坏形状", "code": "BAD-1", "polygon": polygon}
    response = as_persona("mall-ops-1").post(f"/floors/{floor.pk}/zones", body)
    assert response.status == 422, response.body
    assert response.body["errors"][0]["field"] == "polygon"
    if reason:
        assert response.body["errors"][0]["reason"] == reason
    assert _counts() == before


def test_overlapping_shop_unit_is_refused(floor: Floor) -> None:
    unit = Zone.objects.filter(floor=floor, kind="shop_unit").order_by("id").first()
    assert unit is not None
    before = _counts()
    body = {"kind": "shop_unit", "name": "重叠铺位", "code": "OVL-1", "polygon": unit.polygon}
    response = as_persona("mall-ops-1").post(f"/floors/{floor.pk}/zones", body)
    assert response.status == 422
    assert response.body["errors"] == [
        {"field": "polygon", "reason": f"overlaps shop unit {unit.code}", "code": "overlap"}
    ]
    assert _counts() == before


def test_duplicate_zone_code_is_refused(floor: Floor) -> None:
    code = Zone.objects.filter(floor=floor).order_by("id").values_list("code", flat=True).first()
    before = _counts()
    body = {"kind": "atrium", "name": "重复", "code": code, "polygon": SQUARE}
    response = as_persona("mall-ops-1").post(f"/floors/{floor.pk}/zones", body)
    assert response.status == 422
    assert response.field_names() == ["code"]
    assert _counts() == before


def test_schema_errors_name_the_field(floor: Floor) -> None:
    before = _counts()
    ops = as_persona("mall-ops-1")
    body = {"kind": "spaceship", "name": "x", "code": "X", "polygon": SQUARE}
    response = ops.post(f"/floors/{floor.pk}/zones", body)
    assert response.status == 422
    assert response.field_names() == ["kind"]
    response = ops.post(f"/floors/{floor.pk}/zones", "{not json")
    assert response.status in (400, 422)
    assert response.body["status"] == response.status
    assert _counts() == before


def test_occupied_unit_cannot_be_deleted(floor: Floor) -> None:
    unit = Zone.objects.filter(
        floor__mall=floor.mall, kind="shop_unit", occupancy__isnull=False
    ).first()
    assert unit is not None
    before = _counts()
    response = as_persona("mall-ops-1").delete(f"/zones/{unit.pk}")
    assert response.status == 409
    assert response.problem_code == "conflict"
    assert _counts() == before


def test_zone_rename_and_delete_free_zone(floor: Floor) -> None:
    ops = as_persona("mall-ops-1")
    body = {"kind": "atrium", "name": "临时", "code": "TMP-1", "polygon": SQUARE}
    zone_id = ops.post(f"/floors/{floor.pk}/zones", body).body["id"]
    renamed = ops.patch(f"/zones/{zone_id}", {"name": "花园中庭"})
    assert renamed.status == 200
    assert renamed.body["name"] == "花园中庭"
    assert ops.delete(f"/zones/{zone_id}").status == 204
    assert not Zone.objects.filter(pk=zone_id).exists()
    actions = (
        AuditLog.objects.filter(target_id=str(zone_id))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert list(actions) == ["zone.create", "zone.update", "zone.delete"]


def test_facility_outside_floor_is_refused(floor: Floor) -> None:
    before = _counts()
    body = {"kind": "atm", "name": "ATM", "x": floor.width_m + 5, "y": 1}
    response = as_persona("mall-ops-1").post(f"/floors/{floor.pk}/facilities", body)
    assert response.status == 422
    assert response.field_names() == ["x"]
    assert _counts() == before


def test_writes_need_authentication(floor: Floor) -> None:
    before = _counts()
    body = {"kind": "atrium", "name": "x", "code": "A", "polygon": SQUARE}
    response = anonymous().post(f"/floors/{floor.pk}/zones", body)
    assert response.status == 401
    assert response.problem_code == "not_authenticated"
    assert _counts() == before


def test_new_floor_outline_validated() -> None:
    mall_id = mall_id_of("mall-ops-1")
    ops = as_persona("mall-ops-1")
    before = _counts()
    bad = ops.post(
        f"/malls/{mall_id}/floors",
        {"level": 9, "name": "9F", "outline": [[0, 0], [10, 0], [10, 10]]},
    )
    assert bad.status == 422
    assert bad.field_names() == ["outline"]
    taken = Floor.objects.filter(mall_id=mall_id).values_list("level", flat=True).first()
    dup = ops.post(f"/malls/{mall_id}/floors", {"level": taken, "name": "dup", "outline": BIG})
    assert dup.status == 409
    assert _counts() == before
    ok = ops.post(f"/malls/{mall_id}/floors", {"level": 9, "name": "9F", "outline": BIG})
    assert ok.status == 201
    assert (ok.body["width_m"], ok.body["depth_m"]) == (50.0, 30.0)
