"""Routing through the public API on the SMALL demo district: shop to shop across malls and
floors, step-free and evacuation modes, nearest facilities, closures that change the route, and
the problems that say why there is no route."""

from __future__ import annotations

from typing import Any

import pytest

from agora.accounts.actor import Actor
from agora.district.models import Floor, Mall, Shop, Zone
from agora.district.services.geometry import geometry_touch
from agora.district.services.layout import zone_update
from agora.navigation import selectors as sel
from agora.navigation.models import AccessPoint, Closure, Kiosk, Link, SurveyPoint
from agora.testing.personas import anonymous, as_persona, user

pytestmark = pytest.mark.django_db


def _route(frm: str, to: str, mode: str = "fastest", lang: str = "en") -> Any:
    client = anonymous()
    return client.get(f"/nav/route?from={frm}&to={to}&mode={mode}&lang={lang}")


def _mall(code: str) -> Mall:
    return Mall.objects.get(code=code)


def _floor(code: str, level: int) -> Floor:
    return Floor.objects.get(mall__code=code, level=level)


def _shops_on(floor: Floor, corridor_code: str) -> list[Shop]:
    """Open shops whose door opens on the given corridor (e.g. L1-C01, the south one),
    nearest the atrium first."""
    net = sel.network_of(floor.mall.district_id)
    corridor = Zone.objects.get(floor=floor, code=corridor_code)
    atrium = Zone.objects.filter(floor=floor, code__endswith="-A01").first()
    mid = sum(p[0] for p in atrium.polygon[:-1]) / 4 if atrium is not None else floor.width_m / 2
    out: list[tuple[float, int, Shop]] = []
    for shop in Shop.objects.filter(mall=floor.mall, status="open").order_by("id"):
        units = net.shop_units.get(shop.pk, ())
        doors = [net.unit_doors[u] for u in units if u in net.unit_doors]
        if doors and all(
            net.segments[d.segment].zone_id == corridor.pk and d.floor_id == floor.pk for d in doors
        ):
            out.append((min(abs(d.point[0] - mid) for d in doors), shop.pk, shop))
    return [shop for _, _, shop in sorted(out)]


def as_admin() -> Actor:
    return Actor(user=user("admin"), is_admin=True)


def _kinds(body: dict[str, Any]) -> list[str]:
    return [s["kind"] for s in body["steps"]]


def _vertical(body: dict[str, Any]) -> list[str]:
    return [k for k in _kinds(body) if k in ("lift", "escalator", "stairs")]


def test_route_between_malls_and_floors_fastest_then_step_free() -> None:
    a = _shops_on(_floor("mixc", 1), "L1-C01")[0]
    b = _shops_on(_floor("coco-park", 2), "L2-C02")[0]
    fast = _route(f"shop:{a.pk}", f"shop:{b.pk}")
    assert fast.status == 200, fast.body
    body = fast.body
    assert body["mode"] == "fastest"
    assert body["origin"] == a.name and body["destination"] == b.name
    assert _kinds(body)[0] == "start" and _kinds(body)[-1] == "arrive"
    assert "street" in _kinds(body)
    assert _vertical(body) == ["escalator"]
    mixc1, coco1, coco2 = _floor("mixc", 1), _floor("coco-park", 1), _floor("coco-park", 2)
    assert body["floors"] == [mixc1.pk, coco1.pk, coco2.pk]
    assert [leg["floor_id"] for leg in body["legs"]] == [mixc1.pk, coco1.pk, coco2.pk]
    assert body["legs"][1]["leave"]["kind"] == "escalator"
    assert body["legs"][2]["enter"]["kind"] == "escalator"
    # the legs add up to the distance (plus the escalator ride and the street)
    street = next(s for s in body["steps"] if s["kind"] == "street")
    assert street["distance_m"] > 100

    free = _route(f"shop:{a.pk}", f"shop:{b.pk}", "step_free")
    assert free.status == 200
    assert _vertical(free.body) == ["lift"]
    assert free.body["legs"][1]["leave"]["kind"] == "lift"
    assert free.body["duration_s"] > body["duration_s"]
    lift = next(s for s in free.body["steps"] if s["kind"] == "lift")
    assert lift["text"].startswith("Take the lift (客梯")
    assert lift["text"].endswith(f"to {coco2.name}")


def test_instructions_in_chinese() -> None:
    a = _shops_on(_floor("coco-park", 1), "L1-C01")[0]
    b = _shops_on(_floor("coco-park", 2), "L2-C02")[0]
    zh = _route(f"shop:{a.pk}", f"shop:{b.pk}", lang="zh-hans").body
    texts = [s["text"] for s in zh["steps"]]
    assert texts[0] == f"从{a.name}出发"
    assert "乘扶梯（上行）上到2F" in texts
    assert texts[-1].startswith(f"到达{b.name}")
    walks = [s for s in zh["steps"] if s["kind"] == "walk"]
    assert all("步行约" in s["text"] and s["text"].endswith("米") for s in walks)
    after = zh["steps"][
        zh["steps"].index(next(s for s in zh["steps"] if s["kind"] == "escalator")) + 1
    ]
    assert after["text"].startswith("下扶梯后")


def test_escalators_run_one_way() -> None:
    up = _shops_on(_floor("coco-park", 1), "L1-C01")[0]
    down = _shops_on(_floor("coco-park", 2), "L2-C01")[0]
    there = _route(f"shop:{up.pk}", f"shop:{down.pk}").body
    back = _route(f"shop:{down.pk}", f"shop:{up.pk}").body
    links = {link.pk: link for link in Link.objects.filter(kind="escalator")}
    assert [links[i].direction for i in there["links"] if i in links] == ["up"]
    assert [links[i].direction for i in back["links"] if i in links] == ["down"]
    assert any(s["text"].startswith("Take the escalator down") for s in back["steps"])


def test_closing_a_corridor_changes_the_route_and_reopening_restores_it() -> None:
    floor = _floor("coco-park", 1)
    a = _shops_on(floor, "L1-C01")[0]
    b = _shops_on(floor, "L1-C02")[0]
    before = _route(f"shop:{a.pk}", f"shop:{b.pk}").body
    atrium = Zone.objects.get(floor=floor, code="L1-A01")
    assert any(s.get("text", "").endswith("along 中庭") for s in before["steps"])

    ops = as_persona("mall-ops-2")
    closed = ops.post("/nav/closures", {"zone_id": atrium.pk, "reason": "中庭布展"})
    assert closed.status == 201, closed.body
    after = _route(f"shop:{a.pk}", f"shop:{b.pk}").body
    assert not any("中庭" in s["text"] for s in after["steps"])
    assert after["distance_m"] > before["distance_m"]
    assert after["closures_in_force"] == ["中庭布展"]
    # the new route avoids every segment of the atrium
    net = sel.network_of(floor.mall.district_id)
    atrium_segments = {s.id for s in net.segments if s.zone_id == atrium.pk}
    assert atrium_segments

    assert ops.post(f"/nav/closures/{closed.body['id']}/lift", {}).status == 200
    again = _route(f"shop:{a.pk}", f"shop:{b.pk}").body
    assert again["distance_m"] == before["distance_m"]
    assert again["steps"] == before["steps"]


def test_closed_destination_and_closed_ways_say_why() -> None:
    floor = _floor("coco-park", 1)
    a = _shops_on(floor, "L1-C01")[0]
    b = _shops_on(floor, "L1-C02")[0]
    north = Zone.objects.get(floor=floor, code="L1-C02")
    ops = as_persona("mall-ops-2")
    assert ops.post("/nav/closures", {"zone_id": north.pk, "reason": "地面维修"}).status == 201
    r = _route(f"shop:{a.pk}", f"shop:{b.pk}")
    assert r.status == 422
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.body["code"] == "no_route"
    assert r.body["reason"] == "destination_closed"
    assert r.body["errors"][0]["field"] == "to"
    assert r.body["detail"] == f"{b.name} is closed: 地面维修"


def test_step_free_without_a_lift_is_refused_with_the_reason() -> None:
    a = _shops_on(_floor("coco-park", 1), "L1-C01")[0]
    b = _shops_on(_floor("coco-park", 2), "L2-C02")[0]
    ops = as_persona("mall-ops-2")
    lifts = list(Link.objects.filter(kind="lift", mall__code="coco-park"))
    assert len(lifts) == 2
    for link in lifts:
        assert ops.post("/nav/closures", {"link_id": link.pk, "reason": "电梯年检"}).status == 201
    r = _route(f"shop:{a.pk}", f"shop:{b.pk}", "step_free")
    assert r.status == 422
    assert r.body["reason"] == "closed_on_the_way"
    assert "电梯年检" in r.body["detail"]
    # fastest still works (escalator)
    assert _route(f"shop:{a.pk}", f"shop:{b.pk}").status == 200
    # no lift at all in the mall: no step-free way exists
    Closure.objects.all().delete()
    Link.objects.filter(pk__in=[x.pk for x in lifts]).delete()  # a mall without lifts
    geometry_touch(mall_id=lifts[0].mall_id)
    r = _route(f"shop:{a.pk}", f"shop:{b.pk}", "step_free")
    assert r.status == 422
    assert r.body["reason"] == "no_step_free_route"
    assert r.body["errors"][0]["field"] == "mode"


def test_nearest_restroom_and_evacuation() -> None:
    floor = _floor("coco-park", 2)
    shop = _shops_on(floor, "L2-C01")[0]
    r = _route(f"shop:{shop.pk}", "nearest:restroom").body
    assert r["destination"].startswith("卫生间")
    assert r["floors"] == [floor.pk]
    evac = _route(f"point:{floor.pk}:{floor.width_m / 2}:{floor.depth_m / 2}", "", "evacuation")
    assert evac.status == 200, evac.body
    assert evac.body["destination"].endswith("安全出口")
    assert evac.body["floors"] == [floor.pk]  # the exit of the same floor, no lift
    assert "lift" not in _kinds(evac.body)


@pytest.mark.parametrize(
    ("frm", "to", "mode", "field", "code"),
    [
        ("bogus", "nearest:restroom", "fastest", "from", "format"),
        ("shop:abc", "nearest:restroom", "fastest", "from", "format"),
        ("shop:999999", "nearest:restroom", "fastest", "from", "unknown"),
        ("point:999999:1:1", "nearest:restroom", "fastest", "from", "unknown_floor"),
        ("nearest:exit", "nearest:restroom", "fastest", "from", "format"),
        ("FLOOR", "nearest:sauna", "fastest", "to", "format"),
        ("FLOOR", "nearest:restroom", "sideways", "mode", "choice"),
        ("FLOOROUT", "nearest:restroom", "fastest", "from", "outside_floor"),
    ],
)
def test_bad_places_are_field_errors(frm: str, to: str, mode: str, field: str, code: str) -> None:
    floor = _floor("coco-park", 1)
    frm = frm.replace("FLOOROUT", f"point:{floor.pk}:9999:1").replace(
        "FLOOR", f"point:{floor.pk}:20:20"
    )
    r = _route(frm, to, mode)
    assert r.status == 422, r.body
    assert r.headers["Content-Type"] == "application/problem+json"
    if mode == "sideways":  # ninja rejects the enum before the selector sees it
        assert r.body["errors"][0]["field"].endswith("mode")
        return
    assert r.body["errors"][0]["field"] == field
    assert r.body["errors"][0]["code"] == code


def test_closures_are_for_the_malls_operators_only() -> None:
    atrium = Zone.objects.get(floor=_floor("coco-park", 1), code="L1-A01")
    before = Closure.objects.count()
    assert (
        as_persona("13800000001")
        .post("/nav/closures", {"zone_id": atrium.pk, "reason": "x"})
        .status
        == 403
    )
    # another mall's zone answers exactly like a zone that does not exist (ADR 0006)
    other = as_persona("mall-ops-1").post("/nav/closures", {"zone_id": atrium.pk, "reason": "x"})
    missing = as_persona("mall-ops-1").post("/nav/closures", {"zone_id": 999999, "reason": "x"})
    assert other.status == missing.status == 422
    assert other.body["errors"] == missing.body["errors"]
    assert other.body["errors"][0]["field"] == "zone_id"
    assert other.body["errors"][0]["code"] == "unknown"
    assert anonymous().post("/nav/closures", {"zone_id": atrium.pk, "reason": "x"}).status == 401
    blank = as_persona("mall-ops-2").post("/nav/closures", {"zone_id": atrium.pk, "reason": " "})
    assert blank.status == 422 and blank.body["errors"][0]["field"] == "reason"
    both = as_persona("mall-ops-2").post(
        "/nav/closures", {"zone_id": atrium.pk, "link_id": 1, "reason": "x"}
    )
    assert both.status == 422
    assert Closure.objects.count() == before
    ok = as_persona("mall-ops-2").post("/nav/closures", {"zone_id": atrium.pk, "reason": "布展"})
    assert ok.status == 201
    again = as_persona("mall-ops-2").post("/nav/closures", {"zone_id": atrium.pk, "reason": "y"})
    assert again.status == 409
    assert Closure.objects.count() == before + 1
    listed = as_persona("mall-ops-2").get("/nav/closures").body
    assert [c["reason"] for c in listed] == ["布展"]
    assert as_persona("mall-ops-1").get("/nav/closures").body == []
    foreign = as_persona("mall-ops-1").post(f"/nav/closures/{ok.body['id']}/lift", {})
    assert foreign.status == 404
    assert Closure.objects.get(pk=ok.body["id"]).lifted_at is None
    lift = as_persona("mall-ops-2").post(f"/nav/closures/{ok.body['id']}/lift", {})
    assert lift.status == 200 and lift.body["lifted_at"] is not None
    assert as_persona("mall-ops-2").post(f"/nav/closures/{ok.body['id']}/lift", {}).status == 409
    assert user("mall-ops-2") is not None


def test_network_is_built_from_the_geometry() -> None:
    mall = _mall("coco-park")
    net = sel.network_of(mall.district_id)
    f1, f2 = _floor("coco-park", 1), _floor("coco-park", 2)
    # every shop unit of the mall has a door on a corridor or the atrium
    units = Zone.objects.filter(floor__mall=mall, kind="shop_unit")
    assert all(u.pk in net.unit_doors for u in units)
    kinds = {link.kind: link for link in Link.objects.filter(mall=mall)}
    assert set(kinds) == {"lift", "escalator", "stairs"}
    assert Link.objects.filter(mall=mall, kind="lift").count() == 2
    assert Link.objects.filter(mall=mall, kind="escalator").count() == 2
    assert sorted(
        Link.objects.filter(mall=mall, kind="escalator").values_list("direction", flat=True)
    ) == ["down", "up"]
    assert Link.objects.filter(kind="street").count() == 1
    # the same version is reused; a geometry change rebuilds
    assert sel.network_of(mall.district_id) is net
    atrium = Zone.objects.get(floor=f2, code="L2-A01")
    zone_update(actor=as_admin(), zone=atrium, changes={"name": "星光中庭"})
    rebuilt = sel.network_of(mall.district_id)
    assert rebuilt is not net
    assert rebuilt.zones[atrium.pk].name == "星光中庭"
    assert f1.pk in rebuilt.floors
    a = _shops_on(f2, "L2-C01")[0]
    b = _shops_on(f2, "L2-C02")[0]
    r = _route(f"shop:{a.pk}", f"shop:{b.pk}", lang="zh-hans").body
    assert any("沿星光中庭步行" in s["text"] for s in r["steps"])


def test_another_malls_floor_is_not_found_for_kiosks_survey_and_access_points() -> None:
    coco = _floor("coco-park", 1)
    ops = as_persona("mall-ops-1")
    before = (Kiosk.objects.count(), SurveyPoint.objects.count(), AccessPoint.objects.count())
    kiosk = ops.post(
        "/nav/kiosks", {"code": "coco-x", "name": "x", "floor_id": coco.pk, "x": 10, "y": 10}
    )
    assert kiosk.status == 404
    fingerprint = {"a4:5e:00:00:00:01": -60, "a4:5e:00:00:00:02": -61, "a4:5e:00:00:00:03": -62}
    survey = ops.post(
        "/nav/survey-points",
        {"floor_id": coco.pk, "x": 10, "y": 10, "fingerprint": fingerprint},
    )
    assert survey.status == 404
    row = {"bssid": "a4:5e:00:00:00:09", "floor_id": coco.pk, "x": 10, "y": 10}
    foreign = ops.post("/nav/access-points", {"access_points": [row]})
    missing = ops.post("/nav/access-points", {"access_points": [{**row, "floor_id": 999999}]})
    assert foreign.status == missing.status == 422
    assert foreign.body["errors"] == missing.body["errors"]
    assert foreign.body["errors"][0]["field"] == "access_points.0.floor_id"
    after = (Kiosk.objects.count(), SurveyPoint.objects.count(), AccessPoint.objects.count())
    assert after == before
    # the mall's own operator may
    own = as_persona("mall-ops-2").post("/nav/access-points", {"access_points": [row]})
    assert own.status == 200 and own.body == {"saved": 1}
