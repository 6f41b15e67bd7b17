"""``manage.py payments_tick [--loop SECONDS]``: close timed-out orders (after asking each
provider) and deliver the sandbox's due notifications. Cron runs it every minute, or it loops
itself (bounded by ``--max-runs``)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from agora.checkout.jobs import close_expired_orders, deliver_sandbox_notices


class Command(BaseCommand):
    help = "Close timed-out orders and deliver the sandbox's due notifications."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=float, default=0, help="repeat every N seconds")
        parser.add_argument("--max-runs", type=int, default=0, help="stop after N runs (0: no)")

    def handle(self, *args: Any, **options: Any) -> None:
        runs = 0
        while True:
            closed = close_expired_orders.call()
            delivered = deliver_sandbox_notices.call()
            self.stdout.write(f"orders closed: {closed}; sandbox notices delivered: {delivered}")
            runs += 1
            if not options["loop"] or (options["max_runs"] and runs >= options["max_runs"]):
                return
            time.sleep(options["loop"])
