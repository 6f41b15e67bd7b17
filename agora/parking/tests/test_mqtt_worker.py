"""The MQTT ingest worker (``manage.py parking_ingest``) against real Mosquitto brokers on
127.0.0.1: the system broker for the end-to-end, malformed and duplicate cases, a private
broker of our own for the restart case (so the system broker is never disturbed).

The worker handles events in the thread that runs it, so these tests run it in the test's
own thread, inside the test's transaction, on the SMALL demo: its car park ``mixc-p`` (the
B1 level of 万象城). Publishers and the broker killer are other threads. The database-outage
case runs the command as deployed, in its own process, on a SQLite copy of the test database
(SQLite runs only: it locks that file). Every test uses its own topic prefix and client ids and
removes its broker session and retained messages, so runs never see each other. Under CI=true
an unreachable broker (or no mosquitto binary) fails the run instead of skipping it."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from django.core.management import call_command
from django.db import connection

from agora.lib.timeutil import SHANGHAI
from agora.parking.choices import SessionStatus
from agora.parking.management.commands.parking_ingest import IngestWorker
from agora.parking.models import IngestCounter, ParkingEvent, ParkingSession, Space
from agora.parking.mqtt import (
    availability_topic,
    broker_of,
    client_for,
    occupancy_topic,
    plate_topic,
    publish_many,
    subscriptions,
)
from agora.parking.selectors import availability_of, car_park_by_code, car_park_plan
from agora.parking.services import ingest
from agora.parking.simulator import CarParkPlan, simulate_day

pytestmark = pytest.mark.django_db

CI = os.environ.get("CI", "").lower() == "true"
SYSTEM_BROKER = os.environ.get("AGORA_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
CAR_PARK = "mixc-p"  # the SMALL demo's B1 car park: gates E1 (entry) and X1 (exit)
WEDNESDAY = date(2026, 3, 11)  # a working day (no public holiday): day prices


def _at(hh: int, mm: int) -> str:
    return datetime(2026, 3, 11, hh, mm, tzinfo=SHANGHAI).isoformat()


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _unavailable(reason: str) -> None:
    if CI:
        pytest.fail(f"{reason} (CI fails rather than skips)")
    pytest.skip(reason)


@pytest.fixture
def broker() -> str:
    host, port, _, _ = broker_of(SYSTEM_BROKER)
    if not _reachable(host, port):
        _unavailable(f"no MQTT broker at {host}:{port}")
    return SYSTEM_BROKER


@pytest.fixture
def prefix(settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A topic prefix of this test alone."""
    value = f"agora-test-{uuid.uuid4().hex[:10]}"
    settings.MQTT_TOPIC_PREFIX = value
    # the ingest reads the setting once, at import
    monkeypatch.setattr(ingest, "TOPIC_PREFIX", value)
    return value


@dataclass
class Cleanup:
    url: str
    client_ids: list[str]
    retained: list[str]


@pytest.fixture
def cleanup() -> Iterator[Cleanup]:
    """Forget the persistent sessions and retained messages a test leaves on a broker."""
    state = Cleanup(url="", client_ids=[], retained=[])
    yield state
    if not state.url:
        return
    host, port, _, _ = broker_of(state.url)
    if not _reachable(host, port):
        return
    for client_id in state.client_ids:  # a clean session replaces the stored one
        client = client_for(state.url, client_id=client_id, clean_session=True)
        client.connect(host, port, keepalive=5)
        client.disconnect()
    if state.retained:  # an empty retained message deletes the retained one
        publish_many(
            ((topic, b"") for topic in state.retained),
            url=state.url,
            client_id=f"cleanup-{uuid.uuid4().hex[:8]}",
            retain=True,
            timeout_s=10,
        )


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def _drive(
    worker: IngestWorker,
    publish: Callable[[], None],
    *,
    until: Callable[[IngestWorker], bool],
    timeout_s: float = 30.0,
) -> None:
    """Run the worker here (the test's thread and transaction); another thread publishes
    once it has subscribed, then stops it when ``until`` holds or the time is up."""
    errors: list[BaseException] = []

    def control() -> None:
        try:
            if not worker.ready.wait(10):
                raise AssertionError("the worker did not subscribe within 10 s")
            publish()
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and not until(worker):
                time.sleep(0.05)
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
        finally:
            worker.stop()

    thread = threading.Thread(target=control, daemon=True)
    thread.start()
    worker.run()
    thread.join(timeout_s + 15)
    if errors:
        raise errors[0]


def _retained(url: str, topic: str, timeout_s: float = 5.0) -> dict[str, Any]:
    """The retained message of ``topic`` (JSON)."""
    host, port, _, _ = broker_of(url)
    got: list[bytes] = []
    arrived = threading.Event()
    client = client_for(url, client_id=f"reader-{uuid.uuid4().hex[:8]}")

    def on_message(c: paho.Client, u: Any, msg: paho.MQTTMessage) -> None:
        got.append(bytes(msg.payload))
        arrived.set()

    client.on_message = on_message
    client.on_connect = lambda c, u, f, r, p: c.subscribe(topic, qos=1)
    client.connect(host, port, keepalive=5)
    client.loop_start()
    try:
        assert arrived.wait(timeout_s), f"no retained message on {topic}"
    finally:
        client.disconnect()
        client.loop_stop()
    data: dict[str, Any] = json.loads(got[0])
    return data


def _processed(n: int) -> Callable[[IngestWorker], bool]:
    return lambda w: w.messages >= n


def _fresh_space() -> Space:
    """A standard space of the car park no sensor has spoken for yet."""
    space = (
        Space.objects.filter(car_park__code=CAR_PARK, kind="standard", state_at__isnull=True)
        .order_by("code")
        .first()
    )
    assert space is not None
    return space


# --- 1. end to end -----------------------------------------------------------------------------
def test_entry_parking_and_exit_over_mqtt_make_a_priced_stay(
    broker: str, prefix: str, cleanup: Cleanup
) -> None:
    car_park = car_park_by_code(code=CAR_PARK)
    space = _fresh_space()
    plate = "粤B7Q2M9"
    assert not ParkingSession.objects.filter(plate=plate).exists()
    client_id = f"ingest-{prefix}"
    cleanup.url, cleanup.client_ids = broker, [client_id]
    cleanup.retained = [availability_topic(CAR_PARK, prefix=prefix)]
    gate_in, gate_out = plate_topic(CAR_PARK, "E1"), plate_topic(CAR_PARK, "X1")
    spot = occupancy_topic(CAR_PARK, space.code)
    events = [
        (gate_in, {"event_id": f"{prefix}-in", "plate": plate, "colour": "blue",
                   "confidence": 0.97, "at": _at(10, 0), "source": "video",
                   "image": "snap/E1/1.jpg"}),
        (spot, {"event_id": f"{prefix}-on", "occupied": True, "at": _at(10, 2),
                "plate": plate, "sensor": space.sensor}),
        (spot, {"event_id": f"{prefix}-off", "occupied": False, "at": _at(12, 5)}),
        (gate_out, {"event_id": f"{prefix}-out", "plate": plate, "colour": "blue",
                    "confidence": 0.95, "at": _at(12, 10), "source": "video"}),
    ]  # fmt: skip
    worker = IngestWorker(url=broker, client_id=client_id)

    def publish() -> None:
        sent = publish_many(
            [(t, _body(p)) for t, p in events], url=broker, client_id=f"pub-{prefix}", timeout_s=10
        )
        assert sent == 4

    _drive(worker, publish, until=_processed(4))

    stats = worker.stats()
    assert stats.pop("availability_published") >= 1  # debounced: at most once a second
    assert stats == {
        "applied": 4, "stale": 0, "review": 0, "rejected": 0, "duplicate": 0, "malformed": 0,
        "error": 0, "db_retry": 0, "messages": 4, "connections": 1,
    }  # fmt: skip
    session = ParkingSession.objects.get(plate=plate)
    assert session.car_park_id == car_park.pk
    assert session.entry_gate.code == "E1" and session.exit_gate is not None
    assert session.exit_gate.code == "X1"
    assert session.entered_at == datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI)
    assert session.exited_at == datetime(2026, 3, 11, 12, 10, tzinfo=SHANGHAI)
    assert session.space_id == space.pk
    assert session.entry_confidence == 0.97
    assert session.entry_image == "snap/E1/1.jpg"
    assert session.exit_plate == plate and session.match_score == 1.0
    # 2 h 10 min, more than the 15 free minutes: 9 started 15-minute day units at ¥2
    assert session.fee_fen == 1800
    assert session.status == SessionStatus.AWAITING_PAYMENT
    space.refresh_from_db()
    assert (space.occupied, space.plate) == (False, "")
    assert space.state_at == datetime(2026, 3, 11, 12, 5, tzinfo=SHANGHAI)
    rows = ParkingEvent.objects.filter(event_id__startswith=prefix).order_by("occurred_at")
    assert [(r.event_id, r.via, r.outcome) for r in rows] == [
        (f"{prefix}-in", "mqtt", "applied"),
        (f"{prefix}-on", "mqtt", "applied"),
        (f"{prefix}-off", "mqtt", "applied"),
        (f"{prefix}-out", "mqtt", "applied"),
    ]
    # the gate displays' retained message is the car park's availability now
    shown = _retained(broker, availability_topic(CAR_PARK, prefix=prefix))
    now = availability_of(car_park_id=car_park.pk)
    assert shown["car_park"] == CAR_PARK
    assert (shown["free"], shown["total"], shown["full"], shown["version"]) == (
        now["free"],
        now["total"],
        now["full"],
        now["version"],
    )


# --- 2. the broker restarts mid-stream -----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PrivateBroker:
    """A mosquitto of this test alone, persisting to a temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.conf = directory / "mosquitto.conf"
        (directory / "data").mkdir()
        self.conf.write_text(
            # started as root, mosquitto drops to the "mosquitto" user unless told to stay:
            # that user could not write the persistence file in our directory
            f"user {getpass.getuser()}\n"
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {directory / 'data'}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 100000\n"
            f"log_dest file {directory / 'mosquitto.log'}\n"
        )
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _reachable("127.0.0.1", self.port):
            assert self.process.poll() is None, "mosquitto exited"
            assert time.monotonic() < deadline, "mosquitto did not listen within 10 s"
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its sessions and queues on the way out."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    if not os.access(MOSQUITTO, os.X_OK):
        _unavailable(f"no mosquitto binary at {MOSQUITTO}")
    broker = PrivateBroker(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def test_every_event_is_applied_exactly_once_across_a_broker_restart(
    private_broker: PrivateBroker, prefix: str
) -> None:
    n = 400
    plan = CarParkPlan.from_dict(car_park_plan(code=CAR_PARK))
    stream, seen = [], set()
    for offset in range(4):  # a few days of the car park, first deliveries only
        day = WEDNESDAY + timedelta(days=offset)
        for e in simulate_day(car_park=plan, day=day, seed=11, prefix=prefix):
            if e.payload["event_id"] not in seen:
                seen.add(e.payload["event_id"])
                stream.append(e)
    stream = stream[:n]
    assert len(stream) == n
    ids = [e.payload["event_id"] for e in stream]
    entries = [e.payload["event_id"] for e in stream if "/gate/E1/" in e.topic]
    url = private_broker.url
    worker = IngestWorker(url=url, client_id="agora-parking-ingest")
    published: list[int] = []
    restarted_after: list[int] = []

    def publish() -> None:
        def paced() -> Iterator[tuple[str, bytes]]:
            for i, e in enumerate(stream):
                if i == n // 3:  # a third in: stop the broker, start it again
                    restarted_after.append(worker.messages)
                    threading.Thread(target=private_broker.restart, daemon=True).start()
                time.sleep(0.005)
                yield e.topic, e.body()

        published.append(publish_many(paced(), url=url, client_id="sim-pub", timeout_s=45))

    def applied_all(w: IngestWorker) -> bool:
        return bool(published) and w.messages - w.counts["duplicate"] >= n

    started = time.monotonic()
    _drive(worker, publish, until=applied_all, timeout_s=60)
    took = time.monotonic() - started

    assert private_broker.restarts == 1
    assert restarted_after and restarted_after[0] < n
    assert published == [n]
    assert worker.connections >= 2  # it came back by itself
    assert took < 60
    rows = list(ParkingEvent.objects.filter(event_id__in=ids).values_list("event_id", "via"))
    assert sorted(rows) == sorted((i, "mqtt") for i in ids)  # each once, none lost
    non_duplicate = sum(worker.counts[o] for o in ("applied", "stale", "review", "rejected"))
    assert non_duplicate == n
    assert worker.counts["malformed"] == worker.counts["error"] == 0
    assert worker.messages == n + worker.counts["duplicate"]
    # one stay per entry read: a redelivered entry never opened a second one
    assert ParkingSession.objects.filter(entry_event__in=entries).count() == len(entries)
    counter = {c.outcome: c.count for c in IngestCounter.objects.filter(via="mqtt")}
    assert counter.get("duplicate", 0) == worker.counts["duplicate"]
    assert sum(counter.get(o, 0) for o in ("applied", "stale", "review", "rejected")) == n


def _open_session(url: str, client_id: str, prefix: str) -> None:
    """Subscribe as the worker would and leave: the broker keeps its session and queues."""
    host, port, _, _ = broker_of(url)
    subscribed = threading.Event()
    client = client_for(url, client_id=client_id, clean_session=False)
    client.on_connect = lambda c, u, f, r, p: c.subscribe([(t, 1) for t in subscriptions(prefix)])
    client.on_subscribe = lambda c, u, mid, codes, p: subscribed.set()
    client.connect(host, port, keepalive=5)
    client.loop_start()
    try:
        assert subscribed.wait(5), "no SUBACK within 5 s"
    finally:
        client.disconnect()
        client.loop_stop()


# --- 3. malformed payloads -----------------------------------------------------------------
def test_malformed_payloads_are_counted_and_the_good_ones_applied(
    broker: str, prefix: str, cleanup: Cleanup
) -> None:
    """Published while the worker is down (its persistent session queues them): the command
    starts, takes them all, prints its counts."""
    client_id = f"ingest-{prefix}"
    cleanup.url, cleanup.client_ids = broker, [client_id]
    cleanup.retained = [availability_topic(CAR_PARK, prefix=prefix)]
    _open_session(broker, client_id, prefix)

    spaces = list(
        Space.objects.filter(car_park__code=CAR_PARK, kind="standard", state_at__isnull=True)
        .order_by("code")
        .values_list("code", flat=True)[:3]
    )
    good = [
        (occupancy_topic(CAR_PARK, code), _body({"event_id": f"{prefix}-ok{i}", "occupied": True,
                                                  "at": _at(9, i)}))
        for i, code in enumerate(spaces)
    ]  # fmt: skip
    spot = occupancy_topic(CAR_PARK, spaces[0])
    bad = [
        (spot, b"this is not JSON"),
        (spot, b"[1, 2, 3]"),
        (spot, _body({"occupied": True, "at": _at(9, 30)})),  # no event_id
        (spot, _body({"event_id": f"{prefix}-t", "occupied": True, "at": "half past nine"})),
        (
            occupancy_topic("no-such-car-park", "A001"),
            _body({"event_id": f"{prefix}-u", "occupied": True, "at": _at(9, 31)}),
        ),
        (spot, os.urandom(10_000)),
    ]
    mixed = [good[0], *bad[:3], good[1], *bad[3:], good[2]]
    counted_before = IngestCounter.objects.filter(via="mqtt", outcome="malformed").first()
    assert publish_many(mixed, url=broker, client_id=f"pub-{prefix}", timeout_s=10) == 9

    out = StringIO()
    call_command(
        "parking_ingest",
        url=broker,
        client_id=client_id,
        max_events=9,
        idle_exit=20,
        stats=True,
        stdout=out,
    )

    stats = json.loads(out.getvalue())
    assert {k: stats[k] for k in ("applied", "malformed", "error", "duplicate", "messages")} == {
        "applied": 3,
        "malformed": 6,
        "error": 0,
        "duplicate": 0,
        "messages": 9,
    }
    assert sorted(
        ParkingEvent.objects.filter(event_id__startswith=prefix).values_list("event_id", flat=True)
    ) == [f"{prefix}-ok0", f"{prefix}-ok1", f"{prefix}-ok2"]
    assert list(
        Space.objects.filter(car_park__code=CAR_PARK, code__in=spaces).values_list(
            "occupied", flat=True
        )
    ) == [True, True, True]
    counted = IngestCounter.objects.get(via="mqtt", outcome="malformed")
    assert counted.count == (counted_before.count if counted_before else 0) + 6


# --- 4. duplicates and reordering -----------------------------------------------------------
def test_a_redelivered_event_applies_once_and_a_late_one_never_undoes_a_newer(
    broker: str, prefix: str, cleanup: Cleanup
) -> None:
    space = _fresh_space()
    client_id = f"ingest-{prefix}"
    cleanup.url, cleanup.client_ids = broker, [client_id]
    cleanup.retained = [availability_topic(CAR_PARK, prefix=prefix)]
    spot = occupancy_topic(CAR_PARK, space.code)
    plate = "粤B5K8W3"
    entry = (plate_topic(CAR_PARK, "E1"), _body({"event_id": f"{prefix}-in", "plate": plate,
             "colour": "blue", "confidence": 0.96, "at": _at(14, 0), "source": "video"}))  # fmt: skip
    on = (spot, _body({"event_id": f"{prefix}-on", "occupied": True, "at": _at(14, 2),
                       "plate": plate}))  # fmt: skip
    off = (spot, _body({"event_id": f"{prefix}-off", "occupied": False, "at": _at(16, 0)}))
    late = (spot, _body({"event_id": f"{prefix}-late", "occupied": True, "at": _at(15, 0),
                         "plate": plate}))  # fmt: skip
    stream = [entry, entry, on, off, on, late]  # the entry twice, "on" again after "off"
    worker = IngestWorker(url=broker, client_id=client_id)

    def publish() -> None:
        assert publish_many(stream, url=broker, client_id=f"pub-{prefix}", timeout_s=10) == 6

    _drive(worker, publish, until=_processed(6))

    assert {k: worker.counts[k] for k in ("applied", "stale", "duplicate", "malformed")} == {
        "applied": 3,  # entry, on, off
        "stale": 1,  # the late "occupied" of 15:00 after the "free" of 16:00
        "duplicate": 2,  # the entry and "on" delivered again
        "malformed": 0,
    }
    assert ParkingSession.objects.filter(plate=plate).count() == 1
    assert ParkingEvent.objects.filter(event_id=f"{prefix}-in").count() == 1
    outcomes = dict(
        ParkingEvent.objects.filter(event_id__startswith=prefix).values_list("event_id", "outcome")
    )
    assert outcomes == {
        f"{prefix}-in": "applied",
        f"{prefix}-on": "applied",
        f"{prefix}-off": "applied",
        f"{prefix}-late": "stale",
    }
    space.refresh_from_db()
    assert (space.occupied, space.plate) == (False, "")
    assert space.state_at == datetime(2026, 3, 11, 16, 0, tzinfo=SHANGHAI)


# --- 5. the database away, then SIGTERM --------------------------------------------------------
def _wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout_s:.0f} s"
        time.sleep(0.1)


def _sqlite_copy(path: Path) -> str:
    """The test database (schema, the demo) in a WAL file another process can open. Copied
    as SQL: a backup cannot run while this test's transaction is open."""
    connection.ensure_connection()
    source = connection.connection
    script = "\n".join(source.iterdump())
    with sqlite3.connect(path) as target:
        target.execute("PRAGMA journal_mode=WAL")
        target.executescript(script)
    return f"sqlite:///{path}"


def test_a_locked_database_is_waited_out_and_sigterm_stops_the_worker_cleanly(
    broker: str, prefix: str, cleanup: Cleanup, tmp_path: Path
) -> None:
    """The worker as deployed (``manage.py parking_ingest`` in its own process) on a SQLite
    file copied from the test database. A writer holds the file's lock while the events come
    in: every write of the worker times out ("database is locked"); it keeps the messages
    unacknowledged, retries, and applies each once the lock is gone. Then SIGTERM."""
    if connection.vendor != "sqlite":
        pytest.skip("the outage is a SQLite writer's lock; the other cases cover PostgreSQL")
    path = tmp_path / "db.sqlite3"
    database_url = _sqlite_copy(path)
    client_id = f"ingest-{prefix}"
    cleanup.url, cleanup.client_ids = broker, [client_id]
    cleanup.retained = [availability_topic(CAR_PARK, prefix=prefix)]
    _open_session(broker, client_id, prefix)
    spaces = list(
        Space.objects.filter(car_park__code=CAR_PARK, kind="standard", state_at__isnull=True)
        .order_by("code")
        .values_list("code", flat=True)[:3]
    )
    events = [
        (occupancy_topic(CAR_PARK, code), _body({"event_id": f"{prefix}-{i}", "occupied": True,
                                                  "at": _at(11, i)}))
        for i, code in enumerate(spaces)
    ]  # fmt: skip
    assert publish_many(events, url=broker, client_id=f"pub-{prefix}", timeout_s=10) == 3

    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "agora.settings",
        "SQLITE_BUSY_TIMEOUT": "1",
        "MQTT_TOPIC_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
    }
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "parking_ingest", "--url", broker,
             "--client-id", client_id, "--idle-exit", "60", "--stats", "--skip-checks"],
            cwd=Path(__file__).resolve().parents[3],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
        )  # fmt: skip
    try:
        _wait_for(
            lambda: b"database unavailable" in log_path.read_bytes(),
            30,
            "the worker did not meet the lock",
        )
        stored = "SELECT count(*) FROM parking_parkingevent WHERE event_id LIKE ?"
        assert lock.execute(stored, (f"{prefix}-%",)).fetchone() == (0,)
        lock.execute("ROLLBACK")
        lock.close()
        with sqlite3.connect(path) as db:
            _wait_for(
                lambda: db.execute(stored, (f"{prefix}-%",)).fetchone() == (3,),
                30,
                "the events were not applied after the lock went",
            )
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(5)
    assert worker.returncode == 0, log_path.read_text()
    stats = json.loads(out.decode().strip().splitlines()[-1])
    assert stats["db_retry"] >= 1
    assert {k: stats[k] for k in ("applied", "duplicate", "malformed", "error", "messages")} == {
        "applied": 3,
        "duplicate": 0,
        "malformed": 0,
        "error": 0,
        "messages": 3,
    }
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT code, occupied FROM parking_space WHERE code IN (?, ?, ?) AND car_park_id = "
            "(SELECT id FROM parking_carpark WHERE code = ?) ORDER BY code",
            (*spaces, CAR_PARK),
        ).fetchall()
    assert rows == [(code, 1) for code in sorted(spaces)]
