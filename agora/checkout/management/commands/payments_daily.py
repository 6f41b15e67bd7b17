"""``manage.py payments_daily [--date YYYY-MM-DD]``: reconcile a day's payments and refunds
with every provider's bill (default: yesterday) and print the mismatches."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agora.checkout.jobs import reconcile_payments


class Command(BaseCommand):
    help = "Reconcile a day's payments with each provider's bill file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default=None, help="the day (default: yesterday)")

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["date"]
        if day is not None:
            try:
                day = date.fromisoformat(day).isoformat()
            except ValueError:
                raise CommandError("--date must be a date such as 2026-11-21") from None
        result = reconcile_payments.call(day)
        for provider, mismatched in sorted(result.items()):
            verdict = "bill unavailable" if mismatched < 0 else f"{mismatched} mismatches"
            self.stdout.write(f"{provider}: {verdict}")
