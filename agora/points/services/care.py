"""Special-date care (MEM-1): a birthday gift once a year (points by tier, into the inbox) and
a message on the membership anniversary. Run daily; the CareLog row makes each once a year
even if the job runs twice or on two machines."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from agora.members.choices import CareKind, MessageKind
from agora.members.models import CareLog, Member
from agora.members.services.inbox import message_notice
from agora.points.choices import Movement
from agora.points.services.ledger import (
    Leg,
    district_pool,
    expiry_date,
    lock_member,
    post,
    scheme_of,
)


def _is_day(born: date, today: date) -> bool:
    if (born.month, born.day) == (today.month, today.day):
        return True
    # 29 February birthdays are celebrated on 28 February in common years
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    return (born.month, born.day) == (2, 29) and not leap and (today.month, today.day) == (2, 28)


def care_for_day(*, district_id: int, today: date | None = None) -> dict[str, int]:
    """Send today's birthday gifts and anniversary messages. Returns counts by kind."""
    day = today or timezone.localdate()
    sent = {CareKind.BIRTHDAY.value: 0, CareKind.ANNIVERSARY.value: 0}
    members = Member.objects.select_related("tier").filter(district_id=district_id)
    for member in members.filter(birthday__month=day.month).exclude(birthday=None):
        assert member.birthday is not None
        if _is_day(member.birthday, day) and _birthday(member, day):
            sent[CareKind.BIRTHDAY] += 1
    for member in members.filter(joined_at__month=day.month):
        joined = timezone.localtime(member.joined_at).date()
        if joined.year < day.year and _is_day(joined, day) and _anniversary(member, day, joined):
            sent[CareKind.ANNIVERSARY] += 1
    return sent


def _claim(member: Member, kind: str, year: int) -> bool:
    try:
        with transaction.atomic():
            CareLog.objects.create(member=member, kind=kind, year=year, created_at=timezone.now())
    except IntegrityError:
        return False
    return True


def _birthday(member: Member, day: date) -> bool:
    with transaction.atomic():
        if not _claim(member, CareKind.BIRTHDAY, day.year):
            return False
        points = member.tier.birthday_points
        if points:
            account = lock_member(member=member)
            scheme = scheme_of(district_id=member.district_id)
            post(
                kind=Movement.ADJUST,
                key=f"birthday:{member.pk}:{day.year}",
                payload={"op": "birthday", "member": member.pk, "year": day.year},
                member=member,
                legs=[
                    Leg(account, points, expiry_date(scheme=scheme, earned_on=day)),
                    Leg(district_pool(district_id=member.district_id), -points),
                ],
                reason="birthday gift",
            )
        body = (
            f"祝您生日快乐！{member.tier.name}会员生日礼：{points} 积分已到账。"
            if points
            else "祝您生日快乐！"
        )
        message_notice(
            member=member, kind=MessageKind.CARE, title="生日快乐 Happy birthday", body=body
        )
    return True


def _anniversary(member: Member, day: date, joined: date) -> bool:
    with transaction.atomic():
        if not _claim(member, CareKind.ANNIVERSARY, day.year):
            return False
        years = day.year - joined.year
        message_notice(
            member=member,
            kind=MessageKind.CARE,
            title="入会纪念日 Membership anniversary",
            body=f"感谢您陪伴我们 {years} 年！Thank you for {years} year(s) with us.",
        )
    return True
