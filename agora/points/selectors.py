"""Reads of points: balances, history, expiring points, rules, the exchange catalogue and the
funding settlement between pools (EXP-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import NotFound
from agora.district.selectors import district_ids_operated
from agora.points.choices import AccountKind
from agora.points.models import (
    Campaign,
    EarningRule,
    ExchangeItem,
    ExchangeOrder,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)
from agora.points.services.ledger import scheme_of


def points_balance(*, member: Any) -> int:
    total = LedgerEntry.objects.filter(
        account__member=member, account__kind=AccountKind.MEMBER
    ).aggregate(s=Sum("amount"))["s"]
    return int(total or 0)


@dataclass(frozen=True)
class Expiring:
    on: date
    points: int


def points_expiring(*, member: Any, limit: int = 3) -> list[Expiring]:
    """The next dates on which some of the member's points expire, oldest first (FIFO)."""
    entries = LedgerEntry.objects.filter(account__member=member, account__kind=AccountKind.MEMBER)
    debits = -int(entries.filter(amount__lt=0).aggregate(s=Sum("amount"))["s"] or 0)
    today = timezone.localdate()
    out: list[Expiring] = []
    used = debits
    for row in (
        entries.filter(amount__gt=0)
        .exclude(expires_on=None)
        .values("expires_on")
        .annotate(s=Sum("amount"))
        .order_by("expires_on")
    ):
        credit = int(row["s"])
        take = min(credit, used)
        used -= take
        left = credit - take
        on = row["expires_on"]
        if left > 0 and on is not None and on >= today:
            out.append(Expiring(on, left))
            if len(out) >= limit:
                break
    return out


def points_history(*, member: Any) -> QuerySet[LedgerTransaction]:
    return LedgerTransaction.objects.filter(member=member).select_related("shop", "mall")


def transactions_visible(*, actor: Actor) -> QuerySet[LedgerTransaction]:
    qs = LedgerTransaction.objects.select_related("member", "shop", "mall")
    if actor.is_admin:
        return qs
    districts = district_ids_operated(actor=actor)
    return qs.filter(district_id__in=districts)


def access_transaction(*, actor: Actor, transaction_id: int) -> LedgerTransaction:
    txn = transactions_visible(actor=actor).filter(pk=transaction_id).first()
    if txn is None:
        raise NotFound(detail="transaction not found")
    return txn


def rules_of(
    *, district_id: int, mall_ids: set[int] | None = None, active: bool = True
) -> QuerySet[EarningRule]:
    qs = EarningRule.objects.filter(district_id=district_id, active=active).select_related(
        "mall", "shop"
    )
    if mall_ids is not None:
        qs = qs.filter(Q(mall_id__in=mall_ids) | Q(mall=None, shop=None))
    # district-wide rules first, then by mall and shop, the same on SQLite and PostgreSQL
    return qs.order_by(
        F("mall_id").asc(nulls_first=True),
        F("shop_id").asc(nulls_first=True),
        "category",
        "id",
    )


def access_rule(*, actor: Actor, rule_id: int) -> EarningRule:
    rule = EarningRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(detail="rule not found")
    if rule.mall_id is not None:
        allowed = actor.operates_mall(rule.mall_id)
    elif rule.shop_id is not None:
        allowed = actor.is_admin
    else:
        allowed = actor.is_admin or rule.district_id in actor.district_operator_ids
    if not allowed:
        raise NotFound(detail="rule not found")
    return rule


def campaigns_of(*, district_id: int) -> QuerySet[Campaign]:
    return Campaign.objects.filter(district_id=district_id).select_related("mall")


def exchange_catalogue(*, district_id: int) -> QuerySet[ExchangeItem]:
    return ExchangeItem.objects.filter(district_id=district_id, active=True).select_related(
        "mall", "coupon_template"
    )


def access_exchange_item(*, item_id: int) -> ExchangeItem:
    item = exchange_catalogue_all().filter(pk=item_id, active=True).first()
    if item is None:
        raise NotFound(detail="exchange item not found")
    return item


def exchange_catalogue_all() -> QuerySet[ExchangeItem]:
    return ExchangeItem.objects.select_related("mall", "coupon_template")


def exchanges_of(*, member: Any) -> QuerySet[ExchangeOrder]:
    return ExchangeOrder.objects.filter(member=member).select_related("item", "coupon")


@dataclass(frozen=True)
class PoolRow:
    """One funding pool over a period: points it funded (earned by members), points it took
    back (spent at its shop or exchanged at its mall), and the net in fen at the scheme's
    value. Positive net: the scheme owes the pool; negative: the pool owes the scheme."""

    account_id: int
    kind: str
    mall_id: int | None
    shop_id: int | None
    name: str
    funded: int
    received: int
    net_points: int
    net_fen: int


def settlement(
    *, district_id: int, start: datetime, end: datetime, mall_ids: set[int] | None = None
) -> list[PoolRow]:
    from agora.district.models import Mall, Shop

    scheme = scheme_of(district_id=district_id)
    pools = LedgerAccount.objects.filter(district_id=district_id).exclude(kind=AccountKind.MEMBER)
    if mall_ids is not None:
        pools = pools.filter(Q(mall_id__in=mall_ids) | Q(shop__mall_id__in=mall_ids))
    sums = {
        row["account_id"]: row
        for row in LedgerEntry.objects.filter(
            account__in=pools, created_at__gte=start, created_at__lt=end
        )
        .values("account_id")
        .annotate(
            funded=Sum("amount", filter=Q(amount__lt=0)),
            received=Sum("amount", filter=Q(amount__gt=0)),
        )
    }
    malls = {m.pk: m.name for m in Mall.objects.filter(district_id=district_id)}
    shops = {s.pk: s.name for s in Shop.objects.filter(mall__district_id=district_id)}
    out = []
    for pool in pools.order_by("kind", "mall_id", "shop_id"):
        row = sums.get(pool.pk)
        if row is None:
            continue
        funded = -int(row["funded"] or 0)
        received = int(row["received"] or 0)
        net = received - funded
        name = (
            malls.get(pool.mall_id or 0)
            or shops.get(pool.shop_id or 0)
            or str(AccountKind(pool.kind).label)
        )
        out.append(
            PoolRow(
                pool.pk,
                pool.kind,
                pool.mall_id,
                pool.shop_id,
                str(name),
                funded,
                received,
                net,
                net * scheme.fen_per_point,
            )
        )
    return out
