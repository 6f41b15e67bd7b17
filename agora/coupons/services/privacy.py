"""Coupons in a member's wallet: exported; on deletion unused coupons are voided (redeemed
ones stay: merchants are settled on them)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from agora.accounts import personal_data
from agora.accounts.models import User
from agora.coupons.choices import CouponStatus
from agora.coupons.models import Coupon


def _coupons_section(user: User) -> list[dict[str, Any]]:
    return [
        {
            "title": c.template.title,
            "code": c.code,
            "status": c.status,
            "claimed_at": c.claimed_at.isoformat(),
            "redeemed_at": c.redeemed_at.isoformat() if c.redeemed_at else None,
        }
        for c in Coupon.objects.filter(member__user=user).select_related("template").order_by("id")
    ]


def _coupons_erase(user: User) -> None:
    Coupon.objects.filter(member__user=user, status=CouponStatus.ACTIVE).update(
        status=CouponStatus.VOID, voided_at=timezone.now(), void_reason="account deleted"
    )


def register_personal_data() -> None:
    personal_data.register("coupons", exporter=_coupons_section, eraser=_coupons_erase)
