"""Member tags (MEM-2): computed from purchases by a job, plus manual tags set by operators."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import Conflict, NotFound, field_error
from agora.core.services import audit_record
from agora.members.choices import TagKind
from agora.members.models import Member, MemberTag, Purchase

MANUAL_TAG = re.compile(r"^[\w\-\u4e00-\u9fff]{1,30}$")
COMPUTED_PREFIXES = ("rfm:", "fav:", "freq:", "spend:")


def _r_score(days: int) -> int:
    return 3 if days <= 30 else 2 if days <= 90 else 1


def _f_score(count: int) -> int:
    return 3 if count >= 12 else 2 if count >= 4 else 1


def _m_score(fen: int) -> int:
    return 3 if fen >= 1_000_000 else 2 if fen >= 200_000 else 1


def rfm_segment(*, days_since: int, count: int, spend_fen: int) -> str:
    """The RFM segment for a member's last 12 months (scores 1-3 each)."""
    r, f, m = _r_score(days_since), _f_score(count), _m_score(spend_fen)
    if r == 3 and f == 3 and m >= 2:
        return "champion"
    if r >= 2 and f >= 2:
        return "loyal"
    if r == 3 and f == 1:
        return "new"
    if r == 1 and f >= 2:
        return "at_risk"
    if r == 1:
        return "hibernating"
    return "potential"


def spend_level(spend_fen: int) -> str:
    return "high" if spend_fen >= 1_000_000 else "mid" if spend_fen >= 200_000 else "low"


def tags_refresh(*, district_id: int, now: datetime | None = None) -> int:
    """Recompute every member's computed tags from the last 12 months of purchases (a job).
    Manual tags are left alone. Returns the number of computed tags written."""
    when = now or timezone.now()
    year = Purchase.objects.filter(
        member__district_id=district_id,
        reversed_at=None,
        occurred_at__gt=when - timedelta(days=365),
        occurred_at__lte=when,
    )
    totals = {
        row["member_id"]: row
        for row in year.values("member_id").annotate(
            n=Count("id"), spend=Sum("amount_fen"), last=Max("occurred_at")
        )
    }
    by_category: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for row in year.values("member_id", "category").annotate(spend=Sum("amount_fen")):
        by_category[row["member_id"]].append((int(row["spend"]), row["category"]))
    visit_days: dict[int, int] = defaultdict(int)
    recent = year.filter(occurred_at__gt=when - timedelta(days=30))
    days = recent.annotate(day=TruncDate("occurred_at")).values("member_id", "day").distinct()
    for day_row in days:
        visit_days[day_row["member_id"]] += 1

    rows: list[MemberTag] = []
    member_ids = list(Member.objects.filter(district_id=district_id).values_list("id", flat=True))
    for member_id in member_ids:
        total = totals.get(member_id)
        if total is None:
            tags = ["freq:lapsed"]
        else:
            spend = int(total["spend"])
            days = (when - total["last"]).days
            tags = [
                "rfm:" + rfm_segment(days_since=days, count=int(total["n"]), spend_fen=spend),
                "spend:" + spend_level(spend),
            ]
            visits = visit_days.get(member_id, 0)
            tags.append(
                "freq:weekly"
                if visits >= 4
                else "freq:monthly"
                if visits >= 1
                else "freq:occasional"
            )
            for _spend, category in sorted(by_category[member_id], reverse=True)[:2]:
                tags.append("fav:" + category)
        rows += [
            MemberTag(member_id=member_id, tag=t, kind=TagKind.COMPUTED, created_at=when)
            for t in tags
        ]
    with transaction.atomic():
        MemberTag.objects.filter(member_id__in=member_ids, kind=TagKind.COMPUTED).delete()
        MemberTag.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(rows)


def tag_add(*, actor: Actor, member: Member, tag: str) -> MemberTag:
    tag = tag.strip()
    if not MANUAL_TAG.match(tag) or tag.startswith(COMPUTED_PREFIXES):
        raise field_error(
            "tag",
            "1-30 letters, digits, Chinese characters, - or _; rfm:/fav:/freq:/spend: are computed",
            "invalid",
        )
    with transaction.atomic():
        row, created = MemberTag.objects.get_or_create(
            member=member,
            tag=tag,
            defaults={
                "kind": TagKind.MANUAL,
                "created_at": timezone.now(),
                "created_by": actor.user,
            },
        )
        if not created:
            raise Conflict(code="tag_exists", detail="the member already has this tag")
        audit_record(actor=actor, action="member.tag_add", target=member, after={"tag": tag})
    return row


def tag_remove(*, actor: Actor, member: Member, tag: str) -> None:
    with transaction.atomic():
        deleted, _ = MemberTag.objects.filter(member=member, tag=tag, kind=TagKind.MANUAL).delete()
        if not deleted:
            raise NotFound(detail="the member has no such manual tag")
        audit_record(actor=actor, action="member.tag_remove", target=member, before={"tag": tag})
