"""Earning points on a purchase: the most specific rule, the tier multiplier, the campaign bonus
and who funds it, the daily cap, and exact Decimal flooring (never float)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.core.errors import IdempotencyKeyReused
from agora.district.models import District, Mall, Shop
from agora.members.models import Member, Purchase, Tier
from agora.members.services.membership import member_ensure
from agora.members.services.purchases import tier_set
from agora.points.choices import AccountKind, Funder, Movement
from agora.points.models import Campaign, EarningRule, LedgerEntry, LedgerTransaction
from agora.points.services.earning import (
    campaign_create,
    points_earn,
    rule_for,
    rule_retire,
    rule_set,
)

pytestmark = pytest.mark.django_db


# --- helpers -------------------------------------------------------------------------------
def _district_id() -> int:
    district = District.objects.order_by("id").first()
    assert district is not None
    return district.pk


def _admin() -> Actor:
    return Actor(user=User.objects.get(username="admin"), is_admin=True)


def _malls() -> list[Mall]:
    return list(Mall.objects.filter(district_id=_district_id()).order_by("id"))


def _shop(mall: Mall, *, food: bool, nth: int = 0) -> Shop:
    shops = Shop.objects.filter(mall=mall, status="open").order_by("id")
    shops = shops.filter(category="food") if food else shops.exclude(category="food")
    return shops[nth]


def _member(phone: str) -> Member:
    user = User.objects.create(username=f"p{phone}", phone=phone)
    return member_ensure(user=user, district_id=_district_id())


def _set_tier(member: Member, code: str) -> None:
    tier = Tier.objects.get(district_id=member.district_id, code=code)
    tier_set(actor=_admin(), member=member, tier=tier, reason="test")


def _rule(
    name: str,
    rate: str,
    *,
    mall: Mall | None = None,
    shop: Shop | None = None,
    category: str = "",
    funder: str = Funder.MALL,
    cap: int | None = None,
) -> EarningRule:
    return rule_set(
        actor=_admin(),
        district_id=_district_id(),
        mall_id=mall.pk if mall else None,
        shop_id=shop.pk if shop else None,
        category=category,
        name=name,
        points_per_yuan=Decimal(rate),
        funder=funder,
        daily_cap=cap,
    )


def _earn(member: Member, shop: Shop, fen: int, key: str, **kw: object) -> LedgerTransaction:
    return points_earn(
        actor=None,
        member=member,
        shop=shop,
        amount_fen=fen,
        reference=key,
        source="pos",
        key=key,
        **kw,  # type: ignore[arg-type]
    )


def _legs(txn: LedgerTransaction) -> list[tuple[str, int | None, int | None, int]]:
    """(account kind, mall, shop, amount) of each entry, in posting order."""
    return [
        (e.account.kind, e.account.mall_id, e.account.shop_id, e.amount)
        for e in LedgerEntry.objects.filter(transaction=txn)
        .select_related("account")
        .order_by("id")
    ]


def _next_year_end() -> date:
    return date(timezone.localdate().year + 1, 12, 31)


# --- rule specificity ----------------------------------------------------------------------
def test_the_most_specific_active_rule_wins() -> None:
    mall = _malls()[-1]
    shop = _shop(mall, food=False)
    sibling = (
        Shop.objects.filter(mall=mall, status="open")
        .exclude(category__in=["food", shop.category])
        .first()
    )
    assert sibling is not None
    district_rule = rule_for(shop=shop)
    assert district_rule is not None
    assert (district_rule.name, district_rule.points_per_yuan, district_rule.funder) == (
        "商圈通用积分 1 分/元",
        Decimal("1.00"),
        Funder.MALL,
    )
    in_category = _rule("district category", "1.5", category=shop.category)
    assert rule_for(shop=shop) == in_category
    assert rule_for(shop=sibling) == district_rule
    mall_rule = _rule("mall", "3", mall=mall)
    assert rule_for(shop=shop) == mall_rule
    assert rule_for(shop=sibling) == mall_rule
    mall_category = _rule("mall category", "4", mall=mall, category=shop.category)
    assert rule_for(shop=shop) == mall_category
    shop_rule = _rule("shop", "5", shop=shop, funder=Funder.MERCHANT)
    assert rule_for(shop=shop) == shop_rule
    assert rule_for(shop=sibling) == mall_rule
    # a food shop of the mall keeps the demo's mall food rule (mall + category beats mall)
    food_rule = rule_for(shop=_shop(mall, food=True))
    assert food_rule is not None
    assert (food_rule.points_per_yuan, food_rule.funder, food_rule.category) == (
        Decimal("2.00"),
        Funder.MERCHANT,
        "food",
    )

    member = _member("13900000201")
    txn = _earn(member, shop, 1000, "spec:1")
    assert (txn.points, txn.rule_id) == (50, shop_rule.pk)
    assert _legs(txn) == [
        (AccountKind.MEMBER, None, None, 50),
        (AccountKind.MERCHANT_POOL, None, shop.pk, -50),
    ]

    rule_retire(actor=_admin(), rule=shop_rule)
    assert rule_for(shop=shop) == mall_category
    txn = _earn(member, shop, 1000, "spec:2")
    assert (txn.points, txn.rule_id) == (40, mall_category.pk)
    assert _legs(txn)[1] == (AccountKind.MALL_POOL, mall.pk, None, -40)


def test_setting_a_rule_retires_the_previous_rule_of_the_same_scope() -> None:
    mall = _malls()[-1]
    first = _rule("mall v1", "3", mall=mall)
    second = _rule("mall v2", "2.5", mall=mall)
    first.refresh_from_db()
    assert (first.active, second.active) == (False, True)
    assert list(
        EarningRule.objects.filter(mall=mall, category="", shop=None, active=True).values_list(
            "name", flat=True
        )
    ) == ["mall v2"]
    assert rule_for(shop=_shop(mall, food=False)) == second


# --- tier multiplier -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tier", "points"),
    [("classic", 123), ("silver", 148), ("gold", 185), ("diamond", 246)],
)
def test_the_tier_multiplies_the_rate(tier: str, points: int) -> None:
    member = _member("13900000202")
    if tier != "classic":
        _set_tier(member, tier)
    mall = _malls()[-1]
    shop = _shop(mall, food=False)
    txn = _earn(member, shop, 12345, f"tier:{tier}")  # ¥123.45 at 1 point per yuan
    assert txn.points == points
    assert _legs(txn) == [
        (AccountKind.MEMBER, None, None, points),
        (AccountKind.MALL_POOL, mall.pk, None, -points),
    ]
    entry = LedgerEntry.objects.get(transaction=txn, account__kind=AccountKind.MEMBER)
    assert entry.expires_on == _next_year_end()


# --- campaign bonus and who funds it -------------------------------------------------------
def test_campaign_bonus_is_charged_to_the_campaign_mall() -> None:
    mall = _malls()[0]  # the demo's 2x campaign runs here
    campaign = Campaign.objects.get(mall=mall)
    assert campaign.multiplier == Decimal("2.00")
    member = _member("13900000203")

    food = _shop(mall, food=True)  # 2 points per yuan, merchant-funded
    txn = _earn(member, food, 10050, "camp:food")  # ¥100.50
    assert txn.points == 402  # base floor(201.0) = 201, total floor(402.0) = 402
    assert _legs(txn) == [
        (AccountKind.MEMBER, None, None, 402),
        (AccountKind.MERCHANT_POOL, None, food.pk, -201),
        (AccountKind.MALL_POOL, mall.pk, None, -201),
    ]

    other = _shop(mall, food=False)  # the district rule: 1 point per yuan, mall-funded
    txn = _earn(member, other, 10050, "camp:other")
    assert txn.points == 201  # base floor(100.5) = 100, total floor(201.0) = 201: bonus 101
    assert _legs(txn) == [
        (AccountKind.MEMBER, None, None, 201),
        (AccountKind.MALL_POOL, mall.pk, None, -100),
        (AccountKind.MALL_POOL, mall.pk, None, -101),
    ]


def test_district_campaign_bonus_is_charged_to_the_district_pool() -> None:
    mall = _malls()[-1]
    shop = _shop(mall, food=False)
    now = timezone.now()
    campaign_create(
        actor=_admin(),
        district_id=_district_id(),
        mall_id=None,
        name="商圈 1.5 倍",
        multiplier=Decimal("1.5"),
        categories=[shop.category],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    )
    member = _member("13900000204")
    txn = _earn(member, shop, 10000, "dcamp:1")
    assert txn.points == 150
    assert _legs(txn) == [
        (AccountKind.MEMBER, None, None, 150),
        (AccountKind.MALL_POOL, mall.pk, None, -100),
        (AccountKind.DISTRICT_POOL, None, None, -50),
    ]
    # another category gets no bonus; nor does a purchase after the campaign
    sibling = (
        Shop.objects.filter(mall=mall, status="open")
        .exclude(category__in=["food", shop.category])
        .first()
    )
    assert sibling is not None
    assert _earn(member, sibling, 10000, "dcamp:2").points == 100
    assert _earn(member, shop, 10000, "dcamp:3", at=now + timedelta(hours=2)).points == 100


# --- daily cap -----------------------------------------------------------------------------
def test_daily_cap_bounds_a_members_points_per_rule_and_day() -> None:
    mall = _malls()[-1]
    shop = _shop(mall, food=False)
    rule = _rule("capped", "1", mall=mall, cap=100)
    member = _member("13900000205")
    now = timezone.now()
    assert _earn(member, shop, 8000, "cap:1", at=now).points == 80
    assert _earn(member, shop, 5000, "cap:2", at=now).points == 20
    purchases = Purchase.objects.filter(member=member).count()
    entries = LedgerEntry.objects.count()
    third = _earn(member, shop, 1000, "cap:3", at=now)
    assert (third.kind, third.points, third.rule_id) == (Movement.EARN, 0, rule.pk)
    assert LedgerEntry.objects.count() == entries  # nothing to post, but the purchase counts
    assert Purchase.objects.filter(member=member).count() == purchases + 1
    # the cap is per member: another member earns in full; and tomorrow is a new day
    assert _earn(_member("13900000206"), shop, 5000, "cap:4", at=now).points == 50
    assert _earn(member, shop, 5000, "cap:5", at=now + timedelta(days=1)).points == 50


def test_daily_cap_takes_the_campaign_bonus_last() -> None:
    mall = _malls()[0]  # 2x campaign
    shop = _shop(mall, food=False)
    _rule("capped", "1", mall=mall, cap=150)
    member = _member("13900000207")
    now = timezone.now()
    txn = _earn(member, shop, 10000, "capc:1", at=now)  # base 100, bonus 100, room 150
    assert txn.points == 150
    assert _legs(txn) == [
        (AccountKind.MEMBER, None, None, 150),
        (AccountKind.MALL_POOL, mall.pk, None, -100),
        (AccountKind.MALL_POOL, mall.pk, None, -50),
    ]
    assert _earn(member, shop, 10000, "capc:2", at=now).points == 0


# --- exact Decimal arithmetic ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("rate", "fen", "tier", "points"),
    [
        ("0.57", 10000, "classic", 57),  # float: 0.57 * 100 = 56.99999999999999
        ("1.15", 10000, "classic", 115),  # float: 1.15 * 100 = 114.99999999999999
        ("1", 999, "classic", 9),  # ¥9.99 floors to 9
        ("0.01", 9999, "classic", 0),  # ¥99.99 at 0.01: 0.9999 floors to 0
        ("1.5", 12345, "silver", 222),  # 123.45 * 1.5 * 1.2 = 222.21
        ("0.33", 999, "gold", 4),  # 9.99 * 0.33 * 1.5 = 4.94505
    ],
)
def test_points_are_floored_exactly(rate: str, fen: int, tier: str, points: int) -> None:
    mall = _malls()[-1]
    shop = _shop(mall, food=False)
    _rule("exact", rate, shop=shop)
    member = _member("13900000208")
    if tier != "classic":
        _set_tier(member, tier)
    txn = _earn(member, shop, fen, "exact:1")
    assert txn.points == points
    assert sum(e[3] for e in _legs(txn)) == 0


# --- idempotency ---------------------------------------------------------------------------
def test_the_same_key_earns_once() -> None:
    mall = _malls()[-1]
    shop = _shop(mall, food=False)
    member = _member("13900000209")
    first = _earn(member, shop, 5000, "idem:1")
    counts = (LedgerTransaction.objects.count(), Purchase.objects.count())
    again = _earn(member, shop, 5000, "idem:1")
    assert again.pk == first.pk
    with pytest.raises(IdempotencyKeyReused):
        _earn(member, shop, 6000, "idem:1")
    assert (LedgerTransaction.objects.count(), Purchase.objects.count()) == counts
