"""Scheduled points jobs (django.tasks). Each takes ids only and is idempotent: running it twice
for the same day changes nothing the second time. ``day`` (ISO date, optional) runs the job as at
the start of that day; without it, as of now. ``manage.py loyalty_daily`` runs or enqueues them
once a day for every district."""

from __future__ import annotations

from datetime import date, datetime, time

from django.tasks import task
from django.utils import timezone

from agora.points.services.care import care_for_day
from agora.points.services.ledger import points_expire_due


def run_day(day: str | None) -> tuple[date, datetime]:
    """The day a job runs for, and the moment it runs at (the start of ``day``, or now)."""
    if day is None:
        return timezone.localdate(), timezone.now()
    on = date.fromisoformat(day)
    return on, timezone.make_aware(datetime.combine(on, time.min))


@task()
def expire_points(district_id: int, day: str | None = None) -> int:
    """Expire the points whose date has passed; returns the number of members whose points
    expired (one expiry transaction each, keyed by member and day)."""
    today, _now = run_day(day)
    return points_expire_due(district_id=district_id, today=today)


@task()
def birthday_care(district_id: int, day: str | None = None) -> dict[str, int]:
    """Birthday gifts and anniversary messages of the day (once a year per member)."""
    today, _now = run_day(day)
    return care_for_day(district_id=district_id, today=today)
