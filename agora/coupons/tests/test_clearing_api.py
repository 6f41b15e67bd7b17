"""Cross-merchant coupon clearing through the API: who owes which shop for redeemed coupons."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from agora.accounts.models import User
from agora.coupons.models import CouponTemplate
from agora.district.models import District, Mall, Shop
from agora.testing.personas import as_persona, mall_id_of, shop_id_of

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"


def _second_shopper() -> str:
    phone = User.objects.filter(username__startswith="p1").order_by("id")[1].phone
    assert phone is not None
    return phone


def _claim(login: str, template_id: int) -> str:
    response = as_persona(login).post(f"/coupons/{template_id}/claim")
    assert response.status == 201, response.body
    return str(response.body["code"])


def _redeem(login: str, code: str, amount_fen: int) -> int:
    shop_id = shop_id_of(login)
    response = as_persona(login).post(
        f"/shops/{shop_id}/coupons/redeem", {"code": code, "amount_fen": amount_fen}
    )
    assert response.status == 200, response.body
    return int(response.body["discount_fen"])


def _report(login: str, **params: Any) -> Any:
    district_id = District.objects.get(code="xinghe").pk
    query = urlencode(
        {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
    )
    return as_persona(login).get(f"/districts/{district_id}/coupon-clearing?{query}")


@pytest.fixture
def redemptions() -> datetime:
    """Four redemptions after ``start``: a mall-1 coupon at 星巴克 (mall pays), a 星巴克 coupon
    valid across mall 1 at another shop (星巴克 pays), a 星巴克 coupon in its own shop (nobody
    pays), and a mall-2 coupon at mall 2's 星巴克."""
    start = timezone.now()
    mall1, mall2 = mall_id_of("mall-ops-1"), mall_id_of("mall-ops-2")
    # 1. the demo's 满200减30 of 万象城 held by 13800000001, at 星巴克 of mall 1
    wallet = as_persona(SHOPPER).get("/me/coupons?status=active").body["items"]
    (threshold_code,) = [c["code"] for c in wallet if c["template"]["title"] == "万象城 满200减30"]
    assert _redeem("shop-cashier-1", threshold_code, 26800) == 3000
    # 2. 星巴克's own cross-shop promotion, used at the other shop of mall 1
    now = timezone.now()
    promo = as_persona("shop-owner-1").post(
        f"/shops/{shop_id_of('shop-owner-1')}/coupon-templates",
        {
            "kind": "cash_off",
            "title": "星巴克 × 商场联动 立减10元",
            "value_fen": 1000,
            "claim_ends": (now + timedelta(days=5)).isoformat(),
            "valid_days": 5,
            "total_stock": 20,
            "scope_mall_ids": [mall1],
        },
    )
    assert promo.status == 201, promo.body
    assert _redeem("shop-owner-1b", _claim(SHOPPER, promo.body["id"]), 5000) == 1000
    # 3. 星巴克 立减5元 in 星巴克 itself: settles nothing
    own = CouponTemplate.objects.get(title="星巴克 立减5元", mall_id=mall1)
    assert _redeem("shop-cashier-1", _claim(SHOPPER, own.pk), 3500) == 500
    # 4. mall 2's 满200减30 at mall 2's 星巴克
    mall2_threshold = CouponTemplate.objects.get(title="星河COCO Park 满200减30")
    assert mall2_threshold.mall_id == mall2
    assert _redeem("shop-cashier-2", _claim(_second_shopper(), mall2_threshold.pk), 20000) == 3000
    return start


def test_district_operator_sees_every_row(redemptions: datetime) -> None:
    response = _report("district-ops", start=redemptions, end=timezone.now())
    assert response.status == 200, response.body
    mall1, mall2 = mall_id_of("mall-ops-1"), mall_id_of("mall-ops-2")
    starbucks1, starbucks2 = shop_id_of("shop-cashier-1"), shop_id_of("shop-cashier-2")
    other = Shop.objects.get(pk=shop_id_of("shop-owner-1b"))
    assert response.body["rows"] == [
        {
            "payer": f"mall:{mall1}",
            "payer_name": "万象城",
            "payee_shop_id": starbucks1,
            "payee_name": "星巴克",
            "coupons": 1,
            "amount_fen": 3000,
        },
        {
            "payer": f"mall:{mall2}",
            "payer_name": Mall.objects.get(pk=mall2).name,
            "payee_shop_id": starbucks2,
            "payee_name": "星巴克",
            "coupons": 1,
            "amount_fen": 3000,
        },
        {
            "payer": f"shop:{starbucks1}",
            "payer_name": "星巴克",
            "payee_shop_id": other.pk,
            "payee_name": other.name,
            "coupons": 1,
            "amount_fen": 1000,
        },
    ]
    assert response.body["total_fen"] == 7000
    assert Mall.objects.get(pk=mall2).name == "星河COCO Park"


def test_mall_operator_sees_the_rows_of_its_malls_shops(redemptions: datetime) -> None:
    end = timezone.now()
    mine = _report("mall-ops-1", start=redemptions, end=end).body["rows"]
    assert [(r["payer_name"], r["payee_name"], r["amount_fen"]) for r in mine] == [
        ("万象城", "星巴克", 3000),
        ("星巴克", Shop.objects.get(pk=shop_id_of("shop-owner-1b")).name, 1000),
    ]
    theirs = _report("mall-ops-2", start=redemptions, end=end).body["rows"]
    assert [(r["payer_name"], r["payee_shop_id"], r["amount_fen"]) for r in theirs] == [
        ("星河COCO Park", shop_id_of("shop-cashier-2"), 3000)
    ]


def test_default_window_is_the_last_30_days(redemptions: datetime) -> None:
    # the demo's own redemption of a 满200减30 of 万象城 (3000 fen) is in the window too
    response = _report("district-ops")
    assert response.status == 200
    assert response.body["total_fen"] == 10000
    start = datetime.fromisoformat(response.body["start"])
    end = datetime.fromisoformat(response.body["end"])
    assert end - start == timedelta(days=30)


def test_window_before_the_redemptions_is_empty(redemptions: datetime) -> None:
    response = _report(
        "district-ops", start=redemptions - timedelta(days=1), end=redemptions - timedelta(hours=1)
    )
    assert (response.body["rows"], response.body["total_fen"]) == ([], 0)


def test_who_may_not_see_clearing() -> None:
    assert _report("gov").status == 403
    assert _report("shop-owner-1").status == 404
    assert _report(SHOPPER).status == 404
    missing = as_persona("district-ops").get("/districts/99999999/coupon-clearing")
    assert missing.status == 404


def test_bad_windows_are_422() -> None:
    now = timezone.now()
    backwards = _report("district-ops", start=now, end=now - timedelta(days=1))
    assert (backwards.status, backwards.field_names()) == (422, ["end"])
    too_long = _report("district-ops", start=now - timedelta(days=500), end=now)
    assert (too_long.status, too_long.field_names()) == (422, ["start"])
    garbage = _report("district-ops", start="yesterday")
    assert (garbage.status, garbage.field_names()) == (422, ["start"])
