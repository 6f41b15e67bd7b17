"""Standing payment agreements (WeChat Pay 委托代扣, Alipay 商户代扣): the shopper authorises
a provider once; later charges (frictionless parking at the exit) need no confirmation.

Signing is a redirect to the provider's own page in production; the built-in sandbox signs at
once (it stands in for the shopper confirming in their wallet app). Revoking stops every later
charge; a charge is an ordinary payment (``PaymentSpec.agreement_no``) of an ordinary order."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from agora.accounts.models import User
from agora.checkout.choices import ONLINE_METHODS
from agora.checkout.models import PaymentAgreement
from agora.checkout.providers import provider_for
from agora.core.errors import NotFound, field_error

DEFAULT_LIMIT_FEN = 50_000  # ¥500 for one charge
MAX_LIMIT_FEN = 200_000


def agreement_sign(
    *, user: User, method: str, limit_fen: int = DEFAULT_LIMIT_FEN, now: datetime | None = None
) -> PaymentAgreement:
    """Sign (or return the active) agreement of ``user`` for ``method``."""
    if method not in ONLINE_METHODS:
        raise field_error("method", "one of " + ", ".join(ONLINE_METHODS), "invalid")
    if not 100 <= limit_fen <= MAX_LIMIT_FEN:
        raise field_error("limit_fen", f"between 100 and {MAX_LIMIT_FEN} fen", "range")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        current = PaymentAgreement.objects.filter(user=user, method=method, active=True).first()
        if current is not None:
            return current
        return PaymentAgreement.objects.create(
            user=user,
            method=method,
            provider=provider_for(method).name,
            agreement_no="AGR" + secrets.token_hex(10).upper(),
            limit_fen=limit_fen,
            signed_at=now or timezone.now(),
        )


def agreement_revoke(*, user: User, agreement_id: int, now: datetime | None = None) -> None:
    done = PaymentAgreement.objects.filter(pk=agreement_id, user=user, active=True).update(
        active=False, revoked_at=now or timezone.now()
    )
    if not done and not PaymentAgreement.objects.filter(pk=agreement_id, user=user).exists():
        raise NotFound(detail="no such agreement")


def agreements_of(*, user: User) -> list[PaymentAgreement]:
    return list(PaymentAgreement.objects.filter(user=user, active=True))


def access_agreement(*, user: User, agreement_id: int) -> PaymentAgreement:
    row = PaymentAgreement.objects.filter(pk=agreement_id, user=user, active=True).first()
    if row is None:
        raise NotFound(detail="no such agreement")
    return row
