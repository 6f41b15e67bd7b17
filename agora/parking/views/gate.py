"""The gate displays (``/parking/gate/<car park>/<gate>/``): full-screen pages for the LED
screen at a lane, big type, no sign-in (they show nothing a driver at the lane cannot see).

* An entry gate shows the free spaces per level, live over server-sent events
  (``/parking/live/<code>/``); past the car park's threshold it says 车位已满 and lists the
  nearest car parks with room and their distance (PUB-8).
* An exit gate shows the last car that reached it in the last few minutes: its plate masked
  (``plates.mask``), the fee due, or 一路顺风 when it may leave. The page polls a small HTMX
  partial (``last/``) every two seconds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agora.lib.money import format_fen
from agora.parking.choices import GateDirection, SessionStatus
from agora.parking.plates import mask
from agora.parking.selectors import availability_of, car_park_by_code
from agora.parking.selectors_analytics import gate_of, last_exit_at
from agora.parking.services.charging import session_quote
from agora.portal.views.common import qr_svg, visible

#: an exit display shows a car for this long after it reached the gate
LAST_CAR_MINUTES = 5
POLL_SECONDS = 2


def _gate(car_park_code: str, gate_code: str) -> tuple[Any, Any]:
    car_park = visible(car_park_by_code, code=car_park_code)
    gate = visible(gate_of, car_park=car_park, code=gate_code)
    return car_park, gate


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}
    return _("%(m)s min") % {"m": rest}


def _pay_qr(request: HttpRequest, car_park: Any, session: Any) -> str:
    """A QR code of the shopper's pay page for this car (none while that page is not served)."""
    try:
        path = reverse("parking-pay")
    except NoReverseMatch:
        return ""
    query = urlencode({"car_park": car_park.code, "plate": session.plate or session.ticket or ""})
    return qr_svg(request.build_absolute_uri(f"{path}?{query}"), label=_("Pay the parking fee"))


def last_car(request: HttpRequest, gate: Any) -> dict[str, Any] | None:
    now = timezone.now()
    session = last_exit_at(gate=gate, since=now - timedelta(minutes=LAST_CAR_MINUTES))
    if session is None:
        return None
    quote = session_quote(session=session, at=session.exited_at)
    due = quote.due_fen if session.status == SessionStatus.AWAITING_PAYMENT else 0
    return {
        "id": session.pk,
        "plate": mask(session.plate) if session.plate else _("No-plate car"),
        "state": "pay" if due else "leave",
        "due_fen": due,
        "due": format_fen(due),
        "stay": _duration(quote.stay_minutes),
        "qr": _pay_qr(request, session.car_park, session) if due else "",
    }


def _exit_context(request: HttpRequest, car_park: Any, gate: Any) -> dict[str, Any]:
    return {
        "car_park": car_park,
        "gate": gate,
        "last": last_car(request, gate),
        "poll_seconds": POLL_SECONDS,
        "last_url": reverse("parking-gate-last", args=[car_park.code, gate.code]),
    }


@require_GET
@never_cache
def gate_display(request: HttpRequest, car_park_code: str, gate_code: str) -> HttpResponse:
    car_park, gate = _gate(car_park_code, gate_code)
    if gate.direction == GateDirection.EXIT:
        return render(
            request, "parking/gate.html", {"mode": "exit", **_exit_context(request, car_park, gate)}
        )
    availability = availability_of(car_park_id=car_park.pk)
    context = {
        "mode": "entry",
        "car_park": car_park,
        "gate": gate,
        "availability": availability,
        "live_url": reverse("parking-live", args=[car_park.code]),
    }
    return render(request, "parking/gate.html", context)


@require_GET
@never_cache
def gate_last(request: HttpRequest, car_park_code: str, gate_code: str) -> HttpResponse:
    """The exit display's changing part (HTMX polls it)."""
    car_park, gate = _gate(car_park_code, gate_code)
    if gate.direction != GateDirection.EXIT:
        return HttpResponse(status=404)
    return render(request, "parking/gate.html#last", _exit_context(request, car_park, gate))
