"""The member inbox (MEM-1): two-way messages with a mall's service desk, promotions (only to
members who consented to marketing messages) and special-date care."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.choices import ConsentPurpose
from agora.accounts.selectors import consent_granted
from agora.core.errors import field_error
from agora.core.services import audit_record
from agora.members.choices import MessageDirection, MessageKind
from agora.members.models import Member, MemberTag, Message

MAX_BODY = 2000


def _clean(body: str, title: str = "") -> tuple[str, str]:
    body = body.strip()
    if not body:
        raise field_error("body", "write a message", "required")
    if len(body) > MAX_BODY:
        raise field_error("body", f"at most {MAX_BODY} characters", "too_long")
    if len(title) > 80:
        raise field_error("title", "at most 80 characters", "too_long")
    return body, title.strip()


def message_to_desk(*, member: Member, mall_id: int, body: str) -> Message:
    """The member writes to a mall's service desk."""
    body, _ = _clean(body)
    return Message.objects.create(
        member=member,
        mall_id=mall_id,
        direction=MessageDirection.FROM_MEMBER,
        kind=MessageKind.SERVICE,
        body=body,
        author=member.user,
        created_at=timezone.now(),
    )


def message_reply(*, actor: Actor, member: Member, mall_id: int, body: str) -> Message:
    """The service desk of a mall answers a member (marks the member's messages read)."""
    body, _ = _clean(body)
    now = timezone.now()
    with transaction.atomic():
        Message.objects.filter(
            member=member,
            mall_id=mall_id,
            direction=MessageDirection.FROM_MEMBER,
            read_at=None,
        ).update(read_at=now)
        return Message.objects.create(
            member=member,
            mall_id=mall_id,
            direction=MessageDirection.TO_MEMBER,
            kind=MessageKind.SERVICE,
            body=body,
            author=actor.user,
            created_at=now,
        )


def message_notice(
    *, member: Member, kind: str, title: str, body: str, mall_id: int | None = None
) -> Message:
    """A one-way message to the member (care, notices); not marketing, so no consent needed."""
    body, title = _clean(body, title)
    return Message.objects.create(
        member=member,
        mall_id=mall_id,
        direction=MessageDirection.TO_MEMBER,
        kind=kind,
        title=title,
        body=body,
        created_at=timezone.now(),
    )


def message_mark_read(*, member: Member, message_ids: list[int]) -> int:
    return Message.objects.filter(
        member=member, id__in=message_ids, direction=MessageDirection.TO_MEMBER, read_at=None
    ).update(read_at=timezone.now())


@dataclass(frozen=True)
class PromotionResult:
    sent: int
    skipped_no_consent: int


def promotion_send(
    *, actor: Actor, mall_id: int, title: str, body: str, tag: str = ""
) -> PromotionResult:
    """A promotion message from a mall into the inboxes of the district's members (optionally
    only those with a tag) who consented to marketing messages."""
    body, title = _clean(body, title)
    if not title:
        raise field_error("title", "a promotion needs a title", "required")
    from agora.district.models import Mall

    mall = Mall.objects.get(pk=mall_id)
    members = Member.objects.select_related("user").filter(district_id=mall.district_id)
    if tag:
        members = members.filter(id__in=MemberTag.objects.filter(tag=tag).values("member_id"))
    now = timezone.now()
    rows: list[Message] = []
    skipped = 0
    for member in members:
        if not consent_granted(user=member.user, purpose=ConsentPurpose.MARKETING_MESSAGES):
            skipped += 1
            continue
        rows.append(
            Message(
                member=member,
                mall_id=mall_id,
                direction=MessageDirection.TO_MEMBER,
                kind=MessageKind.PROMOTION,
                title=title,
                body=body,
                author=actor.user,
                created_at=now,
            )
        )
    with transaction.atomic():
        Message.objects.bulk_create(rows, batch_size=500)
        audit_record(
            actor=actor,
            action="promotion.send",
            target=mall,
            after={"title": title, "tag": tag, "sent": len(rows), "skipped": skipped},
            mall_id=mall_id,
        )
    return PromotionResult(sent=len(rows), skipped_no_consent=skipped)
