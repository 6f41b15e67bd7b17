"""Tenancy matrix (SC-3, PUB-1): for every object endpoint, an outsider gets 404 and nothing
changes. Outsiders: another merchant in the same mall, a merchant of another mall, another
mall's operator, the government officer (no commerce), a shopper, and a partner API key
issued for another shop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from agora.accounts.models import ApiKey
from agora.core.models import AuditLog
from agora.district.models import Facility, Floor, MerchantApplication, Shop, ShopUnit, Zone
from agora.testing.personas import ApiClient, as_persona, mall_id_of, shop_id_of

pytestmark = pytest.mark.django_db


def _state() -> tuple[Any, ...]:
    """A fingerprint of everything an endpoint below could change."""
    return (
        list(Shop.objects.order_by("id").values_list("id", "name", "status", "phone", "opens_at")),
        list(Zone.objects.order_by("id").values_list("id", "name", "code", "kind", "polygon")),
        list(Floor.objects.order_by("id").values_list("id", "level", "name")),
        list(Facility.objects.order_by("id").values_list("id", "name")),
        list(ShopUnit.objects.order_by("id").values_list("shop_id", "zone_id")),
        list(MerchantApplication.objects.order_by("id").values_list("id", "status")),
        list(ApiKey.objects.order_by("id").values_list("id", "revoked_at")),
        AuditLog.objects.count(),
    )


@dataclass
class Target:
    """An object of mall 1 / shop-owner-1's shop and the calls that touch it."""

    shop_id: int
    mall_id: int
    floor_id: int
    zone_id: int
    free_unit_id: int
    facility_id: int
    application_id: int
    api_key_id: int


@pytest.fixture
def target() -> Target:
    shop_id = shop_id_of("shop-owner-1")
    mall_id = mall_id_of("shop-owner-1")
    floor = Floor.objects.filter(mall_id=mall_id).order_by("level").last()
    assert floor is not None
    zone = Zone.objects.filter(floor=floor, kind="corridor").first()
    free = Zone.objects.filter(
        floor__mall_id=mall_id, kind="shop_unit", occupancy__isnull=True
    ).first()
    facility = Facility.objects.filter(floor__mall_id=mall_id).first()
    assert zone and free and facility
    application = MerchantApplication.objects.create(
        mall_id=mall_id,
        shop_name="测试申请",
        category="food",
        contact_name="王五",
        contact_phone="13911112222",
        licence_number="91440300MA5F000000",
    )
    owner = as_persona("shop-owner-1")
    key = owner.post(
        "/api-keys", {"name": "ERP", "scopes": ["shops:read", "shops:write"], "shop_id": shop_id}
    )
    assert key.status == 201, key.body
    return Target(
        shop_id=shop_id,
        mall_id=mall_id,
        floor_id=floor.pk,
        zone_id=zone.pk,
        free_unit_id=free.pk,
        facility_id=facility.pk,
        application_id=application.pk,
        api_key_id=key.body["id"],
    )


Call = tuple[str, Callable[[Target], str], dict[str, Any] | None]

# every endpoint that names an object of a tenant
CALLS: list[Call] = [
    ("GET", lambda t: f"/shops/{t.shop_id}", None),
    ("PATCH", lambda t: f"/shops/{t.shop_id}", {"phone": "0755-00000000"}),
    ("POST", lambda t: f"/malls/{t.mall_id}/shops", None),  # body filled below
    (
        "POST",
        lambda t: f"/malls/{t.mall_id}/floors",
        {"level": 40, "name": "40F", "outline": [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]},
    ),
    (
        "POST",
        lambda t: f"/floors/{t.floor_id}/zones",
        {
            "kind": "atrium",
            "name": "新中庭",
            "code": "NEW-1",
            "polygon": [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]],
        },
    ),
    ("PATCH", lambda t: f"/zones/{t.zone_id}", {"name": "改名"}),
    ("DELETE", lambda t: f"/zones/{t.zone_id}", None),
    (
        "POST",
        lambda t: f"/floors/{t.floor_id}/facilities",
        {"kind": "atm", "name": "ATM", "x": 1, "y": 1},
    ),
    ("DELETE", lambda t: f"/facilities/{t.facility_id}", None),
    ("GET", lambda t: f"/merchant-applications/{t.application_id}", None),
    ("POST", lambda t: f"/merchant-applications/{t.application_id}/approve", None),
    ("POST", lambda t: f"/merchant-applications/{t.application_id}/reject", {"note": "不合适"}),
    ("DELETE", lambda t: f"/api-keys/{t.api_key_id}", None),
]


def _body(method: str, path_fn: Callable[[Target], str], body: Any, t: Target) -> Any:
    path = path_fn(t)
    if path.endswith("/shops") and method == "POST":
        return {
            "name": "越权店",
            "category": "food",
            "unit_ids": [t.free_unit_id],
            "opens_at": "10:00",
            "closes_at": "22:00",
        }
    if path.endswith("/approve"):
        return {"unit_ids": [t.free_unit_id]}
    return body


OUTSIDERS = ["shop-owner-1b", "shop-owner-2", "mall-ops-2", "gov", "13800000001"]


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("call", CALLS, ids=[f"{i:02d}-{c[0]}" for i, c in enumerate(CALLS)])
def test_outsider_gets_404_and_nothing_changes(outsider: str, call: Call, target: Target) -> None:
    method, path_fn, body = call
    client = as_persona(outsider)
    before = _state()
    response = client.call(method, path_fn(target), _body(method, path_fn, body, target))
    assert response.status == 404, (outsider, method, path_fn(target), response.body)
    assert response.problem_code == "not_found"
    assert _state() == before


def test_api_key_of_another_shop_gets_404(target: Target) -> None:
    other = as_persona("shop-owner-2")
    key = other.post(
        "/api-keys",
        {
            "name": "POS",
            "scopes": ["shops:read", "shops:write"],
            "shop_id": shop_id_of("shop-owner-2"),
        },
    )
    assert key.status == 201
    partner = ApiClient(api_key=key.body["secret"])
    before = _state()
    for method, path_fn, body in CALLS:
        response = partner.call(method, path_fn(target), _body(method, path_fn, body, target))
        assert response.status in (403, 404), (method, path_fn(target), response.body)
        if method != "GET" and response.status == 403:
            # key lacks district:write: refused before the object is looked up
            assert response.problem_code == "permission_denied"
    assert _state() == before
    # its own shop is readable, the other is not
    assert partner.get(f"/shops/{shop_id_of('shop-owner-2')}").status == 200
    assert partner.get(f"/shops/{target.shop_id}").status == 404


def test_insiders_succeed_on_reads(target: Target) -> None:
    for login in [
        "shop-owner-1",
        "shop-manager-1",
        "shop-cashier-1",
        "mall-ops-1",
        "district-ops",
        "admin",
    ]:
        response = as_persona(login).get(f"/shops/{target.shop_id}")
        assert response.status == 200, login
        assert response.body["id"] == target.shop_id
    for login in ["mall-ops-1", "district-ops", "admin"]:
        assert (
            as_persona(login).get(f"/merchant-applications/{target.application_id}").status == 200
        )


def test_shop_lists_are_scoped(target: Target) -> None:
    own = as_persona("shop-owner-1").get("/shops?limit=200")
    assert [s["id"] for s in own.body["items"]] == [target.shop_id]
    mall_ops = as_persona("mall-ops-1").get("/shops?limit=200")
    assert {s["mall_id"] for s in mall_ops.body["items"]} == {target.mall_id}
    assert len(mall_ops.body["items"]) == Shop.objects.filter(mall_id=target.mall_id).count()
    assert as_persona("gov").get("/shops").body["items"] == []
    assert as_persona("13800000001").get("/shops").body["items"] == []
