"""Purchases and tiers: a member's paid purchases drive the rolling 12-month spend; reaching a
tier's threshold upgrades at once, the yearly review downgrades when the spend falls below
the tier's keep threshold."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import field_error
from agora.core.services import audit_record
from agora.members.models import Member, Purchase, Tier, TierChange
from agora.members.services.membership import brand_join

ROLLING = timedelta(days=365)
TIER_HOLD = timedelta(days=365)  # a tier is kept at least this long before a review lowers it


def rolling_spend(*, member: Member, now: datetime) -> int:
    total = Purchase.objects.filter(
        member=member, occurred_at__gt=now - ROLLING, occurred_at__lte=now, reversed_at=None
    ).aggregate(s=Sum("amount_fen"))["s"]
    return int(total or 0)


def purchase_record(
    *,
    member: Member,
    shop: object,
    amount_fen: int,
    reference: str,
    source: str,
    occurred_at: datetime,
) -> Purchase:
    """Record a paid purchase; upgrade the tier and join an opted-in brand. Call inside the
    transaction that earns its points."""
    from agora.district.models import Shop

    assert isinstance(shop, Shop)
    if amount_fen <= 0:
        raise field_error("amount_fen", "must be a positive number of fen", "range")
    purchase = Purchase.objects.create(
        member=member,
        shop=shop,
        mall_id=shop.mall_id,
        category=shop.category,
        amount_fen=amount_fen,
        reference=reference,
        source=source,
        occurred_at=occurred_at,
    )
    tier_upgrade(member=member, now=occurred_at)
    brand_join(member=member, shop=shop, now=occurred_at)
    return purchase


def purchase_reverse(*, purchase: Purchase, now: datetime) -> None:
    """A refunded purchase no longer counts towards spend (tiers fall only at review)."""
    Purchase.objects.filter(pk=purchase.pk, reversed_at=None).update(reversed_at=now)


def _tiers(member: Member) -> list[Tier]:
    return list(Tier.objects.filter(district_id=member.district_id).order_by("rank"))


def tier_upgrade(*, member: Member, now: datetime) -> Member:
    """Move the member up to the best tier their rolling spend reaches (never down)."""
    spend = rolling_spend(member=member, now=now)
    best = member.tier
    for tier in _tiers(member):
        if tier.rank > best.rank and spend >= tier.min_spend_fen:
            best = tier
    if best.pk != member.tier_id:
        _change(member, best, spend, "upgrade", now)
    return member


def _review_due(member: Member, now: datetime) -> bool:
    last = max(member.tier_since, member.tier_reviewed_at or member.tier_since)
    return last <= now - TIER_HOLD


def tier_review(*, member: Member, now: datetime | None = None) -> Member:
    """The yearly review: once a year after reaching (or last keeping) a tier, a member whose
    rolling spend is below the tier's keep threshold drops to the best tier the spend still
    reaches; otherwise the tier is kept for another year."""
    when = now or timezone.now()
    tier_upgrade(member=member, now=when)
    if not _review_due(member, when):
        return member
    spend = rolling_spend(member=member, now=when)
    if spend >= member.tier.keep_spend_fen:
        member.tier_reviewed_at = when
        member.save(update_fields=["tier_reviewed_at"])
        return member
    tiers = _tiers(member)
    target = tiers[0]
    for tier in tiers:
        if tier.rank < member.tier.rank and spend >= tier.min_spend_fen:
            target = tier
    if target.pk != member.tier_id:
        _change(member, target, spend, "review", when)
    return member


def tiers_review_all(*, district_id: int, now: datetime | None = None) -> int:
    """Review every member of the district whose yearly review is due (a daily job)."""
    when = now or timezone.now()
    changed = 0
    due = Q(tier_since__lte=when - TIER_HOLD) & (
        Q(tier_reviewed_at=None) | Q(tier_reviewed_at__lte=when - TIER_HOLD)
    )
    for member in Member.objects.select_related("tier").filter(due, district_id=district_id):
        before = member.tier_id
        tier_review(member=member, now=when)
        changed += member.tier_id != before
    return changed


def tier_set(*, actor: Actor, member: Member, tier: Tier, reason: str) -> Member:
    """Staff sets a tier by hand (a complaint, a VIP), audited."""
    if tier.district_id != member.district_id:
        raise field_error("tier", "no such tier in the member's district", "not_found")
    if not reason.strip():
        raise field_error("reason", "say why", "required")
    before = {"tier": member.tier.code}
    _change(member, tier, rolling_spend(member=member, now=timezone.now()), "staff", timezone.now())
    audit_record(
        actor=actor,
        action="member.tier_set",
        target=member,
        before=before,
        after={"tier": tier.code, "reason": reason},
    )
    return member


def _change(member: Member, tier: Tier, spend: int, reason: str, now: datetime) -> None:
    TierChange.objects.create(
        member=member,
        from_tier=member.tier,
        to_tier=tier,
        spend_fen=spend,
        reason=reason,
        created_at=now,
    )
    member.tier = tier
    member.tier_since = now
    member.tier_reviewed_at = None
    member.save(update_fields=["tier", "tier_since", "tier_reviewed_at"])
