"""The shopper's parking pages (APP-4, PUB-6, PUB-7, PUB-8, PARK-2): mobile first, Chinese
first, every number rendered on the server so that they work without JavaScript.

* ``/parking/`` — every car park of the district with its free spaces (live over server-sent
  events, ``static/parking/parking.js``), the nearest car parks with room when one is full,
  and a search by kind of space (EV, accessible, family).
* ``/parking/<code>/`` — one car park: free spaces by level, zone and kind, and the plan of
  each level with its spaces coloured free / taken.
* ``/parking/find/`` — find my car by plate, then the walking route to it from a shop or a
  lift lobby (drawn with the navigation module's map partial).
* ``/parking/pay/`` — pay a stay by plate (the exit QR code opens this page): the fee, its
  discounts, coupons and points for members, then the sandbox payment.
* ``/parking/me/`` — my plates, frictionless payment, my stays, reservations and shared spaces.

Views only parse, call the parking (and navigation, checkout) services and selectors, and
shape output; every refusal of a service is shown next to its field, never a 500."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agora.checkout.choices import OrderStatus, PaymentStatus
from agora.checkout.services.agreements import agreement_sign
from agora.checkout.services.payments import payment_refresh
from agora.core.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from agora.district.choices import ZoneKind
from agora.district.selectors import (
    access_floor,
    floor_plan,
    floors_of_mall,
    shop_directory,
    zones_of_floor,
)
from agora.lib.money import format_fen
from agora.members.selectors import member_of_user
from agora.navigation.choices import RouteMode
from agora.navigation.instructions import about_metres, step_text
from agora.navigation.maps import route_maps
from agora.navigation.selectors import default_district, kiosks_list, route_find
from agora.parking.choices import (
    DiscountKind,
    PayChannel,
    PlateColour,
    SessionStatus,
    SpaceKind,
)
from agora.parking.selectors import (
    OPEN,
    PRIVATE_KINDS,
    CarFound,
    availability_of,
    car_find,
    car_park_by_code,
    car_parks_of,
    district_parking,
    owned_spaces,
    reservations_of,
    reserved_now,
    session_by_plate,
    sessions_of_user,
    shares_open,
    vehicles_of,
)
from agora.parking.services import charging, shopper
from agora.points.selectors import points_balance
from agora.portal.views.common import actor_of, qr_svg

if TYPE_CHECKING:
    from agora.accounts.models import User

PLATE_MAX = 12
SPEC_MAX = 80
#: the kinds of space a shopper searches for and reserves (reserved spaces are let privately)
SEARCH_KINDS = (SpaceKind.EV, SpaceKind.ACCESSIBLE, SpaceKind.FAMILY)
BOOK_KINDS = (SpaceKind.STANDARD, SpaceKind.EV, SpaceKind.ACCESSIBLE, SpaceKind.FAMILY)
BOOK_HOURS = tuple(range(1, 13))
SPACE_W = 2.3  # a space drawn on the plan (metres)
SPACE_D = 4.8
POLL_SECONDS = 2
DATETIME_INPUT = "%Y-%m-%dT%H:%M"


# --- labels and messages -----------------------------------------------------------------------
def kind_labels() -> dict[str, str]:
    return {
        SpaceKind.STANDARD: _("Standard space"),
        SpaceKind.EV: _("EV charging space"),
        SpaceKind.ACCESSIBLE: _("Accessible space"),
        SpaceKind.FAMILY: _("Family space"),
        SpaceKind.RESERVED: _("Private space"),
    }


def colour_labels() -> list[tuple[str, str]]:
    return [
        (PlateColour.BLUE, _("Blue plate")),
        (PlateColour.GREEN, _("Green plate (new energy)")),
        (PlateColour.YELLOW, _("Yellow plate")),
        (PlateColour.WHITE, _("White plate")),
        (PlateColour.BLACK, _("Black plate")),
    ]


def _status_labels() -> dict[str, str]:
    return {
        SessionStatus.PARKED: _("Parked"),
        SessionStatus.AWAITING_PAYMENT: _("At the exit, waiting for payment"),
        SessionStatus.CLOSED: _("Left"),
        SessionStatus.VOIDED: _("Voided"),
    }


def _reservation_labels() -> dict[str, str]:
    return {
        "booked": _("Booked"),
        "arrived": _("Arrived"),
        "cancelled": _("Cancelled"),
        "expired": _("Expired"),
    }


def _discount_labels() -> dict[str, str]:
    return {
        DiscountKind.COUPON: _("Parking coupon"),
        DiscountKind.TIER: _("Member free hours"),
        DiscountKind.SPEND: _("Free hours for today's shopping"),
        DiscountKind.POINTS: _("Hours paid with points"),
        DiscountKind.RESERVATION: _("Reservation"),
    }


def duration_text(minutes: int) -> str:
    hours, rest = divmod(max(0, int(minutes)), 60)
    if hours and rest:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": rest}


def _field_text(error: FieldError) -> str:
    """A service's field error in the reader's language (the services say it in English)."""
    by_reason = {
        "not in the past": _("Choose a time that is not in the past."),
        "within 7 days": _("Reservations open 7 days ahead at most."),
        "within 30 days": _("Share hours within the next 30 days."),
        "after starts_at": _("The end must be after the start."),
        "at most 12 hours after starts_at": _("A reservation lasts 12 hours at most."),
        "in the future": _("The end must be in the future."),
        "inside the shared hours": _("Choose a time inside the shared hours."),
    }
    if error.reason in by_reason:
        return by_reason[error.reason]
    by_field = {
        "plate": _("Enter a plate such as 粤B12345."),
        "colour": _("Choose the colour of the plate."),
        "kind": _("Choose a kind of space."),
        "key": _("This form has expired: please try again."),
        "share_id": _("This shared space is no longer open."),
        "space_id": _("Not a space of yours."),
        "price_fen_per_hour": _("The price is ¥0 to ¥100 an hour."),
        "agreement_id": _("The payment agreement is not active."),
        "car_park": _("Choose a car park."),
        "starts_at": _("Enter a date and time."),
        "ends_at": _("Enter a date and time."),
        "coupon_id": _("Choose a coupon."),
        "hours": _("Choose how many hours."),
    }
    if error.field == "hours" and error.reason.startswith("between "):
        most = error.reason.rsplit(" and ", 1)[-1].split(" ", 1)[0]
        if most == "0":
            return _("No more hours can be paid with points on this stay.")
        return _("Between 1 and %(n)s hours.") % {"n": most}
    return by_field.get(error.field, error.reason)


def error_text(exc: DomainError) -> str:
    """One friendly line for a refusal that names no field."""
    known = {
        "session_closed": _("This stay has ended."),
        "not_a_member": _("Join the membership first: it is free."),
        "points_not_accepted": _("This car park does not take points."),
        "idempotency_key_reused": _("This form was already sent: reload the page."),
        "payment_pending": _("A payment of this stay is in progress: finish it first."),
        "too_many_vehicles": _("You can bind %(n)s plates at most.") % {"n": shopper.MAX_VEHICLES},
        "no_space": _("No space of this kind is free for that time."),
        "not_cancellable": _("This reservation can no longer be cancelled."),
        "share_overlaps": _("These hours overlap hours you already shared."),
        "share_booked": _("Someone booked these hours: they cannot be withdrawn."),
        "insufficient_points": _("You do not have that many points."),
        "coupon_used": _("This coupon was already used."),
        "coupon_not_applicable": _("This coupon cannot be used on this stay."),
    }
    if exc.code == "nothing_due":
        return _("Nothing to pay now.")
    if exc.code in known:
        return known[exc.code]
    if exc.errors:
        return " ".join(_field_text(e) for e in exc.errors)
    if isinstance(exc, NotFound):
        return _("Not found: it may have changed meanwhile.")
    return exc.detail or _("Something is not right: please check and try again.")


def _status_of(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    return 400


@dataclass
class FormErrors:
    """Errors of one form: by field (shown next to it), plus those that name no field."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)


def form_errors(exc: DomainError, known: tuple[str, ...]) -> FormErrors:
    out = FormErrors()
    for error in exc.errors:
        if error.field in known:
            out.add(error.field, _field_text(error))
        else:
            out.general.append(_field_text(error))
    if not exc.errors:
        out.general.append(error_text(exc))
    return out


# --- small helpers -----------------------------------------------------------------------------
def _district_id() -> int:
    try:
        return int(default_district().pk)
    except NotFound:
        raise Http404("no district yet") from None


def _user(request: HttpRequest) -> User | None:
    return cast("User", request.user) if request.user.is_authenticated else None


def _is_partial(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) or request.GET.get("partial") == "1"


def _param(request: HttpRequest, name: str, limit: int) -> str:
    return request.GET.get(name, "").strip()[:limit]


def _post(request: HttpRequest, name: str, limit: int = 100) -> str:
    return request.POST.get(name, "").strip()[:limit]


def _int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _when(raw: str) -> datetime | None:
    """A ``datetime-local`` input (local time) as an aware datetime; None when not one."""
    try:
        naive = datetime.strptime(raw.strip()[:16], DATETIME_INPUT)
    except ValueError:
        return None
    return timezone.make_aware(naive, timezone.get_current_timezone())


def _local_input(when: datetime) -> str:
    return timezone.localtime(when).strftime(DATETIME_INPUT)


def pay_url(code: str, plate: str) -> str:
    return f"{reverse('parking-pay')}?{urlencode({'car_park': code, 'plate': plate})}"


def status_url(code: str, plate: str) -> str:
    return f"{reverse('parking-pay-status')}?{urlencode({'car_park': code, 'plate': plate})}"


def find_url(plate: str = "", origin: str = "") -> str:
    params = {k: v for k, v in (("plate", plate), ("from", origin)) if v}
    base = reverse("parking-find")
    return f"{base}?{urlencode(params)}" if params else base


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- the parking home --------------------------------------------------------------------------
def _kind_rows(car_park: Any, kind: str, held: set[int]) -> list[dict[str, Any]]:
    """Free and total spaces of ``kind`` by level and zone (public spaces in service)."""
    rows: dict[int, dict[str, Any]] = {}
    spaces = car_park.spaces.filter(in_service=True, kind=kind).select_related("zone__floor")
    for space in spaces.order_by("zone__code", "code"):
        zone = space.zone
        row = rows.setdefault(
            zone.pk,
            {
                "level": zone.floor.name if zone.floor else "",
                "zone": zone.name,
                "code": zone.code,
                "free": 0,
                "total": 0,
            },
        )
        row["total"] += 1
        if not space.occupied and space.pk not in held:
            row["free"] += 1
    return list(rows.values())


def home_context(request: HttpRequest) -> dict[str, Any]:
    district_id = _district_id()
    rows = district_parking(district_id=district_id)
    for row in rows:
        row["overflow"] = availability_of(car_park_id=row["id"])["overflow"] if row["full"] else []
    kind = _param(request, "kind", 20)
    labels = kind_labels()
    search: list[dict[str, Any]] | None = None
    if kind in SEARCH_KINDS:
        search = []
        now = timezone.now()
        for car_park in car_parks_of(district_id=district_id):
            zones = _kind_rows(car_park, kind, reserved_now(car_park_id=car_park.pk, at=now))
            search.append(
                {
                    "car_park": car_park.code,
                    "name": car_park.name,
                    "mall": car_park.mall.name,
                    "free": sum(z["free"] for z in zones),
                    "total": sum(z["total"] for z in zones),
                    "zones": zones,
                }
            )
    else:
        kind = ""
    return {
        "rows": rows,
        "version": sum(int(r["version"]) for r in rows),
        "kind": kind,
        "kind_label": labels.get(kind, ""),
        "kinds": [(k.value, labels[k]) for k in SEARCH_KINDS],
        "search": search,
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = home_context(request)
    if _is_partial(request):
        return _render(request, "parking/live_home.html", context)
    return _render(request, "parking/app_home.html", context)


# --- one car park ------------------------------------------------------------------------------
def _space_state(space: Any, held: set[int]) -> str:
    if not space.in_service:
        return "closed"
    if space.occupied:
        return "occupied"
    if space.kind in PRIVATE_KINDS or space.owner_id is not None:
        return "private"
    if space.pk in held:
        return "held"
    return "free"


def _n(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _points(polygon: list[list[float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in polygon)


def plans_of(car_park: Any) -> list[dict[str, Any]]:
    """The plan of each level of the car park that is on a floor: its outline, the car
    park's zones, every space as a small rectangle (state and kind) and the gates."""
    held = reserved_now(car_park_id=car_park.pk, at=timezone.now())
    labels = kind_labels()
    state_labels = {
        "free": _("free"),
        "occupied": _("taken"),
        "held": _("reserved"),
        "private": _("private"),
        "closed": _("out of service"),
    }
    levels: dict[int, dict[str, Any]] = {}
    spaces = car_park.spaces.select_related("zone__floor").order_by("code")
    for space in spaces:
        floor = space.zone.floor
        if floor is None:
            continue
        level = levels.setdefault(
            floor.pk,
            {
                "floor_id": floor.pk,
                "name": floor.name,
                "view_box": f"-2 -2 {_n(floor.width_m + 4)} {_n(floor.depth_m + 4)}",
                "outline": _points(
                    [[0, 0], [floor.width_m, 0], [floor.width_m, floor.depth_m], [0, floor.depth_m]]
                ),
                "zones": {},
                "spaces": [],
                "gates": [],
                "free": 0,
            },
        )
        zone = space.zone
        if zone.pk not in level["zones"] and zone.polygon:
            xs = [p[0] for p in zone.polygon]
            ys = [p[1] for p in zone.polygon]
            level["zones"][zone.pk] = {
                "code": zone.code,
                "name": zone.name,
                "points": _points(zone.polygon),
                "x": _n((min(xs) + max(xs)) / 2),
                "y": _n(min(ys) + 1.8),
            }
        state = _space_state(space, held)
        level["free"] += state == "free"
        level["spaces"].append(
            {
                "code": space.code,
                "kind": space.kind,
                "state": state,
                "x": _n(space.x - SPACE_W / 2),
                "y": _n(space.y - SPACE_D / 2),
                "title": f"{space.code} · {labels.get(space.kind, space.kind)} · "
                f"{state_labels[state]}",
            }
        )
    gates = car_park.gates.order_by("code")
    for gate in gates:
        on_level = levels.get(gate.floor_id or 0)
        if on_level is not None:
            on_level["gates"].append(
                {
                    "code": gate.code,
                    "name": gate.name,
                    "direction": gate.direction,
                    "x": _n(gate.x),
                    "y": _n(gate.y),
                    "tx": _n(gate.x - 1.6),
                    "ty": _n(gate.y - 1.6),
                }
            )
    out = []
    for level in levels.values():
        level["zones"] = list(level["zones"].values())
        out.append(level)
    return out


def _car_park_or_404(code: str) -> Any:
    try:
        return car_park_by_code(code=code[:40])
    except NotFound:
        raise Http404("no such car park") from None


def car_park_context(car_park: Any) -> dict[str, Any]:
    availability = availability_of(car_park_id=car_park.pk)
    labels = kind_labels()
    order = list(SpaceKind.values)
    kinds = [
        {"kind": k, "label": labels.get(k, k), **v}
        for k, v in sorted(
            availability["kinds"].items(),
            key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order),
        )
    ]
    return {
        "car_park": car_park,
        "a": availability,
        "kinds": kinds,
        "plans": plans_of(car_park),
        "pay_url": f"{reverse('parking-pay')}?{urlencode({'car_park': car_park.code})}",
    }


@require_GET
def car_park_page(request: HttpRequest, code: str) -> HttpResponse:
    car_park = _car_park_or_404(code)
    context = car_park_context(car_park)
    if _is_partial(request):
        return _render(request, "parking/live_car_park.html", context)
    return _render(request, "parking/app_car_park.html", context)


# --- find my car -------------------------------------------------------------------------------
@dataclass
class Origin:
    spec: str
    label: str


def origins_of(mall: Any) -> list[tuple[str, list[Origin]]]:
    """Where a shopper may start walking to the car, grouped: guide screens and lift lobbies,
    then the open shops floor by floor."""
    here: list[Origin] = [
        Origin(f"kiosk:{k.code}", _("Guide screen, %(floor)s") % {"floor": k.floor.name})
        for k in kiosks_list(mall_ids=[mall.pk])
    ]
    floors = list(floors_of_mall(mall=mall))
    for floor in floors:
        lift = zones_of_floor(floor=floor, kind=ZoneKind.LIFT).first()
        if lift is not None:
            here.append(
                Origin(f"zone:{lift.pk}", _("Lift lobby, %(floor)s") % {"floor": floor.name})
            )
    groups: list[tuple[str, list[Origin]]] = []
    if here:
        groups.append((_("Guide screens and lifts"), here))
    by_floor: dict[str, list[Origin]] = {}
    shops = shop_directory(mall_id=mall.pk).prefetch_related("units__floor")
    for shop in shops:
        units = sorted(shop.units.all(), key=lambda u: (u.floor.level, u.code))
        if not units:
            continue
        name = units[0].floor.name
        by_floor.setdefault(name, []).append(Origin(f"shop:{shop.pk}", shop.name))
    for floor in sorted(floors, key=lambda f: -f.level):
        if floor.name in by_floor:
            groups.append((_("Shops on %(floor)s") % {"floor": floor.name}, by_floor[floor.name]))
    return groups


def car_label(found: CarFound) -> str:
    if found.space:
        return _("Your car (%(space)s)") % {"space": found.space}
    return _("Your car's level (%(level)s)") % {"level": found.level}


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60.0 - 0.25))


def route_to_car(
    request: HttpRequest, *, district_id: int, origin: str, found: CarFound
) -> dict[str, Any]:
    """The walking route from ``origin`` to the car, drawn floor by floor with the navigation
    module's maps; ``{"error": ...}`` when there is none."""
    try:
        view = route_find(
            district_id=district_id,
            origin=origin,
            destination=found.place,
            mode=RouteMode.FASTEST,
        )
    except DomainError as exc:
        if exc.extra.get("reason"):  # no route: the selector says why, in the reader's language
            return {"error": exc.detail}
        return {"error": _("We cannot start a route there: please choose another place.")}
    label = car_label(found)
    view.destination_label = label
    steps = view.route.steps
    if steps and steps[-1].kind == "arrive" and view.instructions:
        view.instructions[-1]["text"] = step_text(
            steps[-1],
            floor_name=lambda _fid: "",
            mall_name=lambda _fid: "",
            origin=view.origin_label,
            destination=label,
        )
    actor = actor_of(request)

    def plan_of(floor_id: int) -> dict[str, Any]:
        return floor_plan(floor=access_floor(actor=actor, floor_id=floor_id))

    here = origin.split(":", 1)[0] in ("kiosk", "point")
    start = view.origin_label if here else _("Start: %(place)s") % {"place": view.origin_label}
    sections = route_maps(view, plan_of=plan_of, start_label=start, end_label=label)
    return {
        "view": view,
        "minutes": _minutes(view.route.seconds),
        "metres": about_metres(view.route.distance_m),
        "sections": sections,
    }


@require_GET
def find_page(request: HttpRequest) -> HttpResponse:
    district_id = _district_id()
    user = _user(request)
    plate = _param(request, "plate", PLATE_MAX)
    origin = _param(request, "from", SPEC_MAX)
    context: dict[str, Any] = {
        "plate": plate,
        "origin": origin,
        "my_plates": [v.plate for v in vehicles_of(user=user)] if user else [],
        "found": None,
        "missing": False,
        "route": None,
    }
    if plate:
        try:
            found = car_find(district_id=district_id, plate=plate)
        except NotFound:
            context["missing"] = True
        else:
            context["found"] = found
            context["plate"] = found.session.plate
            context["car_label"] = car_label(found)
            context["origins"] = origins_of(found.car_park.mall)
            context["origin_listed"] = any(
                o.spec == origin for _group, items in context["origins"] for o in items
            )
            context["pay_url"] = pay_url(found.car_park.code, found.session.plate)
            if origin and found.place:
                context["route"] = route_to_car(
                    request, district_id=district_id, origin=origin, found=found
                )
    return _render(request, "parking/app_find.html", context)


# --- paying ------------------------------------------------------------------------------------
def _owns(user: User | None, session: Any) -> bool:
    """The signed-in shopper's own stay: the plate is bound to them."""
    if user is None:
        return False
    if session.user_id == user.pk:
        return True
    return bool(session.plate) and vehicles_of(user=user).filter(plate=session.plate).exists()


def _lookup(code: str, plate: str) -> tuple[Any, Any]:
    """The car park and the open stay of ``plate`` there (NotFound for either)."""
    car_park = car_park_by_code(code=code[:40])
    return car_park, session_by_plate(car_park=car_park, plate=plate)


def _pending(session: Any, refresh: bool) -> list[dict[str, Any]]:
    """The stay's payments waiting for the payer: the provider's link and QR code."""
    out: list[dict[str, Any]] = []
    for sp in session.payments.select_related("order").order_by("id"):
        if sp.paid or sp.order.status not in (OrderStatus.OPEN, OrderStatus.PENDING):
            continue
        for payment in sp.order.payments.order_by("id"):
            if payment.status != PaymentStatus.PENDING:
                continue
            if refresh:
                payment = payment_refresh(payment=payment)
                if payment.status != PaymentStatus.PENDING:
                    continue
            link = payment.code_url if payment.code_url.startswith(("http://", "https://")) else ""
            out.append(
                {
                    "number": payment.number,
                    "order": sp.order.number,
                    "amount_fen": payment.amount_fen,
                    "link": link,
                    "qr": qr_svg(payment.code_url, label=_("Pay parking"))
                    if payment.code_url
                    else "",
                }
            )
    return out


def pay_state(session: Any, *, refresh: bool) -> dict[str, Any]:
    """What the pay panel shows: the quote, a payment waiting for the payer, or paid."""
    pending = _pending(session, refresh)
    if refresh:
        session.refresh_from_db()
    quote = charging.session_quote(session=session)
    labels = _discount_labels()
    lines = []
    for line in quote.lines:
        detail = ""
        if line.minutes:
            detail = duration_text(line.minutes)
        if line.fen:
            detail = (detail + " " if detail else "") + _("%(amount)s off") % {
                "amount": format_fen(line.fen)
            }
        name = line.label if line.kind == DiscountKind.COUPON else labels.get(line.kind, line.kind)
        if line.kind == DiscountKind.TIER:
            name = _("Member free hours (%(tier)s)") % {"tier": line.label}
        lines.append({"kind": line.kind, "name": name, "detail": detail})
    return {
        "session": session,
        "quote": quote,
        "stay": duration_text(quote.stay_minutes),
        "discount_lines": lines,
        "pending": pending,
        "paid": quote.in_grace and quote.pay_by is not None,
        "at_exit": session.status == SessionStatus.AWAITING_PAYMENT,
        "status_label": _status_labels().get(session.status, session.status),
        "poll_seconds": POLL_SECONDS,
        "status_url": status_url(session.car_park.code, session.plate or session.ticket or ""),
    }


def _member_tools(user: User | None, session: Any) -> dict[str, Any]:
    """Coupons and points for the stay's own member."""
    if not _owns(user, session) or user is None:
        return {"owner": False}
    now = timezone.now()
    member = member_of_user(user=user)
    car_park = session.car_park
    used = sum(d.minutes for d in session.discounts.all() if d.kind == DiscountKind.POINTS) // 60
    room = max(0, car_park.points_max_hours - used) if car_park.points_per_hour else 0
    return {
        "owner": True,
        "member": member,
        "coupons": charging.parking_coupons_for(user=user, session=session, now=now),
        "balance": points_balance(member=member) if member else 0,
        "points_per_hour": car_park.points_per_hour,
        "points_hours": list(range(1, room + 1)),
    }


def _pay_page(
    request: HttpRequest,
    *,
    code: str,
    plate: str,
    errors: FormErrors | None = None,
    form: str = "",
    status: int = 200,
) -> HttpResponse:
    district_id = _district_id()
    context: dict[str, Any] = {
        "car_parks": list(car_parks_of(district_id=district_id)),
        "code": code,
        "plate": plate,
        "session": None,
        "missing": False,
        "errors": errors or FormErrors(),
        "form": form,
        "key": str(uuid.uuid4()),
    }
    if code and plate:
        try:
            car_park, session = _lookup(code, plate)
        except NotFound:
            context["missing"] = True
        else:
            context["car_park"] = car_park
            context["plate"] = session.plate or plate
            context.update(pay_state(session, refresh=status == 200))
            context.update(_member_tools(_user(request), session))
            context["find_url"] = find_url(session.plate)
    return _render(request, "parking/app_pay.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def pay_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _pay_page(
            request, code=_param(request, "car_park", 40), plate=_param(request, "plate", 20)
        )
    code, plate = _post(request, "car_park", 40), _post(request, "plate", 20)
    action = _post(request, "action", 20)
    back = redirect(pay_url(code, plate))
    back.status_code = 303
    try:
        _car_park, session = _lookup(code, plate)
    except NotFound:
        return _pay_page(request, code=code, plate=plate, status=404)
    user = _user(request)
    try:
        if action == "pay":
            channel = (
                PayChannel.EXIT_QR
                if session.status == SessionStatus.AWAITING_PAYMENT
                else PayChannel.APP
            )
            charging.session_pay(
                actor=actor_of(request) if user else None,
                session=session,
                method="wechat",
                channel=channel,
                key=_post(request, "key"),
            )
            return back
        if action not in ("coupon", "points"):
            raise ValidationFailed(detail="unknown action")
        if user is None or not _owns(user, session):
            errors = FormErrors(general=[_("Only the member whose plate this is can do this.")])
            return _pay_page(
                request, code=code, plate=plate, errors=errors, form=action, status=403
            )
        if action == "coupon":
            coupon_id = _int(_post(request, "coupon_id", 12))
            if coupon_id is None:
                raise ValidationFailed(errors=[FieldError("coupon_id", "a coupon", "required")])
            charging.session_coupon_apply(user=user, session=session, coupon_id=coupon_id)
            messages.success(request, _("The coupon is used on this stay."))
        else:
            hours = _int(_post(request, "hours", 3))
            if hours is None:
                raise ValidationFailed(errors=[FieldError("hours", "required", "required")])
            charging.session_points_apply(
                user=user, session=session, hours=hours, key=_post(request, "key")
            )
            messages.success(request, _("%(h)s free hours paid with points.") % {"h": hours})
        return back
    except DomainError as exc:
        errors = form_errors(exc, ("coupon_id", "hours"))
        return _pay_page(
            request,
            code=code,
            plate=plate,
            errors=errors,
            form=action,
            status=_status_of(exc),
        )


@never_cache
@require_GET
def pay_status(request: HttpRequest) -> HttpResponse:
    """The pay panel again (polled while a payment waits): asks the provider first."""
    code, plate = _param(request, "car_park", 40), _param(request, "plate", 20)
    try:
        _car_park, session = _lookup(code, plate)
    except NotFound:
        return _render(request, "parking/live_pay.html", {"settled": True})
    context = {**pay_state(session, refresh=True), "key": str(uuid.uuid4())}
    return _render(request, "parking/live_pay.html", context)


# --- my vehicles -------------------------------------------------------------------------------
MeView = Callable[..., HttpResponse]


def me_required(view: MeView) -> MeView:
    """Signed-in shoppers only; others go to the SMS sign-in and come back here."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            target = request.get_full_path() if request.method == "GET" else reverse("parking-me")
            return redirect_to_login(target, reverse("portal:login"))
        return view(request, cast("User", request.user), *args, **kwargs)

    return wrapper


def _default_start() -> datetime:
    now = timezone.localtime() + timedelta(minutes=30)
    return now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0) + timedelta(
        minutes=30
    )


def me_context(user: User, *, forms: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    district_id = _district_id()
    now = timezone.now()
    vehicles = list(vehicles_of(user=user))
    plates = [v.plate for v in vehicles]
    stays = []
    for s in sessions_of_user(user=user).filter(status__in=OPEN):
        stays.append(
            {
                "s": s,
                "status_label": _status_labels().get(s.status, s.status),
                "stay": duration_text(int((now - s.entered_at).total_seconds() // 60)),
                "pay_url": pay_url(s.car_park.code, s.plate),
                "find_url": find_url(s.plate),
            }
        )
    labels = kind_labels()
    reservation_labels = _reservation_labels()
    reservations = [
        {
            "r": r,
            "status_label": reservation_labels.get(r.status, r.status),
            "kind_label": labels.get(r.space.kind, r.space.kind),
            "cancellable": r.status == "booked" and r.ends_at > now,
        }
        for r in reservations_of(user=user)[:50]
    ]
    owned = list(owned_spaces(user=user))
    owned_ids = {s.pk for s in owned}
    shares = list(shares_open(district_id=district_id, at=now))
    start = _default_start()
    forms = forms or {}
    return {
        "vehicles": vehicles,
        "plates": plates,
        "first_plate": plates[0] if plates else "",
        "colours": colour_labels(),
        "stays": stays,
        "reservations": reservations,
        "car_parks": list(car_parks_of(district_id=district_id)),
        "book_kinds": [(k.value, labels[k]) for k in BOOK_KINDS],
        "book_hours": BOOK_HOURS,
        "default_start": _local_input(start),
        "default_end": _local_input(start + timedelta(hours=2)),
        "shares": [
            {
                "share": s,
                "mine": s.space_id in owned_ids,
                "price": format_fen(s.price_fen_per_hour),
                "start": _local_input(s.starts_at),
                "end": _local_input(min(s.ends_at, s.starts_at + shopper.MAX_RESERVATION)),
            }
            for s in shares
        ],
        "owned": owned,
        "my_shares": [s for s in shares if s.space_id in owned_ids],
        "key": str(uuid.uuid4()),
        "forms": forms,
    }


def _me_page(
    request: HttpRequest,
    user: User,
    *,
    form: str = "",
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = {form: {"errors": errors or FormErrors(), "values": values or {}}} if form else {}
    return _render(request, "parking/app_me.html", me_context(user, forms=forms), status=status)


def _done(request: HttpRequest, message: str, anchor: str) -> HttpResponse:
    messages.success(request, message)
    response = redirect(f"{reverse('parking-me')}#{anchor}")
    response.status_code = 303
    return response


@require_GET
@me_required
def me_page(request: HttpRequest, user: User) -> HttpResponse:
    return _me_page(request, user)


@require_POST
@me_required
def vehicle_bind_view(request: HttpRequest, user: User) -> HttpResponse:
    plate = _post(request, "plate", 20)
    colour = _post(request, "colour", 10) or PlateColour.BLUE
    try:
        vehicle = shopper.vehicle_bind(user=user, plate=plate, colour=colour)
    except DomainError as exc:
        return _me_page(
            request,
            user,
            form="bind",
            errors=form_errors(exc, ("plate", "colour")),
            values={"plate": plate, "colour": colour},
            status=_status_of(exc),
        )
    return _done(
        request, _("%(plate)s is bound to your account.") % {"plate": vehicle.plate}, "vehicles"
    )


@require_POST
@me_required
def vehicle_unbind_view(request: HttpRequest, user: User, vehicle_id: int) -> HttpResponse:
    try:
        vehicle = shopper.access_vehicle(user=user, vehicle_id=vehicle_id)
        shopper.vehicle_unbind(user=user, vehicle_id=vehicle_id)
    except DomainError as exc:
        return _me_page(
            request, user, form="vehicles", errors=form_errors(exc, ()), status=_status_of(exc)
        )
    return _done(request, _("%(plate)s is unbound.") % {"plate": vehicle.plate}, "vehicles")


@require_POST
@me_required
def vehicle_frictionless_view(request: HttpRequest, user: User, vehicle_id: int) -> HttpResponse:
    on = _post(request, "on", 2) == "1"
    try:
        vehicle = shopper.access_vehicle(user=user, vehicle_id=vehicle_id)
        agreement_id = agreement_sign(user=user, method="wechat").pk if on else None
        shopper.vehicle_frictionless(user=user, vehicle_id=vehicle.pk, agreement_id=agreement_id)
    except DomainError as exc:
        return _me_page(
            request, user, form="vehicles", errors=form_errors(exc, ()), status=_status_of(exc)
        )
    if on:
        message = _("Frictionless payment is on for %(plate)s: the fee is charged as you leave.")
    else:
        message = _("Frictionless payment is off for %(plate)s.")
    return _done(request, message % {"plate": vehicle.plate}, "vehicles")


def _window(
    request: HttpRequest, *, hours: bool
) -> tuple[datetime | None, datetime | None, list[FieldError]]:
    """The start and end of a window from the form (``hours`` or ``ends_at``)."""
    errors: list[FieldError] = []
    starts = _when(_post(request, "starts_at", 20))
    if starts is None:
        errors.append(FieldError("starts_at", "a date and time", "required"))
    ends: datetime | None = None
    if hours:
        n = _int(_post(request, "hours", 3))
        if n is None or not 1 <= n <= BOOK_HOURS[-1]:
            errors.append(FieldError("hours", f"between 1 and {BOOK_HOURS[-1]} hours", "range"))
        elif starts is not None:
            ends = starts + timedelta(hours=n)
    else:
        ends = _when(_post(request, "ends_at", 20))
        if ends is None:
            errors.append(FieldError("ends_at", "a date and time", "required"))
    return starts, ends, errors


@require_POST
@me_required
def reservation_create_view(request: HttpRequest, user: User) -> HttpResponse:
    share_id = _int(_post(request, "share_id", 12))
    form = "share" if share_id is not None else "book"
    values = {k: _post(request, k, 20) for k in ("car_park", "kind", "plate", "starts_at", "hours")}
    values["share_id"] = str(share_id or "")
    fields = ("car_park", "kind", "plate", "starts_at", "ends_at", "hours", "share_id")
    try:
        starts, ends, problems = _window(request, hours=share_id is None)
        car_park = None
        if share_id is not None:
            share = next(
                (s for s in shares_open(district_id=_district_id()) if s.pk == share_id), None
            )
            if share is None:
                raise ValidationFailed(errors=[FieldError("share_id", "open", "unknown")])
            car_park = share.space.car_park
            kind: str = SpaceKind.STANDARD  # the shared space is booked, whatever its kind
        else:
            kind = values["kind"]
            try:
                car_park = car_park_by_code(code=values["car_park"])
            except NotFound:
                problems.append(FieldError("car_park", "a car park", "unknown"))
        if problems or starts is None or ends is None or car_park is None:
            raise ValidationFailed(errors=problems)
        reservation = shopper.reservation_create(
            user=user,
            car_park=car_park,
            plate=values["plate"],
            kind=kind,
            starts_at=starts,
            ends_at=ends,
            key=_post(request, "key"),
            share_id=share_id,
        )
    except DomainError as exc:
        return _me_page(
            request,
            user,
            form=form,
            errors=form_errors(exc, fields),
            values=values,
            status=_status_of(exc),
        )
    when = timezone.localtime(reservation.starts_at)
    return _done(
        request,
        _("Space %(space)s is reserved for %(plate)s from %(time)s.")
        % {
            "space": reservation.space.code,
            "plate": reservation.plate,
            "time": when.strftime("%m-%d %H:%M"),
        },
        "reservations",
    )


@require_POST
@me_required
def reservation_cancel_view(request: HttpRequest, user: User, reservation_id: int) -> HttpResponse:
    try:
        shopper.reservation_cancel(user=user, reservation_id=reservation_id)
    except DomainError as exc:
        return _me_page(
            request,
            user,
            form="reservations",
            errors=form_errors(exc, ()),
            status=_status_of(exc),
        )
    return _done(request, _("The reservation is cancelled."), "reservations")


@require_POST
@me_required
def share_publish_view(request: HttpRequest, user: User) -> HttpResponse:
    values = {k: _post(request, k, 20) for k in ("space_id", "starts_at", "ends_at", "price")}
    fields = ("space_id", "starts_at", "ends_at", "price")
    try:
        starts, ends, problems = _window(request, hours=False)
        space_id = _int(values["space_id"])
        if space_id is None:
            problems.append(FieldError("space_id", "a space of yours", "required"))
        try:
            yuan = float(values["price"] or "0")
        except ValueError:
            yuan = -1.0
        price = round(yuan * 100) if math.isfinite(yuan) and 0 <= yuan <= 100 else -1
        if not 0 <= price <= 10_000:
            problems.append(FieldError("price", "0 to 100 yuan", "range"))
        if problems or starts is None or ends is None or space_id is None:
            raise ValidationFailed(errors=problems)
        shopper.share_publish(
            user=user,
            space_id=space_id,
            starts_at=starts,
            ends_at=ends,
            price_fen_per_hour=int(price),
        )
    except DomainError as exc:
        errors = form_errors(exc, (*fields, "price_fen_per_hour"))
        if "price_fen_per_hour" in errors.fields:
            errors.fields["price"] = errors.fields.pop("price_fen_per_hour")
        if "price" in errors.fields:
            errors.fields["price"] = [_("The price is ¥0 to ¥100 an hour.")]
        return _me_page(
            request, user, form="publish", errors=errors, values=values, status=_status_of(exc)
        )
    return _done(request, _("Your space's idle hours are shared."), "shares")


@require_POST
@me_required
def share_withdraw_view(request: HttpRequest, user: User, share_id: int) -> HttpResponse:
    try:
        shopper.share_withdraw(user=user, share_id=share_id)
    except DomainError as exc:
        return _me_page(
            request, user, form="shares", errors=form_errors(exc, ()), status=_status_of(exc)
        )
    return _done(request, _("The shared hours are withdrawn."), "shares")
