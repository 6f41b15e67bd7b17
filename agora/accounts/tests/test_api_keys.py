"""Partner API keys (DATA-3): hashed at rest, scoped to one shop or mall, revocable, last use."""

from __future__ import annotations

import pytest

from agora.accounts.models import ApiKey
from agora.district.models import Shop
from agora.testing.personas import ApiClient, as_persona, mall_id_of, shop_id_of

pytestmark = pytest.mark.django_db


def test_owner_key_reads_and_writes_only_its_shop() -> None:
    shop_id = shop_id_of("shop-owner-1")
    created = as_persona("shop-owner-1").post(
        "/api-keys", {"name": "ERP", "scopes": ["shops:read", "shops:write"], "shop_id": shop_id}
    )
    assert created.status == 201
    secret = created.body["secret"]
    assert secret.startswith("agk_")
    row = ApiKey.objects.get(pk=created.body["id"])
    assert row.key_hash != secret
    assert secret not in str(ApiKey.objects.values_list().get(pk=row.pk))
    assert row.last_used_at is None
    partner = ApiClient(api_key=secret)
    listed = partner.get("/shops").body["items"]
    assert [s["id"] for s in listed] == [shop_id]
    row.refresh_from_db()
    assert row.last_used_at is not None
    updated = partner.patch(f"/shops/{shop_id}", {"description": "ERP 同步"})
    assert updated.status == 200
    assert Shop.objects.get(pk=shop_id).description == "ERP 同步"


def test_read_only_key_cannot_write() -> None:
    shop_id = shop_id_of("shop-owner-1")
    created = as_persona("shop-owner-1").post(
        "/api-keys", {"name": "BI", "scopes": ["shops:read"], "shop_id": shop_id}
    )
    partner = ApiClient(api_key=created.body["secret"])
    before = Shop.objects.get(pk=shop_id).description
    response = partner.patch(f"/shops/{shop_id}", {"description": "写入"})
    assert response.status == 403
    assert response.body["detail"] == "this API key lacks the scope 'shops:write'"
    assert Shop.objects.get(pk=shop_id).description == before


def test_revoked_key_stops_working() -> None:
    owner = as_persona("shop-owner-1")
    created = owner.post(
        "/api-keys",
        {"name": "POS", "scopes": ["shops:read"], "shop_id": shop_id_of("shop-owner-1")},
    )
    partner = ApiClient(api_key=created.body["secret"])
    assert partner.get("/shops").status == 200
    revoked = owner.delete(f"/api-keys/{created.body['id']}")
    assert revoked.status == 200
    assert revoked.body["revoked_at"] is not None
    assert partner.get("/shops").status == 401
    assert owner.delete(f"/api-keys/{created.body['id']}").status == 422


def test_cashier_cannot_create_keys_and_nothing_is_stored() -> None:
    before = ApiKey.objects.count()
    response = as_persona("shop-cashier-1").post(
        "/api-keys",
        {"name": "x", "scopes": ["shops:read"], "shop_id": shop_id_of("shop-cashier-1")},
    )
    assert response.status == 403
    assert ApiKey.objects.count() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "x", "scopes": []}, ["scopes", "shop_id"]),
        ({"name": "x", "scopes": ["everything"]}, ["scopes.0"]),
        ({"name": " ", "scopes": ["shops:read"], "shop_id": 1, "mall_id": 1}, ["name", "shop_id"]),
    ],
)
def test_bad_key_requests_are_422(body: dict[str, object], fields: list[str]) -> None:
    before = ApiKey.objects.count()
    response = as_persona("mall-ops-1").post("/api-keys", body)
    assert response.status == 422, response.body
    assert response.field_names() == fields
    assert ApiKey.objects.count() == before


def test_operator_key_for_mall_and_key_cannot_mint_keys() -> None:
    mall_id = mall_id_of("mall-ops-1")
    created = as_persona("mall-ops-1").post(
        "/api-keys", {"name": "BI", "scopes": ["shops:read", "district:write"], "mall_id": mall_id}
    )
    assert created.status == 201
    partner = ApiClient(api_key=created.body["secret"])
    shops = partner.get("/shops?limit=200").body["items"]
    assert {s["mall_id"] for s in shops} == {mall_id}
    before = ApiKey.objects.count()
    minted = partner.post(
        "/api-keys", {"name": "child", "scopes": ["shops:read"], "mall_id": mall_id}
    )
    assert minted.status == 403
    assert ApiKey.objects.count() == before
    other = as_persona("mall-ops-1").post(
        "/api-keys", {"name": "BI", "scopes": ["shops:read"], "mall_id": mall_id_of("mall-ops-2")}
    )
    assert other.status == 404
    assert ApiKey.objects.count() == before
