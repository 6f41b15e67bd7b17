"""The remaining operations and their refusals: audit log, lists, session + CSRF, sign-out."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from agora.accounts.models import ApiKey, User
from agora.core.models import AuditLog
from agora.district.models import Facility, Floor, Mall
from agora.testing.personas import ApiClient, anonymous, as_persona, mall_id_of, shop_id_of

pytestmark = pytest.mark.django_db


def test_public_lists() -> None:
    districts = anonymous().get("/districts").body
    assert [d["code"] for d in districts] == ["xinghe"]
    malls = anonymous().get("/malls").body
    assert [m["id"] for m in malls] == list(
        Mall.objects.order_by("id").values_list("id", flat=True)
    )
    assert anonymous().get(f"/malls/{malls[0]['id']}").body["name"] == malls[0]["name"]
    assert anonymous().get("/malls/999999").status == 404


def test_audit_log_is_scoped_by_role() -> None:
    m1, m2 = mall_id_of("mall-ops-1"), mall_id_of("mall-ops-2")
    as_persona("mall-ops-1").patch(f"/shops/{shop_id_of('shop-owner-1')}", {"description": "一号"})
    as_persona("mall-ops-2").patch(f"/shops/{shop_id_of('shop-owner-2')}", {"description": "二号"})
    ops1 = as_persona("mall-ops-1").get("/audit-log").body["items"]
    assert {e["mall_id"] for e in ops1} == {m1}
    assert [e["after"]["description"] for e in ops1 if e["action"] == "shop.update"] == ["一号"]
    everything = as_persona("admin").get("/audit-log?limit=200").body["items"]
    assert {m1, m2} <= {e["mall_id"] for e in everything}
    owner = as_persona("shop-owner-1").get("/audit-log").body["items"]
    assert {e["shop_id"] for e in owner} == {shop_id_of("shop-owner-1")}
    for login in ["shop-cashier-1", "gov", "13800000001"]:
        denied = as_persona(login).get("/audit-log")
        assert denied.status == 403, login
    assert anonymous().get("/audit-log").status == 401


def test_api_keys_list_shows_only_mine() -> None:
    as_persona("shop-owner-1").post(
        "/api-keys", {"name": "A", "scopes": ["shops:read"], "shop_id": shop_id_of("shop-owner-1")}
    )
    as_persona("shop-owner-2").post(
        "/api-keys", {"name": "B", "scopes": ["shops:read"], "shop_id": shop_id_of("shop-owner-2")}
    )
    mine = as_persona("shop-owner-1").get("/api-keys").body
    assert [k["name"] for k in mine] == ["A"]
    assert "secret" not in mine[0]
    assert len(as_persona("admin").get("/api-keys").body) == ApiKey.objects.count()


def test_api_key_cannot_reach_the_creators_personal_data() -> None:
    created = as_persona("shop-owner-1").post(
        "/api-keys",
        {"name": "ERP", "scopes": ["shops:read"], "shop_id": shop_id_of("shop-owner-1")},
    )
    partner = ApiClient(api_key=created.body["secret"])
    for path in ["/me", "/me/personal-data", "/me/consents", "/api-keys"]:
        assert partner.get(path).status == 403, path
    before = User.objects.get(username="shop-owner-1").is_active
    assert partner.delete("/me?confirm=DELETE").status == 403
    assert User.objects.get(username="shop-owner-1").is_active == before


def test_operator_key_for_a_shop_of_their_mall_works_and_no_further() -> None:
    shop_id = shop_id_of("shop-owner-1")
    created = as_persona("mall-ops-1").post(
        "/api-keys", {"name": "ops", "scopes": ["shops:read"], "shop_id": shop_id}
    )
    partner = ApiClient(api_key=created.body["secret"])
    assert [s["id"] for s in partner.get("/shops").body["items"]] == [shop_id]
    assert partner.get(f"/shops/{shop_id_of('shop-owner-1b')}").status == 404


def test_facility_create_and_delete() -> None:
    floor = Floor.objects.filter(mall_id=mall_id_of("mall-ops-1")).order_by("level").last()
    assert floor is not None
    ops = as_persona("mall-ops-1")
    created = ops.post(
        f"/floors/{floor.pk}/facilities", {"kind": "aed", "name": "AED 2", "x": 1.5, "y": 2}
    )
    assert created.status == 201
    assert (created.body["kind"], created.body["x"], created.body["y"]) == ("aed", 1.5, 2.0)
    assert ops.delete(f"/facilities/{created.body['id']}").status == 204
    assert not Facility.objects.filter(pk=created.body["id"]).exists()
    actions = AuditLog.objects.filter(
        target_type="district.facility", target_id=str(created.body["id"])
    )
    assert list(actions.order_by("id").values_list("action", flat=True)) == [
        "facility.create",
        "facility.delete",
    ]


def test_zone_patch_with_bad_polygon_changes_nothing() -> None:
    floor = Floor.objects.filter(mall_id=mall_id_of("mall-ops-1")).order_by("level").last()
    zone = floor.zones.filter(kind="shop_unit").first()  # type: ignore[union-attr]
    before = (zone.name, zone.polygon)
    response = as_persona("mall-ops-1").patch(
        f"/zones/{zone.pk}", {"name": "新名", "polygon": [[0, 0], [1, 1]]}
    )
    assert response.status == 422
    zone.refresh_from_db()
    assert (zone.name, zone.polygon) == before


def test_session_writes_need_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="shop-owner-1"))
    shop_id = shop_id_of("shop-owner-1")
    url = f"/api/v1/shops/{shop_id}"
    assert client.get(url).status_code == 200
    refused = client.patch(
        url, json.dumps({"description": "无令牌"}), content_type="application/json"
    )
    assert refused.status_code in (401, 403)
    assert refused["Content-Type"] == "application/problem+json"
    client.get("/")  # the page sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    ok = client.patch(
        url,
        json.dumps({"description": "有令牌"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 200
    assert ok.json()["description"] == "有令牌"


def test_sign_out_requires_a_bearer_token() -> None:
    assert anonymous().delete("/auth/tokens/current").status == 401
    assert anonymous().post("/auth/tokens", {"username": "admin"}).status == 422
