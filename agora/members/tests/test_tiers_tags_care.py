"""Tiers, computed tags, special-date care and the daily loyalty jobs, on a district of their
own built by each test (so the demo district's members do not change the counts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from itertools import count

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.coupons.choices import Channel, CouponKind, CouponStatus, Party, Validity
from agora.coupons.models import Coupon
from agora.coupons.services.templates import TemplateSpec, template_create
from agora.coupons.services.wallet import coupon_issue
from agora.district.models import District, Mall, Shop
from agora.members.choices import CareKind, MessageKind, TagKind
from agora.members.models import CareLog, Member, MemberCodeUse, MemberTag, Message, Purchase
from agora.members.services.membership import member_ensure
from agora.members.services.purchases import (
    purchase_record,
    purchase_reverse,
    tier_review,
    tiers_review_all,
)
from agora.members.services.tags import tag_add, tags_refresh
from agora.points.choices import AccountKind, Funder, Movement
from agora.points.demo import TIERS
from agora.points.models import LedgerEntry, LedgerTransaction
from agora.points.selectors import points_balance
from agora.points.services.care import care_for_day
from agora.points.services.earning import points_earn, rule_set

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()
_phones = count(13700000001)


# --- a small district of our own -----------------------------------------------------------
class Town:
    """One district, one mall, a shop per category, the demo's tiers and a 1 point/yuan rule."""

    def __init__(self) -> None:
        from agora.members.models import Tier

        self.district = District.objects.create(name="测试商圈", code="test-town", city="深圳")
        self.mall = Mall.objects.create(
            district=self.district,
            name="测试广场",
            code="test-town-mall",
            latitude=Decimal("22.5"),
            longitude=Decimal("114.0"),
            opens_at=time(10),
            closes_at=time(22),
        )
        self.shops = {
            category: Shop.objects.create(
                mall=self.mall,
                name=f"测试{category}",
                name_pinyin=category,
                name_initials=category[:2],
                category=category,
                opens_at=time(10),
                closes_at=time(22),
            )
            for category in ("food", "fashion", "cinema", "supermarket")
        }
        for code, name, name_en, rank, min_fen, keep_fen, mult, bday in TIERS:
            Tier.objects.create(
                district=self.district,
                code=code,
                name=name,
                name_en=name_en,
                rank=rank,
                min_spend_fen=min_fen,
                keep_spend_fen=keep_fen,
                points_multiplier=Decimal(mult),
                birthday_points=bday,
            )
        self.admin = Actor(user=User.objects.get(username="admin"), is_admin=True)
        rule_set(
            actor=self.admin,
            district_id=self.district.pk,
            mall_id=None,
            shop_id=None,
            category="",
            name="1 分/元",
            points_per_yuan=Decimal("1"),
            funder=Funder.MALL,
            daily_cap=None,
        )

    def member(self, *, joined: datetime | None = None, birthday: date | None = None) -> Member:
        phone = str(next(_phones))
        user = User.objects.create(username=f"p{phone}", phone=phone)
        member = member_ensure(user=user, district_id=self.district.pk, now=joined)
        if birthday is not None:
            member.birthday = birthday
            member.save(update_fields=["birthday"])
        return member

    def buy(self, member: Member, category: str, fen: int, at: datetime) -> Purchase:
        return purchase_record(
            member=member,
            shop=self.shops[category],
            amount_fen=fen,
            reference="",
            source="pos",
            occurred_at=at,
        )

    def earn(self, member: Member, category: str, fen: int, at: datetime) -> LedgerTransaction:
        return points_earn(
            actor=None,
            member=member,
            shop=self.shops[category],
            amount_fen=fen,
            reference="",
            source="pos",
            key=f"town:{member.pk}:{at.isoformat()}:{fen}",
            at=at,
        )


@pytest.fixture
def town() -> Town:
    return Town()


def _at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def _tier(member: Member) -> str:
    member.refresh_from_db()
    return member.tier.code


def _changes(member: Member) -> list[tuple[str | None, str, int, str]]:
    return [
        (c.from_tier.code if c.from_tier else None, c.to_tier.code, c.spend_fen, c.reason)
        for c in member.tier_changes.select_related("from_tier", "to_tier").order_by("id")
    ]


# --- tiers ---------------------------------------------------------------------------------
D0 = date(2025, 1, 15)


def test_rolling_spend_upgrades_at_once(town: Town) -> None:
    member = town.member()
    town.buy(member, "fashion", 200_000, _at(D0))
    assert _tier(member) == "classic"
    town.buy(member, "food", 150_000, _at(D0 + timedelta(days=200)))
    assert _tier(member) == "silver"
    assert member.tier_since == _at(D0 + timedelta(days=200))
    assert _changes(member) == [("classic", "silver", 350_000, "upgrade")]

    # a purchase more than 365 days ago no longer counts
    late = town.member()
    town.buy(late, "fashion", 200_000, _at(D0))
    town.buy(late, "food", 150_000, _at(D0 + timedelta(days=366)))
    assert _tier(late) == "classic" and _changes(late) == []

    # one big purchase jumps straight to the best tier it reaches
    big = town.member()
    town.buy(big, "supermarket", 1_050_000, _at(D0))
    assert _tier(big) == "gold"
    assert _changes(big) == [("classic", "gold", 1_050_000, "upgrade")]


def test_earning_at_a_higher_tier_uses_its_multiplier(town: Town) -> None:
    member = town.member()
    first = town.earn(member, "fashion", 300_000, _at(D0))  # earned at classic, then silver
    second = town.earn(member, "fashion", 10_000, _at(D0, 13))  # silver: 100 x 1.2
    assert (first.points, second.points, _tier(member)) == (3000, 120, "silver")


def test_review_drops_a_tier_kept_a_year_below_its_keep_threshold(town: Town) -> None:
    dropping = town.member()
    keeping = town.member()
    for member, later in ((dropping, 500_000), (keeping, 850_000)):
        town.buy(member, "fashion", 1_000_000, _at(D0))
        town.buy(member, "food", later, _at(D0 + timedelta(days=300)))
        assert _tier(member) == "gold"
    review = _at(D0 + timedelta(days=400))
    # dropping: 500,000 in the last 12 months, below gold's 800,000 -> silver (reaches 300,000)
    tier_review(member=dropping, now=review)
    assert _tier(dropping) == "silver"
    assert _changes(dropping)[-1] == ("gold", "silver", 500_000, "review")
    # keeping: 850,000 is below gold's 1,000,000 to reach it but above the 800,000 to keep it
    tier_review(member=keeping, now=review)
    assert _tier(keeping) == "gold"
    assert len(_changes(keeping)) == 1


def test_review_waits_a_year_after_the_tier_was_reached(town: Town) -> None:
    member = town.member()
    txn = town.earn(member, "fashion", 1_000_000, _at(D0))
    assert _tier(member) == "gold"
    from agora.points.services.ledger import points_reverse

    points_reverse(actor=town.admin, original=txn, reason="refund", key="refund:1")
    assert Purchase.objects.get(member=member).reversed_at is not None
    # no spend at all, but gold was reached less than a year ago: kept
    tier_review(member=member, now=_at(D0 + timedelta(days=364)))
    assert _tier(member) == "gold"
    # the job reviews only members whose tier is over a year old
    assert tiers_review_all(district_id=town.district.pk, now=_at(D0 + timedelta(days=364))) == 0
    assert tiers_review_all(district_id=town.district.pk, now=_at(D0 + timedelta(days=366))) == 1
    assert _tier(member) == "classic"
    assert _changes(member)[-1] == ("gold", "classic", 0, "review")
    # a second run changes nothing
    assert tiers_review_all(district_id=town.district.pk, now=_at(D0 + timedelta(days=366))) == 0


def test_a_kept_tier_is_reviewed_again_only_a_year_later(town: Town) -> None:
    member = town.member()
    town.buy(member, "fashion", 1_000_000, _at(D0))
    town.buy(member, "food", 850_000, _at(D0 + timedelta(days=300)))
    # day 400: 850,000 in the last 12 months keeps gold (keep threshold 800,000)
    assert tiers_review_all(district_id=town.district.pk, now=_at(D0 + timedelta(days=400))) == 0
    assert _tier(member) == "gold"
    # day 700: nothing bought for 400 days, but the tier was kept at day 400: no review yet
    assert tiers_review_all(district_id=town.district.pk, now=_at(D0 + timedelta(days=700))) == 0
    tier_review(member=member, now=_at(D0 + timedelta(days=700)))
    assert _tier(member) == "gold"
    # day 766: a year after the last review, the spend is 0: classic
    assert tiers_review_all(district_id=town.district.pk, now=_at(D0 + timedelta(days=766))) == 1
    assert _tier(member) == "classic"
    assert _changes(member)[-1] == ("gold", "classic", 0, "review")


# --- tags ----------------------------------------------------------------------------------
NOW = _at(date(2026, 6, 30), 20)


def _days_ago(days: int) -> datetime:
    return _at((NOW - timedelta(days=days)).date())


def _tags(member: Member) -> list[str]:
    return sorted(MemberTag.objects.filter(member=member).values_list("tag", flat=True))


def test_tags_from_constructed_purchase_histories(town: Town) -> None:
    champion = town.member()
    for day in range(1, 9):  # 8 visits on 8 days of the last 30
        town.buy(champion, "food", 20_000, _days_ago(day))
    for day in (40, 60, 80, 100):
        town.buy(champion, "fashion", 30_000, _days_ago(day))
    town.buy(champion, "cinema", 5_000, _days_ago(120))

    new = town.member()
    town.buy(new, "cinema", 5_000, _days_ago(10))

    at_risk = town.member()
    for day in (100, 120, 150, 180, 200):
        town.buy(at_risk, "supermarket", 240_000, _days_ago(day))
    refunded = town.buy(at_risk, "cinema", 2_000_000, _days_ago(110))
    purchase_reverse(purchase=refunded, now=_days_ago(109))

    loyal = town.member()
    for day in (40, 45, 50, 60):
        town.buy(loyal, "fashion", 50_000, _days_ago(day))

    hibernating = town.member()
    town.buy(hibernating, "food", 8_000, _days_ago(200))

    potential = town.member()
    town.buy(potential, "fashion", 8_000, _days_ago(60))

    lapsed = town.member()
    town.buy(lapsed, "food", 100_000, _days_ago(400))

    tag_add(actor=town.admin, member=champion, tag="VIP")

    assert tags_refresh(district_id=town.district.pk, now=NOW) == 26
    assert _tags(champion) == [
        "VIP",
        "fav:fashion",
        "fav:food",
        "freq:weekly",
        "rfm:champion",
        "spend:mid",
    ]
    assert _tags(new) == ["fav:cinema", "freq:monthly", "rfm:new", "spend:low"]
    assert _tags(at_risk) == ["fav:supermarket", "freq:occasional", "rfm:at_risk", "spend:high"]
    assert _tags(loyal) == ["fav:fashion", "freq:occasional", "rfm:loyal", "spend:mid"]
    assert _tags(hibernating) == ["fav:food", "freq:occasional", "rfm:hibernating", "spend:low"]
    assert _tags(potential) == ["fav:fashion", "freq:occasional", "rfm:potential", "spend:low"]
    assert _tags(lapsed) == ["freq:lapsed"]
    assert MemberTag.objects.get(member=champion, tag="VIP").kind == TagKind.MANUAL

    # the job recomputes: the same history gives the same tags, a new purchase moves them
    assert tags_refresh(district_id=town.district.pk, now=NOW) == 26
    town.buy(lapsed, "food", 5_000, _days_ago(3))
    assert tags_refresh(district_id=town.district.pk, now=NOW) == 29
    assert _tags(lapsed) == ["fav:food", "freq:monthly", "rfm:new", "spend:low"]
    assert "VIP" in _tags(champion)


# --- care ----------------------------------------------------------------------------------
def _care_messages(member: Member) -> list[tuple[str, str]]:
    return list(
        Message.objects.filter(member=member, kind=MessageKind.CARE)
        .order_by("id")
        .values_list("title", "body")
    )


def test_birthday_points_once_a_year_even_when_run_twice(town: Town) -> None:
    member = town.member(birthday=date(1990, 3, 15))
    gold = town.member(birthday=date(1985, 3, 15))
    town.buy(gold, "fashion", 1_000_000, _at(date(2027, 1, 5)))
    other = town.member(birthday=date(1990, 3, 16))
    day = date(2027, 3, 15)

    assert care_for_day(district_id=town.district.pk, today=day) == {
        "birthday": 2,
        "anniversary": 0,
    }
    assert (points_balance(member=member), points_balance(member=gold)) == (100, 800)
    assert points_balance(member=other) == 0
    txn = LedgerTransaction.objects.get(key=f"birthday:{member.pk}:2027")
    assert (txn.kind, txn.points, txn.reason) == (Movement.ADJUST, 100, "birthday gift")
    assert sorted(
        LedgerEntry.objects.filter(transaction=txn).values_list(
            "account__kind", "amount", "expires_on"
        )
    ) == [
        (AccountKind.DISTRICT_POOL, -100, None),
        (AccountKind.MEMBER, 100, date(2028, 12, 31)),
    ]
    assert _care_messages(member) == [
        ("生日快乐 Happy birthday", "祝您生日快乐！普卡会员生日礼：100 积分已到账。")
    ]
    assert _care_messages(gold) == [
        ("生日快乐 Happy birthday", "祝您生日快乐！金卡会员生日礼：800 积分已到账。")
    ]

    state = (LedgerTransaction.objects.count(), Message.objects.count(), CareLog.objects.count())
    assert care_for_day(district_id=town.district.pk, today=day) == {
        "birthday": 0,
        "anniversary": 0,
    }
    assert (
        LedgerTransaction.objects.count(),
        Message.objects.count(),
        CareLog.objects.count(),
    ) == state
    assert points_balance(member=member) == 100

    # next year, again
    assert care_for_day(district_id=town.district.pk, today=date(2028, 3, 15))["birthday"] == 2
    assert points_balance(member=member) == 200


def test_29_february_birthdays_on_28_february_in_common_years(town: Town) -> None:
    leapling = town.member(birthday=date(2000, 2, 29))
    feb28 = town.member(birthday=date(1999, 2, 28))
    district = town.district.pk
    assert care_for_day(district_id=district, today=date(2027, 2, 28))["birthday"] == 2
    assert care_for_day(district_id=district, today=date(2027, 3, 1))["birthday"] == 0
    assert points_balance(member=leapling) == 100
    # 2028 is a leap year: 28 February is feb28's day only, 29 February the leapling's
    assert care_for_day(district_id=district, today=date(2028, 2, 28))["birthday"] == 1
    assert care_for_day(district_id=district, today=date(2028, 2, 29))["birthday"] == 1
    assert points_balance(member=leapling) == 200
    assert points_balance(member=feb28) == 200
    assert list(
        CareLog.objects.filter(member=leapling).order_by("year").values_list("kind", "year")
    ) == [(CareKind.BIRTHDAY, 2027), (CareKind.BIRTHDAY, 2028)]


def test_membership_anniversary_message(town: Town) -> None:
    member = town.member(joined=_at(date(2025, 6, 10), 9))
    fresh = town.member(joined=_at(date(2027, 6, 10), 9))  # joined this very day: no message
    district = town.district.pk
    assert care_for_day(district_id=district, today=date(2027, 6, 10)) == {
        "birthday": 0,
        "anniversary": 1,
    }
    assert _care_messages(member) == [
        (
            "入会纪念日 Membership anniversary",
            "感谢您陪伴我们 2 年！Thank you for 2 year(s) with us.",
        )
    ]
    assert _care_messages(fresh) == []
    assert care_for_day(district_id=district, today=date(2027, 6, 10))["anniversary"] == 0
    assert len(_care_messages(member)) == 1
    assert points_balance(member=member) == 0  # a message, no points


# --- the daily jobs ------------------------------------------------------------------------
def _template(town: Town) -> TemplateSpec:
    now = timezone.now()
    return TemplateSpec(
        kind=CouponKind.CASH_OFF,
        title="立减10元",
        description="",
        value_fen=1000,
        percent_off=0,
        cap_fen=0,
        threshold_fen=0,
        gift_name="",
        parking_hours=0,
        validity=Validity.RELATIVE,
        valid_from=None,
        valid_until=None,
        valid_days=30,
        claim_starts=now - timedelta(days=60),
        claim_ends=now + timedelta(days=60),
        total_stock=10,
        per_member_total=1,
        per_member_daily=0,
        channels=[Channel.APP],
        funder=Party.MALL,
        restore_on_refund=True,
        scope_mall_ids=[],
        scope_shop_ids=[],
        scope_categories=[],
    )


def _daily_case(town: Town) -> tuple[date, dict[str, Member], list[Coupon]]:
    """Today's work in the town: one birthday, one anniversary, one member whose points have
    expired, one gold member to drop at review, one expired coupon, one stale member code."""
    today = timezone.localdate()
    now = timezone.now()
    start = datetime.combine(today, time.min, tzinfo=TZ)
    members = {
        "birthday": town.member(birthday=date(2000, today.month, today.day)),
        "anniversary": town.member(joined=_at(date(today.year - 4, today.month, today.day), 9)),
        "expiring": town.member(),
        "gold": town.member(),
    }
    town.earn(members["expiring"], "food", 50_000, _at(date(today.year - 2, 6, 1)))
    town.buy(members["gold"], "fashion", 1_000_000, now - timedelta(days=400))
    assert _tier(members["gold"]) == "gold"
    template = template_create(
        actor=town.admin,
        district_id=town.district.pk,
        issuer=Party.MALL,
        mall_id=town.mall.pk,
        shop=None,
        spec=_template(town),
    )
    coupons = [
        coupon_issue(
            template=template,
            member=members["birthday"],
            channel=Channel.APP,
            now=now - timedelta(days=40),
        ),
        coupon_issue(template=template, member=members["gold"], channel=Channel.APP, now=now),
    ]
    window = int(start.astimezone(UTC).timestamp()) // 60
    shop = town.shops["food"]
    MemberCodeUse.objects.create(
        member=members["gold"], window=window - 10, nonce=1, shop=shop, used_at=now
    )
    MemberCodeUse.objects.create(
        member=members["gold"], window=window + 600, nonce=2, shop=shop, used_at=now
    )
    return today, members, coupons


def test_loyalty_daily_runs_every_job_and_prints_counts(town: Town) -> None:
    today, members, coupons = _daily_case(town)
    district = town.district
    out = StringIO()
    call_command(
        "loyalty_daily", "--date", today.isoformat(), "--district", str(district.pk), stdout=out
    )
    assert out.getvalue().splitlines() == [
        f"loyalty_daily for {today.isoformat()}",
        f"district {district.pk} 测试商圈: points expired for 1 members, 1 birthday gifts, "
        "1 anniversary messages, 1 tier changes, 4 computed tags",
        "coupons expired: 1; member codes pruned: 1",
    ]
    assert points_balance(member=members["expiring"]) == 0
    assert points_balance(member=members["birthday"]) == 100
    assert _tier(members["gold"]) == "classic"
    assert [Coupon.objects.get(pk=c.pk).status for c in coupons] == [
        CouponStatus.EXPIRED,
        CouponStatus.ACTIVE,
    ]
    assert MemberCodeUse.objects.filter(member=members["gold"]).count() == 1
    assert len(_care_messages(members["anniversary"])) == 1

    # idempotent: a second run the same day does nothing more (tags are recomputed)
    state = (LedgerTransaction.objects.count(), Message.objects.count())
    again = StringIO()
    call_command(
        "loyalty_daily", "--date", today.isoformat(), "--district", str(district.pk), stdout=again
    )
    assert again.getvalue().splitlines()[1:] == [
        f"district {district.pk} 测试商圈: points expired for 0 members, 0 birthday gifts, "
        "0 anniversary messages, 0 tier changes, 4 computed tags",
        "coupons expired: 0; member codes pruned: 0",
    ]
    assert (LedgerTransaction.objects.count(), Message.objects.count()) == state


def test_loyalty_daily_enqueues_the_jobs(town: Town) -> None:
    day = "2027-01-01"
    before = set(DBTaskResult.objects.values_list("id", flat=True))
    out = StringIO()
    call_command(
        "loyalty_daily", "--enqueue", "--date", day, "--district", str(town.district.pk), stdout=out
    )
    district_id = town.district.pk
    assert out.getvalue().splitlines() == [
        "loyalty_daily for 2027-01-01",
        f"enqueued expire_points({district_id}, '2027-01-01')",
        f"enqueued birthday_care({district_id}, '2027-01-01')",
        f"enqueued review_tiers({district_id}, '2027-01-01')",
        f"enqueued refresh_tags({district_id}, '2027-01-01')",
        "enqueued expire_coupons('2027-01-01')",
        "enqueued prune_member_codes('2027-01-01')",
        "enqueued 6 jobs",
    ]
    rows = list(DBTaskResult.objects.exclude(id__in=before))
    assert sorted((r.task_path, r.args_kwargs["args"]) for r in rows) == sorted(
        [
            ("agora.points.jobs.expire_points", [district_id, day]),
            ("agora.points.jobs.birthday_care", [district_id, day]),
            ("agora.members.jobs.review_tiers", [district_id, day]),
            ("agora.members.jobs.refresh_tags", [district_id, day]),
            ("agora.coupons.jobs.expire_coupons", [day]),
            ("agora.members.jobs.prune_member_codes", [day]),
        ]
    )
    # what the worker does with a row: rebuild the task from its path and call it
    results = {
        r.task.name: r.task.call(*r.args_kwargs["args"], **r.args_kwargs["kwargs"])
        for r in rows
        if r.args_kwargs["args"][0] == district_id
    }
    assert results == {
        "expire_points": 0,
        "birthday_care": {"birthday": 0, "anniversary": 0},
        "review_tiers": 0,
        "refresh_tags": 0,
    }


def test_loyalty_daily_refuses_a_bad_date_or_district() -> None:
    with pytest.raises(CommandError, match="--date must be a date"):
        call_command("loyalty_daily", "--date", "2027-13-01", stdout=StringIO())
    with pytest.raises(CommandError, match="no district 999999"):
        call_command("loyalty_daily", "--district", "999999", stdout=StringIO())
