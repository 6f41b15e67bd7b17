"""``manage.py demo_district``: build the deterministic demo district (see agora.district.demo)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agora.district.demo import (
    MALLS,
    SMALL,
    DemoConfig,
    DemoExists,
    DemoLogin,
    build_demo,
    demo_logins,
    demo_reset,
)
from agora.district.selectors import districts_all


class Command(BaseCommand):
    help = (
        "Build the demo district 星河商圈: malls, floor plans, shops, facilities, staff and "
        "shoppers, the same for the same --seed. Refuses if a district exists, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument(
            "--small", action="store_true", help="2 malls of 2 small floors, 10 shoppers"
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first delete ALL district and account data (and audit log, idempotency records)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="build only when there is no district yet; else just print the logins",
        )
        parser.add_argument(
            "--malls", type=int, default=None, help=f"number of malls (1–{len(MALLS)})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config: DemoConfig = SMALL if options["small"] else DemoConfig()
        if options["malls"] is not None:
            if not 1 <= options["malls"] <= len(MALLS):
                raise CommandError(f"--malls must be between 1 and {len(MALLS)}")
            config = dataclasses.replace(config, malls=options["malls"])
        if options["if_empty"] and not options["reset"] and districts_all().exists():
            self.stdout.write("the demo district is already built; its sign-ins:")
            self._logins(demo_logins())
            return
        started = time.monotonic()
        if options["reset"]:
            demo_reset()
            self.stdout.write("deleted all district and account data")
        try:
            result = build_demo(seed=options["seed"], config=config, progress=self.stdout.write)
        except DemoExists as exc:
            raise CommandError(str(exc)) from None
        elapsed = time.monotonic() - started

        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"demo district built in {elapsed:.1f} s (seed {options['seed']})")
        )
        counts = [
            ("malls", result.malls),
            ("floors", result.floors),
            ("zones", result.zones),
            ("shop units", result.shop_units),
            ("shops", result.shops),
            ("facilities", result.facilities),
            ("users", result.users),
        ]
        self.stdout.write("  " + ", ".join(f"{name} {n}" for name, n in counts))
        self.stdout.write("")
        self._logins(result.logins)

    def _logins(self, logins: list[DemoLogin]) -> None:
        rows = [("role", "login", "password", "note")]
        rows += [(x.role, x.login, x.password or "(SMS code)", x.note) for x in logins]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for i, row in enumerate(rows):
            cells = [row[c].ljust(widths[c]) for c in range(3)]
            self.stdout.write("  " + "  ".join([*cells, row[3]]))
            if i == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in [*widths, 4]))
        self.stdout.write(
            "\n  every mall i has mall-ops-i, shop-owner-i / shop-manager-i / shop-cashier-i "
            "(its 星巴克) and shop-owner-ib (another shop); shoppers are p138… with SMS login"
        )
