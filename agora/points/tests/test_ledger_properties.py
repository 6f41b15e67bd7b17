"""The points ledger under random sequences of movements (hypothesis), and FIFO expiry.

The state machine earns, spends, adjusts, reverses and expires points for two demo members
through the ledger services and keeps its own model of each member's points: credits with the
day they expire, and the sum of debits. After every step the district's entries sum to zero,
every transaction balances, no member is below zero, and each member's balance is exactly the
model's. A refused movement (not enough points, already reversed, a reversal of a reversal)
changes nothing. Each hypothesis example runs in a savepoint that is rolled back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.core.errors import Conflict
from agora.district.models import District, Shop
from agora.members.models import Member
from agora.members.services.membership import member_ensure
from agora.points.choices import AccountKind, ExpiryRule, Movement
from agora.points.models import LedgerEntry, LedgerTransaction
from agora.points.selectors import points_balance
from agora.points.services.earning import points_earn
from agora.points.services.ledger import (
    InsufficientPoints,
    ledger_totals,
    points_adjust,
    points_expire,
    points_reverse,
    points_spend,
    scheme_of,
)

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()


def _district_id() -> int:
    district = District.objects.order_by("id").first()
    assert district is not None
    return district.pk


def _admin() -> Actor:
    return Actor(user=User.objects.get(username="admin"), is_admin=True)


def _counts() -> tuple[int, int]:
    return LedgerTransaction.objects.count(), LedgerEntry.objects.count()


def _unbalanced(district_id: int, txn_ids: list[int] | None = None) -> list[int]:
    """Transactions of the district (or just ``txn_ids``) whose entries do not sum to zero."""
    entries = LedgerEntry.objects.filter(transaction__district_id=district_id)
    if txn_ids is not None:
        entries = entries.filter(transaction_id__in=txn_ids)
    return list(
        entries.values("transaction_id")
        .annotate(s=Sum("amount"))
        .exclude(s=0)
        .values_list("transaction_id", flat=True)
    )


@dataclass
class Points:
    """The test's own model of one member's points."""

    credits: list[tuple[int, date | None]] = field(default_factory=list)
    debits: int = 0

    @property
    def balance(self) -> int:
        return sum(amount for amount, _ in self.credits) - self.debits

    def expiring(self, before: date) -> int:
        """FIFO: credits dated before the day, less everything already taken out."""
        due = sum(amount for amount, on in self.credits if on is not None and on < before)
        return max(0, min(self.balance, due - self.debits))


@dataclass
class Posted:
    txn_id: int
    kind: str
    member_index: int
    change: int
    reversed: bool = False


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.prefix = uuid.uuid4().hex[:12]
        self.n = 0
        self.district_id = _district_id()
        scheme = scheme_of(district_id=self.district_id)
        assert scheme.expiry_rule == ExpiryRule.END_OF_NEXT_YEAR
        self.today = timezone.localdate()
        self.new_expiry = date(self.today.year + 1, 12, 31)
        self.actor = _admin()
        # two demo members: the first has a year of purchases, the second maybe none
        self.members = list(
            Member.objects.select_related("tier")
            .filter(district_id=self.district_id)
            .order_by("id")[:2]
        )
        assert len(self.members) == 2
        shops = Shop.objects.filter(mall__district_id=self.district_id, status="open")
        self.shops = [
            shops.exclude(category="food").order_by("mall_id", "id").first(),  # mall 1: 2x
            shops.filter(category="food").order_by("-mall_id", "id").first(),  # merchant-funded
        ]
        assert all(self.shops)
        self.mall_ids = sorted({s.mall_id for s in self.shops if s is not None})
        self.model: list[Points] = []
        for member in self.members:
            entries = LedgerEntry.objects.filter(
                account__member=member, account__kind=AccountKind.MEMBER
            )
            self.model.append(
                Points(
                    credits=list(entries.filter(amount__gt=0).values_list("amount", "expires_on")),
                    debits=-int(entries.filter(amount__lt=0).aggregate(s=Sum("amount"))["s"] or 0),
                )
            )
        assert _unbalanced(self.district_id) == []  # the demo's history, once
        self.posted: list[Posted] = []
        self.expired_days: set[tuple[int, date]] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def key(self, op: str) -> str:
        self.n += 1
        return f"prop:{self.prefix}:{op}:{self.n}"

    def _refused(self, call: Any, error: type[Exception], code: str) -> None:
        before = _counts()
        with pytest.raises(error) as caught:
            call()
        assert getattr(caught.value, "code", None) == code
        assert _counts() == before

    def _record(self, txn: LedgerTransaction, index: int) -> None:
        member_entries = LedgerEntry.objects.filter(
            transaction=txn, account__member=self.members[index]
        ).aggregate(s=Sum("amount"))["s"]
        assert int(member_entries or 0) == txn.points
        self.posted.append(Posted(txn.pk, txn.kind, index, txn.points))

    # --- rules -------------------------------------------------------------------------------
    @rule(
        index=st.integers(0, 1),
        shop=st.integers(0, 1),
        fen=st.integers(min_value=1, max_value=300_000),
    )
    def earn(self, index: int, shop: int, fen: int) -> None:
        txn = points_earn(
            actor=None,
            member=self.members[index],
            shop=self.shops[shop],
            amount_fen=fen,
            reference=f"R{self.n}",
            source="pos",
            key=self.key("earn"),
        )
        assert txn.kind == Movement.EARN and txn.points >= 0
        if txn.points:
            self.model[index].credits.append((txn.points, self.new_expiry))
        self._record(txn, index)

    @rule(index=st.integers(0, 1), points=st.integers(min_value=1, max_value=5_000))
    def spend(self, index: int, points: int) -> None:
        model = self.model[index]

        def call() -> LedgerTransaction:
            return points_spend(
                actor=None,
                member=self.members[index],
                shop=self.shops[1],
                points=points,
                reference=f"S{self.n}",
                key=self.key("spend"),
            )

        if model.balance < points:
            self._refused(call, InsufficientPoints, "insufficient_points")
            return
        txn = call()
        assert txn.points == -points
        model.debits += points
        self._record(txn, index)

    @rule(
        index=st.integers(0, 1),
        points=st.integers(min_value=-5_000, max_value=5_000).filter(bool),
        mall=st.integers(0, 2),
    )
    def adjust(self, index: int, points: int, mall: int) -> None:
        model = self.model[index]
        mall_id = self.mall_ids[mall] if mall < len(self.mall_ids) else None

        def call() -> LedgerTransaction:
            return points_adjust(
                actor=self.actor,
                member=self.members[index],
                points=points,
                reason="property test",
                mall_id=mall_id,
                key=self.key("adjust"),
            )

        if model.balance + points < 0:
            self._refused(call, InsufficientPoints, "insufficient_points")
            return
        txn = call()
        assert txn.points == points
        if points > 0:
            model.credits.append((points, self.new_expiry))
        else:
            model.debits -= points
        self._record(txn, index)

    @precondition(lambda self: bool(self.posted))
    @rule(pick=st.integers(min_value=0))
    def reverse(self, pick: int) -> None:
        target = self.posted[pick % len(self.posted)]
        model = self.model[target.member_index]
        original = LedgerTransaction.objects.get(pk=target.txn_id)

        def call() -> LedgerTransaction:
            return points_reverse(
                actor=self.actor, original=original, reason="property test", key=self.key("rev")
            )

        if target.kind == Movement.REVERSE:
            self._refused(call, Conflict, "not_reversible")
            return
        if target.reversed:
            self._refused(call, Conflict, "already_reversed")
            return
        change = -target.change
        if model.balance + change < 0:
            self._refused(call, InsufficientPoints, "insufficient_points")
            return
        txn = call()
        assert (txn.kind, txn.points, txn.reverses_id) == (Movement.REVERSE, change, original.pk)
        target.reversed = True
        if change > 0:
            model.credits.append((change, self.new_expiry))
        else:
            model.debits -= change
        self._record(txn, target.member_index)

    @rule(index=st.integers(0, 1), days=st.integers(min_value=0, max_value=800))
    def expire(self, index: int, days: int) -> None:
        day = self.today + timedelta(days=days)
        model = self.model[index]
        before = _counts()
        txn = points_expire(member=self.members[index], today=day)
        if (index, day) in self.expired_days:
            assert txn is None and _counts() == before  # once per member and day
            return
        due = model.expiring(day)
        if due == 0:
            assert txn is None and _counts() == before
            return
        assert txn is not None and (txn.kind, txn.points) == (Movement.EXPIRE, -due)
        model.debits += due
        self.expired_days.add((index, day))
        self._record(txn, index)

    # --- invariants -------------------------------------------------------------------------
    @invariant()
    def ledger_balances(self) -> None:
        total, lowest = ledger_totals(district_id=self.district_id)
        assert total == 0
        assert lowest >= 0
        assert _unbalanced(self.district_id, [p.txn_id for p in self.posted]) == []
        for member, model in zip(self.members, self.model, strict=True):
            assert points_balance(member=member) == model.balance


def test_random_movements_keep_the_ledger_balanced() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# --- expiry, step by step ------------------------------------------------------------------
def _fresh_member(phone: str) -> Member:
    user = User.objects.create(username=f"p{phone}", phone=phone)
    return member_ensure(user=user, district_id=_district_id())


def _plain_shop() -> Shop:
    """A non-food shop of the last mall: 1 point per yuan, no campaign."""
    shop = (
        Shop.objects.filter(mall__district_id=_district_id(), status="open")
        .exclude(category="food")
        .order_by("-mall_id", "id")
        .first()
    )
    assert shop is not None
    return shop


def _earn(member: Member, shop: Shop, fen: int, at: datetime, key: str) -> LedgerTransaction:
    return points_earn(
        actor=None,
        member=member,
        shop=shop,
        amount_fen=fen,
        reference=key,
        source="pos",
        key=key,
        at=at,
    )


def _member_expiries(member: Member) -> list[tuple[int, date | None]]:
    return list(
        LedgerEntry.objects.filter(account__member=member, amount__gt=0)
        .order_by("id")
        .values_list("amount", "expires_on")
    )


def test_points_earned_in_2025_expire_on_the_first_day_of_2027() -> None:
    member = _fresh_member("13900000101")
    shop = _plain_shop()
    _earn(member, shop, 30_000, datetime(2025, 3, 10, 12, tzinfo=TZ), "exp:a")
    _earn(member, shop, 50_000, datetime(2026, 2, 1, 12, tzinfo=TZ), "exp:b")
    assert _member_expiries(member) == [(300, date(2026, 12, 31)), (500, date(2027, 12, 31))]
    assert points_balance(member=member) == 800

    # usable through 31 December 2026
    assert points_expire(member=member, today=date(2026, 12, 31)) is None
    assert points_balance(member=member) == 800

    txn = points_expire(member=member, today=date(2027, 1, 1))
    assert txn is not None
    assert (txn.kind, txn.points, txn.key) == (
        Movement.EXPIRE,
        -300,
        f"expire:{member.pk}:2027-01-01",
    )
    assert points_balance(member=member) == 500
    sink = LedgerEntry.objects.get(transaction=txn, account__kind=AccountKind.EXPIRY_SINK)
    assert sink.amount == 300

    # idempotent per day, and nothing more is due the next day
    count = LedgerTransaction.objects.count()
    assert points_expire(member=member, today=date(2027, 1, 1)) is None
    assert points_expire(member=member, today=date(2027, 1, 2)) is None
    assert LedgerTransaction.objects.count() == count
    assert points_balance(member=member) == 500

    # the 2026 points go a year later
    txn = points_expire(member=member, today=date(2028, 1, 1))
    assert txn is not None and txn.points == -500
    assert points_balance(member=member) == 0


def test_spending_uses_the_oldest_points_first() -> None:
    member = _fresh_member("13900000102")
    shop = _plain_shop()
    _earn(member, shop, 30_000, datetime(2025, 3, 10, 12, tzinfo=TZ), "fifo:a")
    _earn(member, shop, 50_000, datetime(2026, 2, 1, 12, tzinfo=TZ), "fifo:b")
    points_spend(actor=None, member=member, shop=shop, points=100, reference="", key="fifo:s1")
    # 200 of the 2025 points are left: only they expire
    txn = points_expire(member=member, today=date(2027, 1, 1))
    assert txn is not None and txn.points == -200
    assert points_balance(member=member) == 500

    other = _fresh_member("13900000103")
    _earn(other, shop, 30_000, datetime(2025, 3, 10, 12, tzinfo=TZ), "fifo:c")
    _earn(other, shop, 50_000, datetime(2026, 2, 1, 12, tzinfo=TZ), "fifo:d")
    points_spend(actor=None, member=other, shop=shop, points=400, reference="", key="fifo:s2")
    # the spend used all 300 points of 2025 and 100 of 2026: nothing expires on 1 January
    before = LedgerTransaction.objects.count()
    assert points_expire(member=other, today=date(2027, 1, 1)) is None
    assert LedgerTransaction.objects.count() == before
    assert points_balance(member=other) == 400
    txn = points_expire(member=other, today=date(2028, 1, 1))
    assert txn is not None and txn.points == -400
    assert ledger_totals(district_id=_district_id()) == (0, 0)
