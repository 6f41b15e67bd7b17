"""The dynamic member code behind the card's QR: signed, rotating every 60 s, accepted for one
more minute (a phone's clock and a slow scan), and only once. A till that scanned it gets a
short-lived ticket for this member at this shop, which earn and spend calls then carry."""

from __future__ import annotations

import hashlib
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from agora.core.errors import Conflict, field_error
from agora.lib.codes import b32, luhn_valid, mac, normalise_code, unb32
from agora.members.choices import CardStatus, MemberStatus
from agora.members.models import Member, MemberCodeUse, PhysicalCard

WINDOW_SECONDS = 60
PREFIX = "AGM"
_LAYOUT = struct.Struct(">IIII")  # member id, window, nonce, spare (0)
TICKET_SALT = "agora.members.ticket"
TICKET_MAX_AGE = 15 * 60


def _key(member: Member) -> bytes:
    return hashlib.sha256(f"{settings.SECRET_KEY}|member-code|{member.qr_salt}".encode()).digest()


def _window(now: datetime) -> int:
    return int(now.timestamp()) // WINDOW_SECONDS


@dataclass(frozen=True)
class MemberCode:
    code: str
    expires_at: datetime  # when the app shows the next one


def member_code_issue(*, member: Member, now: datetime | None = None) -> MemberCode:
    """A fresh code for the member's card QR, valid in the current 60-second window."""
    when = now or timezone.now()
    window = _window(when)
    body = _LAYOUT.pack(member.pk, window, secrets.randbits(32), 0)
    code = PREFIX + b32(body + mac(_key(member), body, 8))
    expires = datetime.fromtimestamp((window + 1) * WINDOW_SECONDS, tz=UTC)
    return MemberCode(code=code, expires_at=expires)


def _not_a_code() -> Exception:
    return field_error("code", "not a member code or card number", "invalid")


def member_code_resolve(*, code: str, shop_id: int, now: datetime | None = None) -> Member:
    """The member behind a scanned or typed code: a dynamic QR code (used up by this scan) or a
    linked physical card number. Expired, replayed or forged codes are refused."""
    when = now or timezone.now()
    text = normalise_code(code)
    if text.isdigit():
        if not luhn_valid(text):
            raise _not_a_code()
        card = (
            PhysicalCard.objects.select_related("member__tier")
            .filter(card_no=text, status=CardStatus.ACTIVE)
            .first()
        )
        if card is None or card.member is None:
            raise Conflict(code="card_not_linked", detail="this card is not linked to a member")
        return _usable(card.member)
    if not text.startswith(PREFIX):
        raise _not_a_code()
    try:
        raw = unb32(text[len(PREFIX) :])
    except ValueError:
        raise _not_a_code() from None
    if len(raw) != _LAYOUT.size + 8:
        raise _not_a_code()
    body, signature = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    member_id, window, nonce, _spare = _LAYOUT.unpack(body)
    member = Member.objects.select_related("tier").filter(pk=member_id).first()
    if member is None or not secrets.compare_digest(mac(_key(member), body, 8), signature):
        raise _not_a_code()
    current = _window(when)
    if window > current + 1:
        raise _not_a_code()
    if window < current - 1:
        raise Conflict(
            code="member_code_expired",
            detail="this member code has expired; ask the shopper to refresh the card",
        )
    try:
        with transaction.atomic():
            MemberCodeUse.objects.create(
                member=member, window=window, nonce=nonce, shop_id=shop_id, used_at=when
            )
    except IntegrityError:
        raise Conflict(
            code="member_code_used", detail="this member code was already scanned"
        ) from None
    return _usable(member)


def _usable(member: Member) -> Member:
    if member.status != MemberStatus.ACTIVE:
        raise Conflict(code="member_frozen", detail="this membership is frozen")
    return member


def member_ticket_make(*, member: Member, shop_id: int) -> str:
    """A ticket for this member at this till, valid 15 minutes (earn, spend points)."""
    return signing.dumps({"m": member.pk, "s": shop_id}, salt=TICKET_SALT, compress=True)


def member_from_ticket(*, ticket: str, shop_id: int) -> Member:
    try:
        data = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
    except signing.SignatureExpired:
        raise field_error(
            "member_ticket", "the member ticket has expired; scan the member again", "expired"
        ) from None
    except signing.BadSignature:
        raise field_error("member_ticket", "not a member ticket", "invalid") from None
    if not isinstance(data, dict) or data.get("s") != shop_id:
        raise field_error("member_ticket", "this ticket was made for another shop", "invalid")
    member_id = data.get("m")
    member = (
        Member.objects.select_related("tier").filter(pk=member_id).first()
        if isinstance(member_id, int)
        else None
    )
    if member is None:
        raise field_error("member_ticket", "not a member ticket", "invalid")
    return _usable(member)


def member_id_in_ticket(ticket: str) -> int | None:
    """The member a genuine ticket names, whatever its age (for idempotency: a till that
    re-scans the member and retries with the same key makes the same request)."""
    try:
        data = signing.loads(ticket, salt=TICKET_SALT)
    except signing.BadSignature:
        return None
    member_id = data.get("m") if isinstance(data, dict) else None
    return member_id if isinstance(member_id, int) else None


def member_codes_prune(*, now: datetime | None = None) -> int:
    """Forget used codes older than their acceptance window (a job); they can't come back."""
    current = _window(now or timezone.now())
    deleted, _ = MemberCodeUse.objects.filter(window__lt=current - 2).delete()
    return deleted
