"""Enrolment, profile, physical cards, dual brand membership."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import Conflict, NotFound, RateLimited, field_error
from agora.core.services import audit_record, snapshot
from agora.lib.codes import card_number, luhn_valid
from agora.members.choices import CardStatus
from agora.members.models import (
    BrandMembership,
    BrandProgram,
    Member,
    PhysicalCard,
    Tier,
)

CARD_PREFIX = "8860"
CARD_PIN_ATTEMPTS = 5


def member_ensure(*, user: object, district_id: int, now: datetime | None = None) -> Member:
    """The user's member account in the district, enrolled at the entry tier on first use."""
    from agora.accounts.models import User

    assert isinstance(user, User)
    existing = Member.objects.select_related("tier").filter(user=user).first()
    if existing is not None:
        return existing
    entry = Tier.objects.filter(district_id=district_id).order_by("rank").first()
    if entry is None:
        raise Conflict(code="no_tiers", detail="the district has no membership tiers yet")
    when = now or timezone.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Member.objects.create(
                    user=user,
                    district_id=district_id,
                    card_no=card_number(CARD_PREFIX),
                    tier=entry,
                    tier_since=when,
                    qr_salt=secrets.token_hex(16),
                    joined_at=when,
                )
        except IntegrityError:
            again = Member.objects.select_related("tier").filter(user=user).first()
            if again is not None:  # a concurrent first visit enrolled them
                return again
    raise RuntimeError("could not draw a free card number")  # pragma: no cover


def member_update(*, member: Member, birthday: date | None) -> Member:
    """A member sets their birthday once; after that only the service desk can change it (it
    drives the yearly birthday gift)."""
    if birthday is not None:
        if member.birthday is not None and member.birthday != birthday:
            raise field_error(
                "birthday",
                "the birthday is already set; ask a service desk to correct it",
                "locked",
            )
        if birthday > timezone.localdate() or birthday.year < 1900:
            raise field_error("birthday", "not a plausible birthday", "range")
        member.birthday = birthday
        member.save(update_fields=["birthday"])
    return member


def member_birthday_correct(*, actor: Actor, member: Member, birthday: date) -> Member:
    """A service desk corrects a member's birthday (audited)."""
    if birthday > timezone.localdate() or birthday.year < 1900:
        raise field_error("birthday", "not a plausible birthday", "range")
    with transaction.atomic():
        before = snapshot(member, ["birthday"])
        member.birthday = birthday
        member.save(update_fields=["birthday"])
        audit_record(
            actor=actor,
            action="member.birthday_correct",
            target=member,
            before=before,
            after=snapshot(member, ["birthday"]),
        )
    return member


def cards_print(*, actor: Actor, mall_id: int, count: int) -> list[tuple[str, str]]:
    """Print a batch of physical cards for a mall: (card number, PIN) pairs, shown once."""
    if not 1 <= count <= 1000:
        raise field_error("count", "print between 1 and 1000 cards at a time", "range")
    out: list[tuple[str, str]] = []
    with transaction.atomic():
        for _ in range(count):
            pin = f"{secrets.randbelow(10**6):06d}"
            card = PhysicalCard.objects.create(
                card_no=card_number("8861"), pin_hash=make_password(pin), mall_id=mall_id
            )
            out.append((card.card_no, pin))
        audit_record(
            actor=actor,
            action="member_card.print",
            target=card,
            after={"count": count},
            mall_id=mall_id,
        )
    return out


def card_link(*, member: Member, card_no: str, pin: str) -> PhysicalCard:
    """Link a printed card to the member with the PIN under its scratch panel. Five wrong PINs
    lock the card (the service desk can help); the count of wrong PINs is the one thing a
    failed attempt changes."""
    card_no = card_no.strip()
    if not luhn_valid(card_no):
        raise field_error("card_no", "not a valid card number (check digit)", "checksum")
    card = PhysicalCard.objects.filter(card_no=card_no).first()
    if card is None:
        raise NotFound(detail="no such card")
    if card.status != CardStatus.UNLINKED:
        raise Conflict(code="card_taken", detail="this card is already linked or blocked")
    if card.failed_attempts >= CARD_PIN_ATTEMPTS:
        raise RateLimited(detail="too many wrong PINs; ask a service desk", extra={})
    if not check_password(pin, card.pin_hash):
        PhysicalCard.objects.filter(pk=card.pk).update(failed_attempts=F("failed_attempts") + 1)
        raise field_error("pin", "wrong PIN", "mismatch")
    updated = PhysicalCard.objects.filter(
        pk=card.pk, status=CardStatus.UNLINKED, failed_attempts__lt=CARD_PIN_ATTEMPTS
    ).update(member=member, status=CardStatus.ACTIVE, linked_at=timezone.now())
    if not updated:
        raise Conflict(code="card_taken", detail="this card is already linked or blocked")
    card.refresh_from_db()
    return card


def card_report_lost(*, member: Member, card: PhysicalCard) -> PhysicalCard:
    """The member reports a card lost: it stops identifying them at once."""
    if card.member_id != member.pk:
        raise NotFound(detail="no such card")
    updated = PhysicalCard.objects.filter(pk=card.pk, status=CardStatus.ACTIVE).update(
        status=CardStatus.LOST
    )
    if not updated:
        raise Conflict(code="card_not_active", detail="this card is not active")
    card.refresh_from_db()
    return card


def brand_program_set(
    *, actor: Actor, district_id: int, brand: str, opted_in: bool
) -> BrandProgram:
    """A brand opts in to (or out of) dual membership."""
    if not brand:
        raise field_error("brand", "the shop has no brand to enrol", "required")
    with transaction.atomic():
        program, _created = BrandProgram.objects.get_or_create(
            district_id=district_id,
            brand=brand,
            defaults={"opted_in": opted_in, "updated_at": timezone.now()},
        )
        before = snapshot(program, ["opted_in"])
        program.opted_in = opted_in
        program.updated_at = timezone.now()
        program.save(update_fields=["opted_in", "updated_at"])
        audit_record(
            actor=actor,
            action="brand_program.set",
            target=program,
            before=before,
            after=snapshot(program, ["opted_in"]),
        )
    return program


def brand_join(*, member: Member, shop: object, now: datetime) -> BrandMembership | None:
    """Paying at a shop of an opted-in brand makes the member a member of the brand too."""
    from agora.district.models import Shop

    assert isinstance(shop, Shop)
    if not shop.brand:
        return None
    program = BrandProgram.objects.filter(
        district_id=member.district_id, brand=shop.brand, opted_in=True
    ).first()
    if program is None:
        return None
    membership, _created = BrandMembership.objects.get_or_create(
        member=member, program=program, defaults={"joined_shop": shop, "joined_at": now}
    )
    return membership
