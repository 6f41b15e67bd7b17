"""Earning points on a purchase: one scheme for every merchant of the district (CUST-4).

The most specific active rule sets the rate and who funds the base points; the member's tier
multiplies it; a running campaign adds a bonus funded by its mall; a daily cap per rule bounds
what one member earns in a day. Every purchase is recorded for tiers and tags, and paying at an
opted-in brand enrols the member there too (dual membership)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import NotFound, field_error
from agora.core.services import audit_record, snapshot
from agora.lib.timeutil import to_local
from agora.members.services.purchases import purchase_record
from agora.points.choices import Funder, Movement
from agora.points.models import Campaign, EarningRule, LedgerTransaction
from agora.points.services.ledger import (
    Leg,
    district_pool,
    expiry_date,
    mall_pool,
    merchant_pool,
    post,
    run_once,
    scheme_of,
)

MAX_PURCHASE_FEN = 100_000_000  # ¥1,000,000 in one purchase


# --- rules ----------------------------------------------------------------------------------
def rule_for(*, shop: Any, at: datetime | None = None) -> EarningRule | None:
    """The most specific active rule for a shop: shop, mall+category, mall, district+category,
    district."""
    rules = list(
        EarningRule.objects.filter(district_id=shop.mall.district_id, active=True).filter(
            Q(shop=shop)
            | Q(shop=None, mall_id=shop.mall_id, category__in=["", shop.category])
            | Q(shop=None, mall=None, category__in=["", shop.category])
        )
    )

    def rank(rule: EarningRule) -> int:
        if rule.shop_id:
            return 0
        if rule.mall_id:
            return 1 if rule.category else 2
        return 3 if rule.category else 4

    return min(rules, key=rank) if rules else None


def rule_set(
    *,
    actor: Actor,
    district_id: int,
    mall_id: int | None,
    shop_id: int | None,
    category: str,
    name: str,
    points_per_yuan: Decimal,
    funder: str,
    daily_cap: int | None,
) -> EarningRule:
    """Set the rule of a scope; the scope's previous rule is retired (kept for history)."""
    if points_per_yuan < 0 or points_per_yuan > 100:
        raise field_error("points_per_yuan", "between 0 and 100 points per yuan", "range")
    if daily_cap is not None and daily_cap <= 0:
        raise field_error("daily_cap", "a cap must be positive (leave it empty for none)", "range")
    if shop_id and category:
        raise field_error("category", "a shop rule has no category", "invalid")
    if not name.strip():
        raise field_error("name", "name the rule", "required")
    now = timezone.now()
    with transaction.atomic():
        previous = EarningRule.objects.select_for_update().filter(
            district_id=district_id,
            mall=mall_id,
            shop=shop_id,
            category=category,
            active=True,
        )
        before = [snapshot(r, ["id", "points_per_yuan", "funder", "daily_cap"]) for r in previous]
        previous.update(active=False, updated_at=now)
        rule = EarningRule.objects.create(
            district_id=district_id,
            mall_id=mall_id,
            shop_id=shop_id,
            category=category,
            name=name.strip(),
            points_per_yuan=points_per_yuan,
            funder=funder,
            daily_cap=daily_cap,
            created_at=now,
            updated_at=now,
        )
        audit_record(
            actor=actor,
            action="earning_rule.set",
            target=rule,
            before={"retired": before} if before else None,
            after=snapshot(rule, ["points_per_yuan", "funder", "daily_cap", "category"]),
            mall_id=mall_id,
            shop_id=shop_id,
        )
    return rule


def rule_retire(*, actor: Actor, rule: EarningRule) -> EarningRule:
    with transaction.atomic():
        updated = EarningRule.objects.filter(pk=rule.pk, active=True).update(
            active=False, updated_at=timezone.now()
        )
        if not updated:
            raise NotFound(detail="no such active rule")
        audit_record(actor=actor, action="earning_rule.retire", target=rule, mall_id=rule.mall_id)
    rule.refresh_from_db()
    return rule


def campaign_create(
    *,
    actor: Actor,
    district_id: int,
    mall_id: int | None,
    name: str,
    multiplier: Decimal,
    categories: list[str],
    starts_at: datetime,
    ends_at: datetime,
) -> Campaign:
    if not Decimal("1") < multiplier <= Decimal("10"):
        raise field_error("multiplier", "more than 1 and at most 10", "range")
    if ends_at <= starts_at:
        raise field_error("ends_at", "must be after starts_at", "range")
    if not name.strip():
        raise field_error("name", "name the campaign", "required")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            district_id=district_id,
            mall_id=mall_id,
            name=name.strip(),
            multiplier=multiplier,
            categories=categories,
            starts_at=starts_at,
            ends_at=ends_at,
            created_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="campaign.create",
            target=campaign,
            after=snapshot(campaign, ["name", "multiplier", "starts_at", "ends_at"]),
            mall_id=mall_id,
        )
    return campaign


def campaign_for(*, shop: Any, at: datetime) -> Campaign | None:
    """The best campaign running for a shop at a moment (its mall's, or district-wide)."""
    best = None
    for campaign in Campaign.objects.filter(
        district_id=shop.mall.district_id, starts_at__lte=at, ends_at__gt=at
    ).filter(Q(mall=None) | Q(mall_id=shop.mall_id)):
        if campaign.categories and shop.category not in campaign.categories:
            continue
        if best is None or campaign.multiplier > best.multiplier:
            best = campaign
    return best


# --- earning ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Quote:
    """What a purchase earns before the cap: base points and campaign bonus."""

    rule: EarningRule | None
    campaign: Campaign | None
    base: int
    bonus: int

    @property
    def total(self) -> int:
        return self.base + self.bonus


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def earn_quote(*, member: Any, shop: Any, amount_fen: int, at: datetime) -> Quote:
    rule = rule_for(shop=shop, at=at)
    if rule is None:
        return Quote(None, None, 0, 0)
    base_exact = Decimal(amount_fen) / 100 * rule.points_per_yuan * member.tier.points_multiplier
    campaign = campaign_for(shop=shop, at=at)
    total_exact = base_exact * (campaign.multiplier if campaign else 1)
    base, total = _floor(base_exact), _floor(total_exact)
    return Quote(rule, campaign, base, total - base)


def _earned_today(*, member: Any, rule: EarningRule, at: datetime) -> int:
    local = to_local(at)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(
        LedgerTransaction.objects.filter(
            member=member,
            kind=Movement.EARN,
            rule=rule,
            created_at__gte=start,
            created_at__lt=start + timedelta(days=1),
        ).aggregate(s=Sum("points"))["s"]
        or 0
    )


def points_earn(
    *,
    actor: Actor | None,
    member: Any,
    shop: Any,
    amount_fen: int,
    reference: str,
    source: str,
    key: str,
    at: datetime | None = None,
) -> LedgerTransaction:
    """Record a paid purchase and earn its points, once per idempotency key."""
    if not 0 < amount_fen <= MAX_PURCHASE_FEN:
        raise field_error("amount_fen", f"between 1 and {MAX_PURCHASE_FEN} fen", "range")
    if shop.mall.district_id != member.district_id:
        raise NotFound(detail="shop not found")
    payload = {
        "op": "earn",
        "member": member.pk,
        "shop": shop.pk,
        "fen": amount_fen,
        "ref": reference,
    }

    def body() -> LedgerTransaction:
        when = at or timezone.now()
        from agora.points.services.ledger import lock_member

        account = lock_member(member=member)  # serialises a member's earns: exact daily caps
        quote = earn_quote(member=member, shop=shop, amount_fen=amount_fen, at=when)
        base, bonus = quote.base, quote.bonus
        if quote.rule is not None and quote.rule.daily_cap is not None:
            room = max(
                0, quote.rule.daily_cap - _earned_today(member=member, rule=quote.rule, at=when)
            )
            bonus = min(bonus, max(0, room - base))
            base = min(base, room)
        purchase = purchase_record(
            member=member,
            shop=shop,
            amount_fen=amount_fen,
            reference=reference,
            source=source,
            occurred_at=when,
        )
        district_id = member.district_id
        legs: list[Leg] = []
        if base + bonus:
            expires = expiry_date(
                scheme=scheme_of(district_id=district_id), earned_on=to_local(when).date()
            )
            legs.append(Leg(account, base + bonus, expires))
        if base:
            assert quote.rule is not None
            funder = (
                merchant_pool(district_id=district_id, shop_id=shop.pk)
                if quote.rule.funder == Funder.MERCHANT
                else mall_pool(district_id=district_id, mall_id=shop.mall_id)
            )
            legs.append(Leg(funder, -base))
        if bonus:
            assert quote.campaign is not None
            sponsor = (
                mall_pool(district_id=district_id, mall_id=quote.campaign.mall_id)
                if quote.campaign.mall_id
                else district_pool(district_id=district_id)
            )
            legs.append(Leg(sponsor, -bonus))
        return post(
            kind=Movement.EARN,
            key=key,
            payload=payload,
            member=member,
            legs=legs,
            mall_id=shop.mall_id,
            shop=shop,
            purchase=purchase,
            rule=quote.rule,
            reference=reference,
            actor=actor.user if actor else None,
            created_at=when,
        )

    return run_once(key=key, payload=payload, body=body)
