"""MQTT for smart parking: the topic scheme, the broker URL, and a bounded, reconnecting
QoS 1 publisher (``publish_many``) for the simulator, the bench and the tests.

Topics (``<prefix>`` is ``settings.MQTT_TOPIC_PREFIX``, "agora" by default; the full scheme and
the payloads are in docs/modules/parking-mqtt.md)::

    <prefix>/parking/<car_park>/gate/<gate>/plate          gate cameras -> Agora
    <prefix>/parking/<car_park>/space/<space>/occupancy    space sensors -> Agora
    <prefix>/parking/<car_park>/availability               Agora -> gate displays (retained)

The worker (``manage.py parking_ingest``) subscribes to ``subscriptions()``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

DEFAULT_PREFIX: Final = "agora"
DEFAULT_URL: Final = "mqtt://127.0.0.1:1883"

#: the filters the ingest worker subscribes to, below ``<prefix>/`` (see ``subscriptions``)
SUBSCRIPTIONS: Final = ("parking/+/gate/+/plate", "parking/+/space/+/occupancy")

_SCHEMES: Final = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


def topic_prefix() -> str:
    """``settings.MQTT_TOPIC_PREFIX`` ("agora" when unset)."""
    from django.conf import settings

    return str(getattr(settings, "MQTT_TOPIC_PREFIX", DEFAULT_PREFIX))


def broker_url() -> str:
    """``settings.MQTT_URL`` (mqtt://127.0.0.1:1883 when unset)."""
    from django.conf import settings

    return str(getattr(settings, "MQTT_URL", DEFAULT_URL) or DEFAULT_URL)


def broker_of(url: str) -> tuple[str, int, str | None, str | None]:
    """``mqtt://[user:password@]host[:port]`` → (host, port, username, password); the port
    defaults to 1883 (8883 for ``mqtts://``). Raise ValueError for another scheme."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"not an MQTT URL (mqtt:// or mqtts://): {parts.scheme}://...")
    if not parts.hostname:
        raise ValueError("the MQTT URL has no host")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return parts.hostname, parts.port or _SCHEMES[parts.scheme], username, password


def uses_tls(url: str) -> bool:
    return urlsplit(url).scheme in ("mqtts", "ssl")


def _segment(value: str, what: str) -> str:
    if not value or any(c in value for c in "/+#\x00"):
        raise ValueError(f"{what} {value!r} cannot be a topic level (empty, or / + # in it)")
    return value


def _prefix(prefix: str | None) -> str:
    return topic_prefix() if prefix is None else prefix


def plate_topic(car_park: str, gate: str, *, prefix: str | None = None) -> str:
    """Where the camera of ``gate`` of ``car_park`` (codes) publishes its plate reads."""
    cp, g = _segment(car_park, "car park code"), _segment(gate, "gate code")
    return f"{_prefix(prefix)}/parking/{cp}/gate/{g}/plate"


def occupancy_topic(car_park: str, space: str, *, prefix: str | None = None) -> str:
    """Where the sensor of ``space`` of ``car_park`` (codes) publishes occupancy."""
    cp, s = _segment(car_park, "car park code"), _segment(space, "space code")
    return f"{_prefix(prefix)}/parking/{cp}/space/{s}/occupancy"


def availability_topic(car_park: str, *, prefix: str | None = None) -> str:
    """Where Agora publishes the car park's free spaces (retained, QoS 1)."""
    return f"{_prefix(prefix)}/parking/{_segment(car_park, 'car park code')}/availability"


def subscriptions(prefix: str | None = None) -> tuple[str, ...]:
    """The two wildcard filters of the ingest worker, under ``prefix``."""
    p = _prefix(prefix)
    return tuple(f"{p}/{f}" for f in SUBSCRIPTIONS)


def client_for(
    url: str,
    *,
    client_id: str,
    clean_session: bool = True,
    manual_ack: bool = False,
    reconnect_max_s: int = 2,
) -> paho.Client:
    """A paho client (callback API v2, MQTT 3.1.1) for the broker of ``url``: credentials
    and TLS from the URL, reconnecting after 1 s, then at most every ``reconnect_max_s``.
    Not connected yet (``connect_async`` + ``loop_start``, or ``connect``)."""
    _, _, username, password = broker_of(url)
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=paho.MQTTv311,
        manual_ack=manual_ack,
    )
    if username is not None:
        client.username_pw_set(username, password)
    if uses_tls(url):
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=max(1, reconnect_max_s))
    return client


def publish_many(
    events: Iterable[tuple[str, bytes]],
    *,
    url: str | None = None,
    client_id: str,
    qos: int = 1,
    timeout_s: float = 60.0,
    retain: bool = False,
    window: int = 1000,
) -> int:
    """Publish ``(topic, payload)`` pairs in order and wait for the broker's PUBACK of each
    (QoS 1; QoS 2: PUBCOMP). At most ``window`` messages are unacknowledged at once. If the
    connection drops the client reconnects by itself and resends what was not acknowledged
    (with the DUP flag: subscribers may see a message twice, which event ids make harmless).

    Returns how many messages the broker acknowledged: all of them, unless ``timeout_s``
    (for the whole call, connecting included) ran out first. QoS 0 messages are counted
    when written to the socket; one published while disconnected is lost."""
    if qos not in (0, 1, 2):
        raise ValueError("qos is 0, 1 or 2")
    url = url or broker_url()
    host, port, _, _ = broker_of(url)
    deadline = time.monotonic() + timeout_s
    client = client_for(url, client_id=client_id, clean_session=True)
    client.max_inflight_messages_set(min(window, 200))
    client.max_queued_messages_set(0)
    slots = threading.Semaphore(window)
    connected = threading.Event()
    done = threading.Condition()
    acked = 0

    def on_connect(c: paho.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        if not reason.is_failure:
            connected.set()

    def on_disconnect(c: paho.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        connected.clear()

    def on_publish(c: paho.Client, u: Any, mid: int, reason: Any, p: Any) -> None:
        nonlocal acked
        with done:
            acked += 1
            done.notify_all()
        slots.release()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_publish = on_publish
    client.connect_async(host, port, keepalive=15)
    client.loop_start()
    sent = 0
    try:
        if not connected.wait(max(0.0, deadline - time.monotonic())):
            return 0
        for topic, payload in events:
            if not slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break
            if qos == 0 and not connected.wait(max(0.0, deadline - time.monotonic())):
                break
            client.publish(topic, payload, qos=qos, retain=retain)
            sent += 1
        with done:
            done.wait_for(lambda: acked >= sent, timeout=max(0.0, deadline - time.monotonic()))
            return acked
    finally:
        client.disconnect()
        client.loop_stop()
