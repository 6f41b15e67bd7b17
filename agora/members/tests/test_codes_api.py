"""The till: identify a member by the dynamic QR code (once, within its minute) or a linked
physical card; who may identify at which shop; API keys and their scopes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agora.coupons.models import Coupon
from agora.members.models import Member, MemberCodeUse
from agora.members.services.codes import member_code_issue, member_from_ticket
from agora.points.selectors import points_balance
from agora.testing.personas import ApiClient, ApiResponse, as_persona, shop_id_of

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"


def _member(phone: str = SHOPPER) -> Member:
    return Member.objects.select_related("user", "tier").get(user__phone=phone)


def _fresh_code(phone: str = SHOPPER) -> str:
    response = as_persona(phone).post("/me/member/code")
    assert response.status == 200, response.body
    return str(response.body["code"])


def _identify(client: ApiClient, code: str, amount_fen: int | None = None) -> ApiResponse:
    body: dict[str, object] = {"code": code}
    if amount_fen is not None:
        body["amount_fen"] = amount_fen
    return client.post(f"/shops/{shop_id_of('shop-cashier-1')}/members/identify", body)


def test_issued_code_carries_a_qr_and_expires_within_a_minute() -> None:
    before = timezone.now()
    response = as_persona(SHOPPER).post("/me/member/code")
    assert response.status == 200
    assert response.body["code"].startswith("AGM")
    assert response.body["qr_svg"].startswith("<svg")
    assert response.body["qr_svg"].endswith("</svg>")
    assert 'class="qrline"' in response.body["qr_svg"]
    expires = timezone.datetime.fromisoformat(response.body["expires_at"])
    assert before < expires <= before + timedelta(seconds=60)


def test_cashier_identifies_member_once_with_coupons() -> None:
    member = _member()
    shop_id = shop_id_of("shop-cashier-1")
    threshold = Coupon.objects.get(member=member, template__title="万象城 满200减30")
    code = _fresh_code()
    cashier = as_persona("shop-cashier-1")

    response = _identify(cashier, code, amount_fen=26800)
    assert response.status == 200, response.body
    body = response.body
    assert body["member"] == {
        "card_no": member.card_no,
        "display_name": member.user.display_name[0] + "*",
        "phone_masked": "138****0001",
        "tier": {
            "code": "gold",
            "name": "金卡",
            "name_en": "Gold",
            "rank": 2,
            "points_multiplier": 1.5,
        },
        "points_balance": points_balance(member=member),
    }
    assert body["coupons"] == [
        {
            "code": threshold.code,
            "title": "万象城 满200减30",
            "kind": "threshold",
            "applies": True,
            "reason": "",
            "discount_fen": 3000,
            "valid_until": body["coupons"][0]["valid_until"],
        }
    ]
    valid_until = threshold.valid_until  # the API gives milliseconds
    assert timezone.datetime.fromisoformat(body["coupons"][0]["valid_until"]) == (
        valid_until.replace(microsecond=valid_until.microsecond // 1000 * 1000)
    )
    ticket_member = member_from_ticket(ticket=body["member_ticket"], shop_id=shop_id)
    assert ticket_member.pk == member.pk
    assert MemberCodeUse.objects.filter(member=member, shop_id=shop_id).count() == 1

    # the same code again is a replay
    again = _identify(cashier, code, amount_fen=26800)
    assert again.status == 409
    assert again.problem_code == "member_code_used"
    assert MemberCodeUse.objects.filter(member=member).count() == 1


def test_coupon_below_threshold_does_not_apply() -> None:
    response = _identify(as_persona("shop-cashier-1"), _fresh_code())
    assert response.status == 200
    [coupon] = response.body["coupons"]
    assert (coupon["applies"], coupon["discount_fen"]) == (False, 0)
    assert coupon["reason"] != ""


def test_code_from_three_minutes_ago_has_expired() -> None:
    member = _member()
    old = member_code_issue(member=member, now=timezone.now() - timedelta(minutes=3))
    response = _identify(as_persona("shop-cashier-1"), old.code)
    assert response.status == 409
    assert response.problem_code == "member_code_expired"
    assert MemberCodeUse.objects.filter(member=member).count() == 0


def test_code_from_the_previous_minute_is_still_accepted() -> None:
    member = _member()
    recent = member_code_issue(member=member, now=timezone.now() - timedelta(seconds=60))
    response = _identify(as_persona("shop-cashier-1"), recent.code)
    assert response.status == 200, response.body
    assert response.body["member"]["card_no"] == member.card_no


@pytest.mark.parametrize("garbage", ["hello", "AGM1234", "12345", "AGM!!!!"])
def test_garbage_is_422_on_code(garbage: str) -> None:
    response = _identify(as_persona("shop-cashier-1"), garbage)
    assert response.status == 422
    assert response.field_names() == ["code"]
    assert MemberCodeUse.objects.count() == 0


def test_tampered_code_is_422_and_the_real_one_still_works() -> None:
    code = _fresh_code()
    middle = len(code) // 2
    swapped = "A" if code[middle] != "A" else "B"
    tampered = code[:middle] + swapped + code[middle + 1 :]
    cashier = as_persona("shop-cashier-1")
    response = _identify(cashier, tampered)
    assert response.status == 422
    assert response.field_names() == ["code"]
    assert MemberCodeUse.objects.count() == 0
    assert _identify(cashier, code).status == 200


@pytest.mark.parametrize("login", ["shop-owner-1b", "shop-cashier-2", "mall-ops-2", SHOPPER])
def test_others_cannot_identify_at_the_shop_and_nothing_is_used(login: str) -> None:
    code = _fresh_code()
    response = _identify(as_persona(login), code)
    assert response.status == 404
    assert MemberCodeUse.objects.count() == 0
    # the code was not used up: the shop's own cashier still identifies with it
    assert _identify(as_persona("shop-cashier-1"), code).status == 200


def test_mall_operator_may_identify_at_a_shop_of_the_mall() -> None:
    response = _identify(as_persona("mall-ops-1"), _fresh_code())
    assert response.status == 200


def _shop_key(scopes: list[str]) -> ApiClient:
    created = as_persona("shop-owner-1").post(
        "/api-keys", {"name": "收银系统", "scopes": scopes, "shop_id": shop_id_of("shop-owner-1")}
    )
    assert created.status == 201, created.body
    return ApiClient(api_key=created.body["secret"])


def test_api_key_with_loyalty_write_identifies() -> None:
    member = _member()
    response = _identify(_shop_key(["loyalty:write"]), _fresh_code(), amount_fen=0)
    assert response.status == 200, response.body
    assert response.body["member"]["card_no"] == member.card_no


def test_api_key_without_the_scope_is_403_and_uses_nothing() -> None:
    code = _fresh_code()
    response = _identify(_shop_key(["shops:read"]), code)
    assert response.status == 403
    assert response.problem_code == "permission_denied"
    assert MemberCodeUse.objects.count() == 0
    assert _identify(as_persona("shop-cashier-1"), code).status == 200


def test_api_key_cannot_fetch_a_member_code() -> None:
    response = _shop_key(["loyalty:write"]).post("/me/member/code")
    assert response.status == 403


def test_negative_amount_is_422() -> None:
    code = _fresh_code()
    response = _identify(as_persona("shop-cashier-1"), code, amount_fen=-1)
    assert response.status == 422
    assert response.field_names() == ["amount_fen"]
    assert MemberCodeUse.objects.count() == 0
