"""Tills scanning one coupon at the same moment: real concurrent clients on PostgreSQL, each
thread with its own connection, released together by a barrier. Exactly one redemption wins;
every other till is told the coupon is used (a conditional UPDATE from active to redeemed)."""

from __future__ import annotations

import os

import pytest

from agora.coupons.choices import CouponStatus
from agora.coupons.models import Coupon, CouponTemplate
from agora.coupons.services.wallet import coupon_claim
from agora.members.models import Member
from agora.testing.personas import ApiClient, ApiResponse
from tests.live import flash_world, race, till_world

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="concurrency is proven on PostgreSQL (the SQLite run serialises writers)",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_simultaneous_redemptions_of_one_coupon_give_one_success() -> None:
    world = flash_world(stock=2, members=2)
    till = till_world(district_id=world.district_id)
    template = CouponTemplate.objects.get(pk=world.template_id)
    for tills, member_id in zip((2, 16), world.member_ids, strict=True):
        coupon = coupon_claim(member=Member.objects.get(pk=member_id), template=template)

        def redeem(i: int, code: str = coupon.code) -> ApiResponse:
            body = {"code": code, "amount_fen": 5000, "reference": f"till-{i}"}
            return ApiClient(token=till.cashier_token).post(
                f"/shops/{till.shop_id}/coupons/redeem", body
            )

        results = race(redeem, calls=tills, workers=tills)
        replies = [r for r in results if isinstance(r, ApiResponse)]
        assert len(replies) == tills, results
        assert sorted(r.status for r in replies) == [200] + [409] * (tills - 1)
        assert {r.problem_code for r in replies if r.status == 409} <= {"coupon_used"}
        winner = next(r for r in replies if r.status == 200)
        coupon.refresh_from_db()
        assert coupon.status == CouponStatus.REDEEMED
        assert coupon.redeemed_shop_id == till.shop_id
        assert coupon.reference == winner.body["reference"]
    template.refresh_from_db()
    assert (template.issued, template.redeemed) == (2, 2)  # one redemption per coupon
    assert Coupon.objects.filter(template=template, status=CouponStatus.REDEEMED).count() == 2
