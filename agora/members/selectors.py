"""Reads of members: the shopper's own account, operator search, inbox, tier progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.core.errors import NotFound
from agora.district.selectors import district_ids_operated
from agora.members.choices import MessageDirection
from agora.members.models import (
    BrandMembership,
    Member,
    MemberTag,
    Message,
    PhysicalCard,
    Tier,
    TierChange,
)
from agora.members.services.purchases import rolling_spend


def member_of_user(*, user: User) -> Member | None:
    return Member.objects.select_related("tier", "user").filter(user=user).first()


def members_visible(*, actor: Actor) -> QuerySet[Member]:
    """Members an operator may look up: those of districts where the actor operates a mall."""
    qs = Member.objects.select_related("tier", "user")
    if actor.is_admin:
        return qs
    district_ids = district_ids_operated(actor=actor)
    return qs.filter(district_id__in=district_ids)


def access_member(*, actor: Actor, member_id: int) -> Member:
    member = members_visible(actor=actor).filter(pk=member_id).first()
    if member is None:
        raise NotFound(detail="member not found")
    return member


def members_search(*, actor: Actor, q: str = "", tag: str = "") -> QuerySet[Member]:
    """Search by phone (full or last 4 digits), card number (e-card or physical) or tag."""
    qs = members_visible(actor=actor)
    q = q.strip()
    if q:
        if q.isdigit() and len(q) == 16:
            linked = PhysicalCard.objects.filter(card_no=q).values("member_id")
            qs = qs.filter(Q(card_no=q) | Q(id__in=linked))
        elif q.isdigit() and len(q) == 11:
            qs = qs.filter(user__phone=q)
        elif q.isdigit() and len(q) == 4:
            qs = qs.filter(user__phone__endswith=q)
        else:
            qs = qs.filter(Q(user__display_name__icontains=q) | Q(tags__tag=q)).distinct()
    if tag:
        qs = qs.filter(id__in=MemberTag.objects.filter(tag=tag).values("member_id"))
    return qs.order_by("id")


def mask_phone(phone: str | None) -> str:
    if not phone or len(phone) < 7:
        return ""
    return phone[:3] + "****" + phone[-4:]


@dataclass(frozen=True)
class TierProgress:
    tier: Tier
    next_tier: Tier | None
    spend_fen: int
    to_next_fen: int  # 0 at the top tier
    percent: int  # 0-100 towards the next tier
    keep_spend_fen: int


def tier_progress(*, member: Member, now: datetime | None = None) -> TierProgress:
    spend = rolling_spend(member=member, now=now or timezone.now())
    tiers = list(Tier.objects.filter(district_id=member.district_id).order_by("rank"))
    higher = [t for t in tiers if t.rank > member.tier.rank]
    nxt = higher[0] if higher else None
    if nxt is None:
        return TierProgress(member.tier, None, spend, 0, 100, member.tier.keep_spend_fen)
    to_next = max(0, nxt.min_spend_fen - spend)
    percent = min(100, spend * 100 // nxt.min_spend_fen) if nxt.min_spend_fen else 100
    return TierProgress(member.tier, nxt, spend, to_next, percent, member.tier.keep_spend_fen)


def tiers_of(*, district_id: int) -> QuerySet[Tier]:
    return Tier.objects.filter(district_id=district_id).order_by("rank")


def tier_history(*, member: Member) -> QuerySet[TierChange]:
    return TierChange.objects.filter(member=member).select_related("from_tier", "to_tier")


def cards_of(*, member: Member) -> QuerySet[PhysicalCard]:
    return PhysicalCard.objects.filter(member=member).order_by("id")


def access_card(*, member: Member, card_id: int) -> PhysicalCard:
    card = cards_of(member=member).filter(pk=card_id).first()
    if card is None:
        raise NotFound(detail="card not found")
    return card


def brands_of(*, member: Member) -> QuerySet[BrandMembership]:
    return BrandMembership.objects.filter(member=member).select_related("program")


def tags_of(*, member: Member) -> list[str]:
    return list(
        MemberTag.objects.filter(member=member).order_by("tag").values_list("tag", flat=True)
    )


def inbox_of(*, member: Member) -> QuerySet[Message]:
    return Message.objects.filter(member=member).select_related("mall")


def unread_count(*, member: Member) -> int:
    return Message.objects.filter(
        member=member, direction=MessageDirection.TO_MEMBER, read_at=None
    ).count()


def desk_messages(*, mall_id: int) -> QuerySet[Message]:
    """A mall's service desk: the conversations with members (newest first)."""
    return Message.objects.filter(mall_id=mall_id, kind="service").select_related("member__user")
