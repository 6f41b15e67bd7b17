"""Navigation API: routes, place search, WiFi positioning and the page by position (public,
positioning only with location consent); links, closures, the WiFi registry and kiosks
(operators)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from ninja import Query, Router, Schema
from pydantic import Field

from agora.accounts.choices import ApiScope, ConsentPurpose
from agora.accounts.selectors import consent_granted
from agora.core.auth import OPTIONAL, actor_of
from agora.core.errors import PermissionDenied
from agora.district.selectors import access_floor
from agora.navigation import selectors as sel
from agora.navigation.choices import RouteMode
from agora.navigation.schemas import (
    AccessPointsIn,
    ClosureIn,
    ClosureOut,
    ContextIn,
    ContextOut,
    GeneratedOut,
    ImportedOut,
    KioskIn,
    KioskOut,
    LinkCreateIn,
    LinkOut,
    PlaceOut,
    PositionIn,
    PositionOut,
    RouteOut,
    SurveyPointIn,
    SurveyPointOut,
)
from agora.navigation.services import closures, kiosks, links, registry

router = Router(tags=["navigation"])


class RouteQuery(Schema):
    from_: str = Field(
        ...,
        alias="from",
        max_length=60,
        description="shop:12, facility:5, zone:7, kiosk:<code> or point:<floor_id>:<x>:<y>",
    )
    to: str = Field(
        "",
        max_length=60,
        description="as from, or nearest:restroom|exit|"
        "service_desk|lift|nursing_room|atm|aed (ignored in evacuation mode)",
    )
    mode: RouteMode = RouteMode.FASTEST
    lang: str = Field("", max_length=10, description="zh-hans or en (default: the site's)")


def route_out(view: sel.RouteView) -> dict[str, Any]:
    r = view.route
    return {
        "mode": r.mode,
        "origin": view.origin_label,
        "destination": view.destination_label,
        "distance_m": round(r.distance_m),
        "duration_s": round(r.seconds),
        "floors": view.floors,
        "legs": view.legs,
        "steps": view.instructions,
        "links": r.links,
        "closures_in_force": view.closures_avoided,
    }


@router.get("/nav/route", auth=OPTIONAL, response=RouteOut, operation_id="nav_route")
def route(request: HttpRequest, q: Query[RouteQuery]):  # type: ignore[no-untyped-def]
    """A walking route between two places of the district, with its legs per floor and
    turn-by-turn steps in the request's language. 422 ``no_route`` says why there is none."""
    district = sel.default_district()
    lang = q.lang if q.lang in dict(settings.LANGUAGES) else translation.get_language()
    with translation.override(lang):
        view = sel.route_find(
            district_id=district.pk, origin=q.from_, destination=q.to, mode=q.mode
        )
    return route_out(view)


@router.get("/nav/search", auth=OPTIONAL, response=list[PlaceOut], operation_id="nav_search")
def search(  # type: ignore[no-untyped-def]
    request: HttpRequest, q: str = "", mall_id: int | None = None
):
    """Shops, facilities and categories by name, pinyin or initials."""
    return [vars(f) for f in sel.places_search(q=q[:40], mall_id=mall_id)]


def _require_location_consent(request: HttpRequest) -> None:
    actor = actor_of(request)
    if actor.api_key is not None:
        raise PermissionDenied(detail="positioning is for the shopper's own app, not API keys")
    session = getattr(request, "session", None)
    if not consent_granted(
        user=actor.user, purpose=ConsentPurpose.LOCATION_TRACKING, session=session
    ):
        raise PermissionDenied(
            detail="the shopper has not allowed location use (consent 'location_tracking')",
            code="consent_required",
            extra={"purpose": ConsentPurpose.LOCATION_TRACKING.value},
        )


def position_out(p: sel.Position) -> dict[str, Any]:
    return {**vars(p), "place": f"point:{p.floor_id}:{p.x}:{p.y}"}


@router.post("/nav/position", auth=OPTIONAL, response=PositionOut, operation_id="nav_position")
def position(request: HttpRequest, payload: PositionIn):  # type: ignore[no-untyped-def]
    """Floor, zone and x, y from a WiFi scan (BSSID + RSSI), with an accuracy estimate. Only
    with the shopper's location consent (403 ``consent_required`` otherwise); nothing is
    stored."""
    _require_location_consent(request)
    return position_out(
        sel.position_from_wifi(observations=[o.model_dump() for o in payload.observations])
    )


@router.post("/nav/context", auth=OPTIONAL, response=ContextOut, operation_id="nav_context")
def context(request: HttpRequest, payload: ContextIn):  # type: ignore[no-untyped-def]
    """Which home page a position calls for: a mall's page inside it, the life page outside
    (with hysteresis at the edge). Only with location consent; nothing is stored."""
    _require_location_consent(request)
    return vars(
        sel.page_for_position(
            latitude=payload.latitude,
            longitude=payload.longitude,
            accuracy_m=payload.accuracy_m,
            current=payload.current,
        )
    )


# --- operators --------------------------------------------------------------------------------
def _operator(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(ApiScope.DISTRICT_WRITE)
    if not (actor.is_admin or actor.is_operator or actor.district_operator_ids):
        raise PermissionDenied(detail="for the district's and malls' operators")
    return actor


LINK_FIELDS = ("id", "mall_id", "kind", "code", "name", "direction", "length_m", "extra_s", "auto")


def link_out(link: Any) -> dict[str, Any]:
    return {
        **{f: getattr(link, f) for f in LINK_FIELDS},
        "stops": [
            {"floor_id": s.floor_id, "zone_id": s.zone_id, "x": s.x, "y": s.y}
            for s in link.stops.all()
        ],
    }


@router.get("/nav/links", auth=OPTIONAL, response=list[LinkOut], operation_id="nav_links")
def links_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Lifts, escalators, stairs and walks between malls (public: the map shows them)."""
    district = sel.default_district()
    return [link_out(link) for link in sel.links_list(district_id=district.pk)]


@router.post("/nav/links", response={201: LinkOut}, operation_id="nav_link_create")
def link_create(request: HttpRequest, payload: LinkCreateIn):  # type: ignore[no-untyped-def]
    """Add a skywalk, tunnel or street walk between two malls."""
    actor = _operator(request)
    district = sel.default_district()
    stops = [(access_floor(actor=actor, floor_id=s.floor_id), s.x, s.y) for s in payload.stops]
    link = links.link_create(
        actor=actor,
        district=district,
        kind=payload.kind,
        code=payload.code,
        name=payload.name,
        stops=stops,
        length_m=payload.length_m,
        extra_s=payload.extra_s,
    )
    return 201, link_out(link)


@router.post("/nav/links/generate", response=GeneratedOut, operation_id="nav_links_generate")
def links_generate(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Remake the automatic links from the geometry (after floors or zones changed)."""
    actor = _operator(request)
    return vars(links.network_links_generate(actor=actor, district=sel.default_district()))


@router.get("/nav/closures", response=list[ClosureOut], operation_id="nav_closures")
def closures_list(  # type: ignore[no-untyped-def]
    request: HttpRequest, include_lifted: bool = False
):
    actor = _operator(request)
    district = sel.default_district()
    qs = sel.closures_list(district_id=district.pk, include_lifted=include_lifted)
    if not (actor.is_admin or district.pk in actor.district_operator_ids):
        qs = qs.filter(mall_id__in=actor.operated_mall_ids)
    return list(qs)


@router.post("/nav/closures", response={201: ClosureOut}, operation_id="nav_close")
def close(request: HttpRequest, payload: ClosureIn):  # type: ignore[no-untyped-def]
    """Close a zone or a link; routes avoid it from the next request on."""
    actor = _operator(request)
    closure = closures.closure_create(
        actor=actor,
        zone_id=payload.zone_id,
        link_id=payload.link_id,
        reason=payload.reason,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
    )
    return 201, closure


@router.post("/nav/closures/{closure_id}/lift", response=ClosureOut, operation_id="nav_reopen")
def reopen(request: HttpRequest, closure_id: int):  # type: ignore[no-untyped-def]
    actor = _operator(request)
    return closures.closure_lift(actor=actor, closure_id=closure_id)


@router.post("/nav/access-points", response=ImportedOut, operation_id="nav_access_points_import")
def access_points_import(  # type: ignore[no-untyped-def]
    request: HttpRequest, payload: AccessPointsIn
):
    """Add or move WiFi access points (all rows are checked; one wrong row saves none)."""
    actor = _operator(request)
    rows = [a.model_dump() for a in payload.access_points]
    return {"saved": registry.access_points_import(actor=actor, rows=rows)}


@router.post("/nav/survey-points", response={201: SurveyPointOut}, operation_id="nav_survey_point")
def survey_point(request: HttpRequest, payload: SurveyPointIn):  # type: ignore[no-untyped-def]
    """Record a surveyed fingerprint (mean RSSI per AP) at a spot."""
    actor = _operator(request)
    floor = access_floor(actor=actor, floor_id=payload.floor_id, manage=True)
    p = registry.survey_point_record(
        actor=actor,
        floor=floor,
        x=payload.x,
        y=payload.y,
        fingerprint=payload.fingerprint,
        samples=payload.samples,
    )
    return 201, {"id": p.pk, "floor_id": p.floor_id, "x": p.x, "y": p.y, "aps": len(p.fingerprint)}


def kiosk_out(k: Any) -> dict[str, Any]:
    return {
        "code": k.code,
        "name": k.name,
        "floor_id": k.floor_id,
        "mall_id": k.floor.mall_id,
        "x": k.x,
        "y": k.y,
        "facing": k.facing,
        "last_seen_at": k.last_seen_at,
        "online": sel.kiosk_online(k),
    }


@router.get("/nav/kiosks", response=list[KioskOut], operation_id="nav_kiosks")
def kiosks_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    actor = _operator(request)
    mall_ids = (
        None if actor.is_admin or actor.district_operator_ids else list(actor.operated_mall_ids)
    )
    return [kiosk_out(k) for k in sel.kiosks_list(mall_ids=mall_ids)]


@router.post("/nav/kiosks", response={201: KioskOut}, operation_id="nav_kiosk_create")
def kiosk_create(request: HttpRequest, payload: KioskIn):  # type: ignore[no-untyped-def]
    actor = _operator(request)
    floor = access_floor(actor=actor, floor_id=payload.floor_id, manage=True)
    k = kiosks.kiosk_create(
        actor=actor,
        floor=floor,
        code=payload.code,
        name=payload.name,
        x=payload.x,
        y=payload.y,
        facing=payload.facing,
    )
    return 201, kiosk_out(k)


@router.post(
    "/nav/kiosks/{code}/heartbeat",
    auth=OPTIONAL,
    response=KioskOut,
    operation_id="nav_kiosk_heartbeat",
)
def kiosk_heartbeat(request: HttpRequest, code: str):  # type: ignore[no-untyped-def]
    """A kiosk page reports in (it is a public screen: no personal data involved)."""
    kiosk = sel.access_kiosk(code=code[:40])
    return kiosk_out(kiosks.kiosk_heartbeat(kiosk=kiosk))
