"""The points ledger: every movement is one transaction whose entries sum to zero, posted once
per idempotency key. Balances are sums of entries. A member's account row is locked (SELECT
... FOR UPDATE on PostgreSQL; SQLite's immediate transactions serialise writers) before any
movement that takes points away, so concurrent spends never overdraw it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import Conflict, IdempotencyKeyReused, field_error
from agora.core.services import audit_record
from agora.core.services import body_hash as request_hash
from agora.points.choices import AccountKind, ExpiryRule, Movement
from agora.points.models import LedgerAccount, LedgerEntry, LedgerTransaction, PointsScheme

MAX_POINTS = 10_000_000  # one movement; keeps typos (and overflow) out of the ledger


class InsufficientPoints(Conflict):
    pass


def insufficient(balance: int, wanted: int) -> InsufficientPoints:
    return InsufficientPoints(
        code="insufficient_points",
        detail=f"the member has {balance} points; {wanted} are needed",
        extra={"balance": balance, "needed": wanted},
    )


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount: int
    expires_on: date | None = None


# --- accounts --------------------------------------------------------------------------------
def _account(**lookup: Any) -> LedgerAccount:
    row = LedgerAccount.objects.filter(**lookup).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(**lookup)
    except IntegrityError:
        return LedgerAccount.objects.get(**lookup)


def member_account(*, member: Any) -> LedgerAccount:
    return _account(district_id=member.district_id, kind=AccountKind.MEMBER, member=member)


def mall_pool(*, district_id: int, mall_id: int) -> LedgerAccount:
    return _account(district_id=district_id, kind=AccountKind.MALL_POOL, mall_id=mall_id)


def merchant_pool(*, district_id: int, shop_id: int) -> LedgerAccount:
    return _account(district_id=district_id, kind=AccountKind.MERCHANT_POOL, shop_id=shop_id)


def district_pool(*, district_id: int) -> LedgerAccount:
    return _account(district_id=district_id, kind=AccountKind.DISTRICT_POOL)


def expiry_sink(*, district_id: int) -> LedgerAccount:
    return _account(district_id=district_id, kind=AccountKind.EXPIRY_SINK)


def lock_member(*, member: Any) -> LedgerAccount:
    """Lock the member's account row until the end of the transaction."""
    account = member_account(member=member)
    return LedgerAccount.objects.select_for_update().get(pk=account.pk)


def balance_of(account: LedgerAccount) -> int:
    return int(LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or 0)


# --- the scheme --------------------------------------------------------------------------------
def scheme_of(*, district_id: int) -> PointsScheme:
    scheme, _ = PointsScheme.objects.get_or_create(district_id=district_id)
    return scheme


def expiry_date(*, scheme: PointsScheme, earned_on: date) -> date | None:
    """When points earned on ``earned_on`` expire (they are usable through that day)."""
    if scheme.expiry_rule == ExpiryRule.NEVER:
        return None
    if scheme.expiry_rule == ExpiryRule.END_OF_NEXT_YEAR:
        return date(earned_on.year + 1, 12, 31)
    months = earned_on.month - 1 + scheme.expiry_months
    year, month = earned_on.year + months // 12, months % 12 + 1
    day = min(earned_on.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


# --- posting ------------------------------------------------------------------------------
def replayed(*, key: str, payload: dict[str, Any]) -> LedgerTransaction | None:
    """The transaction already posted under ``key`` (same request), or None. The same key with
    another request is a 409."""
    if not key:
        raise field_error(
            "Idempotency-Key", "every points movement needs an idempotency key", "required"
        )
    if len(key) > 300:
        raise field_error("Idempotency-Key", "must be at most 300 characters", "too_long")
    row = LedgerTransaction.objects.filter(key=key).first()
    if row is None:
        return None
    if row.request_hash != request_hash(payload):
        raise IdempotencyKeyReused(detail="this idempotency key was used for another movement")
    return row


def post(
    *,
    kind: str,
    key: str,
    payload: dict[str, Any],
    member: Any,
    legs: list[Leg],
    **fields: Any,
) -> LedgerTransaction:
    """Write one balanced transaction. Call inside ``transaction.atomic()`` after the checks."""
    if sum(leg.amount for leg in legs) != 0:
        raise AssertionError(f"unbalanced {kind}: {[leg.amount for leg in legs]}")
    now = fields.pop("created_at", None) or timezone.now()
    member_change = sum(leg.amount for leg in legs if leg.account.member_id == member.pk)
    txn = LedgerTransaction.objects.create(
        district_id=member.district_id,
        kind=kind,
        key=key,
        request_hash=request_hash(payload),
        member=member,
        points=member_change,
        created_at=now,
        **fields,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                transaction=txn,
                account=leg.account,
                amount=leg.amount,
                expires_on=leg.expires_on,
                created_at=now,
            )
            for leg in legs
            if leg.amount != 0
        ]
    )
    return txn


def run_once(*, key: str, payload: dict[str, Any], body: Any) -> LedgerTransaction:
    """Run ``body()`` (which posts under ``key``) once: a replay returns the first transaction,
    and a concurrent duplicate that loses the unique-key race returns the winner's."""
    previous = replayed(key=key, payload=payload)
    if previous is not None:
        return previous
    try:
        with transaction.atomic():
            result: LedgerTransaction = body()
            return result
    except IntegrityError:
        previous = replayed(key=key, payload=payload)
        if previous is None:
            raise
        return previous


def _check_points(points: int, field: str = "points") -> None:
    if not 0 < points <= MAX_POINTS:
        raise field_error(field, f"must be between 1 and {MAX_POINTS}", "range")


# --- movements ------------------------------------------------------------------------------
def points_spend(
    *,
    actor: Actor | None,
    member: Any,
    shop: Any,
    points: int,
    reference: str,
    key: str,
) -> LedgerTransaction:
    """The member pays with points at a shop: member -> the shop's pool (the scheme owes the
    shop the points' value at settlement)."""
    _check_points(points)
    payload = {
        "op": "spend",
        "member": member.pk,
        "shop": shop.pk,
        "points": points,
        "ref": reference,
    }

    def body() -> LedgerTransaction:
        account = lock_member(member=member)
        balance = balance_of(account)
        if balance < points:
            raise insufficient(balance, points)
        pool = merchant_pool(district_id=member.district_id, shop_id=shop.pk)
        return post(
            kind=Movement.REDEEM,
            key=key,
            payload=payload,
            member=member,
            legs=[Leg(account, -points), Leg(pool, points)],
            mall_id=shop.mall_id,
            shop=shop,
            reference=reference,
            actor=actor.user if actor else None,
        )

    return run_once(key=key, payload=payload, body=body)


def points_adjust(
    *,
    actor: Actor,
    member: Any,
    points: int,
    reason: str,
    mall_id: int | None,
    key: str,
) -> LedgerTransaction:
    """Staff adds or removes points (a goodwill gesture, a correction), with a reason, against
    the mall's pool (or the district pool), audited."""
    if points == 0 or abs(points) > MAX_POINTS:
        raise field_error(
            "points", f"must be non-zero and at most {MAX_POINTS} either way", "range"
        )
    reason = reason.strip()
    if len(reason) < 2:
        raise field_error("reason", "say why the points are adjusted", "required")
    payload = {
        "op": "adjust",
        "member": member.pk,
        "points": points,
        "reason": reason,
        "mall": mall_id,
    }

    def body() -> LedgerTransaction:
        account = lock_member(member=member)
        balance = balance_of(account)
        if balance + points < 0:
            raise insufficient(balance, -points)
        pool = (
            mall_pool(district_id=member.district_id, mall_id=mall_id)
            if mall_id
            else district_pool(district_id=member.district_id)
        )
        expires = (
            expiry_date(
                scheme=scheme_of(district_id=member.district_id), earned_on=timezone.localdate()
            )
            if points > 0
            else None
        )
        txn = post(
            kind=Movement.ADJUST,
            key=key,
            payload=payload,
            member=member,
            legs=[Leg(account, points, expires), Leg(pool, -points)],
            mall_id=mall_id,
            reason=reason,
            actor=actor.user,
        )
        audit_record(
            actor=actor,
            action="points.adjust",
            target=txn,
            after={
                "member": member.pk,
                "points": points,
                "reason": reason,
                "balance": balance + points,
            },
            mall_id=mall_id,
        )
        return txn

    return run_once(key=key, payload=payload, body=body)


def points_reverse(
    *, actor: Actor | None, original: LedgerTransaction, reason: str, key: str
) -> LedgerTransaction:
    """Undo a transaction with a compensating one (never a delete). A transaction is reversed
    at most once, reversals are not reversed, and a reversal may not overdraw the member."""
    reason = reason.strip()
    if len(reason) < 2:
        raise field_error("reason", "say why the movement is reversed", "required")
    payload = {"op": "reverse", "txn": original.pk, "reason": reason}

    def body() -> LedgerTransaction:
        from agora.members.services.purchases import purchase_reverse

        if original.kind == Movement.REVERSE:
            raise Conflict(code="not_reversible", detail="a reversal cannot be reversed")
        member = original.member
        account = lock_member(member=member)
        if LedgerTransaction.objects.filter(reverses=original).exists():
            raise Conflict(code="already_reversed", detail="this movement was already reversed")
        if LedgerTransaction.objects.filter(corrects=original).exists():
            raise Conflict(
                code="partly_reversed",
                detail="part of this movement was already undone by a refund",
            )
        entries = list(LedgerEntry.objects.filter(transaction=original).select_related("account"))
        change = -sum(e.amount for e in entries if e.account_id == account.pk)
        balance = balance_of(account)
        if balance + change < 0:
            raise insufficient(balance, -change)
        today = timezone.localdate()
        scheme = scheme_of(district_id=member.district_id)
        legs = [
            Leg(
                e.account,
                -e.amount,
                expiry_date(scheme=scheme, earned_on=today)
                if e.account_id == account.pk and e.amount < 0
                else None,
            )
            for e in entries
        ]
        try:
            with transaction.atomic():
                txn = post(
                    kind=Movement.REVERSE,
                    key=key,
                    payload=payload,
                    member=member,
                    legs=legs,
                    mall_id=original.mall_id,
                    shop_id=original.shop_id,
                    reverses=original,
                    reason=reason,
                    reference=original.reference,
                    actor=actor.user if actor else None,
                )
        except IntegrityError:
            if LedgerTransaction.objects.filter(key=key).exists():
                raise
            raise Conflict(
                code="already_reversed", detail="this movement was already reversed"
            ) from None
        if original.purchase is not None:
            purchase_reverse(purchase=original.purchase, now=txn.created_at)
        if actor is not None and actor.user is not None:
            audit_record(
                actor=actor,
                action="points.reverse",
                target=txn,
                after={"reverses": original.pk, "points": txn.points, "reason": reason},
                mall_id=original.mall_id,
                shop_id=original.shop_id,
            )
        return txn

    return run_once(key=key, payload=payload, body=body)


def points_partial_reverse(
    *,
    actor: Actor | None,
    original: LedgerTransaction,
    points: int,
    reason: str,
    key: str,
    allow_shortfall: bool = False,
) -> LedgerTransaction | None:
    """Undo ``points`` of an earn (a clawback) or of a spend (a return), as a refund does in
    proportion. The corrections of one transaction never add up to more than it moved. A
    clawback may find the member has spent the points: with ``allow_shortfall`` it takes what
    is there (the transaction's ``points`` tells how much) instead of refusing. Returns None
    when there is nothing to move."""
    if original.kind not in (Movement.EARN, Movement.REDEEM):
        raise Conflict(code="not_reversible", detail="only an earn or a spend is partly undone")
    if points <= 0:
        raise field_error("points", "must be positive", "range")
    payload = {"op": "partial", "txn": original.pk, "points": points, "reason": reason}

    def body() -> LedgerTransaction | None:
        member = original.member
        account = lock_member(member=member)
        if LedgerTransaction.objects.filter(reverses=original).exists():
            raise Conflict(code="already_reversed", detail="this movement was already reversed")
        done = -int(
            LedgerTransaction.objects.filter(corrects=original).aggregate(s=Sum("points"))["s"] or 0
        )
        moved = abs(original.points)
        # corrections of an earn are negative, of a spend positive
        room = moved - done if original.kind == Movement.EARN else moved + done
        if points > room:
            raise Conflict(
                code="over_reversal",
                detail=f"only {room} points of this movement are left to undo",
                extra={"left": room},
            )
        entries = list(LedgerEntry.objects.filter(transaction=original).select_related("account"))
        others = [e for e in entries if e.account_id != account.pk]
        take = points
        if original.kind == Movement.EARN:
            balance = balance_of(account)
            if balance < points:
                if not allow_shortfall:
                    raise insufficient(balance, points)
                take = balance
            if take == 0:
                return None
            legs = [Leg(account, -take)]
            # the funders get their points back in proportion to what each paid in
            left = take
            for i, entry in enumerate(others):
                share = left if i == len(others) - 1 else (-entry.amount * take) // moved
                legs.append(Leg(entry.account, share))
                left -= share
            kind = Movement.CLAWBACK
        else:
            scheme = scheme_of(district_id=member.district_id)
            expires = expiry_date(scheme=scheme, earned_on=timezone.localdate())
            legs = [Leg(account, take, expires)]
            left = take
            for i, entry in enumerate(others):
                share = left if i == len(others) - 1 else (entry.amount * take) // moved
                legs.append(Leg(entry.account, -share))
                left -= share
            kind = Movement.RETURN
        return post(
            kind=kind,
            key=key,
            payload=payload,
            member=member,
            legs=legs,
            mall_id=original.mall_id,
            shop_id=original.shop_id,
            corrects=original,
            reason=reason[:200],
            reference=original.reference,
            actor=actor.user if actor else None,
        )

    previous = replayed(key=key, payload=payload)
    if previous is not None:
        return previous
    try:
        with transaction.atomic():
            return body()
    except IntegrityError:
        previous = replayed(key=key, payload=payload)
        if previous is None:
            raise
        return previous


def expiring_amount(*, account: LedgerAccount, before: date) -> int:
    """Points of the account that expire before ``before`` and are not yet used, with the
    oldest points used first: credits expiring before the date, minus every debit so far
    (spends, earlier expiries, reversals), never more than the balance."""
    entries = LedgerEntry.objects.filter(account=account)
    credits = (
        entries.filter(amount__gt=0, expires_on__lt=before).aggregate(s=Sum("amount"))["s"] or 0
    )
    debits = -(entries.filter(amount__lt=0).aggregate(s=Sum("amount"))["s"] or 0)
    balance = balance_of(account)
    return max(0, min(balance, int(credits) - int(debits)))


def points_expire(*, member: Any, today: date) -> LedgerTransaction | None:
    """Expire the member's points whose date has passed (idempotent per member and day)."""
    key = f"expire:{member.pk}:{today.isoformat()}"
    payload = {"op": "expire", "member": member.pk, "day": today.isoformat()}
    if replayed(key=key, payload=payload) is not None:
        return None
    with transaction.atomic():
        account = lock_member(member=member)
        amount = expiring_amount(account=account, before=today)
        if amount <= 0:
            return None
        return post(
            kind=Movement.EXPIRE,
            key=key,
            payload=payload,
            member=member,
            legs=[Leg(account, -amount), Leg(expiry_sink(district_id=member.district_id), amount)],
            reason=f"points that expired before {today.isoformat()}",
        )


def points_expire_due(*, district_id: int, today: date | None = None) -> int:
    """The scheduled job: expire every member's points whose date has passed. Returns the
    number of expiry transactions posted."""
    from agora.members.models import Member

    day = today or timezone.localdate()
    accounts = (
        LedgerEntry.objects.filter(
            account__district_id=district_id,
            account__kind=AccountKind.MEMBER,
            amount__gt=0,
            expires_on__lt=day,
        )
        .values_list("account__member_id", flat=True)
        .distinct()
    )
    posted = 0
    for member in Member.objects.filter(pk__in=list(accounts)):
        posted += points_expire(member=member, today=day) is not None
    return posted


def ledger_totals(*, district_id: int) -> tuple[int, int]:
    """(sum of every entry of the district, the lowest member balance): 0 and >= 0 always."""
    total = LedgerEntry.objects.filter(account__district_id=district_id).aggregate(s=Sum("amount"))
    lowest = (
        LedgerEntry.objects.filter(
            account__district_id=district_id, account__kind=AccountKind.MEMBER
        )
        .values("account_id")
        .annotate(b=Sum("amount"))
        .order_by("b")
        .values_list("b", flat=True)
        .first()
    )
    return int(total["s"] or 0), int(lowest if lowest is not None else 0)
