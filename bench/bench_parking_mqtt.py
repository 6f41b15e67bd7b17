"""Parking events over MQTT: what the ingest worker applies per second, as a ratio to a bare
subscriber that only counts the same messages, both measured in the same run against the same
broker on this machine (the machine is shared and noisy: ratios travel, absolutes don't).

    .venv/bin/python bench/bench_parking_mqtt.py                 # SQLite, 20,000 events
    .venv/bin/python bench/bench_parking_mqtt.py --postgres      # and PostgreSQL too
    .venv/bin/python bench/bench_parking_mqtt.py --events 5000 --url mqtt://127.0.0.1:1883

Per database (each in its own process) the bench migrates a scratch database (a temporary
SQLite file; with --postgres also ``agora_bench_<pid>`` on the server, dropped at the end),
builds the SMALL demo district (seed 42: two malls, each with its car park) and simulates
consecutive days of both car parks (``agora.parking.simulator``, seed 1, from the Monday after
today) until it has ``--events`` events: plate reads and occupancy with their misreads,
no-plate tickets, redeliveries and late events. Then:

(a) bare: a paho subscriber (persistent session, QoS 1, manual ack like the worker) that only
    counts; the events are published with ``publish_many`` (QoS 1, every PUBACK awaited);
(b) ingest: ``IngestWorker`` (what ``manage.py parking_ingest`` runs) applies the same
    events through ``event_ingest`` and publishes availability (debounced, 1 s). The ingest
    is far slower than the broker, so it runs for ``--budget`` seconds (45 unless told; 0:
    until every event is applied) and its rate is what it applied in that time.

The publisher stays at most ``--ahead`` messages ahead of the subscriber: Mosquitto queues
only ``max_queued_messages`` (1,000 by default) per client and drops the rest, so an
unthrottled publisher would measure the broker's dropping, not the consumer. Topics carry a
prefix of this run and client ids are unique, so nothing else on the broker is disturbed;
the sessions are removed at the end. Every count is checked: each message arrives, each event
is stored once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--url", default="mqtt://127.0.0.1:1883", help="the broker")
    parser.add_argument("--ahead", type=int, default=500, help="publisher lead (messages)")
    parser.add_argument(
        "--budget", type=float, default=45.0, help="seconds for (b); 0: all the events"
    )
    parser.add_argument(
        "--postgres", nargs="?", const=DEFAULT_PG, default="", help="also PostgreSQL (URL)"
    )
    parser.add_argument("--backend", default="", help=argparse.SUPPRESS)
    parser.add_argument("--result", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        child(args)
        return

    backends = [("SQLite", "")] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
    results = []
    with tempfile.TemporaryDirectory(prefix="agora-bench-") as tmp:
        for name, url in backends:
            out = Path(tmp) / f"{name}.json"
            command = [
                sys.executable,
                __file__,
                "--backend",
                url or "sqlite",
                "--result",
                str(out),
                "--events",
                str(args.events),
                "--url",
                args.url,
                "--ahead",
                str(args.ahead),
                "--budget",
                str(args.budget),
            ]
            subprocess.run(command, check=True)  # noqa: S603 - this script, our arguments
            results.append((name, json.loads(out.read_text())))
    print()
    head = (
        f"{'database':12} {'bare: msgs':>10} {'msg/s':>8} {'ingest: events':>15} {'ev/s':>7} "
        f"{'ms/event':>9} {'ingest/bare':>12}"
    )
    print(head)
    print("-" * len(head))
    for name, r in results:
        print(
            f"{name:12} {r['events']:10d} {r['bare_per_s']:8,.0f} {r['ingested']:15d} "
            f"{r['ingest_per_s']:7,.0f} {1e3 / r['ingest_per_s']:9.1f} "
            f"{r['ingest_per_s'] / r['bare_per_s']:12.4f}"
        )


def _scratch_postgres(url: str) -> tuple[str, Callable[[], None]]:
    """Create agora_bench_<pid> on the server of ``url``; return its URL and a dropper."""
    import psycopg

    parsed = urlparse(url)
    name = f"agora_bench_{os.getpid()}"
    admin = urlunparse(parsed._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunparse(parsed._replace(path=f"/{name}")), drop


def child(args: argparse.Namespace) -> None:
    drop: Callable[[], None] | None = None
    tmp = ""
    if args.backend.startswith("postgres"):
        url, drop = _scratch_postgres(args.backend)
        where = f"PostgreSQL, scratch database {urlparse(url).path[1:]}"
    else:
        tmp = tempfile.mkdtemp(prefix="agora-bench-")
        url = f"sqlite:///{tmp}/bench.sqlite3"
        where = f"SQLite (WAL) {tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "agora.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    try:
        result = run(args, where=where)
        Path(args.result).write_text(json.dumps(result))
    finally:
        from django.db import connections

        connections.close_all()
        if drop is not None:
            drop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _throttled(
    events: list[tuple[str, bytes]], consumed: Callable[[], int], ahead: int, deadline: float
) -> Iterator[tuple[str, bytes]]:
    for i, event in enumerate(events):
        while i - consumed() >= ahead and time.monotonic() < deadline:
            time.sleep(0.0005)
        yield event


def _forget_sessions(url: str, client_ids: list[str]) -> None:
    from agora.parking.mqtt import broker_of, client_for

    host, port, _, _ = broker_of(url)
    for client_id in client_ids:
        client = client_for(url, client_id=client_id, clean_session=True)
        client.connect(host, port, keepalive=5)
        client.disconnect()


def bare_subscriber(
    url: str, prefix: str, events: list[tuple[str, bytes]], ahead: int, timeout_s: float
) -> float:
    """(a): messages per second through a subscriber that only counts them."""
    import paho.mqtt.client as paho

    from agora.parking.mqtt import broker_of, client_for, publish_many, subscriptions

    n = len(events)
    host, port, _, _ = broker_of(url)
    client_id = f"bench-bare-{prefix}"
    client = client_for(url, client_id=client_id, clean_session=False, manual_ack=True)
    received = 0
    ready, finished = threading.Event(), threading.Event()

    def on_connect(c: paho.Client, u: Any, f: Any, r: Any, p: Any) -> None:
        c.subscribe([(t, 1) for t in subscriptions(prefix)])

    def on_message(c: paho.Client, u: Any, msg: paho.MQTTMessage) -> None:
        nonlocal received
        received += 1
        c.ack(msg.mid, msg.qos)
        if received >= n:
            finished.set()

    client.on_connect = on_connect
    client.on_subscribe = lambda c, u, mid, codes, p: ready.set()
    client.on_message = on_message
    client.connect(host, port, keepalive=15)
    client.loop_start()
    try:
        assert ready.wait(10), "the bare subscriber did not subscribe"
        started = time.monotonic()
        deadline = started + timeout_s
        acked = publish_many(
            _throttled(events, lambda: received, ahead, deadline),
            url=url,
            client_id=f"bench-pub-a-{prefix}",
            timeout_s=timeout_s,
        )
        finished.wait(max(0.0, deadline - time.monotonic()))
        took = time.monotonic() - started
    finally:
        client.disconnect()
        client.loop_stop()
        _forget_sessions(url, [client_id])
    assert acked == n, f"the broker acknowledged {acked} of {n}"
    assert received == n, f"the bare subscriber got {received} of {n}"
    return n / took


def run(args: argparse.Namespace, *, where: str) -> dict[str, Any]:
    import django

    django.setup()
    for noisy in ("weasyprint", "fontTools"):
        import logging

        logging.getLogger(noisy).setLevel(logging.ERROR)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from agora.district.demo import SMALL, build_demo
    from agora.lib.timeutil import SHANGHAI
    from agora.parking.management.commands.parking_ingest import IngestWorker
    from agora.parking.models import CarPark, ParkingEvent
    from agora.parking.mqtt import availability_topic, publish_many
    from agora.parking.selectors import car_park_plan
    from agora.parking.services import ingest
    from agora.parking.simulator import CarParkPlan, simulate_day

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    build_demo(seed=42, config=SMALL)
    codes = list(CarPark.objects.order_by("code").values_list("code", flat=True))
    print(f"{where}: migrated and built the SMALL demo in {time.perf_counter() - started:.1f} s")

    prefix = f"bench-{uuid.uuid4().hex[:10]}"
    settings.MQTT_TOPIC_PREFIX = prefix
    if hasattr(ingest, "TOPIC_PREFIX"):  # read from the settings at import
        ingest.TOPIC_PREFIX = prefix
    plans = [CarParkPlan.from_dict(car_park_plan(code=c)) for c in codes]
    # from the Monday after today: the demo's cars parked now are older than every event,
    # so no sensor event of the run is stale because of them
    today = datetime.now(SHANGHAI).date()
    first_day = day = today + timedelta(days=7 - today.weekday())
    sim: list[Any] = []
    while len(sim) < args.events:
        for plan in plans:
            sim += sorted(
                simulate_day(car_park=plan, day=day, seed=1, prefix=prefix), key=lambda e: e.at
            )
        day += timedelta(days=1)
    sim = sorted(sim, key=lambda e: e.at)[: args.events]
    events = [(e.topic, e.body()) for e in sim]
    n = len(events)
    distinct = len({e.payload["event_id"] for e in sim})
    spaces = sum(len(p.spaces) for p in plans)
    print(
        f"workload: {n} events ({n - distinct} redeliveries) of {len(plans)} car parks "
        f"({spaces} spaces), {first_day} to {day - timedelta(days=1)}; broker {args.url}"
    )
    timeout_s = 600.0

    bare = bare_subscriber(args.url, prefix, events, args.ahead, timeout_s)
    print(f"(a) bare subscriber: {bare:,.0f} messages/s")

    worker_id = f"bench-ingest-{prefix}"
    worker = IngestWorker(url=args.url, client_id=worker_id, prefix=prefix)
    acked: list[int] = []
    clock: list[float] = []
    handled: list[int] = []

    def publish() -> None:
        if not worker.ready.wait(10):
            worker.stop()
            return
        clock.append(time.monotonic())
        budget_end = clock[0] + (args.budget or timeout_s)
        feeder = threading.Thread(
            target=lambda: acked.append(
                publish_many(
                    _throttled(events, lambda: worker.messages, args.ahead, budget_end),
                    url=args.url,
                    client_id=f"bench-pub-b-{prefix}",
                    timeout_s=timeout_s,
                )
            ),
            daemon=True,
        )
        feeder.start()
        while worker.messages < n and time.monotonic() < budget_end:
            time.sleep(0.001)
        clock.append(time.monotonic())
        handled.append(worker.messages)
        worker.stop()  # what was published and not handled goes with the session
        feeder.join(timeout_s)

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    try:
        worker.run()
    finally:
        thread.join(30)
        _forget_sessions(args.url, [worker_id])
        publish_many(  # no retained availability of this run is left on the broker
            ((availability_topic(c, prefix=prefix), b"") for c in codes),
            url=args.url,
            client_id=f"bench-clean-{prefix}",
            retain=True,
            timeout_s=10,
        )
    took = clock[1] - clock[0]
    done = handled[0]
    ingest_rate = done / took
    stored = ParkingEvent.objects.filter(via="mqtt").count()
    expected = len({e.payload["event_id"] for e in sim[: worker.messages]})
    assert acked and acked[0] >= worker.messages, f"the broker acknowledged {acked}"
    assert stored == expected, f"{stored} events stored, {expected} distinct handled"
    if done < n:
        print(f"    (the {args.budget:.0f} s budget ran out: {done} of {n} events applied)")
    stats = worker.stats()
    outcomes = ", ".join(
        f"{k} {stats[k]}"
        for k in ("applied", "stale", "review", "rejected", "duplicate")
        if stats[k]
    )
    print(
        f"(b) ingest worker on {connection.vendor}: {ingest_rate:,.0f} events/s "
        f"({1e3 / ingest_rate:,.1f} ms an event; {outcomes}; "
        f"{stats['availability_published']} availability messages)"
    )
    print(f"    ratio ingest/bare: {ingest_rate / bare:.4f}")
    return {"events": n, "ingested": done, "bare_per_s": bare, "ingest_per_s": ingest_rate}


if __name__ == "__main__":
    main()
