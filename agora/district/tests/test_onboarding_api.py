"""Merchant onboarding (MER-2): a merchant applies, an operator reviews, approval creates the
shop and its owner account. Submission takes an Idempotency-Key."""

from __future__ import annotations

import pytest

from agora.accounts.models import RoleGrant, User
from agora.core.models import IdempotencyRecord
from agora.district.models import MerchantApplication, Shop, Zone
from agora.testing.personas import ApiClient, anonymous, as_persona, mall_id_of

pytestmark = pytest.mark.django_db

APPLICATION = {
    "shop_name": "鹿角巷",
    "brand": "鹿角巷",
    "category": "food",
    "contact_name": "陈静",
    "contact_phone": "13922223333",
    "contact_email": "chen@example.com",
    "licence_number": "91440300MA5FXXXX1A",
}


def _free_unit(mall_id: int) -> Zone:
    zone = (
        Zone.objects.filter(floor__mall_id=mall_id, kind="shop_unit", occupancy__isnull=True)
        .order_by("id")
        .first()
    )
    assert zone is not None
    return zone


def test_apply_review_approve_creates_shop_and_owner() -> None:
    mall_id = mall_id_of("mall-ops-1")
    unit = _free_unit(mall_id)
    submitted = anonymous().post(
        f"/malls/{mall_id}/merchant-applications", {**APPLICATION, "unit_id": unit.pk}
    )
    assert submitted.status == 201, submitted.body
    assert submitted.body["status"] == "submitted"
    app_id = submitted.body["id"]

    ops = as_persona("mall-ops-1")
    listed = ops.get("/merchant-applications?status=submitted").body["items"]
    assert app_id in [a["id"] for a in listed]

    approved = ops.post(f"/merchant-applications/{app_id}/approve", {})
    assert approved.status == 201, approved.body
    owner_username = approved.body["owner_username"]
    password = approved.body["initial_password"]
    assert approved.body["application"]["status"] == "approved"
    shop = Shop.objects.get(pk=approved.body["application"]["shop_id"])
    assert (shop.name, shop.status, shop.mall_id) == ("鹿角巷", "fitting_out", mall_id)
    assert list(shop.units.values_list("id", flat=True)) == [unit.pk]
    owner = User.objects.get(username=owner_username)
    assert owner.phone == "13922223333"
    assert RoleGrant.objects.filter(user=owner, role="merchant_owner", shop=shop).count() == 1

    # the new owner signs in with the one-time password and sees exactly the new shop
    token = ApiClient().post("/auth/tokens", {"username": owner_username, "password": password})
    assert token.status == 201
    assert token.body["roles"] == ["merchant_owner"]
    mine = ApiClient(token=token.body["token"]).get("/shops").body["items"]
    assert [s["id"] for s in mine] == [shop.pk]

    again = ops.post(f"/merchant-applications/{app_id}/approve", {})
    assert again.status == 409
    assert Shop.objects.filter(name="鹿角巷").count() == 1


def test_existing_account_of_the_contact_phone_becomes_owner() -> None:
    mall_id = mall_id_of("mall-ops-1")
    shopper = User.objects.get(phone="13800000001")
    body = {**APPLICATION, "contact_phone": "13800000001", "unit_id": _free_unit(mall_id).pk}
    app_id = anonymous().post(f"/malls/{mall_id}/merchant-applications", body).body["id"]
    approved = as_persona("mall-ops-1").post(f"/merchant-applications/{app_id}/approve", {})
    assert approved.status == 201
    assert approved.body["owner_username"] == shopper.username
    assert approved.body["initial_password"] is None


def test_reject_needs_a_note_and_is_final() -> None:
    mall_id = mall_id_of("mall-ops-1")
    app_id = anonymous().post(f"/malls/{mall_id}/merchant-applications", APPLICATION).body["id"]
    ops = as_persona("mall-ops-1")
    assert ops.post(f"/merchant-applications/{app_id}/reject", {"note": ""}).status == 422
    assert MerchantApplication.objects.get(pk=app_id).status == "submitted"
    rejected = ops.post(f"/merchant-applications/{app_id}/reject", {"note": "业态重复"})
    assert rejected.status == 200
    assert (rejected.body["status"], rejected.body["review_note"]) == ("rejected", "业态重复")
    shops_before = Shop.objects.count()
    approve = ops.post(
        f"/merchant-applications/{app_id}/approve", {"unit_ids": [_free_unit(mall_id).pk]}
    )
    assert approve.status == 409
    assert Shop.objects.count() == shops_before


def test_approve_without_units_is_422() -> None:
    mall_id = mall_id_of("mall-ops-1")
    app_id = anonymous().post(f"/malls/{mall_id}/merchant-applications", APPLICATION).body["id"]
    response = as_persona("mall-ops-1").post(f"/merchant-applications/{app_id}/approve", {})
    assert response.status == 422
    assert response.field_names() == ["unit_ids"]
    assert MerchantApplication.objects.get(pk=app_id).status == "submitted"


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"licence_number": "123"}, ["licence_number"]),
        ({"contact_phone": "12345"}, ["contact_phone"]),
        ({"category": "weapons"}, ["category"]),
        ({"shop_name": "  ", "contact_name": " "}, ["shop_name", "contact_name"]),
    ],
)
def test_bad_application_is_422_and_stores_nothing(
    change: dict[str, str], fields: list[str]
) -> None:
    mall_id = mall_id_of("mall-ops-1")
    before = MerchantApplication.objects.count()
    response = anonymous().post(
        f"/malls/{mall_id}/merchant-applications", {**APPLICATION, **change}
    )
    assert response.status == 422, response.body
    assert response.field_names() == fields
    assert MerchantApplication.objects.count() == before


def test_idempotency_key_replays_and_conflicts() -> None:
    mall_id = mall_id_of("mall-ops-1")
    path = f"/malls/{mall_id}/merchant-applications"
    key = {"Idempotency-Key": "c5a3a0f2-1111-4a1e-9d7f-000000000001"}
    before = MerchantApplication.objects.count()
    first = anonymous().post(path, APPLICATION, headers=key)
    replay = anonymous().post(path, APPLICATION, headers=key)
    assert first.status == replay.status == 201
    assert replay.body == first.body
    assert MerchantApplication.objects.count() == before + 1
    other = anonymous().post(path, {**APPLICATION, "shop_name": "别的店"}, headers=key)
    assert other.status == 409
    assert other.problem_code == "idempotency_key_reused"
    assert MerchantApplication.objects.count() == before + 1
    assert IdempotencyRecord.objects.filter(key=key["Idempotency-Key"]).count() == 1


def test_failed_request_is_not_stored_under_its_key() -> None:
    mall_id = mall_id_of("mall-ops-1")
    path = f"/malls/{mall_id}/merchant-applications"
    key = {"Idempotency-Key": "retry-after-fix"}
    bad = anonymous().post(path, {**APPLICATION, "licence_number": "x" * 18}, headers=key)
    assert bad.status == 422
    assert not IdempotencyRecord.objects.filter(key="retry-after-fix").exists()
    good = anonymous().post(path, APPLICATION, headers=key)
    assert good.status == 201


def test_operator_lists_only_their_malls_applications() -> None:
    m1, m2 = mall_id_of("mall-ops-1"), mall_id_of("mall-ops-2")
    a1 = anonymous().post(f"/malls/{m1}/merchant-applications", APPLICATION).body["id"]
    a2 = anonymous().post(f"/malls/{m2}/merchant-applications", APPLICATION).body["id"]
    ids = [a["id"] for a in as_persona("mall-ops-1").get("/merchant-applications").body["items"]]
    assert a1 in ids
    assert a2 not in ids
    both = [a["id"] for a in as_persona("district-ops").get("/merchant-applications").body["items"]]
    assert {a1, a2} <= set(both)
    assert as_persona("shop-owner-1").get("/merchant-applications").status == 403
    assert anonymous().get("/merchant-applications").status == 401
