"""``manage.py parking_ingest``: the MQTT ingest worker of smart parking.

It subscribes (QoS 1, persistent session under a fixed client id) to the plate and occupancy
topics (``agora.parking.mqtt.subscriptions``), hands every message to
``agora.parking.services.ingest.event_ingest(via="mqtt")`` and acknowledges it (PUBACK, paho's
manual ack) only once ``event_ingest`` has returned, i.e. once the event and its effect are
committed. A worker that dies before that leaves the message unacknowledged, and the broker
delivers it again when the worker's session reconnects; the event id makes the second
delivery a ``duplicate``. After the events of a car park it publishes the car park's
availability, retained, at most once a second per car park (and once more at shutdown).

Guarantees and limits are in docs/modules/parking-mqtt.md. In short:

* at-least-once delivery, applied at most once: exactly once in effect;
* the network runs in paho's thread; events are handled one by one in the thread that calls
  ``IngestWorker.run`` (the command's main thread), so the database connection is that
  thread's; a message received on a connection that has since dropped is handled but not
  acknowledged (the broker redelivers it on the new connection and it counts as duplicate);
* a database that is away (OperationalError, InterfaceError) is retried with backoff, the
  message left unacknowledged, until it is back or the worker stops; any other exception is
  logged with the topic, counted as ``error`` and the message acknowledged, so one poison
  message cannot wedge the worker;
* the broker going away is survived: paho reconnects (1 s, then every 2 s) and the worker
  subscribes again on every connect.

Options for tests and the bench: ``--max-events N`` (stop after N messages), ``--idle-exit S``
(stop after S seconds without a message), ``--stats`` (print the counts as JSON on stdout at
exit). SIGTERM and SIGINT stop it cleanly (the message in hand is finished first).
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import threading
import time
from collections import Counter
from types import FrameType
from typing import Any

import paho.mqtt.client as paho
from django.core.management.base import BaseCommand, CommandParser
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from agora.parking.models import CarPark
from agora.parking.mqtt import (
    availability_topic,
    broker_of,
    broker_url,
    client_for,
    subscriptions,
    topic_prefix,
)
from agora.parking.selectors import availability_of
from agora.parking.services.ingest import event_ingest

log = logging.getLogger("agora.parking.ingest")

DEFAULT_CLIENT_ID = "agora-parking-ingest"
OUTCOMES = ("applied", "stale", "review", "rejected", "duplicate", "malformed", "error")
#: outcomes after which the car park's free spaces may have changed
CHANGES_AVAILABILITY = frozenset({"applied", "review"})
DB_HOUSEKEEPING_S = 30.0  # how often an idle worker lets Django drop an old connection


def _reset_db() -> None:
    """Let Django drop a broken or expired connection (never inside a transaction: a test
    runs the worker inside its own)."""
    if not connection.in_atomic_block:
        close_old_connections()


class IngestWorker:
    """One worker: ``run()`` blocks until ``stop()``, ``max_events`` messages or
    ``idle_exit`` seconds without a message; ``counts`` has the outcomes so far."""

    def __init__(
        self,
        *,
        url: str | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        prefix: str | None = None,
        max_events: int = 0,
        idle_exit: float = 0.0,
        availability_every: float = 1.0,
        keepalive: int = 15,
    ) -> None:
        self.url = url or broker_url()
        self.client_id = client_id
        self.prefix = topic_prefix() if prefix is None else prefix
        self.max_events = max_events
        self.idle_exit = idle_exit
        self.availability_every = availability_every
        self.keepalive = keepalive
        self.counts: Counter[str] = Counter({o: 0 for o in OUTCOMES})
        self.messages = 0
        self.availability_published = 0
        self.connections = 0
        self.ready = threading.Event()  # subscribed at least once
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._inbox: queue.Queue[tuple[int, paho.MQTTMessage]] = queue.Queue()
        self._lock = threading.Lock()
        self._generation = 0  # bumped on every connect and disconnect
        self._dirty: set[int] = set()
        self._published_at: dict[int, float] = {}
        self._codes: dict[int, str] = {}
        self.client = client_for(
            self.url, client_id=client_id, clean_session=False, manual_ack=True
        )
        self._paho_log = logging.getLogger("agora.parking.ingest.paho")
        self.client.enable_logger(self._paho_log)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _quiet_after_stop(self, record: logging.LogRecord) -> bool:
        """paho's network thread takes one more turn after ``disconnect()`` and logs it as
        an error; after ``stop()`` that is expected."""
        return not (self._stop.is_set() and "not connected" in record.getMessage())

    # --- paho's network thread ----------------------------------------------------------------
    def _on_connect(self, client: paho.Client, u: Any, flags: Any, reason: Any, p: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connection refused", extra={"reason": str(reason)})
            return
        with self._lock:
            self._generation += 1
            self.connections += 1
        self.connected.set()
        log.info(
            "MQTT connected",
            extra={"client_id": self.client_id, "session_present": flags.session_present},
        )
        client.subscribe([(f, 1) for f in subscriptions(self.prefix)])

    def _on_subscribe(self, client: paho.Client, u: Any, mid: int, codes: Any, p: Any) -> None:
        failed = [str(c) for c in codes if c.is_failure]
        if failed:
            log.error("MQTT subscription refused", extra={"reasons": failed})
            return
        self.ready.set()

    def _on_disconnect(self, client: paho.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        with self._lock:
            self._generation += 1
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT connection lost; reconnecting", extra={"reason": str(reason)})

    def _on_message(self, client: paho.Client, u: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            generation = self._generation
        self._inbox.put((generation, msg))

    # --- the handling thread ------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run(self) -> Counter[str]:
        host, port, _, _ = broker_of(self.url)
        self._paho_log.addFilter(self._quiet_after_stop)
        self.client.connect_async(host, port, keepalive=self.keepalive)
        self.client.loop_start()
        last_message = last_housekeeping = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    generation, msg = self._inbox.get(timeout=0.1)
                except queue.Empty:
                    now = time.monotonic()
                    self._publish_availability()
                    if self.idle_exit and now - last_message >= self.idle_exit:
                        break
                    if now - last_housekeeping >= DB_HOUSEKEEPING_S:
                        _reset_db()
                        last_housekeeping = now
                    continue
                self._handle(generation, msg)
                self.messages += 1
                last_message = time.monotonic()
                self._publish_availability()
                if self.max_events and self.messages >= self.max_events:
                    break
        finally:
            self._publish_availability(final=True)
            self._stop.set()
            self.client.disconnect()
            self.client.loop_stop()
            self._paho_log.removeFilter(self._quiet_after_stop)
        return self.counts

    def _handle(self, generation: int, msg: paho.MQTTMessage) -> None:
        attempt = 0
        while True:
            try:
                result = event_ingest(payload=msg.payload, topic=msg.topic, via="mqtt")
                break
            except (OperationalError, InterfaceError) as exc:
                attempt += 1
                self.counts["db_retry"] += 1
                log.warning(
                    "database unavailable; retrying the event",
                    extra={"error": str(exc)[:200], "attempt": attempt},
                )
                _reset_db()
                if self._stop.wait(min(5.0, 0.2 * 2**attempt)):
                    return  # not acknowledged: the broker delivers it again
            except Exception:
                self.counts["error"] += 1
                log.exception(
                    "parking event failed",
                    extra={"topic": _topic_of(msg), "payload": msg.payload[:200].hex()},
                )
                _reset_db()
                self._ack(generation, msg)
                return
        self.counts[result.outcome] += 1
        self._ack(generation, msg)
        if result.outcome in CHANGES_AVAILABILITY and result.car_park_id is not None:
            self._dirty.add(result.car_park_id)

    def _ack(self, generation: int, msg: paho.MQTTMessage) -> None:
        if msg.qos == 0:
            return
        with self._lock:
            current = generation == self._generation
        if current:
            self.client.ack(msg.mid, msg.qos)
        else:  # the connection it came on is gone: the broker sends it again
            log.debug("not acknowledged: its connection dropped", extra={"mid": msg.mid})

    def _publish_availability(self, *, final: bool = False) -> None:
        now = time.monotonic()
        for car_park_id in sorted(self._dirty):
            last = self._published_at.get(car_park_id)
            if not final and last is not None and now - last < self.availability_every:
                continue
            try:
                code = self._codes.get(car_park_id)
                if code is None:
                    code = CarPark.objects.values_list("code", flat=True).get(pk=car_park_id)
                    self._codes[car_park_id] = code
                data = availability_of(car_park_id=car_park_id)
            except (OperationalError, InterfaceError):
                log.warning("availability not published: database unavailable")
                _reset_db()
                return  # still dirty: tried again next time
            except Exception:
                log.exception("availability failed", extra={"car_park_id": car_park_id})
                self._dirty.discard(car_park_id)
                continue
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
            self.client.publish(
                availability_topic(code, prefix=self.prefix), body.encode(), qos=1, retain=True
            )
            self.availability_published += 1
            self._published_at[car_park_id] = now
            self._dirty.discard(car_park_id)

    def stats(self) -> dict[str, int]:
        return {
            **{o: self.counts[o] for o in OUTCOMES},
            "db_retry": self.counts["db_retry"],
            "messages": self.messages,
            "availability_published": self.availability_published,
            "connections": self.connections,
        }


def _topic_of(msg: paho.MQTTMessage) -> str:
    try:
        return msg.topic
    except UnicodeDecodeError:
        return repr(msg._topic[:120])


class Command(BaseCommand):
    help = "Apply the plate and occupancy events of the MQTT broker (the parking ingest worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="", help="broker URL (default: settings.MQTT_URL)")
        parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
        parser.add_argument(
            "--prefix", default=None, help="topic prefix (default: settings.MQTT_TOPIC_PREFIX)"
        )
        parser.add_argument("--max-events", type=int, default=0, help="stop after N messages")
        parser.add_argument(
            "--idle-exit", type=float, default=0.0, help="stop after S seconds without a message"
        )
        parser.add_argument(
            "--availability-interval",
            type=float,
            default=1.0,
            help="publish a car park's availability at most this often (seconds)",
        )
        parser.add_argument("--stats", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = IngestWorker(
            url=options["url"] or None,
            client_id=options["client_id"],
            prefix=options["prefix"],
            max_events=options["max_events"],
            idle_exit=options["idle_exit"],
            availability_every=options["availability_interval"],
        )
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():

            def stop(signum: int, frame: FrameType | None) -> None:
                log.info("stopping", extra={"signal": signum})
                worker.stop()

            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, stop)
        try:
            worker.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if options["stats"]:
            self.stdout.write(json.dumps(worker.stats(), sort_keys=True))
