"""Shops through the API: who may change what, and bad input changing nothing."""

from __future__ import annotations

import pytest

from agora.core.models import AuditLog
from agora.district.models import Shop, ShopUnit, Zone
from agora.testing.personas import as_persona, mall_id_of, shop_id_of

pytestmark = pytest.mark.django_db


def _shop_state(shop_id: int) -> tuple[object, ...]:
    shop = Shop.objects.get(pk=shop_id)
    units = sorted(ShopUnit.objects.filter(shop=shop).values_list("zone_id", flat=True))
    return (
        shop.name,
        shop.status,
        shop.phone,
        shop.opens_at,
        shop.closes_at,
        shop.description,
        units,
    )


def test_owner_changes_hours_and_contacts() -> None:
    shop_id = shop_id_of("shop-owner-1")
    response = as_persona("shop-owner-1").patch(
        f"/shops/{shop_id}", {"opens_at": "08:30", "closes_at": "23:00", "phone": "0755-88886666"}
    )
    assert response.status == 200, response.body
    assert (response.body["opens_at"], response.body["closes_at"]) == ("08:30:00", "23:00:00")
    assert response.body["phone"] == "0755-88886666"
    entry = AuditLog.objects.latest("id")
    assert (entry.action, entry.actor_label, entry.shop_id) == (
        "shop.update",
        "shop-owner-1",
        shop_id,
    )
    assert entry.before is not None and entry.after is not None
    assert entry.after["phone"] == "0755-88886666"
    assert entry.before["phone"] != "0755-88886666"


def test_owner_cannot_change_operator_fields() -> None:
    shop_id = shop_id_of("shop-owner-1")
    before = _shop_state(shop_id)
    audit = AuditLog.objects.count()
    response = as_persona("shop-owner-1").patch(f"/shops/{shop_id}", {"status": "closed"})
    assert response.status == 403
    assert response.body["detail"] == "only the mall's operator may change: status"
    assert _shop_state(shop_id) == before
    assert AuditLog.objects.count() == audit


def test_cashier_may_read_but_not_write() -> None:
    shop_id = shop_id_of("shop-cashier-1")
    cashier = as_persona("shop-cashier-1")
    assert cashier.get(f"/shops/{shop_id}").status == 200
    before = _shop_state(shop_id)
    response = cashier.patch(f"/shops/{shop_id}", {"phone": "1"})
    assert response.status == 403
    assert response.problem_code == "permission_denied"
    assert _shop_state(shop_id) == before


def test_operator_moves_shop_to_free_unit_and_renames() -> None:
    shop_id = shop_id_of("shop-owner-1b")
    mall_id = mall_id_of("mall-ops-1")
    free = Zone.objects.filter(
        floor__mall_id=mall_id, kind="shop_unit", occupancy__isnull=True
    ).first()
    assert free is not None
    response = as_persona("mall-ops-1").patch(
        f"/shops/{shop_id}", {"unit_ids": [free.pk], "name": "喜茶 旗舰店", "status": "suspended"}
    )
    assert response.status == 200, response.body
    assert [u["id"] for u in response.body["units"]] == [free.pk]
    shop = Shop.objects.get(pk=shop_id)
    assert (shop.name, shop.name_initials, shop.status) == ("喜茶 旗舰店", "xcqjd", "suspended")


def test_taken_unit_is_a_conflict_and_changes_nothing() -> None:
    shop_id = shop_id_of("shop-owner-1b")
    other_unit = ShopUnit.objects.filter(shop_id=shop_id_of("shop-owner-1")).first()
    assert other_unit is not None
    before = _shop_state(shop_id)
    response = as_persona("mall-ops-1").patch(
        f"/shops/{shop_id}", {"unit_ids": [other_unit.zone_id]}
    )
    assert response.status == 409
    assert _shop_state(shop_id) == before


def test_unit_of_another_mall_is_refused() -> None:
    shop_id = shop_id_of("shop-owner-1b")
    foreign = Zone.objects.filter(floor__mall_id=mall_id_of("mall-ops-2"), kind="shop_unit").first()
    assert foreign is not None
    before = _shop_state(shop_id)
    response = as_persona("mall-ops-1").patch(f"/shops/{shop_id}", {"unit_ids": [foreign.pk]})
    assert response.status == 422
    assert response.field_names() == ["unit_ids"]
    assert _shop_state(shop_id) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"opens_at": "25:00"}, "opens_at"),
        ({"opens_at": "10:00", "closes_at": "10:00"}, "closes_at"),
        ({"name": ""}, "name"),
        ({"category": "weapons"}, "category"),
        ({"unit_ids": []}, "unit_ids"),
    ],
)
def test_bad_shop_update_is_422(body: dict[str, object], field: str) -> None:
    shop_id = shop_id_of("shop-owner-1")
    before = _shop_state(shop_id)
    response = as_persona("mall-ops-1").patch(f"/shops/{shop_id}", body)
    assert response.status == 422, response.body
    assert response.field_names() == [field]
    assert _shop_state(shop_id) == before


def test_operator_creates_shop_in_free_units() -> None:
    mall_id = mall_id_of("mall-ops-1")
    free = list(
        Zone.objects.filter(floor__mall_id=mall_id, kind="shop_unit", occupancy__isnull=True)[:2]
    )
    assert len(free) == 2
    body = {
        "name": "茶颜悦色",
        "category": "food",
        "unit_ids": [z.pk for z in free],
        "opens_at": "10:00",
        "closes_at": "22:00",
    }
    response = as_persona("mall-ops-1").post(f"/malls/{mall_id}/shops", body)
    assert response.status == 201, response.body
    assert sorted(u["id"] for u in response.body["units"]) == sorted(z.pk for z in free)
    again = as_persona("mall-ops-1").post(f"/malls/{mall_id}/shops", {**body, "name": "重复占用"})
    assert again.status == 409
    assert not Shop.objects.filter(name="重复占用").exists()


def test_shop_list_cursor_pagination_walks_every_shop_once() -> None:
    ops = as_persona("mall-ops-1")
    seen: list[int] = []
    cursor = None
    while True:
        path = "/shops?limit=5" + (f"&cursor={cursor}" if cursor else "")
        page = ops.get(path).body
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = list(
        Shop.objects.filter(mall_id=mall_id_of("mall-ops-1"))
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert seen == expected


def test_bad_cursor_and_limit_are_422() -> None:
    ops = as_persona("mall-ops-1")
    assert ops.get("/shops?cursor=garbage").field_names() == ["cursor"]
    assert ops.get("/shops?limit=0").field_names() == ["limit"]
    assert ops.get("/shops?limit=abc").status == 422
