"""Shopper sign-in by phone number and a one-time SMS code."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from agora.accounts.models import SmsCode, User
from agora.accounts.sms import get_backend
from agora.core.errors import RateLimited, field_error

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(phone: str) -> str:
    cleaned = re.sub(r"[\s-]", "", phone or "")
    if cleaned.startswith("+86"):
        cleaned = cleaned[3:]
    if not PHONE_RE.match(cleaned):
        raise field_error("phone", "must be a mainland China mobile number of 11 digits", "phone")
    return cleaned


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), "sha256").hexdigest()


def sms_code_request(*, phone: str) -> SmsCode:
    """Send a 6-digit code valid for SMS_CODE_TTL_SECONDS (≤ 10 min); rate-limited per phone."""
    phone = normalise_phone(phone)
    now = timezone.now()
    with transaction.atomic():
        recent = SmsCode.objects.filter(phone=phone, created_at__gte=now - timedelta(hours=1))
        if recent.count() >= settings.SMS_CODE_MAX_PER_HOUR:
            raise RateLimited(
                detail="too many codes for this phone in the last hour",
                extra={"retry_after": 3600},
            )
        last = recent.order_by("-created_at").first()
        interval = timedelta(seconds=settings.SMS_CODE_MIN_INTERVAL_SECONDS)
        if last is not None and now - last.created_at < interval:
            wait = int((interval - (now - last.created_at)).total_seconds()) + 1
            raise RateLimited(
                detail="wait before asking for another code", extra={"retry_after": wait}
            )
        code = f"{secrets.randbelow(1_000_000):06d}"
        row = SmsCode.objects.create(
            phone=phone,
            created_at=now,
            code_hash=_code_hash(phone, code),
            expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
        )
        minutes = settings.SMS_CODE_TTL_SECONDS // 60
        text = _("Your Agora sign-in code is %(code)s, valid for %(minutes)s minutes.") % {
            "code": code,
            "minutes": minutes,
        }
    # sent once the code is stored (the transaction above has committed)
    get_backend().send(phone=phone, text=text)
    return row


def sms_code_verify(*, phone: str, code: str) -> User:
    """Check the newest live code; return the shopper (created on first sign-in).

    A wrong code counts as an attempt (committed); after SMS_CODE_MAX_ATTEMPTS the code dies.
    """
    phone = normalise_phone(phone)
    if not re.fullmatch(r"\d{6}", code or ""):
        raise field_error("code", "must be the 6 digits from the SMS", "code")
    now = timezone.now()
    with transaction.atomic():
        row = (
            SmsCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None or row.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
            raise field_error("code", "no valid code for this phone: ask for a new one", "expired")
        matched = hmac.compare_digest(row.code_hash, _code_hash(phone, code))
        if not matched:
            SmsCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        else:
            claimed = SmsCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
            if claimed != 1:
                raise field_error("code", "this code was already used", "used")
            user = User.objects.filter(phone=phone).first()
            if user is None:
                user = User(username=f"p{phone}", phone=phone)
                user.set_unusable_password()
                user.save()
            return user
    raise field_error("code", "the code is wrong", "wrong_code")
