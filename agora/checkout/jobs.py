"""Scheduled payment jobs (django.tasks), idempotent:

* ``close_expired_orders`` (every minute): orders whose payment timed out are closed after
  asking each provider, and their coupons and points given back;
* ``deliver_sandbox_notices`` (every few seconds in the demo): the sandbox's late and retried
  notifications;
* ``reconcile_payments`` (daily, after the providers publish their bills): yesterday's
  payments and refunds against every provider's bill."""

from __future__ import annotations

from datetime import date, timedelta

from django.tasks import task
from django.utils import timezone

from agora.checkout.services.payments import orders_close_expired
from agora.checkout.services.reconcile import reconcile_all
from agora.checkout.services.sandbox import sandbox_deliver_due


@task()
def close_expired_orders() -> int:
    return orders_close_expired()


@task()
def deliver_sandbox_notices() -> int:
    return sandbox_deliver_due()


@task()
def reconcile_payments(day: str | None = None) -> dict[str, int]:
    """Reconcile ``day`` (ISO date; default yesterday); returns mismatches per provider (-1
    when the provider's bill could not be fetched)."""
    on = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return {r.provider: (-1 if r.error else r.mismatched) for r in reconcile_all(day=on)}
