"""``manage.py parking_simulate``: a simulated day of a car park's gate cameras and space
sensors (``agora.parking.simulator.simulate_day``), fed to the ingest directly or over MQTT.

    manage.py parking_simulate --car-park mixc-b1 --date 2025-06-07 --via direct
    manage.py parking_simulate --via mqtt --scale 0.5 --limit 500     # every car park

``--via direct`` calls ``event_ingest(via="simulator")`` in delivery order, with each event's
delivery time as its receipt time; ``--via mqtt`` publishes the events (QoS 1, waiting for
every acknowledgement) for the ``parking_ingest`` worker, which receives them now: simulate
a day that is over (the default is yesterday) so no read is from the future."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from agora.core.errors import NotFound
from agora.lib.timeutil import to_local
from agora.parking.models import CarPark
from agora.parking.mqtt import broker_url, publish_many, topic_prefix
from agora.parking.selectors import car_park_plan
from agora.parking.services.ingest import event_ingest
from agora.parking.simulator import CarParkPlan, SimEvent, simulate_day


class Command(BaseCommand):
    help = "Simulate a day of a car park's plate and occupancy events (direct or over MQTT)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--car-park", action="append", default=[], help="code (repeatable)")
        parser.add_argument("--date", default="", help="YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--scale", type=float, default=1.0, help="times the usual traffic")
        parser.add_argument("--misread-rate", type=float, default=0.03)
        parser.add_argument("--via", choices=("direct", "mqtt"), default="direct")
        parser.add_argument("--limit", type=int, default=0, help="only the first N events")
        parser.add_argument("--url", default="", help="broker URL (default: settings.MQTT_URL)")
        parser.add_argument("--timeout", type=float, default=120.0, help="MQTT publishing (s)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = (
                date.fromisoformat(options["date"])
                if options["date"]
                else to_local(timezone.now()).date() - timedelta(days=1)
            )
        except ValueError:
            raise CommandError("--date is YYYY-MM-DD") from None
        codes = options["car_park"] or list(
            CarPark.objects.order_by("code").values_list("code", flat=True)
        )
        if not codes:
            raise CommandError("no car park: build the demo (manage.py demo_district) first")
        prefix = topic_prefix()
        events: list[SimEvent] = []
        for code in codes:
            try:
                plan = CarParkPlan.from_dict(car_park_plan(code=code))
            except NotFound:
                raise CommandError(f"no car park {code!r}") from None
            events += simulate_day(
                car_park=plan,
                day=day,
                seed=options["seed"],
                scale=options["scale"],
                misread_rate=options["misread_rate"],
                prefix=prefix,
            )
        events.sort(key=lambda e: e.at)
        if options["limit"]:
            events = events[: options["limit"]]

        if options["via"] == "direct":
            outcomes: Counter[str] = Counter()
            for event in events:
                result = event_ingest(
                    payload=event.payload, topic=event.topic, via="simulator", received_at=event.at
                )
                outcomes[result.outcome] += 1
            self.stdout.write(
                json.dumps({"day": day.isoformat(), "events": len(events), **outcomes})
            )
            return
        url = options["url"] or broker_url()
        acked = publish_many(
            ((e.topic, e.body()) for e in events),
            url=url,
            client_id=f"agora-parking-simulate-{uuid.uuid4().hex[:8]}",
            timeout_s=options["timeout"],
        )
        self.stdout.write(
            json.dumps({"day": day.isoformat(), "events": len(events), "acked": acked})
        )
        if acked < len(events):
            raise CommandError(f"the broker acknowledged {acked} of {len(events)} events in time")
