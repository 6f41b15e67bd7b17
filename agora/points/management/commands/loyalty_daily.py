"""``manage.py loyalty_daily``: the loyalty jobs of one day, for every district. Cron calls it
once a day (shortly after midnight). By default it runs the jobs here and prints what they did;
with ``--enqueue`` it hands them to the task backend (django_tasks_db's worker runs them).
Every job is idempotent, so running the command twice for a day changes nothing more."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.tasks import Task
from django.utils import timezone

from agora.coupons.jobs import expire_coupons
from agora.district.selectors import districts_all
from agora.members.jobs import prune_member_codes, refresh_tags, review_tiers
from agora.points.jobs import birthday_care, expire_points


class Command(BaseCommand):
    help = (
        "Run the daily loyalty jobs for every district: expire points, birthday and anniversary "
        "care, tier review, member tags, then expire coupons and prune used member codes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            default=None,
            help="run as at the start of this day (YYYY-MM-DD); default: today, now",
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="enqueue the jobs for the task worker instead of running them here",
        )
        parser.add_argument(
            "--district", type=int, default=None, help="only this district (default: every one)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day: str | None = options["date"]
        if day is not None:
            try:
                day = date.fromisoformat(day).isoformat()
            except ValueError:
                raise CommandError("--date must be a date such as 2026-11-21") from None
        districts = districts_all()
        if options["district"] is not None:
            districts = districts.filter(pk=options["district"])
            if not districts.exists():
                raise CommandError(f"no district {options['district']}")
        self.stdout.write(f"loyalty_daily for {day or timezone.localdate().isoformat()}")
        if options["enqueue"]:
            self._enqueue(list(districts.values_list("id", flat=True)), day)
            return
        for district in districts:
            expired = expire_points.call(district.pk, day)
            care = birthday_care.call(district.pk, day)
            changed = review_tiers.call(district.pk, day)
            tags = refresh_tags.call(district.pk, day)
            self.stdout.write(
                f"district {district.pk} {district.name}: points expired for {expired} members, "
                f"{care['birthday']} birthday gifts, {care['anniversary']} anniversary messages, "
                f"{changed} tier changes, {tags} computed tags"
            )
        coupons = expire_coupons.call(day)
        codes = prune_member_codes.call(day)
        self.stdout.write(f"coupons expired: {coupons}; member codes pruned: {codes}")

    def _enqueue(self, district_ids: list[int], day: str | None) -> None:
        jobs: list[tuple[Task, tuple[Any, ...]]] = []
        for district_id in district_ids:
            for job in (expire_points, birthday_care, review_tiers, refresh_tags):
                jobs.append((job, (district_id, day)))
        jobs += [(expire_coupons, (day,)), (prune_member_codes, (day,))]
        for job, args in jobs:
            job.enqueue(*args)
            self.stdout.write(f"enqueued {job.name}({', '.join(map(repr, args))})")
        self.stdout.write(f"enqueued {len(jobs)} jobs")
