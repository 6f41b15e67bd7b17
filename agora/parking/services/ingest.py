"""Device events in: plate reads from the gate cameras and occupancy from the space sensors,
over MQTT (the ``parking_ingest`` worker), the HTTP ingest API or the simulator.

Every path ends in ``event_ingest``: parse and check the payload (a malformed one is logged
and counted, never raised), then store the event row and apply it in ONE transaction. The
event id is unique, so a redelivered event (MQTT QoS 1 is at-least-once) finds its row and is
a duplicate: each event is applied once in effect. Occupancy carries the sensor's own time and
is applied only when newer than the space's state, so late events never undo newer ones; a
plate read that arrives late is matched by its own time (see ``sessions``)."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agora.core.errors import FieldError, ValidationFailed
from agora.parking.choices import EventKind, EventOutcome, EventVia, PlateColour, PlateSource
from agora.parking.models import CarPark, Gate, IngestCounter, ParkingEvent, Space
from agora.parking.plates import is_valid, normalise
from agora.parking.services import sessions

log = logging.getLogger("agora.parking.ingest")

TOPIC_PREFIX: str = settings.MQTT_TOPIC_PREFIX
MAX_PAYLOAD = 4096  # bytes: a plate or occupancy event is a few hundred


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # applied, stale, review, rejected, duplicate, malformed
    event_id: str
    detail: str
    car_park_id: int | None


@dataclass(frozen=True)
class PlateRead:
    event_id: str
    car_park: CarPark
    gate: Gate
    plate: str
    colour: str
    confidence: float
    at: datetime
    source: str
    image: str
    ticket: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class OccupancyRead:
    event_id: str
    car_park: CarPark
    space: Space
    occupied: bool
    at: datetime
    plate: str
    sensor: str
    raw: dict[str, Any]


def _count(via: str, outcome: str, detail: str = "", at: datetime | None = None) -> None:
    when = at or timezone.now()
    done = IngestCounter.objects.filter(via=via, outcome=outcome).update(
        count=F("count") + 1, last_at=when, last_detail=detail[:200]
    )
    if not done:
        try:
            with transaction.atomic():
                IngestCounter.objects.create(
                    via=via, outcome=outcome, count=1, last_at=when, last_detail=detail[:200]
                )
        except IntegrityError:  # another worker created it first
            IngestCounter.objects.filter(via=via, outcome=outcome).update(
                count=F("count") + 1, last_at=when, last_detail=detail[:200]
            )


def topic_parts(topic: str) -> dict[str, str]:
    """``<prefix>/parking/<car_park>/gate/<gate>/plate`` or
    ``<prefix>/parking/<car_park>/space/<space>/occupancy`` → its named parts; ``{}`` when the
    topic is not one of ours."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != TOPIC_PREFIX or parts[1] != "parking":
        return {}
    if parts[3] == "gate" and parts[5] == "plate":
        return {"type": EventKind.PLATE, "car_park": parts[2], "gate": parts[4]}
    if parts[3] == "space" and parts[5] == "occupancy":
        return {"type": EventKind.OCCUPANCY, "car_park": parts[2], "space": parts[4]}
    return {}


def _text(data: Mapping[str, Any], name: str, errors: list[FieldError], *, max_len: int) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError(name, "a string", "type"))
        return ""
    if len(value) > max_len:
        errors.append(FieldError(name, f"at most {max_len} characters", "too_long"))
        return ""
    return value.strip()


def _when(data: Mapping[str, Any], errors: list[FieldError]) -> datetime | None:
    value = data.get("at")
    if not isinstance(value, str):
        errors.append(FieldError("at", "an ISO 8601 time with its offset", "required"))
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        errors.append(FieldError("at", "an ISO 8601 time with its offset", "invalid"))
        return None
    if at.tzinfo is None:
        errors.append(FieldError("at", "needs its UTC offset, e.g. +08:00", "invalid"))
        return None
    return at


def parse_event(data: Any, *, topic: str | None = None) -> PlateRead | OccupancyRead:
    """Check one event (a decoded JSON object); raise ``ValidationFailed`` naming each bad
    field. The topic, when given, names the car park, gate or space and the type."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            detail="the event must be a JSON object",
            errors=[FieldError("body", "a JSON object", "type")],
        )
    errors: list[FieldError] = []
    where = topic_parts(topic) if topic is not None else {}
    if topic is not None and not where:
        raise ValidationFailed(
            detail=f"not a parking topic: {topic[:120]}",
            errors=[FieldError("topic", "a parking plate or occupancy topic", "invalid")],
        )
    fields = dict(data)
    for name in ("type", "car_park", "gate", "space"):
        if name in where:
            given = fields.get(name)
            if given not in (None, "", where[name]):
                errors.append(FieldError(name, f"the topic says {where[name]}", "mismatch"))
            fields[name] = where[name]
    event_id = _text(fields, "event_id", errors, max_len=64)
    if not event_id and not any(e.field == "event_id" for e in errors):
        errors.append(FieldError("event_id", "the device's unique id of the event", "required"))
    kind = fields.get("type")
    if kind not in EventKind.values:
        errors.append(FieldError("type", "plate or occupancy", "invalid"))
    at = _when(fields, errors)
    code = _text(fields, "car_park", errors, max_len=40)
    car_park = CarPark.objects.filter(code=code).first() if code else None
    if car_park is None:
        errors.append(FieldError("car_park", "a known car park code", "unknown"))
    if errors or car_park is None or at is None:
        raise ValidationFailed(detail="the event has invalid fields", errors=errors)
    if kind == EventKind.PLATE:
        return _parse_plate(fields, event_id, car_park, at)
    return _parse_occupancy(fields, event_id, car_park, at)


def _parse_plate(
    fields: dict[str, Any], event_id: str, car_park: CarPark, at: datetime
) -> PlateRead:
    errors: list[FieldError] = []
    gate_code = _text(fields, "gate", errors, max_len=20)
    gate = Gate.objects.filter(car_park=car_park, code=gate_code).first() if gate_code else None
    if gate is None:
        errors.append(FieldError("gate", "a gate of this car park", "unknown"))
    plate = normalise(_text(fields, "plate", errors, max_len=20))
    ticket = _text(fields, "ticket", errors, max_len=20)
    if plate and not is_valid(plate):
        errors.append(FieldError("plate", "a Chinese plate such as 粤B12345, or empty", "invalid"))
    if not plate and not ticket and fields.get("plate") is None:
        errors.append(FieldError("plate", "the plate read (empty when unreadable)", "required"))
    colour = fields.get("colour", PlateColour.UNKNOWN) or PlateColour.UNKNOWN
    if colour not in PlateColour.values:
        errors.append(FieldError("colour", "one of " + ", ".join(PlateColour.values), "invalid"))
    confidence = fields.get("confidence", 1.0)
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not math.isfinite(confidence)
        or not 0 <= confidence <= 1
    ):
        errors.append(FieldError("confidence", "a number from 0 to 1", "range"))
        confidence = 0.0
    source = fields.get("source", PlateSource.VIDEO) or PlateSource.VIDEO
    if source not in PlateSource.values:
        errors.append(FieldError("source", "one of " + ", ".join(PlateSource.values), "invalid"))
    image = _text(fields, "image", errors, max_len=200)
    if errors or gate is None:
        raise ValidationFailed(detail="the plate event has invalid fields", errors=errors)
    return PlateRead(
        event_id=event_id,
        car_park=car_park,
        gate=gate,
        plate=plate,
        colour=str(colour),
        confidence=float(confidence),
        at=at,
        source=str(source),
        image=image,
        ticket=ticket,
        raw=dict(fields),
    )


def _parse_occupancy(
    fields: dict[str, Any], event_id: str, car_park: CarPark, at: datetime
) -> OccupancyRead:
    errors: list[FieldError] = []
    code = _text(fields, "space", errors, max_len=20)
    space = Space.objects.filter(car_park=car_park, code=code).first() if code else None
    if space is None:
        errors.append(FieldError("space", "a space of this car park", "unknown"))
    occupied = fields.get("occupied")
    if not isinstance(occupied, bool):
        errors.append(FieldError("occupied", "true or false", "type"))
    plate = normalise(_text(fields, "plate", errors, max_len=20))
    if plate and not is_valid(plate):
        plate = ""  # a guidance camera's bad read: the occupancy still counts
    sensor = _text(fields, "sensor", errors, max_len=40)
    if errors or space is None:
        raise ValidationFailed(detail="the occupancy event has invalid fields", errors=errors)
    return OccupancyRead(
        event_id=event_id,
        car_park=car_park,
        space=space,
        occupied=bool(occupied),
        at=at,
        plate=plate,
        sensor=sensor,
        raw=dict(fields),
    )


def decode(payload: bytes | bytearray | str | Mapping[str, Any]) -> Any:
    """Bytes or text → JSON value; raise ValidationFailed on anything else."""
    if isinstance(payload, Mapping):
        return payload
    if isinstance(payload, bytes | bytearray):
        if len(payload) > MAX_PAYLOAD:
            raise ValidationFailed(
                detail="payload too large",
                errors=[FieldError("body", f"at most {MAX_PAYLOAD} bytes", "too_long")],
            )
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed(
                detail="payload is not UTF-8", errors=[FieldError("body", "UTF-8 JSON", "invalid")]
            ) from None
    if len(payload) > MAX_PAYLOAD:
        raise ValidationFailed(
            detail="payload too large",
            errors=[FieldError("body", f"at most {MAX_PAYLOAD} bytes", "too_long")],
        )
    try:
        return json.loads(payload, parse_constant=_no_constant)
    except ValueError:
        raise ValidationFailed(
            detail="payload is not JSON", errors=[FieldError("body", "a JSON object", "invalid")]
        ) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def event_apply(
    *, event: PlateRead | OccupancyRead, via: str, received_at: datetime | None = None
) -> IngestResult:
    """Store the event and apply it, both or neither; a known event id is a duplicate."""
    when = received_at or timezone.now()
    kind = EventKind.PLATE if isinstance(event, PlateRead) else EventKind.OCCUPANCY
    try:
        with transaction.atomic():
            row = ParkingEvent.objects.create(
                event_id=event.event_id,
                kind=kind,
                car_park=event.car_park,
                via=via,
                occurred_at=event.at,
                received_at=when,
                outcome=EventOutcome.APPLIED,
                payload=event.raw,
            )
            if isinstance(event, PlateRead):
                outcome, detail, session_id = sessions.plate_apply(read=event, event=row)
            else:
                outcome, detail, session_id = sessions.occupancy_apply(read=event)
            ParkingEvent.objects.filter(pk=row.pk).update(
                outcome=outcome, detail=detail[:200], session_id=session_id
            )
            _count(via, outcome, detail, when)
    except IntegrityError:
        if ParkingEvent.objects.filter(event_id=event.event_id).exists():
            _count(via, "duplicate", event.event_id, when)
            return IngestResult("duplicate", event.event_id, "already applied", event.car_park.pk)
        raise
    return IngestResult(str(outcome), event.event_id, detail, event.car_park.pk)


def event_ingest(
    *,
    payload: bytes | bytearray | str | Mapping[str, Any],
    topic: str | None,
    via: str,
    received_at: datetime | None = None,
) -> IngestResult:
    """One event from any path. Never raises for bad input: a malformed event is logged,
    counted (``IngestCounter``) and answered with outcome ``malformed``."""
    if via not in EventVia.values:
        raise ValueError(f"unknown ingest path {via!r}")
    try:
        event = parse_event(decode(payload), topic=topic)
    except ValidationFailed as exc:
        detail = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors) or exc.detail
        log.warning("malformed parking event", extra={"topic": topic, "error": detail})
        _count(via, "malformed", detail)
        return IngestResult("malformed", "", detail, None)
    return event_apply(event=event, via=via, received_at=received_at)
