"""Live free spaces as server-sent events (PARK-3, PUB-6, APP-4).

``/parking/live/<code>/`` streams one car park's availability, ``/parking/live/`` every car
park of the district. The stream reads one indexed counter (``availability_version``) a second
and sends the new figures only when it moved; it ends after ``PARKING_STREAM_SECONDS`` and
the browser's EventSource reconnects by itself (``retry``), so a worker thread is never held
for long (see ADR 0010 for the measurement and the async-process alternative)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from agora.core.errors import NotFound
from agora.navigation.selectors import default_district
from agora.parking.selectors import (
    availability_of,
    availability_version,
    car_park_by_code,
    district_parking,
    district_version,
)


def _frame(event: str, data: Any, ident: int) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {ident}\nevent: {event}\ndata: {body}\n\n".encode()


def _stream(version: Any, payload: Any, event: str, since: int | None) -> Iterator[bytes]:
    poll_ms = int(settings.PARKING_STREAM_POLL_MS)
    yield f"retry: {poll_ms}\n\n".encode()
    last = version()
    if since is None or since != last:
        yield _frame(event, payload(), last)
    deadline = time.monotonic() + float(settings.PARKING_STREAM_SECONDS)
    while time.monotonic() < deadline:
        time.sleep(poll_ms / 1000)
        now = version()
        if now != last:
            last = now
            yield _frame(event, payload(), last)
        else:
            yield b": keep-alive\n\n"


def _since(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("since", "")
    return int(raw) if raw.isdigit() else None


def _sse(stream: Iterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@require_GET
def car_park_stream(request: HttpRequest, code: str) -> HttpResponseBase:
    try:
        car_park = car_park_by_code(code=code)
    except NotFound:
        return JsonResponse({"detail": "no such car park"}, status=404)
    cp_id = car_park.pk
    return _sse(
        _stream(
            lambda: availability_version(car_park_id=cp_id),
            lambda: availability_of(car_park_id=cp_id),
            "availability",
            _since(request),
        )
    )


@require_GET
def district_stream(request: HttpRequest) -> HttpResponseBase:
    district_id = default_district().pk
    return _sse(
        _stream(
            lambda: district_version(district_id=district_id),
            lambda: district_parking(district_id=district_id),
            "district",
            _since(request),
        )
    )
