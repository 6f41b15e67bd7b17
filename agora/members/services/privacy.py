"""Personal data of members (PIPL): what export returns and what deletion erases. Points,
coupons and purchases stay as anonymous rows (ledgers and settlements point at them); the
birthday, tags, messages, cards and the member-code key go. The points and coupons modules
register their own sections."""

from __future__ import annotations

import secrets
from typing import Any

from agora.accounts import personal_data
from agora.accounts.models import User
from agora.members.choices import CardStatus
from agora.members.models import (
    BrandMembership,
    Member,
    MemberTag,
    Message,
    PhysicalCard,
    Purchase,
)


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _member_section(user: User) -> dict[str, Any] | None:
    member = Member.objects.select_related("tier").filter(user=user).first()
    if member is None:
        return None
    return {
        "card_no": member.card_no,
        "tier": member.tier.code,
        "tier_since": _iso(member.tier_since),
        "birthday": _iso(member.birthday),
        "joined_at": _iso(member.joined_at),
        "tags": sorted(MemberTag.objects.filter(member=member).values_list("tag", flat=True)),
        "physical_cards": [
            {"card_no": c.card_no, "status": c.status, "linked_at": _iso(c.linked_at)}
            for c in PhysicalCard.objects.filter(member=member).order_by("id")
        ],
        "brands": sorted(
            BrandMembership.objects.filter(member=member).values_list("program__brand", flat=True)
        ),
        "purchases": [
            {
                "shop": p.shop_id,
                "amount_fen": p.amount_fen,
                "reference": p.reference,
                "occurred_at": _iso(p.occurred_at),
                "reversed": p.reversed_at is not None,
            }
            for p in Purchase.objects.filter(member=member).order_by("occurred_at", "id")
        ],
        "messages": [
            {
                "direction": m.direction,
                "kind": m.kind,
                "title": m.title,
                "body": m.body,
                "created_at": _iso(m.created_at),
            }
            for m in Message.objects.filter(member=member).order_by("created_at", "id")
        ],
    }


def _member_erase(user: User) -> None:
    member = Member.objects.filter(user=user).first()
    if member is None:
        return
    MemberTag.objects.filter(member=member).delete()
    Message.objects.filter(member=member).delete()
    PhysicalCard.objects.filter(member=member, status=CardStatus.ACTIVE).update(
        status=CardStatus.LOST
    )
    BrandMembership.objects.filter(member=member).delete()
    Purchase.objects.filter(member=member).update(reference="")
    member.birthday = None
    member.qr_salt = secrets.token_hex(16)  # every member code ever shown stops working
    member.status = "frozen"
    member.save(update_fields=["birthday", "qr_salt", "status"])


def register_personal_data() -> None:
    """Called from MembersConfig.ready()."""
    personal_data.register("membership", exporter=_member_section, eraser=_member_erase)
