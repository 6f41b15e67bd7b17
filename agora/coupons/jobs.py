"""Scheduled coupon jobs (django.tasks), idempotent. ``day`` (ISO date, optional) runs the job
as at the start of that day; without it, as of now."""

from __future__ import annotations

from datetime import date, datetime, time

from django.tasks import task
from django.utils import timezone

from agora.coupons.services.wallet import coupons_expire


@task()
def expire_coupons(day: str | None = None) -> int:
    """Mark unused coupons past their date as expired; returns how many."""
    now = (
        timezone.now()
        if day is None
        else timezone.make_aware(datetime.combine(date.fromisoformat(day), time.min))
    )
    return coupons_expire(now=now)
