"""Scheduled member jobs (django.tasks). Each takes ids only and is idempotent. ``day`` (ISO
date, optional) runs the job as at the start of that day; without it, as of now."""

from __future__ import annotations

from datetime import date, datetime, time

from django.tasks import task
from django.utils import timezone

from agora.members.services.codes import member_codes_prune
from agora.members.services.purchases import tiers_review_all
from agora.members.services.tags import tags_refresh


def run_moment(day: str | None) -> datetime:
    """The moment a job runs at: the start of ``day`` in local time, or now."""
    if day is None:
        return timezone.now()
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time.min))


@task()
def refresh_tags(district_id: int, day: str | None = None) -> int:
    """Recompute the district's computed member tags; returns the number of tags written."""
    return tags_refresh(district_id=district_id, now=run_moment(day))


@task()
def review_tiers(district_id: int, day: str | None = None) -> int:
    """The yearly tier review of every member whose tier is over a year old; returns the
    number of members whose tier changed."""
    return tiers_review_all(district_id=district_id, now=run_moment(day))


@task()
def prune_member_codes(day: str | None = None) -> int:
    """Forget scanned member codes past their acceptance window; returns rows deleted."""
    return member_codes_prune(now=run_moment(day))
