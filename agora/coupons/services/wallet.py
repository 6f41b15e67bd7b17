"""Claiming, issuing, redeeming, voiding and expiring coupons.

Stock and per-member limits move by conditional UPDATEs whose row counts are checked, inside
one transaction with the new coupon: exactly ``total_stock`` coupons exist however many
members claim at once, and no member holds more than the template allows (PostgreSQL and
SQLite alike). A coupon is redeemed by one conditional UPDATE from active to redeemed, so two
tills scanning it at the same moment give one success."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import Conflict, NotFound, field_error
from agora.core.services import audit_record
from agora.coupons.choices import PARKING_KINDS, Channel, CouponStatus, TemplateStatus, Validity
from agora.coupons.models import ClaimTally, Coupon, CouponTemplate
from agora.coupons.services.templates import discount_for
from agora.lib.codes import normalise_code, random_code
from agora.lib.timeutil import to_local


class ClaimRefused(Conflict):
    pass


def _refuse(code: str, detail: str) -> ClaimRefused:
    return ClaimRefused(code=code, detail=detail)


def _bump_tally(template: CouponTemplate, member: Any, period: str, limit: int) -> bool:
    """Count one more claim for the member in the period, if it stays within ``limit``. The
    conditional UPDATE decides; the row is created by the member's first claim."""
    tally = ClaimTally.objects.filter(template=template, member=member, period=period)
    if tally.filter(count__lt=limit).update(count=F("count") + 1):
        return True
    if tally.exists():
        return False
    try:
        with transaction.atomic():
            ClaimTally.objects.create(template=template, member=member, period=period, count=1)
        return True
    except IntegrityError:  # a concurrent first claim of the same member created it
        return bool(tally.filter(count__lt=limit).update(count=F("count") + 1))


def coupon_issue(
    *, template: CouponTemplate, member: Any, channel: str, now: datetime | None = None
) -> Coupon:
    """Issue one coupon of the template to the member through a channel, within the stock and
    the member's limits. Raises ClaimRefused (409) with a code that says why. Runs in its own
    transaction (or savepoint): a refusal changes nothing."""
    when = now or timezone.now()
    if member.district_id != template.district_id:
        raise NotFound(detail="coupon not found")
    if channel not in template.channels:
        raise _refuse("channel_closed", "this coupon is not given out this way")
    if template.status != TemplateStatus.ACTIVE:
        raise _refuse("not_active", "this coupon is not being given out")
    if when < template.claim_starts:
        raise _refuse("not_started", "this coupon cannot be claimed yet")
    if when >= template.claim_ends:
        raise _refuse("claim_ended", "claiming this coupon has ended")
    if (
        template.validity == Validity.FIXED
        and template.valid_until
        and template.valid_until <= when
    ):
        raise _refuse("expired", "this coupon has expired")
    if template.issued >= template.total_stock:
        # a cheap early answer for the crowd that arrives after a flash sale is over; the
        # conditional UPDATE below is what keeps the count exact
        raise _refuse("sold_out", "all of these coupons have been claimed")
    with transaction.atomic():
        if not _bump_tally(template, member, "total", template.per_member_total):
            raise _refuse("member_limit", f"at most {template.per_member_total} per member")
        if template.per_member_daily and not _bump_tally(
            template, member, to_local(when).date().isoformat(), template.per_member_daily
        ):
            raise _refuse("daily_limit", f"at most {template.per_member_daily} per member a day")
        taken = CouponTemplate.objects.filter(
            pk=template.pk, issued__lt=F("total_stock"), status=TemplateStatus.ACTIVE
        ).update(issued=F("issued") + 1)
        if not taken:
            raise _refuse("sold_out", "all of these coupons have been claimed")
        if template.validity == Validity.FIXED:
            assert template.valid_from is not None and template.valid_until is not None
            valid_from, valid_until = template.valid_from, template.valid_until
        else:
            valid_from, valid_until = when, when + timedelta(days=template.valid_days)
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    return Coupon.objects.create(
                        template=template,
                        member=member,
                        code=random_code(12),
                        channel=channel,
                        claimed_at=when,
                        valid_from=valid_from,
                        valid_until=valid_until,
                    )
            except IntegrityError:  # a code collision (25^12): draw again
                continue
    raise RuntimeError("could not draw a free coupon code")  # pragma: no cover


def coupon_claim(*, member: Any, template: CouponTemplate, now: datetime | None = None) -> Coupon:
    """A member claims a coupon in the app's coupon centre."""
    return coupon_issue(template=template, member=member, channel=Channel.APP, now=now)


@dataclass(frozen=True)
class PushResult:
    issued: int
    refused: dict[str, int]


def coupon_push(*, actor: Actor, template: CouponTemplate, members: list[Any]) -> PushResult:
    """An operator pushes a coupon into members' wallets (each within its limits and stock)."""
    issued, refused = 0, dict[str, int]()
    for member in members:
        try:
            coupon_issue(template=template, member=member, channel=Channel.PUSH)
            issued += 1
        except ClaimRefused as exc:
            refused[exc.code] = refused.get(exc.code, 0) + 1
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="coupon_template.push",
            target=template,
            after={"issued": issued, "refused": refused},
            mall_id=template.mall_id,
            shop_id=template.shop_id,
        )
    return PushResult(issued=issued, refused=refused)


# --- at the till ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Applicability:
    coupon: Coupon
    applies: bool
    reason: str
    discount_fen: int


def shop_in_scope(template: CouponTemplate, shop: Any) -> bool:
    if template.kind in PARKING_KINDS:
        return False
    if shop.mall.district_id != template.district_id:
        return False
    shop_ids = {s.pk for s in template.scope_shops.all()}
    mall_ids = {m.pk for m in template.scope_malls.all()}
    if shop_ids:
        in_scope = shop.pk in shop_ids
    elif mall_ids:
        in_scope = shop.mall_id in mall_ids
    elif template.mall_id:
        in_scope = shop.mall_id == template.mall_id
    else:
        in_scope = True
    if template.scope_categories and shop.category not in template.scope_categories:
        return False
    return in_scope


def applicability(*, coupon: Coupon, shop: Any, amount_fen: int, now: datetime) -> Applicability:
    """Whether the coupon can be used at this shop on this amount, and what it takes off."""
    template = coupon.template

    def no(reason: str) -> Applicability:
        return Applicability(coupon, False, reason, 0)

    if coupon.status != CouponStatus.ACTIVE:
        reasons: dict[str, str] = {
            CouponStatus.REDEEMED: "already used",
            CouponStatus.VOID: "voided",
            CouponStatus.EXPIRED: "expired",
        }
        return no(reasons.get(str(coupon.status), str(coupon.status)))
    if now < coupon.valid_from:
        return no("not valid yet")
    if now >= coupon.valid_until:
        return no("expired")
    if not shop_in_scope(template, shop):
        return no(
            "parking coupons are used at the car park exit"
            if template.kind in PARKING_KINDS
            else "not valid at this shop"
        )
    discount, why = discount_for(template, amount_fen)
    if why:
        return no(why)
    return Applicability(coupon, True, "", discount)


def _coupon_by_code(code: str) -> Coupon:
    text = normalise_code(code)
    if not 6 <= len(text) <= 16 or not text.isalnum():
        raise field_error("code", "not a coupon code", "invalid")
    coupon = (
        Coupon.objects.select_related("template", "member")
        .prefetch_related("template__scope_shops", "template__scope_malls")
        .filter(code=text)
        .first()
    )
    if coupon is None:
        raise NotFound(detail="no coupon with this code")
    return coupon


def coupon_check(
    *, shop: Any, code: str, amount_fen: int, now: datetime | None = None
) -> Applicability:
    if amount_fen < 0:
        raise field_error("amount_fen", "not negative", "range")
    coupon = _coupon_by_code(code)
    if coupon.template.district_id != shop.mall.district_id:
        raise NotFound(detail="no coupon with this code")
    return applicability(coupon=coupon, shop=shop, amount_fen=amount_fen, now=now or timezone.now())


def coupon_redeem(
    *,
    actor: Actor | None,
    shop: Any,
    code: str,
    amount_fen: int,
    reference: str,
    now: datetime | None = None,
) -> Coupon:
    """Use a coupon at a shop's till (offline, MKT-2) or at checkout: exactly once."""
    when = now or timezone.now()
    if not 0 <= amount_fen <= 100_000_000:
        raise field_error("amount_fen", "between 0 and 100000000 fen", "range")
    check = coupon_check(shop=shop, code=code, amount_fen=amount_fen, now=when)
    if not check.applies:
        code_name = {
            "already used": "coupon_used",
            "voided": "coupon_void",
            "expired": "coupon_expired",
        }.get(check.reason, "coupon_not_applicable")
        raise Conflict(code=code_name, detail=f"this coupon cannot be used: {check.reason}")
    coupon = check.coupon
    with transaction.atomic():
        won = Coupon.objects.filter(
            pk=coupon.pk, status=CouponStatus.ACTIVE, valid_until__gt=when
        ).update(
            status=CouponStatus.REDEEMED,
            redeemed_at=when,
            redeemed_shop=shop,
            redeemed_by=actor.user if actor else None,
            order_amount_fen=amount_fen,
            discount_fen=check.discount_fen,
            reference=reference,
        )
        if not won:
            raise Conflict(code="coupon_used", detail="this coupon cannot be used: already used")
        CouponTemplate.objects.filter(pk=coupon.template_id).update(redeemed=F("redeemed") + 1)
    coupon.refresh_from_db()
    return coupon


def coupon_void(*, actor: Actor, coupon: Coupon, reason: str) -> Coupon:
    """Staff voids an unused coupon (fraud, a mistaken push); audited."""
    if len(reason.strip()) < 2:
        raise field_error("reason", "say why the coupon is voided", "required")
    with transaction.atomic():
        done = Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.ACTIVE).update(
            status=CouponStatus.VOID, voided_at=timezone.now(), void_reason=reason.strip()
        )
        if not done:
            raise Conflict(code="coupon_not_active", detail="only an unused coupon can be voided")
        audit_record(
            actor=actor,
            action="coupon.void",
            target=coupon,
            before={"status": coupon.status},
            after={"status": CouponStatus.VOID, "reason": reason.strip()},
            mall_id=coupon.template.mall_id,
            shop_id=coupon.template.shop_id,
        )
    coupon.refresh_from_db()
    return coupon


def coupons_expire(*, now: datetime | None = None) -> int:
    """The scheduled job: mark unused coupons past their date as expired."""
    return Coupon.objects.filter(
        status=CouponStatus.ACTIVE, valid_until__lte=now or timezone.now()
    ).update(status=CouponStatus.EXPIRED)


def coupon_restore(*, coupon: Coupon, reference: str, now: datetime | None = None) -> bool:
    """Give back a coupon redeemed for ``reference`` (an order closed unpaid, or refunded in
    full when its template says so): active again, or expired if its date has passed. Once:
    a second call finds it no longer redeemed for that reference and returns False."""
    when = now or timezone.now()
    with transaction.atomic():
        done = Coupon.objects.filter(
            pk=coupon.pk, status=CouponStatus.REDEEMED, reference=reference
        ).update(
            status=Case(
                When(valid_until__gt=when, then=Value(CouponStatus.ACTIVE)),
                default=Value(CouponStatus.EXPIRED),
            ),
            redeemed_at=None,
            redeemed_shop=None,
            redeemed_by=None,
            order_amount_fen=None,
            discount_fen=None,
            reference="",
        )
        if done:
            CouponTemplate.objects.filter(pk=coupon.template_id, redeemed__gt=0).update(
                redeemed=F("redeemed") - 1
            )
    return bool(done)


def parking_coupons_usable(*, member: Any, mall_id: int, now: datetime) -> list[Coupon]:
    """The member's parking coupons that can be used at a car park of ``mall_id`` now."""
    rows = (
        Coupon.objects.filter(
            member=member,
            status=CouponStatus.ACTIVE,
            template__kind__in=PARKING_KINDS,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .select_related("template")
        .prefetch_related("template__scope_malls")
        .order_by("valid_until", "id")
    )
    out = []
    for coupon in rows:
        template = coupon.template
        mall_ids = {m.pk for m in template.scope_malls.all()}
        if mall_ids and mall_id not in mall_ids:
            continue
        if not mall_ids and template.mall_id and template.mall_id != mall_id:
            continue
        out.append(coupon)
    return out


def parking_coupon_redeem(
    *, member: Any, coupon_id: int, shop: Any, reference: str, now: datetime | None = None
) -> Coupon:
    """Use one of the member's parking coupons on a stay at a car park (whose till is
    ``shop``): exactly once. Another member's coupon answers like a missing one."""
    when = now or timezone.now()
    usable = {
        c.pk: c for c in parking_coupons_usable(member=member, mall_id=shop.mall_id, now=when)
    }
    coupon = usable.get(coupon_id)
    if coupon is None:
        mine = Coupon.objects.filter(pk=coupon_id, member=member).select_related("template").first()
        if mine is None:
            raise field_error("coupon_id", "not a coupon in your wallet", "unknown")
        reason = (
            "not a parking coupon"
            if mine.template.kind not in PARKING_KINDS
            else "not usable here and now (used, expired or for another mall)"
        )
        raise Conflict(code="coupon_not_applicable", detail=f"this coupon cannot be used: {reason}")
    with transaction.atomic():
        won = Coupon.objects.filter(
            pk=coupon.pk, status=CouponStatus.ACTIVE, valid_until__gt=when
        ).update(
            status=CouponStatus.REDEEMED,
            redeemed_at=when,
            redeemed_shop=shop,
            redeemed_by=member.user,
            order_amount_fen=0,
            discount_fen=coupon.template.value_fen,
            reference=reference[:64],
        )
        if not won:
            raise Conflict(code="coupon_used", detail="this coupon cannot be used: already used")
        CouponTemplate.objects.filter(pk=coupon.template_id).update(redeemed=F("redeemed") + 1)
    coupon.refresh_from_db()
    return coupon
