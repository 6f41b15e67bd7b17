"""Earning rules and campaigns through the API: who sets what, caps, retirement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from agora.core.models import AuditLog
from agora.members.models import Member
from agora.members.services.codes import member_ticket_make
from agora.points.models import Campaign, EarningRule
from agora.points.selectors import points_balance
from agora.testing.personas import as_persona, mall_id_of, shop_id_of, user

pytestmark = pytest.mark.django_db


def _rules() -> list[tuple[Any, ...]]:
    return list(
        EarningRule.objects.order_by("id").values_list(
            "id", "mall_id", "shop_id", "category", "points_per_yuan", "active"
        )
    )


def _rule(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "mall_id": None,
        "shop_id": None,
        "category": "",
        "name": "规则",
        "points_per_yuan": "3",
        "funder": "mall",
        "daily_cap": None,
    }
    return {**body, **kw}


def test_daily_cap_of_a_shop_rule_is_honoured() -> None:
    shop_id = shop_id_of("shop-cashier-1")
    ops = as_persona("mall-ops-1")
    response = ops.post(
        "/earning-rules",
        _rule(
            shop_id=shop_id,
            name="星巴克 会员日 10 分/元",
            points_per_yuan=10,
            funder="merchant",
            daily_cap=500,
        ),
    )
    assert response.status == 201, response.body
    rule = response.body
    assert {k: rule[k] for k in ("mall_id", "shop_id", "category", "points_per_yuan")} == {
        "mall_id": mall_id_of("mall-ops-1"),
        "shop_id": shop_id,
        "category": "",
        "points_per_yuan": "10.00",
    }
    assert (rule["funder"], rule["daily_cap"], rule["active"]) == ("merchant", 500, True)
    assert AuditLog.objects.latest("id").action == "earning_rule.set"

    member = Member.objects.select_related("tier").get(user=user("13800000001"))
    start = points_balance(member=member)
    cashier = as_persona("shop-cashier-1")
    earned = []
    for n in range(3):
        # 15 yuan x 10 x 1.5 (金卡) = 225, doubled by the campaign = 450; the cap is 500 a day
        body = {
            "member_ticket": member_ticket_make(member=member, shop_id=shop_id),
            "amount_fen": 1500,
            "reference": f"CAP-{n}",
        }
        reply = cashier.post(
            f"/shops/{shop_id}/points/earn", body, headers={"Idempotency-Key": f"cap-{n}"}
        )
        assert reply.status == 201, reply.body
        earned.append(reply.body["points"])
    assert earned == [450, 50, 0]
    assert points_balance(member=member) == start + 500


def test_operators_list_the_rules_they_run() -> None:
    everything = as_persona("district-ops").get("/districts/1/earning-rules").body
    assert [(r["mall_id"], r["category"], r["points_per_yuan"]) for r in everything] == [
        (None, "", "1.00"),
        (1, "food", "2.00"),
        (2, "food", "2.00"),
    ]
    mine = as_persona("mall-ops-1").get("/districts/1/earning-rules").body
    assert [(r["mall_id"], r["category"]) for r in mine] == [(None, ""), (1, "food")]
    assert as_persona("shop-owner-1").get("/districts/1/earning-rules").status == 403
    assert as_persona("13800000001").get("/districts/1/earning-rules").status == 403
    assert as_persona("district-ops").get("/districts/99/earning-rules").status == 404


@pytest.mark.parametrize(
    ("login", "body", "status"),
    [
        ("mall-ops-1", _rule(), 403),  # district-wide: district operators only
        ("mall-ops-1", _rule(mall_id=2, category="food"), 403),  # another mall
        ("mall-ops-2", _rule(shop_id=3), 404),  # a shop of another mall: not even visible
        ("shop-owner-1", _rule(shop_id=3), 403),
        ("shop-owner-1", _rule(mall_id=1, category="food"), 403),
        ("shop-manager-1", _rule(), 403),
        ("13800000001", _rule(mall_id=1), 403),
        ("mall-ops-1", _rule(mall_id=1, category="weapons"), 422),
        ("mall-ops-1", _rule(mall_id=1, points_per_yuan="101"), 422),
        ("mall-ops-1", _rule(mall_id=1, daily_cap=0), 422),
        ("mall-ops-1", _rule(mall_id=1, funder="government"), 422),
        ("mall-ops-1", _rule(shop_id=3, category="food"), 422),
        ("mall-ops-1", _rule(shop_id=3, mall_id=2), 422),
    ],
)
def test_who_may_set_rules(login: str, body: dict[str, Any], status: int) -> None:
    before = _rules()
    audit = AuditLog.objects.count()
    response = as_persona(login).post("/earning-rules", body)
    assert response.status == status, response.body
    assert _rules() == before
    assert AuditLog.objects.count() == audit


def test_district_operator_replaces_the_district_rule() -> None:
    response = as_persona("district-ops").post(
        "/earning-rules", _rule(name="商圈通用 1.5 分/元", points_per_yuan=1.5, daily_cap=30000)
    )
    assert response.status == 201, response.body
    assert (response.body["district_id"], response.body["points_per_yuan"]) == (1, "1.50")
    active = EarningRule.objects.filter(active=True, mall=None, shop=None)
    assert [r.pk for r in active] == [response.body["id"]]
    listed = as_persona("mall-ops-1").get("/districts/1/earning-rules").body
    assert listed[0]["id"] == response.body["id"]


def test_retire_a_rule() -> None:
    food = EarningRule.objects.get(mall_id=1, category="food", active=True)
    district = EarningRule.objects.get(mall=None, shop=None, active=True)
    before = _rules()
    assert as_persona("mall-ops-2").delete(f"/earning-rules/{food.pk}").status == 404
    assert as_persona("mall-ops-1").delete(f"/earning-rules/{district.pk}").status == 404
    assert as_persona("shop-owner-1").delete(f"/earning-rules/{food.pk}").status == 404
    assert _rules() == before

    assert as_persona("mall-ops-1").delete(f"/earning-rules/{food.pk}").status == 204
    food.refresh_from_db()
    assert food.active is False
    assert as_persona("mall-ops-1").delete(f"/earning-rules/{food.pk}").status == 404
    # without its food rule, 星巴克 falls back to the district's 1 pt/yuan
    shop_id = shop_id_of("shop-cashier-1")
    member = Member.objects.select_related("tier").get(user=user("13800000001"))
    ticket = member_ticket_make(member=member, shop_id=shop_id)
    quote = as_persona("shop-cashier-1").get(
        f"/points/quote?shop_id={shop_id}&amount_fen=10000&member_ticket={ticket}"
    )
    # 100 yuan x 1 pt/yuan x 1.5 (金卡) = 150, doubled by the campaign = 300
    assert (quote.body["base"], quote.body["total"], quote.body["rule"]["id"]) == (
        150,
        300,
        district.pk,
    )


# --- campaigns ------------------------------------------------------------------------------
def _campaign(**kw: Any) -> dict[str, Any]:
    now = timezone.now()
    body: dict[str, Any] = {
        "mall_id": 1,
        "name": "美食节 1.5 倍",
        "multiplier": "1.5",
        "categories": ["food"],
        "starts_at": (now + timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=8)).isoformat(),
    }
    return {**body, **kw}


def test_mall_operator_runs_a_campaign_in_its_mall() -> None:
    response = as_persona("mall-ops-1").post("/campaigns", _campaign())
    assert response.status == 201, response.body
    assert {
        k: response.body[k] for k in ("district_id", "mall_id", "multiplier", "categories")
    } == {
        "district_id": 1,
        "mall_id": 1,
        "multiplier": "1.50",
        "categories": ["food"],
    }
    listed = as_persona("mall-ops-1").get("/districts/1/campaigns").body
    assert [c["name"] for c in listed] == ["美食节 1.5 倍", "万象城 周末双倍积分"]
    assert as_persona("mall-ops-2").get("/districts/1/campaigns").body == []
    assert len(as_persona("district-ops").get("/districts/1/campaigns").body) == 2


@pytest.mark.parametrize(
    ("login", "body", "status", "field"),
    [
        ("mall-ops-1", _campaign(mall_id=None), 403, None),
        ("mall-ops-2", _campaign(), 403, None),
        ("shop-owner-1", _campaign(), 403, None),
        ("mall-ops-1", _campaign(multiplier="1"), 422, "multiplier"),
        ("mall-ops-1", _campaign(multiplier="11"), 422, "multiplier"),
        ("mall-ops-1", _campaign(categories=["weapons"]), 422, "categories.0"),
        ("mall-ops-1", _campaign(ends_at=timezone.now().isoformat()), 422, "ends_at"),
    ],
)
def test_campaign_refusals_change_nothing(
    login: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    count = Campaign.objects.count()
    response = as_persona(login).post("/campaigns", body)
    assert response.status == status, response.body
    if field:
        assert response.field_names() == [field]
    assert Campaign.objects.count() == count
