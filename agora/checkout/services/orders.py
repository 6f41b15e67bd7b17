"""Orders and what pays them before money does: the member, coupons and points (PAY-3).

An order is created open with its lines. Checkout recognises the member (a scanned member code
or ticket, a physical card or a phone number), proposes the best coupons under the stacking
rule and says why each other coupon does not apply, and lets points pay part of it at the
scheme's rate. ``order_apply`` records that choice; ``order_submit`` (in ``payments``) commits
it (coupons redeemed, points spent) and starts the payments for the rest.

Stacking rule: at most one mall-funded and one merchant-funded coupon per order; gift and
parking coupons never discount an order. Each coupon's threshold is checked against the order's
subtotal, and discounts together never exceed it."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.checkout.choices import Channel, OrderStatus
from agora.checkout.models import Order, OrderCoupon, OrderLine
from agora.core.errors import Conflict, FieldError, NotFound, ValidationFailed, field_error
from agora.core.services import body_hash
from agora.coupons.choices import CouponKind, CouponStatus, Party
from agora.coupons.models import Coupon
from agora.coupons.selectors import wallet_usable
from agora.coupons.services.wallet import applicability
from agora.lib.timeutil import to_local
from agora.members.models import Member
from agora.points.models import PointsScheme
from agora.points.services.earning import earn_quote
from agora.points.services.ledger import balance_of, member_account

MAX_LINES = 100
MAX_QUANTITY = 9_999
MAX_UNIT_FEN = 10_000_000  # ¥100,000 per unit
MAX_ORDER_FEN = 100_000_000  # ¥1,000,000 per order
MAX_COUPON_CODES = 10
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U


def new_number(prefix: str, when: datetime, length: int = 8) -> str:
    """``A261121`` + random Crockford characters: unique enough to retry on a clash, short
    enough to read out at a till, and not guessable."""
    stamp = to_local(when).strftime("%y%m%d")
    tail = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return f"{prefix}{stamp}{tail}"


# --- creating --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineSpec:
    name: str
    quantity: int
    unit_price_fen: int
    sku: str = ""


def _line_errors(lines: list[LineSpec]) -> list[FieldError]:
    errors: list[FieldError] = []
    if not lines:
        return [FieldError("lines", "an order needs at least one line", "required")]
    if len(lines) > MAX_LINES:
        return [FieldError("lines", f"at most {MAX_LINES} lines", "too_long")]
    for i, line in enumerate(lines):
        name = line.name.strip()
        if not 1 <= len(name) <= 80:
            errors.append(FieldError(f"lines.{i}.name", "1 to 80 characters", "invalid"))
        if not 1 <= line.quantity <= MAX_QUANTITY:
            errors.append(
                FieldError(f"lines.{i}.quantity", f"between 1 and {MAX_QUANTITY}", "range")
            )
        if not 0 <= line.unit_price_fen <= MAX_UNIT_FEN:
            errors.append(
                FieldError(
                    f"lines.{i}.unit_price_fen", f"between 0 and {MAX_UNIT_FEN} fen", "range"
                )
            )
        if len(line.sku) > 40:
            errors.append(FieldError(f"lines.{i}.sku", "at most 40 characters", "too_long"))
    if not errors:
        total = sum(line.quantity * line.unit_price_fen for line in lines)
        if total <= 0:
            errors.append(FieldError("lines", "the order must cost something", "range"))
        elif total > MAX_ORDER_FEN:
            errors.append(FieldError("lines", f"at most {MAX_ORDER_FEN} fen in all", "range"))
    return errors


def order_create(
    *,
    actor: Actor | None,
    shop: Any,
    lines: list[LineSpec],
    channel: str = Channel.POS,
    member: Member | None = None,
    source: str = "shop",
    note: str = "",
    key: str | None = None,
    now: datetime | None = None,
) -> Order:
    """A new open order at ``shop``. With ``key``, the same request returns the same order."""
    when = now or timezone.now()
    errors = _line_errors(lines)
    if channel not in Channel.values:
        errors.append(FieldError("channel", f"one of {', '.join(Channel.values)}", "invalid"))
    if len(note) > 200:
        errors.append(FieldError("note", "at most 200 characters", "too_long"))
    if errors:
        raise ValidationFailed(errors=errors)
    if member is not None and member.district_id != shop.mall.district_id:
        raise NotFound(detail="member not found")
    payload = {
        "shop": shop.pk,
        "lines": [(ln.name.strip(), ln.quantity, ln.unit_price_fen, ln.sku) for ln in lines],
        "channel": channel,
        "member": member.pk if member else None,
        "source": source,
    }
    if key:
        previous = Order.objects.filter(key=key).first()
        if previous is not None:
            if previous.request_hash != body_hash(payload):
                raise Conflict(code="idempotency_key_reused", detail="key used for another order")
            return previous
    subtotal = sum(ln.quantity * ln.unit_price_fen for ln in lines)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    number=new_number("A", when),
                    district_id=shop.mall.district_id,
                    mall_id=shop.mall_id,
                    shop=shop,
                    member=member,
                    channel=channel,
                    source=source,
                    subtotal_fen=subtotal,
                    payable_fen=subtotal,
                    key=key or None,
                    request_hash=body_hash(payload) if key else "",
                    note=note.strip(),
                    created_by=actor.user if actor else None,
                    created_at=when,
                )
                OrderLine.objects.bulk_create(
                    [
                        OrderLine(
                            order=order,
                            position=i + 1,
                            sku=ln.sku.strip(),
                            name=ln.name.strip(),
                            quantity=ln.quantity,
                            unit_price_fen=ln.unit_price_fen,
                            amount_fen=ln.quantity * ln.unit_price_fen,
                        )
                        for i, ln in enumerate(lines)
                    ]
                )
                return order
        except IntegrityError:
            if key and Order.objects.filter(key=key).exists():
                return order_create(
                    actor=actor,
                    shop=shop,
                    lines=lines,
                    channel=channel,
                    member=member,
                    source=source,
                    note=note,
                    key=key,
                    now=now,
                )
            continue  # a number clash: draw again
    raise Conflict(code="busy", detail="could not number the order, try again")


def order_set_member(*, order: Order, member: Member) -> Order:
    """Recognise the member of an open order (before coupons and points are applied)."""
    if order.status != OrderStatus.OPEN:
        raise Conflict(code="order_not_open", detail="the order is no longer open")
    if member.district_id != order.district_id:
        raise NotFound(detail="member not found")
    if order.member_id not in (None, member.pk) and (order.discount_fen or order.points_used):
        raise Conflict(
            code="member_locked", detail="coupons or points of another member are applied"
        )
    Order.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(member=member)
    order.member = member
    return order


# --- choosing coupons and points --------------------------------------------------------------
@dataclass(frozen=True)
class CouponOption:
    coupon: Coupon
    applies: bool
    discount_fen: int
    reason: str  # why it is not used ("" when chosen)
    chosen: bool


@dataclass(frozen=True)
class Quote:
    subtotal_fen: int
    options: list[CouponOption]
    discount_fen: int
    points_balance: int
    points_per_yuan: int
    points_max: int
    points_used: int
    points_fen: int
    payable_fen: int
    points_to_earn: int

    @property
    def chosen(self) -> list[Coupon]:
        return [o.coupon for o in self.options if o.chosen]


def _party(coupon: Coupon) -> str:
    return str(coupon.template.funder)


def best_combination(
    subtotal_fen: int, usable: list[tuple[Coupon, int]]
) -> tuple[list[Coupon], int]:
    """The coupons (at most one mall-funded and one merchant-funded) that take the most off;
    ties go to fewer coupons, then to the ones expiring first (use them before they lapse)."""
    mall = [(c, d) for c, d in usable if _party(c) == Party.MALL]
    merchant = [(c, d) for c, d in usable if _party(c) == Party.MERCHANT]
    best: tuple[Any, ...] | None = None
    best_pick: list[Coupon] = []
    for m in [None, *mall]:
        for s in [None, *merchant]:
            picked = [x for x in (m, s) if x is not None]
            total = min(subtotal_fen, sum(d for _, d in picked))
            rank = (
                -total,
                len(picked),
                sorted(c.valid_until for c, _ in picked),
                sorted(c.pk for c, _ in picked),
            )
            if best is None or rank < best:
                best, best_pick = rank, [c for c, _ in picked]
    return best_pick, (-best[0] if best else 0)


def _coupons_by_code(order: Order, codes: list[str]) -> list[Coupon]:
    from agora.coupons.services.wallet import _coupon_by_code  # the one code parser

    found: list[Coupon] = []
    for i, code in enumerate(codes):
        try:
            coupon = _coupon_by_code(code)
        except ValidationFailed:
            raise field_error(f"coupon_codes.{i}", "not a coupon code", "invalid") from None
        except NotFound:
            raise field_error(
                f"coupon_codes.{i}", "no coupon with this code", "not_found"
            ) from None
        if coupon.template.district_id != order.district_id:
            raise field_error(f"coupon_codes.{i}", "no coupon with this code", "not_found")
        if coupon.member_id and order.member_id and coupon.member_id != order.member_id:
            raise field_error(f"coupon_codes.{i}", "this coupon belongs to another member")
        found.append(coupon)
    return found


def scheme_for(district_id: int) -> PointsScheme:
    scheme, _ = PointsScheme.objects.get_or_create(district_id=district_id)
    return scheme


def points_fen_of(points: int, per_yuan: int) -> int:
    return points * 100 // per_yuan


def checkout_quote(
    *,
    order: Order,
    coupon_codes: list[str] | None = None,
    auto: bool = True,
    coupon_ids: list[int] | None = None,
    points: int = 0,
    now: datetime | None = None,
) -> Quote:
    """What the order would cost: the best coupons (from the member's wallet when ``auto``,
    plus scanned ``coupon_codes``), or exactly ``coupon_ids`` when given, and ``points``."""
    when = now or timezone.now()
    codes = [c for c in (coupon_codes or []) if c.strip()]
    if len(codes) > MAX_COUPON_CODES:
        raise field_error("coupon_codes", f"at most {MAX_COUPON_CODES} codes", "too_long")
    if points < 0:
        raise field_error("points", "not negative", "range")
    shop = order.shop
    candidates: dict[int, Coupon] = {}
    if order.member is not None and (auto or coupon_ids):
        for c in wallet_usable(member=order.member, now=when).select_related("template"):
            candidates[c.pk] = c
    for c in _coupons_by_code(order, codes):
        candidates[c.pk] = c
    subtotal = order.subtotal_fen
    checked: list[tuple[Coupon, bool, int, str]] = []
    for c in candidates.values():
        if c.template.kind == CouponKind.GIFT:
            checked.append((c, False, 0, "a gift coupon is handed over, not taken off the bill"))
            continue
        verdict = applicability(coupon=c, shop=shop, amount_fen=subtotal, now=when)
        reason = verdict.reason
        if not verdict.applies and c.status == CouponStatus.REDEEMED and c.reference:
            reason = "already used"
        checked.append((c, verdict.applies, verdict.discount_fen, reason))
    usable = [(c, d) for c, ok, d, _ in checked if ok and d > 0]
    if coupon_ids is not None:
        wanted = set(coupon_ids)
        unknown = wanted - set(candidates)
        if unknown:
            raise field_error("coupon_ids", f"not usable here: {sorted(unknown)}", "invalid")
        chosen = [c for c, _ in usable if c.pk in wanted]
        if len(chosen) != len(wanted):
            raise field_error("coupon_ids", "a chosen coupon does not apply to this order")
        parties = [_party(c) for c in chosen]
        if len(parties) != len(set(parties)):
            raise field_error(
                "coupon_ids", "at most one mall coupon and one shop coupon per order", "stacking"
            )
        discount = min(subtotal, sum(d for c, d in usable if c.pk in wanted))
    else:
        chosen, discount = best_combination(subtotal, usable)
    chosen_ids = {c.pk for c in chosen}
    by_party = {_party(c): c for c in chosen}
    options: list[CouponOption] = []
    for c, ok, d, reason in checked:
        if c.pk in chosen_ids:
            options.append(CouponOption(c, True, d, "", True))
            continue
        if ok and d > 0:
            rival = by_party.get(_party(c))
            if rival is not None:
                who = "mall" if _party(c) == Party.MALL else "shop"
                reason = f"one {who} coupon per order: {rival.template.title} is used"
            else:
                reason = "the order is already fully discounted"
        options.append(CouponOption(c, ok, d, reason or "does not apply", False))
    options.sort(key=lambda o: (not o.chosen, not o.applies, -o.discount_fen, o.coupon.pk))
    scheme = scheme_for(order.district_id)
    per_yuan = scheme.redeem_points_per_yuan
    balance = balance_of(member_account(member=order.member)) if order.member else 0
    after_coupons = subtotal - discount
    step = per_yuan // math.gcd(per_yuan, 100)  # points that make a whole fen
    points_max = min(balance, after_coupons * per_yuan // 100) // step * step
    if points:
        if order.member is None:
            raise field_error("points", "points need a member: scan the member code first")
        if points % step:
            raise field_error("points", f"must be a multiple of {step}", "step")
        if points > balance:
            raise Conflict(
                code="insufficient_points",
                detail=f"the member has {balance} points",
                extra={"balance": balance, "wanted": points},
            )
        if points > points_max:
            raise field_error("points", f"at most {points_max} points can pay this order", "range")
    points_fen = points_fen_of(points, per_yuan)
    payable = after_coupons - points_fen
    to_earn = 0
    if order.member is not None and payable > 0:
        to_earn = earn_quote(member=order.member, shop=shop, amount_fen=payable, at=when).total
    return Quote(
        subtotal_fen=subtotal,
        options=options,
        discount_fen=discount,
        points_balance=balance,
        points_per_yuan=per_yuan,
        points_max=points_max,
        points_used=points,
        points_fen=points_fen,
        payable_fen=payable,
        points_to_earn=to_earn,
    )


def order_apply(
    *,
    order: Order,
    coupon_codes: list[str] | None = None,
    auto: bool = True,
    coupon_ids: list[int] | None = None,
    points: int = 0,
    now: datetime | None = None,
) -> Quote:
    """Record the coupons and points of an open order (replacing an earlier choice)."""
    if order.status != OrderStatus.OPEN:
        raise Conflict(code="order_not_open", detail="the order is no longer open")
    quote = checkout_quote(
        order=order,
        coupon_codes=coupon_codes,
        auto=auto,
        coupon_ids=coupon_ids,
        points=points,
        now=now,
    )
    with transaction.atomic():
        updated = Order.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
            discount_fen=quote.discount_fen,
            points_used=quote.points_used,
            points_fen=quote.points_fen,
            payable_fen=quote.payable_fen,
        )
        if not updated:
            raise Conflict(code="order_not_open", detail="the order is no longer open")
        OrderCoupon.objects.filter(order=order).delete()
        OrderCoupon.objects.bulk_create(
            [
                OrderCoupon(
                    order=order,
                    coupon=o.coupon,
                    title=o.coupon.template.title,
                    funder=o.coupon.template.funder,
                    funder_mall_id=o.coupon.template.mall_id
                    if o.coupon.template.funder == Party.MALL
                    else None,
                    funder_shop_id=o.coupon.template.shop_id
                    if o.coupon.template.funder == Party.MERCHANT
                    else None,
                    discount_fen=o.discount_fen,
                )
                for o in quote.options
                if o.chosen
            ]
        )
    _allocate_discount(order, quote)
    order.refresh_from_db()
    return quote


def _allocate_discount(order: Order, quote: Quote) -> None:
    """Trim the chosen coupons' discounts so they add up to the order's discount (when two
    coupons together exceed the subtotal, the merchant's coupon is trimmed first)."""
    rows = list(OrderCoupon.objects.filter(order=order).order_by("-funder", "id"))
    excess = sum(r.discount_fen for r in rows) - quote.discount_fen
    for row in rows:  # "merchant" sorts after "mall": reversed, merchant first
        if excess <= 0:
            break
        cut = min(excess, row.discount_fen)
        row.discount_fen -= cut
        excess -= cut
        row.save(update_fields=["discount_fen"])


def member_by_phone(*, district_id: int, phone: str) -> Member:
    """The member with this mobile number (the shopper says it at the till)."""
    digits = phone.strip().replace(" ", "").removeprefix("+86")
    if not (digits.isascii() and digits.isdigit() and len(digits) == 11 and digits[0] == "1"):
        raise field_error("phone", "an 11-digit mainland mobile number", "invalid")
    member = (
        Member.objects.select_related("user", "tier")
        .filter(district_id=district_id, user__phone=digits)
        .first()
    )
    if member is None:
        raise NotFound(detail="no member with this phone number")
    return member


def order_by_number(*, number: str) -> Order:
    order = Order.objects.select_related("shop__mall").filter(number=number.strip()[:20]).first()
    if order is None:
        raise NotFound(detail="order not found")
    return order
