"""Coupon templates through the API: who issues what, the rules of a valid template, status
changes, pushing coupons to members, and tenancy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from agora.accounts.models import User
from agora.core.models import AuditLog
from agora.coupons.models import Coupon, CouponTemplate
from agora.district.models import Shop
from agora.members.models import Member, MemberTag
from agora.testing.personas import anonymous, as_persona, mall_id_of, shop_id_of

pytestmark = pytest.mark.django_db


def _iso(value: datetime) -> str:
    return value.isoformat()


def _body(**overrides: Any) -> dict[str, Any]:
    now = timezone.now()
    body: dict[str, Any] = {
        "mall_id": mall_id_of("mall-ops-1"),
        "kind": "cash_off",
        "title": "周年庆 立减20元",
        "description": "全场通用",
        "value_fen": 2000,
        "claim_starts": _iso(now - timedelta(hours=1)),
        "claim_ends": _iso(now + timedelta(days=10)),
        "valid_days": 15,
        "total_stock": 50,
        "per_member_total": 2,
        "channels": ["app", "push"],
    }
    body.update(overrides)
    return body


def _snapshot() -> tuple[int, int, int]:
    return (CouponTemplate.objects.count(), Coupon.objects.count(), AuditLog.objects.count())


def _members(n: int) -> list[Member]:
    """The first n demo shoppers' member accounts, 13800000001 first."""
    users = User.objects.filter(username__startswith="p1").order_by("id")[:n]
    return [Member.objects.get(user=u) for u in users]


def test_mall_operator_creates_a_template() -> None:
    mall_id = mall_id_of("mall-ops-1")
    response = as_persona("mall-ops-1").post("/coupon-templates", _body())
    assert response.status == 201, response.body
    body = response.body
    expected = {
        "kind": "cash_off",
        "title": "周年庆 立减20元",
        "description": "全场通用",
        "value_fen": 2000,
        "validity": "relative",
        "valid_days": 15,
        "valid_from": None,
        "valid_until": None,
        "stock_left": 50,
        "per_member_total": 2,
        "per_member_daily": 0,
        "issuer": "mall",
        "issuer_name": "万象城",
        "funder": "mall",
        "mall_id": mall_id,
        "shop_id": None,
        "status": "active",
        "total_stock": 50,
        "issued": 0,
        "redeemed": 0,
        "channels": ["app", "push"],
        "scope_mall_ids": [],
        "scope_shop_ids": [],
        "scope_categories": [],
        "stats": {"stock_left": 50, "issued": 0, "redeemed": 0, "void": 0, "expired": 0},
    }
    assert {k: body[k] for k in expected} == expected
    entry = AuditLog.objects.latest("id")
    assert (entry.action, entry.actor_label, entry.mall_id, entry.target_id) == (
        "coupon_template.create",
        "mall-ops-1",
        mall_id,
        str(body["id"]),
    )
    centre = anonymous().get(f"/coupons?mall_id={mall_id}").body
    assert "周年庆 立减20元" in [t["title"] for t in centre]
    detail = as_persona("mall-ops-1").get(f"/coupon-templates/{body['id']}")
    assert detail.status == 200
    assert detail.body == body


def test_operator_list_and_stats() -> None:
    listed = as_persona("mall-ops-1").get("/coupon-templates")
    assert listed.status == 200
    assert [t["title"] for t in listed.body] == [
        "星巴克 立减5元",
        "万象城 免费停车2小时",
        "万象城 满200减30",
    ]
    threshold = listed.body[2]
    assert threshold["stats"] == {
        "stock_left": 498,
        "issued": 2,
        "redeemed": 1,
        "void": 0,
        "expired": 0,
    }
    assert (threshold["per_member_daily"], threshold["channels"]) == (1, ["app", "push"])
    assert len(as_persona("district-ops").get("/coupon-templates").body) == 8
    assert as_persona("13800000001").get("/coupon-templates").status == 403


def test_district_coupon_is_for_district_operators() -> None:
    body = _body(mall_id=None, title="商圈 立减10元", value_fen=1000)
    before = _snapshot()
    denied = as_persona("mall-ops-1").post("/coupon-templates", body)
    assert denied.status == 403
    assert _snapshot() == before
    created = as_persona("district-ops").post("/coupon-templates", body)
    assert created.status == 201, created.body
    assert (created.body["mall_id"], created.body["issuer_name"], created.body["issuer"]) == (
        None,
        "星河商圈",
        "mall",
    )
    # in every mall's coupon centre
    for login in ("mall-ops-1", "mall-ops-2"):
        centre = anonymous().get(f"/coupons?mall_id={mall_id_of(login)}").body
        assert "商圈 立减10元" in [t["title"] for t in centre]


def test_shop_staff_and_shoppers_cannot_create_mall_templates() -> None:
    before = _snapshot()
    for login in ("shop-owner-1", "shop-manager-1", "13800000001"):
        response = as_persona(login).post("/coupon-templates", _body())
        assert response.status == 403, (login, response.body)
    assert as_persona("mall-ops-2").post("/coupon-templates", _body()).status == 403
    assert anonymous().post("/coupon-templates", _body()).status == 401
    assert _snapshot() == before


def test_other_malls_operator_sees_nothing_of_mall_1() -> None:
    template = CouponTemplate.objects.get(title="万象城 满200减30")
    ops2 = as_persona("mall-ops-2")
    assert ops2.get(f"/coupon-templates/{template.pk}").status == 404
    titles = [t["title"] for t in ops2.get("/coupon-templates").body]
    assert titles == ["星巴克 立减5元", "星河COCO Park 免费停车2小时", "星河COCO Park 满200减30"]
    assert {t.mall_id for t in CouponTemplate.objects.filter(title__in=titles[1:])} == {
        mall_id_of("mall-ops-2")
    }
    paused = ops2.post(f"/coupon-templates/{template.pk}/status", {"status": "paused"})
    assert paused.status == 404
    pushed = ops2.post(f"/coupon-templates/{template.pk}/push", {"tag": "x"})
    assert pushed.status == 404
    assert CouponTemplate.objects.get(pk=template.pk).status == "active"


def _after(days: float) -> str:
    return _iso(timezone.now() + timedelta(days=days))


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"kind": "percent_off", "percent_off": 95, "cap_fen": 5000}, ["percent_off"]),
        ({"kind": "percent_off", "percent_off": 20}, ["cap_fen"]),
        ({"kind": "threshold", "value_fen": 3000, "threshold_fen": 3000}, ["threshold_fen"]),
        ({"validity": "fixed"}, ["valid_until"]),
        (
            {
                "validity": "fixed",
                "valid_from": _after(0),
                "valid_until": _after(5),
                "claim_ends": _after(10),
            },
            ["claim_ends"],
        ),
        ({"claim_starts": _after(5), "claim_ends": _after(1)}, ["claim_ends"]),
        ({"kind": "gift", "value_fen": 0}, ["gift_name"]),
        ({"kind": "parking_hours", "parking_hours": 30}, ["parking_hours"]),
        ({"valid_days": 0}, ["valid_days"]),
        ({"total_stock": 0}, ["total_stock"]),
        ({"per_member_total": 1, "per_member_daily": 2}, ["per_member_daily"]),
        ({"channels": []}, ["channels"]),
        ({"channels": ["app", "app"]}, ["channels"]),
        ({"scope_shop_ids": [99999999]}, ["scope_shop_ids"]),
        ({"title": "   "}, ["title"]),
        ({"kind": "bogus"}, ["kind"]),
        ({"channels": ["sms"]}, ["channels.0"]),
        ({"claim_ends": "tomorrow"}, ["claim_ends"]),
    ],
)
def test_invalid_template_is_422_with_the_field(
    overrides: dict[str, Any], fields: list[str]
) -> None:
    before = _snapshot()
    response = as_persona("mall-ops-1").post("/coupon-templates", _body(**overrides))
    assert response.status == 422, response.body
    assert response.field_names() == fields
    assert _snapshot() == before


def test_merchant_issues_its_own_coupon() -> None:
    shop_id = shop_id_of("shop-owner-1")
    body = _body(title="星巴克 第二杯半价券", value_fen=1500)
    del body["mall_id"]
    before = _snapshot()
    cashier = as_persona("shop-cashier-1").post(f"/shops/{shop_id}/coupon-templates", body)
    assert cashier.status == 403
    stranger = as_persona("shop-owner-1b").post(f"/shops/{shop_id}/coupon-templates", body)
    assert stranger.status == 404
    parking = as_persona("shop-owner-1").post(
        f"/shops/{shop_id}/coupon-templates", {**body, "kind": "parking_hours", "parking_hours": 2}
    )
    assert parking.status == 422
    assert parking.field_names() == ["kind"]
    assert _snapshot() == before
    created = as_persona("shop-manager-1").post(f"/shops/{shop_id}/coupon-templates", body)
    assert created.status == 201, created.body
    got = created.body
    assert (got["issuer"], got["funder"], got["issuer_name"], got["shop_id"]) == (
        "merchant",
        "merchant",
        "星巴克",
        shop_id,
    )
    assert (got["mall_id"], got["scope_shop_ids"]) == (mall_id_of("shop-owner-1"), [shop_id])
    # the mall's operator sees it among the templates of the mall
    titles = [t["title"] for t in as_persona("mall-ops-1").get("/coupon-templates").body]
    assert titles[0] == "星巴克 第二杯半价券"


def test_pause_resume_and_end() -> None:
    template_id = as_persona("mall-ops-1").post("/coupon-templates", _body()).body["id"]
    mall_id = mall_id_of("mall-ops-1")
    ops = as_persona("mall-ops-1")

    def in_centre() -> bool:
        return template_id in [t["id"] for t in anonymous().get(f"/coupons?mall_id={mall_id}").body]

    assert in_centre()
    paused = ops.post(f"/coupon-templates/{template_id}/status", {"status": "paused"})
    assert (paused.status, paused.body["status"]) == (200, "paused")
    assert not in_centre()
    resumed = ops.post(f"/coupon-templates/{template_id}/status", {"status": "active"})
    assert resumed.body["status"] == "active"
    assert in_centre()
    # a merchant cannot touch the mall's template
    assert (
        as_persona("shop-owner-1")
        .post(f"/coupon-templates/{template_id}/status", {"status": "paused"})
        .status
        == 404
    )
    ended = ops.post(f"/coupon-templates/{template_id}/status", {"status": "ended"})
    assert ended.body["status"] == "ended"
    audit = AuditLog.objects.count()
    final = ops.post(f"/coupon-templates/{template_id}/status", {"status": "active"})
    assert final.status == 422
    assert final.field_names() == ["status"]
    assert CouponTemplate.objects.get(pk=template_id).status == "ended"
    assert AuditLog.objects.count() == audit
    assert not in_centre()


def test_cashier_cannot_pause_the_shops_template() -> None:
    template = CouponTemplate.objects.get(title="星巴克 立减5元", mall_id=mall_id_of("mall-ops-1"))
    response = as_persona("shop-cashier-1").post(
        f"/coupon-templates/{template.pk}/status", {"status": "paused"}
    )
    assert response.status == 403
    assert CouponTemplate.objects.get(pk=template.pk).status == "active"
    owner = as_persona("shop-owner-1").post(
        f"/coupon-templates/{template.pk}/status", {"status": "paused"}
    )
    assert (owner.status, owner.body["status"]) == (200, "paused")


def test_push_to_members_and_to_a_tag() -> None:
    ops = as_persona("mall-ops-1")
    template_id = ops.post("/coupon-templates", _body(per_member_total=1)).body["id"]
    first, second, third, fourth = _members(4)
    pushed = ops.post(f"/coupon-templates/{template_id}/push", {"member_ids": [first.pk]})
    assert pushed.status == 200, pushed.body
    assert pushed.body == {"issued": 1, "refused": {}}
    now = timezone.now()
    for member in (first, second, third):
        MemberTag.objects.create(member=member, tag="周年庆VIP", kind="manual", created_at=now)
    by_tag = ops.post(f"/coupon-templates/{template_id}/push", {"tag": "周年庆VIP"})
    assert by_tag.body == {"issued": 2, "refused": {"member_limit": 1}}
    holders = sorted(
        Coupon.objects.filter(template_id=template_id).values_list("member_id", "channel")
    )
    assert holders == [(first.pk, "push"), (second.pk, "push"), (third.pk, "push")]
    assert fourth.pk not in [m for m, _c in holders]
    template = CouponTemplate.objects.get(pk=template_id)
    assert template.issued == 3
    entry = AuditLog.objects.latest("id")
    assert (entry.action, entry.after) == (
        "coupon_template.push",
        {"issued": 2, "refused": {"member_limit": 1}},
    )


def test_push_needs_the_push_channel_and_known_members() -> None:
    ops = as_persona("mall-ops-1")
    template_id = ops.post("/coupon-templates", _body(channels=["app"])).body["id"]
    members = _members(2)
    closed = ops.post(
        f"/coupon-templates/{template_id}/push", {"member_ids": [m.pk for m in members]}
    )
    assert closed.body == {"issued": 0, "refused": {"channel_closed": 2}}
    before = _snapshot()
    unknown = ops.post(f"/coupon-templates/{template_id}/push", {"member_ids": [99999999]})
    assert (unknown.status, unknown.field_names()) == (422, ["member_ids"])
    both = ops.post(
        f"/coupon-templates/{template_id}/push", {"member_ids": [members[0].pk], "tag": "x"}
    )
    assert (both.status, both.field_names()) == (422, ["member_ids"])
    neither = ops.post(f"/coupon-templates/{template_id}/push", {})
    assert neither.status == 422
    assert _snapshot() == before


def test_merchant_cannot_push() -> None:
    template = CouponTemplate.objects.get(title="星巴克 立减5元", mall_id=mall_id_of("mall-ops-1"))
    before = _snapshot()
    response = as_persona("shop-owner-1").post(
        f"/coupon-templates/{template.pk}/push", {"member_ids": [_members(1)[0].pk]}
    )
    assert response.status == 403
    assert _snapshot() == before
    assert Shop.objects.get(pk=shop_id_of("shop-owner-1")).name == "星巴克"
