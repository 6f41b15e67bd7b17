"""Shopper sign-in by SMS code: 10-minute codes, rate limits, attempt limits, bearer tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from agora.accounts.models import ApiToken, SmsCode, User
from agora.accounts.sms import LocmemSmsBackend
from agora.testing.personas import ApiClient, anonymous

pytestmark = pytest.mark.django_db
PHONE = "13712345678"


def _last_code() -> str:
    _, text = LocmemSmsBackend.outbox[-1]
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)


def test_first_sign_in_creates_shopper_and_token() -> None:
    client = anonymous()
    sent = client.post("/auth/sms-codes", {"phone": "+86 137-1234-5678"})
    assert sent.status == 202
    assert sent.body["phone"] == PHONE
    assert LocmemSmsBackend.outbox[-1][0] == PHONE
    row = SmsCode.objects.get(phone=PHONE)
    assert row.expires_at - row.created_at == timedelta(minutes=10)
    assert _last_code() not in row.code_hash
    verified = client.post("/auth/sms-codes/verify", {"phone": PHONE, "code": _last_code()})
    assert verified.status == 201, verified.body
    assert verified.body["roles"] == ["shopper"]
    user = User.objects.get(phone=PHONE)
    assert user.has_usable_password() is False
    me = ApiClient(token=verified.body["token"]).get("/me")
    assert (me.status, me.body["phone"], me.body["roles"]) == (200, PHONE, ["shopper"])
    token_row = ApiToken.objects.get(user=user)
    assert token_row.token_hash != verified.body["token"]
    assert token_row.last_used_at is not None


def test_code_is_single_use() -> None:
    client = anonymous()
    client.post("/auth/sms-codes", {"phone": PHONE})
    code = _last_code()
    assert client.post("/auth/sms-codes/verify", {"phone": PHONE, "code": code}).status == 201
    again = client.post("/auth/sms-codes/verify", {"phone": PHONE, "code": code})
    assert again.status == 422
    assert again.field_names() == ["code"]


def test_expired_code_is_refused() -> None:
    client = anonymous()
    client.post("/auth/sms-codes", {"phone": PHONE})
    SmsCode.objects.filter(phone=PHONE).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post("/auth/sms-codes/verify", {"phone": PHONE, "code": _last_code()})
    assert response.status == 422
    assert response.body["errors"][0]["code"] == "expired"
    assert not User.objects.filter(phone=PHONE).exists()


def test_wrong_codes_count_and_kill_the_code_after_five() -> None:
    client = anonymous()
    client.post("/auth/sms-codes", {"phone": PHONE})
    good = _last_code()
    wrong = "000000" if good != "000000" else "111111"
    for attempt in range(1, 6):
        response = client.post("/auth/sms-codes/verify", {"phone": PHONE, "code": wrong})
        assert response.body["errors"][0]["code"] == "wrong_code"
        assert SmsCode.objects.get(phone=PHONE).attempts == attempt
    response = client.post("/auth/sms-codes/verify", {"phone": PHONE, "code": good})
    assert response.status == 422
    assert response.body["errors"][0]["code"] == "expired"
    assert not User.objects.filter(phone=PHONE).exists()


def test_rate_limit_one_a_minute_five_an_hour() -> None:
    client = anonymous()
    assert client.post("/auth/sms-codes", {"phone": PHONE}).status == 202
    too_soon = client.post("/auth/sms-codes", {"phone": PHONE})
    assert too_soon.status == 429
    assert too_soon.problem_code == "rate_limited"
    assert 1 <= int(too_soon.headers["Retry-After"]) <= 61
    assert SmsCode.objects.filter(phone=PHONE).count() == 1
    for minutes in (2, 3, 4, 5):
        SmsCode.objects.filter(phone=PHONE).update(
            created_at=timezone.now() - timedelta(minutes=minutes)
        )
        assert client.post("/auth/sms-codes", {"phone": PHONE}).status == 202
    SmsCode.objects.filter(phone=PHONE).update(created_at=timezone.now() - timedelta(minutes=10))
    sixth = client.post("/auth/sms-codes", {"phone": PHONE})
    assert sixth.status == 429
    assert SmsCode.objects.filter(phone=PHONE).count() == 5
    assert len(LocmemSmsBackend.outbox) == 5


@pytest.mark.parametrize("phone", ["12345", "23800000000", "1380000000a", ""])
def test_bad_phone_is_422(phone: str) -> None:
    response = anonymous().post("/auth/sms-codes", {"phone": phone})
    assert response.status == 422
    assert response.field_names() == ["phone"]
    assert SmsCode.objects.count() == 0
    assert LocmemSmsBackend.outbox == []


def test_staff_password_sign_in_and_sign_out() -> None:
    client = anonymous()
    bad = client.post("/auth/tokens", {"username": "mall-ops-1", "password": "wrong"})
    assert bad.status == 401
    token = client.post("/auth/tokens", {"username": "mall-ops-1", "password": "agora-demo-2026"})
    assert token.status == 201
    assert token.body["roles"] == ["mall_operator"]
    staff = ApiClient(token=token.body["token"])
    assert staff.get("/me").status == 200
    assert staff.delete("/auth/tokens/current").status == 204
    assert staff.get("/me").status == 401


def test_unauthenticated_me_is_401_problem() -> None:
    response = anonymous().get("/me")
    assert response.status == 401
    assert response.body["type"].endswith("/not_authenticated")
    assert ApiClient(token="agt_not-a-token").get("/me").status == 401
