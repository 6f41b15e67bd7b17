"""Coupons through the API: the coupon centre, claiming (limits and refusals), the wallet, and
the merchant's till (check, redeem exactly once, scope, void)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from agora.accounts.models import User
from agora.core.models import IdempotencyRecord
from agora.coupons.models import ClaimTally, Coupon, CouponTemplate
from agora.district.models import District, Shop
from agora.members.models import Member
from agora.testing.personas import ApiClient, anonymous, as_persona, mall_id_of, shop_id_of

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"


def _second_shopper() -> str:
    phone = User.objects.filter(username__startswith="p1").order_by("id")[1].phone
    assert phone is not None
    return phone


def _template(title: str) -> CouponTemplate:
    """A demo template by its title; mall templates of mall 1 (万象城) are named after it."""
    return CouponTemplate.objects.get(title=title)


def _member(login: str) -> Member:
    return Member.objects.get(user__phone=login)


def _state(template_id: int) -> tuple[Any, ...]:
    """Everything a claim or a redemption may change."""
    t = CouponTemplate.objects.get(pk=template_id)
    return (
        t.issued,
        t.redeemed,
        sorted(Coupon.objects.filter(template=t).values_list("id", "status")),
        sorted(ClaimTally.objects.filter(template=t).values_list("member_id", "period", "count")),
    )


def _iso(value: datetime) -> str:
    return value.isoformat()


def _create(**overrides: Any) -> int:
    """A mall-1 template made by mall-ops-1 through the API."""
    now = timezone.now()
    body: dict[str, Any] = {
        "mall_id": mall_id_of("mall-ops-1"),
        "kind": "cash_off",
        "title": "测试 立减10元",
        "value_fen": 1000,
        "claim_starts": _iso(now - timedelta(hours=1)),
        "claim_ends": _iso(now + timedelta(days=7)),
        "valid_days": 7,
        "total_stock": 100,
        "channels": ["app"],
    }
    body.update(overrides)
    response = as_persona("mall-ops-1").post("/coupon-templates", body)
    assert response.status == 201, response.body
    return int(response.body["id"])


def _claim(login: str, template_id: int, **kw: Any) -> Any:
    return as_persona(login).post(f"/coupons/{template_id}/claim", **kw)


# --- the coupon centre ------------------------------------------------------------------------
def test_coupon_centre_lists_app_templates_with_stock() -> None:
    mall_id = mall_id_of("mall-ops-1")
    response = anonymous().get(f"/coupons?mall_id={mall_id}")
    assert response.status == 200, response.body
    rows = [
        (r["title"], r["kind"], r["issuer"], r["issuer_name"], r["stock_left"], r["held"])
        for r in response.body
    ]
    assert rows == [
        ("万象城 满200减30", "threshold", "mall", "万象城", 498, 0),
        ("万象城 免费停车2小时", "parking_hours", "mall", "万象城", 300, 0),
        ("星巴克 立减5元", "cash_off", "merchant", "星巴克", 200, 0),
        ("商圈服饰 9折（最高减50元）", "percent_off", "mall", "星河商圈", 1000, 0),
    ]
    first = response.body[0]
    assert (first["value_fen"], first["threshold_fen"], first["per_member_total"]) == (
        3000,
        20000,
        2,
    )
    assert (first["validity"], first["valid_days"], first["valid_from"]) == ("relative", 30, None)
    # signed in: how many the member already holds (the demo gave 13800000001 one 满200减30)
    mine = as_persona(SHOPPER).get(f"/coupons?mall_id={mall_id}").body
    assert [r["held"] for r in mine] == [1, 0, 0, 0]
    # without a mall: the whole district, mall 2's coupons too
    everything = anonymous().get("/coupons").body
    assert [r["title"] for r in everything] == [
        "万象城 满200减30",
        "万象城 免费停车2小时",
        "星巴克 立减5元",
        "星河COCO Park 满200减30",
        "星河COCO Park 免费停车2小时",
        "星巴克 立减5元",
        "商圈服饰 9折（最高减50元）",
    ]


def test_one_coupon_public_view_and_unknown_is_404() -> None:
    template = _template("万象城 满200减30")
    response = as_persona(SHOPPER).get(f"/coupons/{template.pk}")
    assert response.status == 200
    assert (response.body["title"], response.body["held"], response.body["stock_left"]) == (
        "万象城 满200减30",
        1,
        498,
    )
    assert anonymous().get("/coupons/99999999").status == 404


# --- claiming ---------------------------------------------------------------------------------
def test_claim_puts_the_coupon_in_the_wallet() -> None:
    template = CouponTemplate.objects.get(title="星巴克 立减5元", mall_id=mall_id_of("mall-ops-1"))
    response = _claim(SHOPPER, template.pk)
    assert response.status == 201, response.body
    body = response.body
    assert body["template"] == {"id": template.pk, "title": "星巴克 立减5元", "kind": "cash_off"}
    assert (body["status"], body["channel"], len(body["code"])) == ("active", "app", 12)
    valid_from = datetime.fromisoformat(body["valid_from"])
    valid_until = datetime.fromisoformat(body["valid_until"])
    assert valid_until - valid_from == timedelta(days=30)
    assert CouponTemplate.objects.get(pk=template.pk).issued == 1
    coupon = Coupon.objects.get(pk=body["id"])
    assert (coupon.member_id, coupon.code) == (_member(SHOPPER).pk, body["code"])
    wallet = as_persona(SHOPPER).get("/me/coupons").body
    # newest first: the coupon just claimed, then the demo's earlier one
    assert [c["template"]["title"] for c in wallet["items"]] == [
        "星巴克 立减5元",
        "万象城 满200减30",
    ]
    assert wallet["next_cursor"] is None
    active = as_persona(SHOPPER).get("/me/coupons?status=redeemed").body
    assert active["items"] == []
    assert as_persona(SHOPPER).get("/me/coupons?status=lost").status == 422


def test_claim_beyond_per_member_total_is_member_limit_and_changes_nothing() -> None:
    template = CouponTemplate.objects.get(title="星巴克 立减5元", mall_id=mall_id_of("mall-ops-1"))
    assert _claim(SHOPPER, template.pk).status == 201
    before = _state(template.pk)
    again = _claim(SHOPPER, template.pk)
    assert again.status == 409
    assert again.problem_code == "member_limit"
    assert again.body["detail"] == "at most 1 per member"
    assert _state(template.pk) == before
    assert CouponTemplate.objects.get(pk=template.pk).issued == 1


def test_per_member_daily_limit() -> None:
    template_id = _create(per_member_total=3, per_member_daily=1)
    assert _claim(SHOPPER, template_id).status == 201
    before = _state(template_id)
    again = _claim(SHOPPER, template_id)
    assert again.status == 409
    assert again.problem_code == "daily_limit"
    assert _state(template_id) == before
    # another member is not affected by the first one's day
    assert _claim(_second_shopper(), template_id).status == 201
    assert CouponTemplate.objects.get(pk=template_id).issued == 2


def _after(days: float) -> str:
    return _iso(timezone.now() + timedelta(days=days))


@pytest.mark.parametrize(
    ("overrides", "status_change", "code"),
    [
        # claiming window over
        ({"claim_starts": _after(-3), "claim_ends": _after(-1)}, None, "claim_ended"),
        # fixed dates in the past: claiming ends no later than validity, so the claim window
        # is what refuses it
        (
            {
                "validity": "fixed",
                "valid_from": _after(-10),
                "valid_until": _after(-1),
                "claim_starts": _after(-10),
                "claim_ends": _after(-2),
            },
            None,
            "claim_ended",
        ),
        ({"claim_starts": _after(1), "claim_ends": _after(5)}, None, "not_started"),
        ({}, "paused", "not_active"),
        ({}, "ended", "not_active"),
        ({"channels": ["push"]}, None, "channel_closed"),
    ],
)
def test_refused_claims_have_their_code_and_change_nothing(
    overrides: dict[str, Any], status_change: str | None, code: str
) -> None:
    template_id = _create(**overrides)
    if status_change:
        changed = as_persona("mall-ops-1").post(
            f"/coupon-templates/{template_id}/status", {"status": status_change}
        )
        assert changed.status == 200, changed.body
    before = _state(template_id)
    response = _claim(SHOPPER, template_id)
    assert response.status == 409, response.body
    assert response.problem_code == code
    assert _state(template_id) == before
    assert CouponTemplate.objects.get(pk=template_id).issued == 0


def test_sold_out() -> None:
    template_id = _create(total_stock=1)
    assert _claim(SHOPPER, template_id).status == 201
    before = _state(template_id)
    response = _claim(_second_shopper(), template_id)
    assert response.status == 409
    assert response.problem_code == "sold_out"
    assert _state(template_id) == before
    listed = anonymous().get(f"/coupons/{template_id}").body
    assert listed["stock_left"] == 0


def test_template_of_another_district_is_404() -> None:
    other = District.objects.create(name="前海商圈", code="qianhai", city="深圳")
    now = timezone.now()
    created = as_persona("admin").post(
        "/coupon-templates",
        {
            "mall_id": None,
            "district_id": other.pk,
            "kind": "cash_off",
            "title": "前海 立减10元",
            "value_fen": 1000,
            "claim_ends": _iso(now + timedelta(days=3)),
            "valid_days": 3,
            "total_stock": 10,
        },
    )
    assert created.status == 201, created.body
    before = _state(created.body["id"])
    response = _claim(SHOPPER, created.body["id"])
    assert response.status == 404
    assert _state(created.body["id"]) == before


def test_claim_needs_a_person() -> None:
    template = _template("万象城 免费停车2小时")
    before = _state(template.pk)
    assert anonymous().post(f"/coupons/{template.pk}/claim").status == 401
    key = as_persona("shop-owner-1").post(
        "/api-keys",
        {"name": "POS", "scopes": ["loyalty:write"], "shop_id": shop_id_of("shop-owner-1")},
    )
    refused = ApiClient(api_key=key.body["secret"]).post(f"/coupons/{template.pk}/claim")
    assert refused.status == 403
    assert _state(template.pk) == before


def test_claim_with_idempotency_key_claims_once() -> None:
    template = _template("万象城 免费停车2小时")
    shopper = as_persona(SHOPPER)
    first = shopper.post(f"/coupons/{template.pk}/claim", headers={"Idempotency-Key": "tap-1"})
    second = shopper.post(f"/coupons/{template.pk}/claim", headers={"Idempotency-Key": "tap-1"})
    assert (first.status, second.status) == (201, 201)
    assert first.body == second.body
    assert Coupon.objects.filter(template=template).count() == 1
    assert CouponTemplate.objects.get(pk=template.pk).issued == 1
    assert IdempotencyRecord.objects.filter(scope=f"coupon_claim:{template.pk}").count() == 1
    third = shopper.post(f"/coupons/{template.pk}/claim", headers={"Idempotency-Key": "tap-2"})
    assert third.status == 201
    assert third.body["id"] != first.body["id"]


# --- at the till ------------------------------------------------------------------------------
def _starbucks_coupon(login: str = SHOPPER) -> str:
    template = CouponTemplate.objects.get(title="星巴克 立减5元", mall_id=mall_id_of("mall-ops-1"))
    response = _claim(login, template.pk)
    assert response.status == 201, response.body
    return str(response.body["code"])


def _demo_threshold_code() -> str:
    """The 满200减30 of 万象城 the demo gave 13800000001 (unused)."""
    wallet = as_persona(SHOPPER).get("/me/coupons?status=active").body["items"]
    codes = [c["code"] for c in wallet if c["template"]["title"] == "万象城 满200减30"]
    assert len(codes) == 1
    return str(codes[0])


def _coupon(code: str) -> tuple[Any, ...]:
    c = Coupon.objects.get(code=code)
    return (c.status, c.redeemed_at, c.redeemed_shop_id, c.discount_fen, c.template.redeemed)


def test_cashier_redeems_the_starbucks_coupon_once() -> None:
    code = _starbucks_coupon()
    shop_id = shop_id_of("shop-cashier-1")
    cashier = as_persona("shop-cashier-1")
    check = cashier.post(f"/shops/{shop_id}/coupons/check", {"code": code, "amount_fen": 3500})
    assert check.status == 200, check.body
    assert (check.body["applies"], check.body["reason"], check.body["discount_fen"]) == (
        True,
        "",
        500,
    )
    assert check.body["coupon"]["template"]["title"] == "星巴克 立减5元"
    # lower case with a dash, as a cashier may type it
    typed = code[:6].lower() + "-" + code[6:]
    used = cashier.post(
        f"/shops/{shop_id}/coupons/redeem",
        {"code": typed, "amount_fen": 3500, "reference": "POS-0001"},
    )
    assert used.status == 200, used.body
    assert (used.body["status"], used.body["discount_fen"], used.body["redeemed_shop_id"]) == (
        "redeemed",
        500,
        shop_id,
    )
    assert (used.body["order_amount_fen"], used.body["reference"]) == (3500, "POS-0001")
    assert used.body["redeemed_at"] is not None
    after = _coupon(code)
    assert after[0] == "redeemed" and after[4] == 1
    twice = cashier.post(f"/shops/{shop_id}/coupons/redeem", {"code": code, "amount_fen": 3500})
    assert twice.status == 409
    assert twice.problem_code == "coupon_used"
    assert _coupon(code) == after


def test_threshold_coupon_below_and_above_the_threshold() -> None:
    code = _demo_threshold_code()
    shop_id = shop_id_of("shop-cashier-1")  # 星巴克, a shop of 万象城
    cashier = as_persona("shop-cashier-1")
    check = cashier.post(f"/shops/{shop_id}/coupons/check", {"code": code, "amount_fen": 15000})
    assert (check.body["applies"], check.body["reason"], check.body["discount_fen"]) == (
        False,
        "spend at least 20000 fen",
        0,
    )
    before = _coupon(code)
    below = cashier.post(f"/shops/{shop_id}/coupons/redeem", {"code": code, "amount_fen": 15000})
    assert below.status == 409
    assert below.problem_code == "coupon_not_applicable"
    assert _coupon(code) == before
    above = cashier.post(f"/shops/{shop_id}/coupons/redeem", {"code": code, "amount_fen": 26800})
    assert above.status == 200, above.body
    assert above.body["discount_fen"] == 3000
    assert _coupon(code)[0] == "redeemed"


def test_mall_coupon_at_a_shop_of_another_mall_is_not_applicable() -> None:
    code = _demo_threshold_code()
    other_shop = shop_id_of("shop-cashier-2")
    assert Shop.objects.get(pk=other_shop).mall_id == mall_id_of("mall-ops-2")
    before = _coupon(code)
    response = as_persona("shop-cashier-2").post(
        f"/shops/{other_shop}/coupons/redeem", {"code": code, "amount_fen": 30000}
    )
    assert response.status == 409
    assert response.problem_code == "coupon_not_applicable"
    assert response.body["detail"] == "this coupon cannot be used: not valid at this shop"
    assert _coupon(code) == before


def test_merchant_coupon_in_another_shop_of_the_same_mall_is_not_applicable() -> None:
    code = _starbucks_coupon()
    shop_id = shop_id_of("shop-owner-1b")
    before = _coupon(code)
    response = as_persona("shop-owner-1b").post(
        f"/shops/{shop_id}/coupons/redeem", {"code": code, "amount_fen": 5000}
    )
    assert response.status == 409
    assert response.problem_code == "coupon_not_applicable"
    assert _coupon(code) == before


def test_parking_coupon_is_not_used_at_a_shop() -> None:
    template = _template("万象城 免费停车2小时")
    code = _claim(SHOPPER, template.pk).body["code"]
    shop_id = shop_id_of("shop-cashier-1")
    cashier = as_persona("shop-cashier-1")
    check = cashier.post(f"/shops/{shop_id}/coupons/check", {"code": code, "amount_fen": 5000})
    assert (check.body["applies"], check.body["reason"]) == (
        False,
        "parking coupons are used at the car park exit",
    )
    before = _coupon(code)
    response = cashier.post(f"/shops/{shop_id}/coupons/redeem", {"code": code, "amount_fen": 5000})
    assert response.status == 409
    assert response.problem_code == "coupon_not_applicable"
    assert _coupon(code) == before


def test_voided_coupon_cannot_be_redeemed() -> None:
    code = _demo_threshold_code()
    coupon_id = Coupon.objects.get(code=code).pk
    # a merchant does not run the mall's coupon: not found for them
    before = _coupon(code)
    denied = as_persona("shop-owner-1").post(
        f"/wallet-coupons/{coupon_id}/void", {"reason": "误发"}
    )
    assert denied.status == 404
    assert _coupon(code) == before
    voided = as_persona("mall-ops-1").post(
        f"/wallet-coupons/{coupon_id}/void", {"reason": "误发 (会员投诉)"}
    )
    assert voided.status == 200, voided.body
    assert (voided.body["status"], voided.body["void_reason"]) == ("void", "误发 (会员投诉)")
    shop_id = shop_id_of("shop-cashier-1")
    after = _coupon(code)
    response = as_persona("shop-cashier-1").post(
        f"/shops/{shop_id}/coupons/redeem", {"code": code, "amount_fen": 30000}
    )
    assert response.status == 409
    assert response.problem_code == "coupon_void"
    assert _coupon(code) == after
    again = as_persona("mall-ops-1").post(f"/wallet-coupons/{coupon_id}/void", {"reason": "再次"})
    assert again.status == 409
    assert again.problem_code == "coupon_not_active"


def test_cashier_may_not_void_and_a_reason_is_required() -> None:
    code = _starbucks_coupon()
    coupon_id = Coupon.objects.get(code=code).pk
    before = _coupon(code)
    cashier = as_persona("shop-cashier-1").post(
        f"/wallet-coupons/{coupon_id}/void", {"reason": "误发"}
    )
    assert cashier.status == 403
    blank = as_persona("shop-owner-1").post(f"/wallet-coupons/{coupon_id}/void", {"reason": " "})
    assert blank.status == 422
    assert blank.field_names() == ["reason"]
    assert _coupon(code) == before
    owner = as_persona("shop-owner-1").post(f"/wallet-coupons/{coupon_id}/void", {"reason": "误发"})
    assert owner.status == 200
    assert _coupon(code)[0] == "void"


def test_expired_coupon_is_refused_at_the_till() -> None:
    code = _starbucks_coupon()
    # a day later than its 30 days
    Coupon.objects.filter(code=code).update(valid_until=timezone.now() - timedelta(days=1))
    shop_id = shop_id_of("shop-cashier-1")
    before = _coupon(code)
    response = as_persona("shop-cashier-1").post(
        f"/shops/{shop_id}/coupons/redeem", {"code": code, "amount_fen": 5000}
    )
    assert response.status == 409
    assert response.problem_code == "coupon_expired"
    assert _coupon(code) == before


def test_unknown_and_garbage_codes() -> None:
    shop_id = shop_id_of("shop-cashier-1")
    cashier = as_persona("shop-cashier-1")
    unknown = cashier.post(
        f"/shops/{shop_id}/coupons/check", {"code": "ACDEFG346797", "amount_fen": 100}
    )
    assert unknown.status == 404
    garbage = cashier.post(f"/shops/{shop_id}/coupons/check", {"code": "!!", "amount_fen": 100})
    assert garbage.status == 422
    assert garbage.field_names() == ["code"]
    negative = cashier.post(f"/shops/{shop_id}/coupons/check", {"code": "X", "amount_fen": -1})
    assert negative.status == 422
    assert negative.field_names() == ["amount_fen"]


def test_only_the_shops_staff_use_its_till() -> None:
    code = _starbucks_coupon()
    shop_id = shop_id_of("shop-cashier-1")
    before = _coupon(code)
    body = {"code": code, "amount_fen": 5000}
    # the mall's operator sees the shop but does not run its till
    assert as_persona("mall-ops-1").post(f"/shops/{shop_id}/coupons/redeem", body).status == 403
    # another merchant does not see the shop at all
    other = as_persona("shop-owner-1b").post(f"/shops/{shop_id}/coupons/redeem", body)
    assert other.status == 404
    assert as_persona(SHOPPER).post(f"/shops/{shop_id}/coupons/redeem", body).status == 404
    assert _coupon(code) == before


def test_pos_api_key_redeems_with_loyalty_write_only() -> None:
    code = _starbucks_coupon()
    shop_id = shop_id_of("shop-owner-1")
    owner = as_persona("shop-owner-1")
    reader = owner.post("/api-keys", {"name": "BI", "scopes": ["shops:read"], "shop_id": shop_id})
    pos = owner.post("/api-keys", {"name": "POS", "scopes": ["loyalty:write"], "shop_id": shop_id})
    before = _coupon(code)
    body = {"code": code, "amount_fen": 5000, "reference": "ERP-9"}
    refused = ApiClient(api_key=reader.body["secret"]).post(
        f"/shops/{shop_id}/coupons/redeem", body
    )
    assert refused.status == 403
    assert refused.body["detail"] == "this API key lacks the scope 'loyalty:write'"
    assert _coupon(code) == before
    till = ApiClient(api_key=pos.body["secret"])
    assert till.post(f"/shops/{shop_id}/coupons/check", body).body["discount_fen"] == 500
    used = till.post(f"/shops/{shop_id}/coupons/redeem", body, headers={"Idempotency-Key": "r1"})
    assert used.status == 200, used.body
    retry = till.post(f"/shops/{shop_id}/coupons/redeem", body, headers={"Idempotency-Key": "r1"})
    assert (retry.status, retry.body) == (200, used.body)
    assert Coupon.objects.get(code=code).template.redeemed == 1
