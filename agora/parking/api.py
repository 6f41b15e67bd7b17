"""Parking API: live free spaces and overflow (public), finding a car with a walking route,
paying by plate (the exit QR), a shopper's plates, agreements, stays, reservations and shared
spaces; the device ingest (API keys with ``parking:ingest``); operators' review queue,
tariffs and paging (``parking:write``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from agora.accounts.actor import Actor
from agora.accounts.choices import ApiScope
from agora.checkout.services import agreements
from agora.core.auth import OPTIONAL, actor_of
from agora.core.errors import NotFound, PermissionDenied, ValidationFailed
from agora.navigation import selectors as nav
from agora.navigation.api import route_out
from agora.parking import selectors as sel
from agora.parking.choices import EventVia
from agora.parking.schemas import (
    AgreementIn,
    AgreementOut,
    AvailabilityOut,
    CarFoundOut,
    CarParkOut,
    CouponUseIn,
    DiscountOut,
    EventIn,
    FrictionlessIn,
    IngestOut,
    PageIn,
    PageOut,
    PayByPlateIn,
    PayIn,
    PaymentOut,
    PointsUseIn,
    QuoteOut,
    ReservationIn,
    ReservationOut,
    ReviewDismissIn,
    ReviewMatchIn,
    ReviewOut,
    SessionOut,
    ShareIn,
    ShareOut,
    TariffIn,
    TariffOut,
    VehicleIn,
    VehicleOut,
)
from agora.parking.services import charging, ingest, ops, shopper

router = Router(tags=["parking"])


def _district_id() -> int:
    return nav.default_district().pk


# --- public -----------------------------------------------------------------------------------
@router.get(
    "/parking/car-parks", auth=OPTIONAL, response=list[CarParkOut], operation_id="parking_list"
)
def car_parks(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Every car park of the district with its free spaces now."""
    return sel.district_parking(district_id=_district_id())


@router.get(
    "/parking/car-parks/{code}/availability",
    auth=OPTIONAL,
    response=AvailabilityOut,
    operation_id="parking_availability",
)
def availability(request: HttpRequest, code: str):  # type: ignore[no-untyped-def]
    """Free spaces by level, zone and kind; when past its threshold, the nearest car parks
    with room (PUB-8). Live: the server-sent events at ``/parking/live/<code>/``."""
    return sel.availability_of(car_park_id=sel.car_park_by_code(code=code).pk)


@router.get("/parking/find", auth=OPTIONAL, response=CarFoundOut, operation_id="parking_find")
def find(request: HttpRequest, plate: str, origin: str = ""):  # type: ignore[no-untyped-def]
    """Reverse car finding: where the car with ``plate`` is parked and, with ``origin`` (a
    navigation place such as ``shop:12`` or ``point:<floor>:<x>:<y>``), the walking route."""
    found = sel.car_find(district_id=_district_id(), plate=plate[:20])
    route = None
    if origin and found.place:
        route = route_out(
            nav.route_find(
                district_id=_district_id(),
                origin=origin[:60],
                destination=found.place,
                mode="fastest",
            )
        )
    return {
        "car_park": found.car_park.code,
        "car_park_name": found.car_park.name,
        "level": found.level,
        "zone": found.zone,
        "space": found.space,
        "exact": found.exact,
        "place": found.place,
        "entered_at": found.session.entered_at,
        "route": route,
    }


def quote_out(session: Any, quote: charging.Quote) -> dict[str, Any]:
    return {
        "session_id": session.pk,
        "car_park": session.car_park.code,
        "plate": session.plate or session.ticket or "",
        "status": session.status,
        "entered_at": session.entered_at,
        "exited_at": session.exited_at,
        "stay_minutes": quote.stay_minutes,
        "gross_fen": quote.gross_fen,
        "fee_fen": quote.fee.total_fen,
        "discount_minutes": quote.discount_minutes,
        "coupon_fen": quote.coupon_fen,
        "paid_fen": quote.paid_fen,
        "due_fen": quote.due_fen,
        "in_grace": quote.in_grace,
        "pay_by": quote.pay_by,
        "discounts": [DiscountOut(**vars(line)) for line in quote.lines],
    }


@router.get("/parking/fee", auth=OPTIONAL, response=QuoteOut, operation_id="parking_fee")
def fee(request: HttpRequest, car_park: str, plate: str):  # type: ignore[no-untyped-def]
    """What the car with ``plate`` (or QR ticket) owes now: the exit QR's lookup."""
    session = sel.session_by_plate(car_park=sel.car_park_by_code(code=car_park), plate=plate)
    return quote_out(session, charging.session_quote(session=session))


def payment_out(payment: Any, order: Any) -> dict[str, Any]:
    online = order.payments.exclude(code_url="").first()
    return {
        "order_number": order.number,
        "amount_fen": payment.amount_fen,
        "channel": payment.channel,
        "status": order.status,
        "pay_url": online.code_url if online else "",
    }


@router.post("/parking/pay", auth=OPTIONAL, response={201: PaymentOut}, operation_id="parking_pay")
def pay_by_plate(request: HttpRequest, payload: PayByPlateIn):  # type: ignore[no-untyped-def]
    """Pay what a plate owes (the exit QR, or anyone paying for the car): a checkout order
    of the car park's till; ``pay_url`` is the provider's payment page/QR."""
    actor = actor_of(request)
    session = sel.session_by_plate(
        car_park=sel.car_park_by_code(code=payload.car_park), plate=payload.plate
    )
    payment, order = charging.session_pay(
        actor=actor if actor.user else None,
        session=session,
        method=payload.method,
        channel=payload.channel,
        key=payload.key,
    )
    return 201, payment_out(payment, order)


# --- devices ----------------------------------------------------------------------------------
@router.post("/parking/events", response={202: IngestOut}, operation_id="parking_event_ingest")
def event_post(request: HttpRequest, payload: EventIn):  # type: ignore[no-untyped-def]
    """One plate or occupancy event, as over MQTT (for cameras and gateways that speak
    HTTP). Needs an API key with ``parking:ingest`` for the car park's mall. A known
    ``event_id`` answers ``duplicate`` and changes nothing."""
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(ApiScope.PARKING_INGEST)
    if not (actor.is_admin or actor.is_operator):
        raise PermissionDenied(detail="for the car parks' devices (an operator's API key)")
    data = payload.model_dump(exclude_none=True, exclude_defaults=False)
    data = {k: v for k, v in data.items() if v != ""}
    # a bad event is the caller's 422 (and changes nothing); MQTT has no caller to answer, so
    # there malformed payloads are counted instead
    event = ingest.parse_event(data)
    if not actor.operates_mall(event.car_park.mall_id):
        raise ValidationFailed(
            detail="the event has invalid fields",
            errors=[ingest.FieldError("car_park", "a known car park code", "unknown")],
        )
    result = ingest.event_apply(event=event, via=EventVia.HTTP)
    return 202, {"outcome": result.outcome, "event_id": result.event_id, "detail": result.detail}


# --- shoppers ---------------------------------------------------------------------------------
def _person(request: HttpRequest) -> Any:
    actor = actor_of(request)
    user = actor.require_person()
    if actor.api_key is not None:
        raise PermissionDenied(detail="for the shopper's own app, not API keys")
    return user


def vehicle_out(v: Any) -> dict[str, Any]:
    return {"id": v.pk, "plate": v.plate, "colour": v.colour, "frictionless": bool(v.agreement_id)}


@router.get("/parking/me/vehicles", response=list[VehicleOut], operation_id="parking_vehicles")
def vehicles(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [vehicle_out(v) for v in sel.vehicles_of(user=_person(request))]


@router.post(
    "/parking/me/vehicles", response={201: VehicleOut}, operation_id="parking_vehicle_bind"
)
def vehicle_bind(request: HttpRequest, payload: VehicleIn):  # type: ignore[no-untyped-def]
    """Bind a plate: its stays become yours (tier free hours, frictionless, car finding)."""
    v = shopper.vehicle_bind(user=_person(request), plate=payload.plate, colour=payload.colour)
    return 201, vehicle_out(v)


@router.delete(
    "/parking/me/vehicles/{vehicle_id}", response={204: None}, operation_id="parking_vehicle_unbind"
)
def vehicle_unbind(request: HttpRequest, vehicle_id: int):  # type: ignore[no-untyped-def]
    shopper.vehicle_unbind(user=_person(request), vehicle_id=vehicle_id)
    return 204, None


@router.post(
    "/parking/me/vehicles/{vehicle_id}/frictionless",
    response=VehicleOut,
    operation_id="parking_vehicle_frictionless",
)
def vehicle_frictionless(  # type: ignore[no-untyped-def]
    request: HttpRequest, vehicle_id: int, payload: FrictionlessIn
):
    """Frictionless payment (无感支付) on with one of your agreements, or off (null)."""
    v = shopper.vehicle_frictionless(
        user=_person(request), vehicle_id=vehicle_id, agreement_id=payload.agreement_id
    )
    return vehicle_out(v)


def agreement_out(a: Any) -> dict[str, Any]:
    return {
        "id": a.pk,
        "method": a.method,
        "provider": a.provider,
        "limit_fen": a.limit_fen,
        "signed_at": a.signed_at,
    }


@router.post(
    "/parking/me/agreements", response={201: AgreementOut}, operation_id="parking_agreement_sign"
)
def agreement_sign(request: HttpRequest, payload: AgreementIn):  # type: ignore[no-untyped-def]
    """Sign a payment agreement (the sandbox signs at once; production redirects to the
    provider's page)."""
    a = agreements.agreement_sign(
        user=_person(request), method=payload.method, limit_fen=payload.limit_fen
    )
    return 201, agreement_out(a)


def session_out(s: Any) -> dict[str, Any]:
    return {
        "id": s.pk,
        "plate": s.plate,
        "ticket": s.ticket,
        "status": s.status,
        "entered_at": s.entered_at,
        "exited_at": s.exited_at,
        "level": s.floor.name if s.floor else "",
        "space": s.space.code if s.space else "",
        "fee_fen": s.fee_fen,
        "paid_fen": s.paid_fen,
        "match_score": s.match_score,
    }


@router.get("/parking/me/sessions", response=list[SessionOut], operation_id="parking_my_sessions")
def my_sessions(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [session_out(s) for s in sel.sessions_of_user(user=_person(request))[:50]]


@router.get(
    "/parking/me/sessions/{session_id}/quote",
    response=QuoteOut,
    operation_id="parking_my_quote",
)
def my_quote(request: HttpRequest, session_id: int):  # type: ignore[no-untyped-def]
    session = sel.access_session(user=_person(request), session_id=session_id)
    return quote_out(session, charging.session_quote(session=session))


@router.post(
    "/parking/me/sessions/{session_id}/coupons",
    response=QuoteOut,
    operation_id="parking_coupon_use",
)
def coupon_use(  # type: ignore[no-untyped-def]
    request: HttpRequest, session_id: int, payload: CouponUseIn
):
    """Use a parking coupon (hours, or money off) of your wallet on your stay."""
    user = _person(request)
    session = sel.access_session(user=user, session_id=session_id)
    charging.session_coupon_apply(user=user, session=session, coupon_id=payload.coupon_id)
    return quote_out(session, charging.session_quote(session=session))


@router.post(
    "/parking/me/sessions/{session_id}/points",
    response=QuoteOut,
    operation_id="parking_points_use",
)
def points_use(  # type: ignore[no-untyped-def]
    request: HttpRequest, session_id: int, payload: PointsUseIn
):
    """Buy free hours with points; the same ``key`` spends nothing twice."""
    user = _person(request)
    session = sel.access_session(user=user, session_id=session_id)
    charging.session_points_apply(user=user, session=session, hours=payload.hours, key=payload.key)
    return quote_out(session, charging.session_quote(session=session))


@router.post(
    "/parking/me/sessions/{session_id}/pay",
    response={201: PaymentOut},
    operation_id="parking_my_pay",
)
def my_pay(request: HttpRequest, session_id: int, payload: PayIn):  # type: ignore[no-untyped-def]
    """Pay in the app before leaving: you then have the car park's grace period to exit."""
    user = _person(request)
    session = sel.access_session(user=user, session_id=session_id)
    payment, order = charging.session_pay(
        actor=actor_of(request),
        session=session,
        method=payload.method,
        channel="app",
        key=payload.key,
    )
    return 201, payment_out(payment, order)


def reservation_out(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "car_park": r.car_park.code,
        "space": r.space.code,
        "zone": r.space.zone.name,
        "plate": r.plate,
        "starts_at": r.starts_at,
        "ends_at": r.ends_at,
        "status": r.status,
        "price_fen": r.price_fen,
    }


@router.get(
    "/parking/me/reservations", response=list[ReservationOut], operation_id="parking_reservations"
)
def reservations(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [reservation_out(r) for r in sel.reservations_of(user=_person(request))[:50]]


@router.post(
    "/parking/me/reservations",
    response={201: ReservationOut},
    operation_id="parking_reservation_create",
)
def reservation_create(  # type: ignore[no-untyped-def]
    request: HttpRequest, payload: ReservationIn
):
    """Reserve a space of a kind (or a shared space) for a time window."""
    user = _person(request)
    try:
        car_park = sel.car_park_by_code(code=payload.car_park)
    except NotFound:
        raise ValidationFailed(
            detail="unknown car park",
            errors=[ingest.FieldError("car_park", "a car park code", "unknown")],
        ) from None
    r = shopper.reservation_create(
        user=user,
        car_park=car_park,
        plate=payload.plate,
        kind=payload.kind,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        key=payload.key,
        share_id=payload.share_id,
    )
    return 201, reservation_out(r)


@router.post(
    "/parking/me/reservations/{reservation_id}/cancel",
    response=ReservationOut,
    operation_id="parking_reservation_cancel",
)
def reservation_cancel(request: HttpRequest, reservation_id: int):  # type: ignore[no-untyped-def]
    return reservation_out(
        shopper.reservation_cancel(user=_person(request), reservation_id=reservation_id)
    )


def share_out(s: Any) -> dict[str, Any]:
    return {
        "id": s.pk,
        "car_park": s.space.car_park.code,
        "space": s.space.code,
        "zone": s.space.zone.name,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "price_fen_per_hour": s.price_fen_per_hour,
        "withdrawn": s.withdrawn,
    }


@router.get(
    "/parking/shares", auth=OPTIONAL, response=list[ShareOut], operation_id="parking_shares"
)
def shares(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Idle hours of private spaces their owners share."""
    return [share_out(s) for s in sel.shares_open(district_id=_district_id())[:100]]


@router.post("/parking/me/shares", response={201: ShareOut}, operation_id="parking_share_publish")
def share_publish(request: HttpRequest, payload: ShareIn):  # type: ignore[no-untyped-def]
    s = shopper.share_publish(
        user=_person(request),
        space_id=payload.space_id,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        price_fen_per_hour=payload.price_fen_per_hour,
    )
    return 201, share_out(s)


@router.post(
    "/parking/me/shares/{share_id}/withdraw",
    response=ShareOut,
    operation_id="parking_share_withdraw",
)
def share_withdraw(request: HttpRequest, share_id: int):  # type: ignore[no-untyped-def]
    return share_out(shopper.share_withdraw(user=_person(request), share_id=share_id))


# --- operators --------------------------------------------------------------------------------
def _operator(request: HttpRequest, car_park_id: int) -> tuple[Actor, Any]:
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(ApiScope.PARKING_WRITE)
    return actor, sel.access_car_park(actor=actor, car_park_id=car_park_id)


@router.get(
    "/parking/ops/{car_park_id}/sessions",
    response=list[SessionOut],
    operation_id="parking_ops_sessions",
)
def ops_sessions(  # type: ignore[no-untyped-def]
    request: HttpRequest, car_park_id: int, status: str = ""
):
    """The car park's stays, newest first (at most 200)."""
    _, car_park = _operator(request, car_park_id)
    return [
        session_out(s) for s in sel.sessions_of_car_park(car_park=car_park, status=status)[:200]
    ]


def review_out(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "kind": r.kind,
        "status": r.status,
        "plate": r.plate,
        "gate": r.gate.code,
        "occurred_at": r.occurred_at,
        "candidates": r.candidates,
    }


@router.get(
    "/parking/ops/{car_park_id}/reviews",
    response=list[ReviewOut],
    operation_id="parking_ops_reviews",
)
def ops_reviews(request: HttpRequest, car_park_id: int):  # type: ignore[no-untyped-def]
    """Reads the operator must look at: exits with no entry, ambiguous and unsure reads."""
    _, car_park = _operator(request, car_park_id)
    return [review_out(r) for r in sel.reviews_open(car_park=car_park)]


def _review(request: HttpRequest, review_id: int) -> tuple[Actor, Any]:
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(ApiScope.PARKING_WRITE)
    return actor, sel.access_review(actor=actor, review_id=review_id)


@router.post(
    "/parking/ops/reviews/{review_id}/match",
    response=SessionOut,
    operation_id="parking_ops_review_match",
)
def ops_review_match(  # type: ignore[no-untyped-def]
    request: HttpRequest, review_id: int, payload: ReviewMatchIn
):
    """Say which stay an exit read belongs to: the stay is priced and closed as at the exit."""
    actor, review = _review(request, review_id)
    return session_out(ops.review_match(actor=actor, review=review, session_id=payload.session_id))


@router.post(
    "/parking/ops/reviews/{review_id}/dismiss",
    response=ReviewOut,
    operation_id="parking_ops_review_dismiss",
)
def ops_review_dismiss(  # type: ignore[no-untyped-def]
    request: HttpRequest, review_id: int, payload: ReviewDismissIn
):
    actor, review = _review(request, review_id)
    return review_out(ops.review_dismiss(actor=actor, review=review, note=payload.note))


TARIFF_FIELDS = (
    "id",
    "version",
    "valid_from",
    "free_minutes",
    "unit_minutes",
    "day_unit_fen",
    "night_unit_fen",
    "night_start",
    "night_end",
    "night_cap_fen",
    "day_cap_fen",
    "holiday_unit_fen",
    "holiday_cap_fen",
    "note",
)


@router.get(
    "/parking/ops/{car_park_id}/tariffs",
    response=list[TariffOut],
    operation_id="parking_ops_tariffs",
)
def ops_tariffs(request: HttpRequest, car_park_id: int):  # type: ignore[no-untyped-def]
    _, car_park = _operator(request, car_park_id)
    return [{f: getattr(t, f) for f in TARIFF_FIELDS} for t in car_park.tariffs.all()]


@router.post(
    "/parking/ops/{car_park_id}/tariffs",
    response={201: TariffOut},
    operation_id="parking_ops_tariff_publish",
)
def ops_tariff_publish(  # type: ignore[no-untyped-def]
    request: HttpRequest, car_park_id: int, payload: TariffIn
):
    """Publish a new tariff version (stays entering from ``valid_from`` pay it)."""
    actor, car_park = _operator(request, car_park_id)
    t = ops.tariff_publish(actor=actor, car_park=car_park, **payload.model_dump())
    return 201, {f: getattr(t, f) for f in TARIFF_FIELDS}


def page_out(p: Any) -> dict[str, Any]:
    return {
        "id": p.pk,
        "plate": p.plate,
        "reason": p.reason,
        "text": p.text,
        "created_at": p.created_at,
        "deliveries": [
            {
                "channel": d.channel,
                "address": d.address,
                "status": d.status,
                "detail": d.detail,
                "at": d.at,
            }
            for d in p.deliveries.all()
        ],
    }


@router.post(
    "/parking/ops/{car_park_id}/pages",
    response={201: PageOut},
    operation_id="parking_ops_page",
)
def ops_page(request: HttpRequest, car_park_id: int, payload: PageIn):  # type: ignore[no-untyped-def]
    """Emergency paging (PARK-4): app notification and SMS to the plate's owner, logged."""
    actor, car_park = _operator(request, car_park_id)
    page = ops.page_send(
        actor=actor,
        car_park=car_park,
        plate=payload.plate,
        reason=payload.reason,
        text=payload.text,
    )
    return 201, page_out(page)


@router.get(
    "/parking/ops/{car_park_id}/pages",
    response=list[PageOut],
    operation_id="parking_ops_pages",
)
def ops_pages(request: HttpRequest, car_park_id: int):  # type: ignore[no-untyped-def]
    _, car_park = _operator(request, car_park_id)
    return [page_out(p) for p in car_park.pages.prefetch_related("deliveries")[:100]]
