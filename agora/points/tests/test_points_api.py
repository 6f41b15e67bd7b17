"""Points through the API: the till (earn, spend, quote), replays, operators' adjustments and
reversals, and the settlement between funding pools."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from django.utils import timezone

from agora.core.models import AuditLog
from agora.district.models import Shop
from agora.members.models import Member, Purchase
from agora.members.services.codes import member_ticket_make
from agora.points.models import Campaign, LedgerTransaction
from agora.points.selectors import points_balance
from agora.testing.personas import ApiClient, as_persona, mall_id_of, shop_id_of, user

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"  # 金卡 (x1.5), 26,924 points in the SMALL demo


def _member(login: str = SHOPPER) -> Member:
    return Member.objects.select_related("tier").get(user=user(login))


def _state(member: Member) -> tuple[int, int, int]:
    """What a refused call must leave alone: balance, ledger rows, purchases."""
    return (
        points_balance(member=member),
        LedgerTransaction.objects.count(),
        Purchase.objects.filter(member=member).count(),
    )


def _key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": name}


def _earn(
    client: ApiClient,
    member: Member,
    amount_fen: int,
    key: str,
    *,
    shop_id: int | None = None,
    reference: str = "POS-1",
) -> Any:
    shop = shop_id or shop_id_of("shop-cashier-1")
    body = {
        "member_ticket": member_ticket_make(member=member, shop_id=shop),
        "amount_fen": amount_fen,
        "reference": reference,
    }
    return client.post(f"/shops/{shop}/points/earn", body, headers=_key(key))


def _today_settlement(login: str) -> list[dict[str, Any]]:
    today = timezone.localdate().isoformat()
    response = as_persona(login).get(f"/districts/1/points-settlement?start={today}&end={today}")
    assert response.status == 200, response.body
    rows: list[dict[str, Any]] = response.body
    return rows


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


# --- earning at the till ------------------------------------------------------------------
def test_earn_at_starbucks_splits_base_and_campaign_bonus() -> None:
    member = _member()
    shop = Shop.objects.get(pk=shop_id_of("shop-cashier-1"))
    assert (shop.name, shop.category, shop.mall_id) == ("星巴克", "food", mall_id_of("mall-ops-1"))
    campaign = Campaign.objects.get(mall_id=shop.mall_id)
    assert campaign.starts_at <= timezone.now() < campaign.ends_at
    # 188.00 yuan x 2 pt/yuan (mall 1 food, merchant-funded) x tier 1.5 = 564 base;
    # x2 campaign = 1128, so the mall funds a bonus of 564
    base_exact = Decimal(18800) / 100 * Decimal("2") * member.tier.points_multiplier
    base, total = _floor(base_exact), _floor(base_exact * campaign.multiplier)
    assert (member.tier.points_multiplier, campaign.multiplier) == (Decimal("1.5"), Decimal(2))
    assert (base, total) == (564, 1128)
    before = points_balance(member=member)
    assert _today_settlement("district-ops") == []

    response = _earn(as_persona("shop-cashier-1"), member, 18800, "till-1")

    assert response.status == 201, response.body
    body = response.body
    assert {k: body[k] for k in ("kind", "points", "reference", "shop", "mall_id", "balance")} == {
        "kind": "earn",
        "points": 1128,
        "reference": "POS-1",
        "shop": {"id": shop.pk, "name": "星巴克"},
        "mall_id": shop.mall_id,
        "balance": before + 1128,
    }
    assert body["reverses_id"] is None
    assert points_balance(member=member) == before + 1128
    purchase = Purchase.objects.filter(member=member).latest("id")
    assert (purchase.amount_fen, purchase.source, purchase.shop_id) == (18800, "pos", shop.pk)
    rows = _today_settlement("district-ops")
    assert [
        (r["kind"], r["mall_id"], r["shop_id"], r["funded"], r["net_points"]) for r in rows
    ] == [
        ("mall_pool", shop.mall_id, None, 564, -564),
        ("merchant_pool", None, shop.pk, 564, -564),
    ]
    assert sum(r["net_fen"] for r in rows) == -1128  # 1 point = 1 fen in the demo scheme


def test_quote_matches_what_the_earn_then_books() -> None:
    member = _member()
    shop_id = shop_id_of("shop-cashier-1")
    ticket = member_ticket_make(member=member, shop_id=shop_id)
    response = as_persona("shop-cashier-1").get(
        f"/points/quote?shop_id={shop_id}&amount_fen=18800&member_ticket={ticket}"
    )
    assert response.status == 200, response.body
    assert {k: response.body[k] for k in ("base", "bonus", "total")} == {
        "base": 564,
        "bonus": 564,
        "total": 1128,
    }
    assert response.body["rule"]["points_per_yuan"] == "2.00"
    assert response.body["rule"]["funder"] == "merchant"
    assert response.body["campaign"]["multiplier"] == "2.00"
    assert _earn(as_persona("shop-cashier-1"), member, 18800, "q-1").body["points"] == 1128


def test_earn_replay_returns_the_first_response_and_books_once() -> None:
    member = _member()
    shop_id = shop_id_of("shop-cashier-1")
    cashier = as_persona("shop-cashier-1")
    path = f"/shops/{shop_id}/points/earn"
    ticket = member_ticket_make(member=member, shop_id=shop_id)
    body = {"member_ticket": ticket, "amount_fen": 18800, "reference": "R-7"}
    before = points_balance(member=member)

    first = cashier.post(path, body, headers=_key("till-replay"))
    assert first.status == 201, first.body
    assert first.body["balance"] == before + 1128
    state = _state(member)
    again = cashier.post(path, body, headers=_key("till-replay"))
    assert (again.status, again.body) == (201, first.body)
    assert _state(member) == state
    assert points_balance(member=member) == before + 1128

    # another person of the same shop is another caller, with a key space of its own
    other = as_persona("shop-manager-1").post(path, body, headers=_key("till-replay"))
    assert other.status == 201
    assert other.body["id"] != first.body["id"]


def test_same_key_other_body_is_409_and_missing_key_is_422() -> None:
    member = _member()
    cashier = as_persona("shop-cashier-1")
    shop_id = shop_id_of("shop-cashier-1")
    ticket = member_ticket_make(member=member, shop_id=shop_id)
    path = f"/shops/{shop_id}/points/earn"
    body = {"member_ticket": ticket, "amount_fen": 5000, "reference": "R"}
    assert cashier.post(path, body, headers=_key("k-409")).status == 201
    before = _state(member)

    other = cashier.post(path, {**body, "amount_fen": 9900}, headers=_key("k-409"))
    assert (other.status, other.problem_code) == (409, "idempotency_key_reused")
    missing = cashier.post(path, {**body, "amount_fen": 9900})
    assert missing.status == 422
    assert missing.field_names() == ["Idempotency-Key"]
    too_long = cashier.post(path, body, headers=_key("x" * 256))
    assert too_long.field_names() == ["Idempotency-Key"]
    assert _state(member) == before


def test_api_key_of_the_shop_earns_with_loyalty_write_only() -> None:
    member = _member()
    shop_id = shop_id_of("shop-owner-1")
    owner = as_persona("shop-owner-1")
    write = owner.post(
        "/api-keys", {"name": "pos", "scopes": ["loyalty:write"], "shop_id": shop_id}
    ).body["secret"]
    read = owner.post(
        "/api-keys", {"name": "ro", "scopes": ["loyalty:read"], "shop_id": shop_id}
    ).body["secret"]
    before = _state(member)
    refused = _earn(ApiClient(api_key=read), member, 5000, "api-1")
    assert (refused.status, refused.problem_code) == (403, "permission_denied")
    assert _state(member) == before

    response = _earn(ApiClient(api_key=write), member, 5000, "api-1")
    assert response.status == 201, response.body
    assert Purchase.objects.filter(member=member).latest("id").source == "api"
    # the key's own key space: the same key name from a person is another request
    assert _earn(as_persona("shop-owner-1"), member, 5000, "api-1").status == 201


@pytest.mark.parametrize(
    ("login", "status"),
    [
        ("shop-owner-1b", 404),  # another shop of the same mall
        ("mall-ops-1", 403),  # the mall's operator does not work the till
        ("shop-owner-2", 404),
        (SHOPPER, 404),
    ],
)
def test_only_the_shops_staff_earn(login: str, status: int) -> None:
    member = _member()
    before = _state(member)
    response = _earn(as_persona(login), member, 5000, "outsider")
    assert response.status == status, response.body
    assert _state(member) == before


def test_ticket_of_another_shop_is_refused() -> None:
    member = _member()
    shop_id = shop_id_of("shop-cashier-1")
    ticket = member_ticket_make(member=member, shop_id=shop_id_of("shop-owner-1b"))
    before = _state(member)
    response = as_persona("shop-cashier-1").post(
        f"/shops/{shop_id}/points/earn",
        {"member_ticket": ticket, "amount_fen": 5000},
        headers=_key("wrong-ticket"),
    )
    assert response.status == 422
    assert response.field_names() == ["member_ticket"]
    assert _state(member) == before


# --- spending ---------------------------------------------------------------------------------
def test_spend_and_overdraw() -> None:
    member = _member()
    shop_id = shop_id_of("shop-cashier-1")
    cashier = as_persona("shop-cashier-1")
    path = f"/shops/{shop_id}/points/spend"
    balance = points_balance(member=member)
    assert balance == 26924
    ticket = member_ticket_make(member=member, shop_id=shop_id)

    response = cashier.post(
        path, {"member_ticket": ticket, "points": 800, "reference": "S-1"}, headers=_key("sp-1")
    )
    assert response.status == 201, response.body
    assert (response.body["kind"], response.body["points"], response.body["balance"]) == (
        "redeem",
        -800,
        26124,
    )
    rows = _today_settlement("mall-ops-1")
    assert [(r["kind"], r["shop_id"], r["received"], r["net_points"]) for r in rows] == [
        ("merchant_pool", shop_id, 800, 800)
    ]

    before = _state(member)
    over = cashier.post(
        path, {"member_ticket": ticket, "points": 26125, "reference": "S-2"}, headers=_key("sp-2")
    )
    assert (over.status, over.problem_code) == (409, "insufficient_points")
    assert (over.body["balance"], over.body["needed"]) == (26124, 26125)
    assert _state(member) == before


# --- operators: adjust --------------------------------------------------------------------------
def test_mall_operator_adjusts_with_a_reason() -> None:
    member = _member()
    ops = as_persona("mall-ops-1")
    mall_id = mall_id_of("mall-ops-1")
    path = f"/members/{member.pk}/points/adjust"
    response = ops.post(
        path, {"points": 150, "reason": "补录小票", "mall_id": mall_id}, headers=_key("adj-1")
    )
    assert response.status == 201, response.body
    assert (response.body["kind"], response.body["points"], response.body["balance"]) == (
        "adjust",
        150,
        27074,
    )
    assert response.body["reason"] == "补录小票"
    entry = AuditLog.objects.latest("id")
    assert (entry.action, entry.actor_label, entry.mall_id) == ("points.adjust", "mall-ops-1", 1)
    assert entry.after == {
        "member": member.pk,
        "points": 150,
        "reason": "补录小票",
        "balance": 27074,
    }
    assert ops.get(f"/members/{member.pk}/points").body["balance"] == 27074

    before = _state(member)
    audit = AuditLog.objects.count()
    over = ops.post(
        path, {"points": -27075, "reason": "扣回", "mall_id": mall_id}, headers=_key("adj-2")
    )
    assert (over.status, over.problem_code) == (409, "insufficient_points")
    no_reason = ops.post(path, {"points": 5, "reason": "", "mall_id": mall_id}, headers=_key("a3"))
    assert no_reason.field_names() == ["reason"]
    district_wide = ops.post(path, {"points": 5, "reason": "补偿"}, headers=_key("adj-4"))
    assert district_wide.status == 403
    other_mall = ops.post(
        path,
        {"points": 5, "reason": "补偿", "mall_id": mall_id_of("mall-ops-2")},
        headers=_key("a5"),
    )
    assert other_mall.status == 403
    merchant = as_persona("shop-owner-1").post(
        path, {"points": 5, "reason": "补偿", "mall_id": mall_id}, headers=_key("adj-6")
    )
    assert merchant.status == 404
    assert _state(member) == before
    assert AuditLog.objects.count() == audit

    whole = as_persona("district-ops").post(
        path, {"points": -2074, "reason": "清理"}, headers=_key("adj-7")
    )
    assert (whole.status, whole.body["balance"], whole.body["mall_id"]) == (201, 25000, None)


def test_operators_read_a_members_points_and_history() -> None:
    member = _member()
    mine = as_persona(SHOPPER).get("/me/points").body
    ops = as_persona("mall-ops-1")
    assert ops.get(f"/members/{member.pk}/points").body == mine
    assert mine["balance"] == 26924
    assert sum(e["points"] for e in mine["expiring"]) == 26924
    seen: list[int] = []
    cursor = ""
    while True:
        page = ops.get(f"/members/{member.pk}/points/transactions?limit=15{cursor}").body
        seen += [t["id"] for t in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    # newest first
    expected = list(
        LedgerTransaction.objects.filter(member=member).order_by("-id").values_list("id", flat=True)
    )
    assert seen == expected
    assert len(seen) == 40
    assert as_persona("shop-owner-1").get(f"/members/{member.pk}/points").status == 404
    assert as_persona(SHOPPER).get(f"/members/{member.pk}/points").status == 404


# --- operators: reverse -----------------------------------------------------------------------
def test_reverse_an_earn_once() -> None:
    member = _member()
    before = points_balance(member=member)
    earn = _earn(as_persona("shop-cashier-1"), member, 18800, "rev-earn").body
    assert points_balance(member=member) == before + 1128
    ops = as_persona("mall-ops-1")
    path = f"/points/transactions/{earn['id']}/reverse"

    outsider = as_persona("mall-ops-2").post(path, {"reason": "退货"}, headers=_key("r0"))
    assert outsider.status == 403
    assert points_balance(member=member) == before + 1128

    response = ops.post(path, {"reason": "顾客退货"}, headers=_key("rev-1"))
    assert response.status == 201, response.body
    assert (response.body["kind"], response.body["points"], response.body["reverses_id"]) == (
        "reverse",
        -1128,
        earn["id"],
    )
    assert response.body["balance"] == before
    assert points_balance(member=member) == before
    rows = _today_settlement("district-ops")
    assert [(r["kind"], r["funded"], r["received"], r["net_points"]) for r in rows] == [
        ("mall_pool", 564, 564, 0),
        ("merchant_pool", 564, 564, 0),
    ]

    state = _state(member)
    replay = ops.post(path, {"reason": "顾客退货"}, headers=_key("rev-1"))
    assert (replay.status, replay.body) == (201, response.body)
    twice = ops.post(path, {"reason": "再退一次"}, headers=_key("rev-2"))
    assert (twice.status, twice.problem_code) == (409, "already_reversed")
    undo_undo = ops.post(
        f"/points/transactions/{response.body['id']}/reverse",
        {"reason": "撤销冲正"},
        headers=_key("rev-3"),
    )
    assert (undo_undo.status, undo_undo.problem_code) == (409, "not_reversible")
    assert _state(member) == state


def test_reversal_may_not_overdraw() -> None:
    member = _member()
    earn = _earn(as_persona("shop-cashier-1"), member, 18800, "od-earn").body
    shop_id = shop_id_of("shop-cashier-1")
    spend = as_persona("shop-cashier-1").post(
        f"/shops/{shop_id}/points/spend",
        {
            "member_ticket": member_ticket_make(member=member, shop_id=shop_id),
            "points": earn["balance"],
        },
        headers=_key("od-spend"),
    )
    assert spend.body["balance"] == 0
    before = _state(member)
    response = as_persona("mall-ops-1").post(
        f"/points/transactions/{earn['id']}/reverse", {"reason": "退货"}, headers=_key("od-rev")
    )
    assert (response.status, response.problem_code) == (409, "insufficient_points")
    assert _state(member) == before


# --- settlement -------------------------------------------------------------------------------
def test_settlement_nets_to_what_members_gained() -> None:
    member = _member()
    second = _member("13801108130")
    start = points_balance(member=member) + points_balance(member=second)
    shop_id = shop_id_of("shop-cashier-1")
    cashier = as_persona("shop-cashier-1")
    assert _earn(cashier, member, 18800, "set-1").status == 201
    assert _earn(cashier, second, 4200, "set-2").status == 201
    spend = cashier.post(
        f"/shops/{shop_id}/points/spend",
        {"member_ticket": member_ticket_make(member=second, shop_id=shop_id), "points": 300},
        headers=_key("set-3"),
    )
    assert spend.status == 201
    adjust = as_persona("district-ops").post(
        f"/members/{member.pk}/points/adjust",
        {"points": 77, "reason": "活动奖励"},
        headers=_key("s4"),
    )
    assert adjust.status == 201
    gained = points_balance(member=member) + points_balance(member=second) - start
    # 1128 + (42 x 2 x 1.0 = 84, doubled 168) - 300 + 77
    assert gained == 1128 + 168 - 300 + 77

    rows = _today_settlement("district-ops")
    assert sum(r["net_points"] for r in rows) == -gained
    by_kind = {(r["kind"], r["mall_id"] or r["shop_id"]): r for r in rows}
    assert by_kind[("merchant_pool", shop_id)]["funded"] == 564 + 84
    assert by_kind[("merchant_pool", shop_id)]["received"] == 300
    assert by_kind[("mall_pool", 1)]["funded"] == 564 + 84
    assert by_kind[("district_pool", None)]["funded"] == 77
    # a mall's operator sees its pools only, not the district's
    mall_rows = _today_settlement("mall-ops-1")
    assert {r["kind"] for r in mall_rows} == {"mall_pool", "merchant_pool"}
    assert sum(r["net_points"] for r in mall_rows) == -(gained - 77)
    assert as_persona("mall-ops-2").get("/districts/1/points-settlement").body == []
    assert as_persona("shop-owner-1").get("/districts/1/points-settlement").status == 403
    bad = as_persona("district-ops").get(
        "/districts/1/points-settlement?start=2026-02-01&end=2026-01-01"
    )
    assert bad.field_names() == ["end"]


def test_a_retry_after_rescanning_the_member_replays_instead_of_conflicting() -> None:
    """The till re-scans the member (a new ticket) and retries with the same key: same request."""
    import time

    shop_id = shop_id_of("shop-cashier-1")
    member = _member()
    cashier = as_persona("shop-cashier-1")
    body = {"amount_fen": 5000, "reference": "R-RETRY"}
    first = cashier.post(
        f"/shops/{shop_id}/points/earn",
        {**body, "member_ticket": member_ticket_make(member=member, shop_id=shop_id)},
        headers={"Idempotency-Key": "retry-1"},
    )
    assert first.status == 201, first.body
    time.sleep(1.1)  # the next ticket carries another timestamp
    rescanned = member_ticket_make(member=member, shop_id=shop_id)
    balance = points_balance(member=member)
    again = cashier.post(
        f"/shops/{shop_id}/points/earn",
        {**body, "member_ticket": rescanned},
        headers={"Idempotency-Key": "retry-1"},
    )
    assert (again.status, again.body) == (201, first.body)
    assert points_balance(member=member) == balance
