"""The points exchange through the API: the catalogue, buying coupons and gifts, limits, stock,
insufficient points, and operators adding items."""

from __future__ import annotations

from typing import Any

import pytest

from agora.accounts.models import User
from agora.coupons.models import Coupon, CouponTemplate
from agora.members.models import Member
from agora.points.models import ExchangeItem, ExchangeOrder, LedgerTransaction
from agora.points.selectors import points_balance
from agora.testing.personas import anonymous, as_persona, user

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"  # 26,924 points in the SMALL demo


def _member(login: str = SHOPPER) -> Member:
    return Member.objects.get(user=user(login))


def _item(title: str) -> ExchangeItem:
    return ExchangeItem.objects.get(title=title)


def _state(member: Member) -> tuple[int, ...]:
    return (
        points_balance(member=member),
        LedgerTransaction.objects.count(),
        Coupon.objects.filter(member=member).count(),
        ExchangeOrder.objects.count(),
        sum(ExchangeItem.objects.values_list("issued", flat=True)),
    )


def _buy(login: str, item_id: int, key: str) -> Any:
    return as_persona(login).post(
        f"/exchange-items/{item_id}/exchange", headers={"Idempotency-Key": key}
    )


def test_anyone_reads_the_catalogue() -> None:
    items = anonymous().get("/exchange-items").body
    assert [
        (i["kind"], i["title"], i["points_price"], i["stock_left"], i["per_member_limit"])
        for i in items
    ] == [
        ("parking_hours", "万象城 停车2小时", 300, 100, 3),
        ("coupon", "服饰9折券", 500, 200, 2),
        ("gift", "定制保温杯", 2000, 50, 1),
    ]
    assert [i["mall"] for i in items] == [
        {"id": 1, "name": "万象城"},
        None,
        {"id": 1, "name": "万象城"},
    ]
    assert anonymous().get("/exchange-items?district_id=1").body == items
    assert anonymous().get("/exchange-items?district_id=99").status == 404


def test_buy_the_fashion_coupon() -> None:
    member = _member()
    item = _item("服饰9折券")
    response = _buy(SHOPPER, item.pk, "ex-1")
    assert response.status == 201, response.body
    body = response.body
    assert (body["item_id"], body["item_title"], body["points"], body["pickup_code"]) == (
        item.pk,
        "服饰9折券",
        500,
        "",
    )
    coupon = Coupon.objects.get(member=member, template=item.coupon_template)
    assert body["coupon"]["id"] == coupon.pk
    assert body["coupon"]["code"] == coupon.code
    assert body["coupon"]["title"] == "商圈服饰 9折（最高减50元）"
    assert coupon.channel == "points"
    assert points_balance(member=member) == 26924 - 500
    me = as_persona(SHOPPER)
    assert me.get("/me/points").body["balance"] == 26424
    assert me.get("/me/exchanges").body == {"items": [body], "next_cursor": None}
    history = me.get("/me/points/transactions?limit=200").body["items"]
    # newest first
    assert (history[0]["kind"], history[0]["points"], history[0]["reason"]) == (
        "redeem",
        -500,
        "exchange: 服饰9折券",
    )
    assert anonymous().get("/exchange-items").body[1]["stock_left"] == 199

    state = _state(member)
    replay = _buy(SHOPPER, item.pk, "ex-1")
    assert (replay.status, replay.body) == (201, body)
    assert _state(member) == state
    # the item allows 2 a member: the second is sold, the third refused and changes nothing
    second = _buy(SHOPPER, item.pk, "ex-2")
    assert second.status == 201, second.body
    assert points_balance(member=member) == 26424 - 500
    state = _state(member)
    third = _buy(SHOPPER, item.pk, "ex-3")
    assert (third.status, third.problem_code) == (409, "member_limit")
    assert _state(member) == state


def test_a_gift_gets_a_pickup_code_once_per_member() -> None:
    member = _member()
    item = _item("定制保温杯")
    response = _buy(SHOPPER, item.pk, "gift-1")
    assert response.status == 201, response.body
    assert response.body["coupon"] is None
    assert len(response.body["pickup_code"]) == 8
    assert points_balance(member=member) == 26924 - 2000
    state = _state(member)
    again = _buy(SHOPPER, item.pk, "gift-2")
    assert (again.status, again.problem_code) == (409, "member_limit")
    assert _state(member) == state


def test_not_enough_points_and_a_new_member() -> None:
    newcomer = User.objects.create(username="p13900009999", phone="13900009999")
    assert not Member.objects.filter(user=newcomer).exists()
    item = _item("万象城 停车2小时")
    response = _buy("13900009999", item.pk, "poor-1")
    assert (response.status, response.problem_code) == (409, "insufficient_points")
    assert (response.body["balance"], response.body["needed"]) == (0, 300)
    member = Member.objects.get(user=newcomer)  # enrolled at the entry tier on first use
    assert member.tier.name == "普卡"
    assert _state(member)[0] == 0
    assert ExchangeOrder.objects.filter(member=member).count() == 0
    item.refresh_from_db()
    assert item.issued == 0
    assert as_persona("13900009999").get("/me/points").body == {"balance": 0, "expiring": []}


def test_sold_out() -> None:
    created = as_persona("mall-ops-1").post(
        "/exchange-items",
        {
            "mall_id": 1,
            "kind": "gift",
            "title": "限量公仔",
            "description": "服务台领取",
            "points_price": 100,
            "stock": 1,
            "per_member_limit": 1,
        },
    )
    assert created.status == 201, created.body
    assert (created.body["stock_left"], created.body["mall"]) == (1, {"id": 1, "name": "万象城"})
    item_id = created.body["id"]
    assert _buy(SHOPPER, item_id, "doll-1").status == 201
    other = _member("13801108130")
    state = _state(other)
    late = _buy("13801108130", item_id, "doll-2")
    assert (late.status, late.problem_code) == (409, "sold_out")
    assert _state(other) == state


def test_missing_key_and_unknown_item() -> None:
    member = _member()
    state = _state(member)
    item = _item("服饰9折券")
    missing = as_persona(SHOPPER).post(f"/exchange-items/{item.pk}/exchange")
    assert missing.field_names() == ["Idempotency-Key"]
    assert _buy(SHOPPER, 999_999, "nope").status == 404
    assert _state(member) == state


# --- operators add items ------------------------------------------------------------------
def _new_item(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "mall_id": 1,
        "kind": "parking_hours",
        "title": "停车3小时",
        "description": "",
        "points_price": 400,
        "stock": 50,
        "per_member_limit": 2,
        "coupon_template_id": None,
    }
    return {**body, **kw}


def _template(mall_id: int | None, kind: str) -> int:
    return CouponTemplate.objects.get(mall_id=mall_id, kind=kind).pk


def test_operator_sells_its_parking_coupon_for_points() -> None:
    template_id = _template(1, "parking_hours")
    response = as_persona("mall-ops-1").post(
        "/exchange-items", _new_item(coupon_template_id=template_id)
    )
    assert response.status == 201, response.body
    assert (response.body["kind"], response.body["points_price"], response.body["stock_left"]) == (
        "parking_hours",
        400,
        50,
    )
    titles = [i["title"] for i in anonymous().get("/exchange-items").body]
    assert titles == ["万象城 停车2小时", "停车3小时", "服饰9折券", "定制保温杯"]
    bought = _buy(SHOPPER, response.body["id"], "p3-1")
    assert bought.status == 201, bought.body
    assert bought.body["coupon"]["title"] == "万象城 免费停车2小时"


@pytest.mark.parametrize(
    ("login", "body", "status", "field"),
    [
        ("mall-ops-1", {"mall_id": None, "kind": "gift"}, 403, None),
        ("mall-ops-2", {"kind": "gift"}, 403, None),
        ("shop-owner-1", {"kind": "gift"}, 403, None),
        ("13800000001", {"kind": "gift"}, 403, None),
        ("mall-ops-1", {}, 422, "coupon_template_id"),  # parking hours need a coupon
        ("mall-ops-1", {"template": (1, "threshold"), "kind": "coupon"}, 422, "coupon_template_id"),
        ("mall-ops-2", {"mall_id": 2, "template": (1, "parking_hours")}, 422, "coupon_template_id"),
        (
            "mall-ops-1",
            {"kind": "gift", "template": (1, "parking_hours")},
            422,
            "coupon_template_id",
        ),
        ("mall-ops-1", {"kind": "gift", "points_price": 0}, 422, "points_price"),
        ("mall-ops-1", {"kind": "gift", "stock": 0}, 422, "stock"),
        ("mall-ops-1", {"kind": "lottery"}, 422, "kind"),
    ],
)
def test_item_refusals_change_nothing(
    login: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    changes = dict(body)
    template = changes.pop("template", None)
    if template is not None:
        changes["coupon_template_id"] = _template(*template)
    count = ExchangeItem.objects.count()
    response = as_persona(login).post("/exchange-items", _new_item(**changes))
    assert response.status == status, response.body
    if field:
        assert response.field_names() == [field]
    assert ExchangeItem.objects.count() == count
