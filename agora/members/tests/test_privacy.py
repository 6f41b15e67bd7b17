"""Membership data in the personal-data export and in account deletion (PIPL)."""

from __future__ import annotations

import pytest

from agora.accounts.selectors import active_user_with_phone
from agora.core.errors import DomainError
from agora.coupons.models import Coupon, CouponTemplate
from agora.coupons.services.wallet import coupon_claim
from agora.district.models import Shop
from agora.members.models import Member, MemberTag, Message
from agora.members.services.codes import member_code_issue, member_code_resolve
from agora.points.models import LedgerEntry, LedgerTransaction
from agora.testing.personas import as_persona

pytestmark = pytest.mark.django_db
SHOPPER = "13800000001"


def _member() -> Member:
    user = active_user_with_phone(phone=SHOPPER)
    assert user is not None
    return Member.objects.get(user=user)


def _claimable() -> CouponTemplate:
    return CouponTemplate.objects.filter(title="商圈服饰 9折（最高减50元）").get()


def test_export_holds_membership_points_and_coupons() -> None:
    member = _member()
    coupon = coupon_claim(member=member, template=_claimable())
    body = as_persona(SHOPPER).get("/me/personal-data").body
    assert body["membership"]["card_no"] == member.card_no
    assert body["membership"]["tier"] == member.tier.code
    purchases = body["membership"]["purchases"]
    assert len(purchases) == member.purchases.count() > 0
    ledger = body["points"]["transactions"]
    assert len(ledger) == LedgerTransaction.objects.filter(member=member).count()
    assert body["points"]["balance"] == sum(
        LedgerEntry.objects.filter(account__member=member).values_list("amount", flat=True)
    )
    assert [c["code"] for c in body["coupons"] if c["code"] == coupon.code] == [coupon.code]


def test_delete_erases_member_data_and_keeps_the_ledger() -> None:
    member = _member()
    coupon = coupon_claim(member=member, template=_claimable())
    old_code = member_code_issue(member=member).code
    MemberTag.objects.create(member=member, tag="vip", kind="manual", created_at=coupon.claimed_at)
    entries = LedgerEntry.objects.count()
    transactions = LedgerTransaction.objects.count()
    client = as_persona(SHOPPER)
    assert client.delete("/me?confirm=DELETE").status == 204

    member.refresh_from_db()
    assert member.birthday is None
    assert member.status == "frozen"
    assert MemberTag.objects.filter(member=member).count() == 0
    assert Message.objects.filter(member=member).count() == 0
    assert Coupon.objects.get(pk=coupon.pk).status == "void"
    # the ledger keeps every row: settlements between malls and merchants depend on it
    assert LedgerEntry.objects.count() == entries
    assert LedgerTransaction.objects.count() == transactions
    # a member code shown before the deletion no longer identifies anyone
    shop = Shop.objects.filter(mall__district_id=member.district_id).first()
    assert shop is not None
    with pytest.raises(DomainError) as refused:
        member_code_resolve(code=old_code, shop_id=shop.pk)
    assert refused.value.code == "validation_failed"
