"""Demo loyalty data for the demo district: tiers, the points scheme and rules, a campaign,
coupon templates of every kind, an exchange catalogue, printed cards, and a year of purchases
for some shoppers (so tiers, tags, balances and the clearing report have something to show).
Registered as a demo step by PointsConfig.ready()."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.coupons.choices import Channel, CouponKind, Party, Validity
from agora.coupons.services.templates import TemplateSpec, template_create
from agora.coupons.services.wallet import coupon_issue, coupon_redeem
from agora.district.models import Mall, Shop
from agora.members.models import PhysicalCard, Tier
from agora.members.services.membership import brand_program_set, member_ensure
from agora.members.services.tags import tags_refresh
from agora.points.choices import ExchangeKind, Funder
from agora.points.services.earning import campaign_create, points_earn, rule_set
from agora.points.services.exchange import exchange_item_create
from agora.points.services.ledger import scheme_of

DEMO_CARD_PIN = "246810"  # printed on the demo cards; published like the demo password

TIERS = [
    ("classic", "普卡", "Classic", 0, 0, 0, "1.00", 100),
    ("silver", "银卡", "Silver", 1, 300_000, 200_000, "1.20", 300),
    ("gold", "金卡", "Gold", 2, 1_000_000, 800_000, "1.50", 800),
    ("diamond", "钻石卡", "Diamond", 3, 3_000_000, 2_500_000, "2.00", 2000),
]


def _spec(**kw: Any) -> TemplateSpec:
    now = timezone.now()
    base: dict[str, Any] = {
        "description": "",
        "value_fen": 0,
        "percent_off": 0,
        "cap_fen": 0,
        "threshold_fen": 0,
        "gift_name": "",
        "parking_hours": 0,
        "validity": Validity.RELATIVE,
        "valid_from": None,
        "valid_until": None,
        "valid_days": 30,
        "claim_starts": now - timedelta(days=1),
        "claim_ends": now + timedelta(days=60),
        "total_stock": 1000,
        "per_member_total": 1,
        "per_member_daily": 0,
        "channels": [Channel.APP],
        "funder": Party.MALL,
        "restore_on_refund": True,
        "scope_mall_ids": [],
        "scope_shop_ids": [],
        "scope_categories": [],
    }
    base.update(kw)
    return TemplateSpec(**base)


def build_loyalty_demo(
    *, seed: int, config: Any, district_id: int, progress: Callable[[str], None], **_: Any
) -> list[str]:
    rng = random.Random(seed * 7 + 3)
    admin = User.objects.get(username="admin")
    system = Actor(user=admin, is_admin=True)
    for code, name, name_en, rank, min_fen, keep_fen, mult, bday in TIERS:
        Tier.objects.create(
            district_id=district_id,
            code=code,
            name=name,
            name_en=name_en,
            rank=rank,
            min_spend_fen=min_fen,
            keep_spend_fen=keep_fen,
            points_multiplier=Decimal(mult),
            birthday_points=bday,
        )
    scheme_of(district_id=district_id)
    rule_set(
        actor=system,
        district_id=district_id,
        mall_id=None,
        shop_id=None,
        category="",
        name="商圈通用积分 1 分/元",
        points_per_yuan=Decimal("1"),
        funder=Funder.MALL,
        daily_cap=20000,
    )
    malls = list(Mall.objects.filter(district_id=district_id).order_by("id"))
    shops = list(
        Shop.objects.filter(mall__district_id=district_id).select_related("mall").order_by("id")
    )
    now = timezone.now()
    pin_hash = make_password(DEMO_CARD_PIN)  # one hash for every printed demo card
    for index, mall in enumerate(malls, start=1):
        rule_set(
            actor=system,
            district_id=district_id,
            mall_id=mall.pk,
            shop_id=None,
            category="food",
            name=f"{mall.name} 餐饮 2 分/元",
            points_per_yuan=Decimal("2"),
            funder=Funder.MERCHANT,
            daily_cap=5000,
        )
        starbucks = next((s for s in shops if s.mall_id == mall.pk and s.brand == "星巴克"), None)
        if index == 1:
            campaign_create(
                actor=system,
                district_id=district_id,
                mall_id=mall.pk,
                name=f"{mall.name} 周末双倍积分",
                multiplier=Decimal("2"),
                categories=[],
                starts_at=now - timedelta(days=2),
                ends_at=now + timedelta(days=30),
            )
        template_create(
            actor=system,
            district_id=district_id,
            issuer=Party.MALL,
            mall_id=mall.pk,
            shop=None,
            spec=_spec(
                kind=CouponKind.THRESHOLD,
                title=f"{mall.name} 满200减30",
                value_fen=3000,
                threshold_fen=20000,
                total_stock=500,
                per_member_daily=1,
                per_member_total=2,
                channels=[Channel.APP, Channel.PUSH],
            ),
        )
        template_create(
            actor=system,
            district_id=district_id,
            issuer=Party.MALL,
            mall_id=mall.pk,
            shop=None,
            spec=_spec(
                kind=CouponKind.PARKING_HOURS,
                title=f"{mall.name} 免费停车2小时",
                parking_hours=2,
                total_stock=300,
                per_member_total=3,
                channels=[Channel.APP, Channel.POINTS],
            ),
        )
        if starbucks is not None:
            template_create(
                actor=system,
                district_id=district_id,
                issuer=Party.MERCHANT,
                mall_id=mall.pk,
                shop=starbucks,
                spec=_spec(
                    kind=CouponKind.CASH_OFF,
                    title="星巴克 立减5元",
                    value_fen=500,
                    funder=Party.MERCHANT,
                    total_stock=200,
                ),
            )
            brand_program_set(actor=system, district_id=district_id, brand="星巴克", opted_in=True)
        for _card in range(5):
            card_no = "8861" + "".join(rng.choice("0123456789") for _digit in range(11))
            from agora.lib.codes import luhn_digit

            PhysicalCard.objects.create(
                card_no=card_no + luhn_digit(card_no),
                pin_hash=pin_hash,
                mall=mall,
            )
    fashion = template_create(
        actor=system,
        district_id=district_id,
        issuer=Party.MALL,
        mall_id=None,
        shop=None,
        spec=_spec(
            kind=CouponKind.PERCENT_OFF,
            title="商圈服饰 9折（最高减50元）",
            percent_off=10,
            cap_fen=5000,
            scope_categories=["fashion"],
            total_stock=1000,
            per_member_total=3,
            channels=[Channel.APP, Channel.POINTS],
        ),
    )
    template_create(
        actor=system,
        district_id=district_id,
        issuer=Party.MALL,
        mall_id=None,
        shop=None,
        spec=_spec(
            kind=CouponKind.GIFT,
            title="会员礼：帆布袋",
            gift_name="商圈帆布袋",
            value_fen=2500,
            channels=[Channel.PUSH, Channel.CARE],
        ),
    )
    exchange_item_create(
        actor=system,
        district_id=district_id,
        mall_id=None,
        kind=ExchangeKind.COUPON,
        title="服饰9折券",
        description="商圈内服饰店通用",
        points_price=500,
        stock=200,
        per_member_limit=2,
        coupon_template=fashion,
    )
    if malls:
        from agora.coupons.models import CouponTemplate

        parking = CouponTemplate.objects.filter(
            mall=malls[0], kind=CouponKind.PARKING_HOURS
        ).first()
        exchange_item_create(
            actor=system,
            district_id=district_id,
            mall_id=malls[0].pk,
            kind=ExchangeKind.PARKING_HOURS,
            title=f"{malls[0].name} 停车2小时",
            description="出场时自动抵扣",
            points_price=300,
            stock=100,
            per_member_limit=3,
            coupon_template=parking,
        )
        exchange_item_create(
            actor=system,
            district_id=district_id,
            mall_id=malls[0].pk,
            kind=ExchangeKind.GIFT,
            title="定制保温杯",
            description=f"凭兑换码到{malls[0].name}服务台领取",
            points_price=2000,
            stock=50,
            per_member_limit=1,
            coupon_template=None,
        )

    # members: every demo shopper; a year of purchases for some of them
    shoppers = list(User.objects.filter(username__startswith="p1").order_by("id"))
    members = [
        member_ensure(user=u, district_id=district_id, now=now - timedelta(days=400))
        for u in shoppers
    ]
    open_shops = [s for s in shops if s.status == "open"] or shops
    earns = 0
    for i, member in enumerate(members[:60]):
        if i == 0:
            from datetime import date

            member.birthday = date(1990, timezone.localdate().month, 1)
            member.save(update_fields=["birthday"])
        visits = 40 if i == 0 else rng.randrange(0, 14)
        # in time order, as a till would report them (tiers rise with the rolling spend)
        days_ago = sorted((rng.uniform(1, 360) for _visit in range(visits)), reverse=True)
        for v, ago in enumerate(days_ago):
            shop = rng.choice(open_shops)
            at = now - timedelta(days=ago, minutes=v)
            amount = rng.choice([1800, 3500, 6800, 12900, 25800, 49900, 128000])
            points_earn(
                actor=None,
                member=member,
                shop=shop,
                amount_fen=amount,
                reference=f"DEMO-{member.pk}-{v}",
                source="pos",
                key=f"demo:earn:{member.pk}:{v}",
                at=at,
            )
            earns += 1
    if members and malls:
        from agora.coupons.models import CouponTemplate

        first = members[0]
        threshold = CouponTemplate.objects.filter(mall=malls[0], kind=CouponKind.THRESHOLD).first()
        if threshold is not None:
            coupon_issue(template=threshold, member=first, channel=Channel.APP)
            if len(members) > 1:
                used = coupon_issue(template=threshold, member=members[1], channel=Channel.PUSH)
                till = next((s for s in open_shops if s.mall_id == malls[0].pk), None)
                if till is not None:
                    coupon_redeem(
                        actor=system,
                        shop=till,
                        code=used.code,
                        amount_fen=26800,
                        reference="DEMO-R1",
                    )
    tags = tags_refresh(district_id=district_id)
    progress(
        f"loyalty: {len(TIERS)} tiers, {len(members)} members, {earns} purchases with points, "
        f"{tags} computed tags, printed cards (PIN {DEMO_CARD_PIN})"
    )
    return []


def reset_loyalty_demo() -> None:
    """Delete every loyalty row, children before parents (for demo_reset)."""
    from agora.coupons.models import ClaimTally, Coupon, CouponTemplate
    from agora.members.models import (
        BrandMembership,
        BrandProgram,
        CareLog,
        Member,
        MemberCodeUse,
        MemberTag,
        Message,
        Purchase,
        TierChange,
    )
    from agora.points.models import (
        Campaign,
        EarningRule,
        ExchangeItem,
        ExchangeOrder,
        LedgerAccount,
        LedgerEntry,
        LedgerTransaction,
        PointsScheme,
    )

    LedgerTransaction.objects.exclude(reverses=None).update(reverses=None)
    for model in (
        ExchangeOrder,
        ExchangeItem,
        LedgerEntry,
        LedgerTransaction,
        LedgerAccount,
        Campaign,
        EarningRule,
        PointsScheme,
        Coupon,
        ClaimTally,
        CouponTemplate,
        MemberCodeUse,
        TierChange,
        CareLog,
        Message,
        MemberTag,
        BrandMembership,
        BrandProgram,
        Purchase,
        PhysicalCard,
        Member,
        Tier,
    ):
        model._default_manager.all().delete()
