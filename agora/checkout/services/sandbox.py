"""The sandbox's payer side and its notification outbox.

``sandbox_pay`` is what happens when a shopper scans the sandbox QR and confirms: the trade is
paid at the sandbox, and notifications are queued: one now, sometimes a second copy a moment
later, sometimes only a late one. ``sandbox_deliver_due`` delivers what is due through the
same entry point the HTTP notification view uses (signature check included)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from agora.checkout.models import SandboxNotice, SandboxTrade
from agora.checkout.providers import provider_named
from agora.checkout.providers.sandbox import SandboxProvider
from agora.checkout.services.payments import notice_receive
from agora.core.errors import Conflict, NotFound

_rng = random.Random()


def sandbox(name: str = "sandbox") -> SandboxProvider:
    provider = provider_named(name)
    assert isinstance(provider, SandboxProvider)
    return provider


def sandbox_trade(*, token: str) -> SandboxTrade:
    trade = SandboxTrade.objects.filter(token=token).first()
    if trade is None:
        raise NotFound(detail="no such sandbox payment")
    return trade


def sandbox_pay(
    *,
    token: str,
    now: datetime | None = None,
    duplicate: bool | None = None,
    late: bool | None = None,
    deliver: bool = True,
) -> SandboxTrade:
    """The payer confirms. ``duplicate`` / ``late`` force the sandbox's quirks (None: at the
    configured rates). Due notifications are delivered at once unless ``deliver`` is False."""
    when = now or timezone.now()
    provider = sandbox()
    trade = sandbox_trade(token=token)
    if trade.state == "paid":
        return trade
    if not provider.settle(trade, when):
        raise Conflict(code="sandbox_trade_closed", detail="this payment was closed or has expired")
    if late is None:
        late = _rng.random() < provider.late_rate
    if duplicate is None:
        duplicate = _rng.random() < provider.duplicate_rate
    first_due = when + timedelta(seconds=_rng.randint(60, 180)) if late else when
    SandboxNotice.objects.create(trade=trade, due_at=first_due)
    if duplicate:
        SandboxNotice.objects.create(trade=trade, due_at=first_due + timedelta(seconds=2))
    if deliver:
        sandbox_deliver_due(now=when)
    return trade


def sandbox_deliver_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Deliver the notifications that are due (oldest first); returns how many were
    acknowledged. An unacknowledged one is retried later with back-off, as providers do."""
    when = now or timezone.now()
    provider = sandbox()
    delivered = 0
    due = SandboxNotice.objects.filter(delivered_at=None, due_at__lte=when).select_related("trade")[
        :limit
    ]
    for notice in due:
        headers, body = provider.notification(notice.trade, when)
        received = notice_receive(
            provider_name=provider.name, headers=headers, body=body, remote_addr="sandbox"
        )
        ok = 200 <= received.status < 300
        SandboxNotice.objects.filter(pk=notice.pk).update(
            attempts=notice.attempts + 1,
            last_status=received.status,
            delivered_at=when if ok else None,
            due_at=notice.due_at if ok else when + timedelta(seconds=15 * 2**notice.attempts),
        )
        delivered += ok
    return delivered
