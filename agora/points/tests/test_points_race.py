"""Spending points at tills at the same moment: real concurrent clients on PostgreSQL, each
thread with its own connection, released together by a barrier. The member's account row is
locked before a spend, so racing spends never overdraw it; one idempotency key posts once."""

from __future__ import annotations

import os
from itertools import accumulate

import pytest

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.members.models import Member
from agora.members.services.codes import member_ticket_make
from agora.points.choices import AccountKind, Movement
from agora.points.models import LedgerEntry, LedgerTransaction
from agora.points.selectors import points_balance
from agora.points.services.ledger import points_adjust
from agora.testing.personas import ApiClient, ApiResponse
from tests.live import TillWorld, flash_world, race, till_world

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="concurrency is proven on PostgreSQL (the SQLite run serialises writers)",
    ),
    pytest.mark.django_db(transaction=True),
]


def _member_with(points: int) -> tuple[Member, TillWorld]:
    world = flash_world(stock=1, members=1)
    till = till_world(district_id=world.district_id)
    member = Member.objects.get(pk=world.member_ids[0])
    desk = Actor(user=User.objects.create(username=f"desk-{member.pk}"), is_admin=True)
    points_adjust(
        actor=desk, member=member, points=points, reason="开户赠送", mall_id=None, key="seed"
    )
    assert points_balance(member=member) == points
    return member, till


def _spend(till: TillWorld, ticket: str, *, points: int, key: str, ref: str) -> ApiResponse:
    body = {"member_ticket": ticket, "points": points, "reference": ref}
    return ApiClient(token=till.cashier_token).post(
        f"/shops/{till.shop_id}/points/spend", body, headers={"Idempotency-Key": key}
    )


def _running_balances(member: Member) -> list[int]:
    """The member's balance after each entry, in the order the entries were written."""
    amounts = LedgerEntry.objects.filter(
        account__member=member, account__kind=AccountKind.MEMBER
    ).order_by("id")
    return list(accumulate(amounts.values_list("amount", flat=True)))


def test_sixteen_spends_of_a_balance_that_covers_five() -> None:
    member, till = _member_with(50)
    ticket = member_ticket_make(member=member, shop_id=till.shop_id)
    results = race(
        lambda i: _spend(till, ticket, points=10, key=f"spend-{i}", ref=f"R{i}"),
        calls=16,
        workers=16,
    )
    replies = [r for r in results if isinstance(r, ApiResponse)]
    assert len(replies) == 16, results
    assert sorted(r.status for r in replies) == [201] * 5 + [409] * 11
    assert {r.problem_code for r in replies if r.status == 409} == {"insufficient_points"}
    assert sorted(r.body["balance"] for r in replies if r.status == 201) == [0, 10, 20, 30, 40]
    assert points_balance(member=member) == 0
    assert min(_running_balances(member)) == 0  # never below zero, at any point
    assert LedgerTransaction.objects.filter(member=member, kind=Movement.REDEEM).count() == 5


def test_twenty_posts_with_one_idempotency_key_spend_once() -> None:
    member, till = _member_with(50)
    # one ticket: it carries a timestamp, and the same key with another body is refused
    ticket = member_ticket_make(member=member, shop_id=till.shop_id)
    results = race(
        lambda i: _spend(till, ticket, points=10, key="one-key", ref="R1"),
        calls=20,
        workers=20,
    )
    replies = [r for r in results if isinstance(r, ApiResponse)]
    assert len(replies) == 20, results
    assert {r.status for r in replies} == {201}, [r.body for r in replies if r.status != 201][:2]
    assert len({r.body["id"] for r in replies}) == 1  # every caller sees the one movement
    assert {r.body["balance"] for r in replies} == {40}
    assert LedgerTransaction.objects.filter(member=member, kind=Movement.REDEEM).count() == 1
    assert points_balance(member=member) == 40
