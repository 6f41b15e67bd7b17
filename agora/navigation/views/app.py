"""The shopper's location-aware pages (APP-1): a mall's page, the life page and the citizen
window, each as a full page and as the partial the home shell swaps in; the consent to use the
shopper's location.

The home shell (``agora.portal.views.shopper.home``) asks the browser for the position and posts
it to ``/api/v1/nav/context``; when the answer changes it swaps in the mall or life partial."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agora.accounts.choices import ConsentPurpose
from agora.accounts.selectors import consent_granted
from agora.accounts.services.privacy import consent_set, consent_set_session
from agora.core.errors import DomainError
from agora.coupons.selectors import claimable, coupon_centre
from agora.district.selectors import floors_of_mall, malls_public, shop_directory
from agora.lib.timeutil import open_at
from agora.navigation.selectors import default_district, malls_by_distance, places_search
from agora.parking.selectors import district_parking
from agora.portal.views.common import safe_next

SEARCH_LIMIT = 12
COUPONS_SHOWN = 6
# quick "take me to the nearest ..." buttons of a mall's page: (spec, label)
QUICK_KINDS = ("restroom", "service_desk", "exit", "lift")


def is_partial(request: HttpRequest) -> bool:
    """HTMX asks for the partial (the home shell swaps it in); ``?partial=1`` too."""
    return bool(getattr(request, "htmx", False)) or request.GET.get("partial") == "1"


def _render(request: HttpRequest, full: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    part = is_partial(request)
    response = render(request, partial if part else full, {**context, "full": not part})
    patch_vary_headers(response, ["HX-Request"])
    return response


def location_consent(request: HttpRequest) -> bool:
    user = request.user if request.user.is_authenticated else None
    return consent_granted(
        user=user,  # type: ignore[arg-type]
        purpose=ConsentPurpose.LOCATION_TRACKING,
        session=request.session,
    )


def mall_by_code(code: str) -> Any:
    mall = malls_public().filter(code=code[:40]).first()
    if mall is None:
        raise Http404("no such mall")
    return mall


def quick_links() -> list[dict[str, str]]:
    labels = {
        "restroom": _("Nearest restroom"),
        "service_desk": _("Service desk"),
        "exit": _("Exit"),
        "lift": _("Lift"),
    }
    return [{"kind": k, "to": f"nearest:{k}", "label": labels[k]} for k in QUICK_KINDS]


def _places(q: str, mall_id: int) -> list[Any]:
    """Shops and facilities of one mall to route to (categories are not places)."""
    if not q.strip():
        return []
    return [f for f in places_search(q=q[:40], mall_id=mall_id) if f.kind != "category"][
        :SEARCH_LIMIT
    ]


def parking_strip(
    *, district_id: int, mall_code: str | None = None, find_from: str = "", compact: bool = False
) -> dict[str, Any]:
    """The car parks (of one mall, or of the whole district) with their free spaces, for the
    live parking partial (``parking/live_strip.html``); ``version`` is the district's, which
    its stream follows."""
    rows = district_parking(district_id=district_id)
    version = sum(int(r["version"]) for r in rows)
    if mall_code is not None:
        rows = [r for r in rows if r["mall_code"] == mall_code]
    return {"rows": rows, "version": version, "find_from": find_from, "compact": compact}


def mall_context(mall: Any, *, q: str = "") -> dict[str, Any]:
    coupons = claimable(coupon_centre(district_id=mall.district_id, mall_id=mall.pk))
    food = list(shop_directory(mall_id=mall.pk, category="food").prefetch_related("units__floor"))
    return {
        "mall": mall,
        "open_now": open_at(mall.opens_at, mall.closes_at, timezone.localtime().time()),
        "floors": list(floors_of_mall(mall=mall)),
        "coupons": coupons[:COUPONS_SHOWN],
        "coupons_more": max(0, len(coupons) - COUPONS_SHOWN),
        "food": food,
        "quick": quick_links(),
        "q": q,
        "places": _places(q, mall.pk),
        "searched": bool(q.strip()),
        "parking": parking_strip(district_id=mall.district_id, mall_code=mall.code),
    }


@require_GET
def mall_page(request: HttpRequest, mall_code: str) -> HttpResponse:
    """A mall's page: hours, promotions, map and navigation, parking, food."""
    mall = mall_by_code(mall_code)
    context = mall_context(mall, q=request.GET.get("q", ""))
    return _render(request, "navigation/app_mall.html", "navigation/app_mall_part.html", context)


@require_GET
def mall_places(request: HttpRequest, mall_code: str) -> HttpResponse:
    """Live search of a mall's shops and facilities (HTMX partial); each result routes there."""
    mall = mall_by_code(mall_code)
    q = request.GET.get("q", "")
    if not is_partial(request):
        query = urlencode({"q": q[:40]})
        return redirect(f"{reverse('nav-mall', args=[mall.code])}?{query}#mall-search")
    context = {"mall": mall, "q": q, "places": _places(q, mall.pk), "searched": bool(q.strip())}
    return _render(request, "navigation/app_places.html", "navigation/app_places.html", context)


# --- the life page ---------------------------------------------------------------------------
@dataclass
class NearbyMall:
    mall: Any
    distance_m: float | None

    @property
    def distance_text(self) -> str:
        d = self.distance_m
        if d is None:
            return ""
        if d < 1:
            return _("You are here")
        if d < 1000:
            return _("%(m)s m away") % {"m": int(round(d, -1) or 10)}
        return _("%(km)s km away") % {"km": f"{d / 1000:.1f}"}


def _coordinate(raw: str, limit: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    if value != value or not (-limit <= value <= limit):  # NaN or out of range
        return None
    return value


def nearby_malls(latitude: float | None, longitude: float | None) -> list[NearbyMall]:
    """Every mall, nearest first when the position is known (metres to its footprint)."""
    if latitude is None or longitude is None:
        return [NearbyMall(mall, None) for mall in malls_public()]
    return [
        NearbyMall(mall, round(d, 1))
        for d, mall in malls_by_distance(latitude=latitude, longitude=longitude)
    ]


def life_context(request: HttpRequest) -> dict[str, Any]:
    """Distances only with the shopper's location consent (otherwise the position is ignored)."""
    lat = _coordinate(request.GET.get("lat", ""), 90)
    lon = _coordinate(request.GET.get("lon", ""), 180)
    if lat is None or lon is None or not location_consent(request):
        lat = lon = None
    try:
        parking = parking_strip(district_id=default_district().pk)
    except DomainError:  # no district yet
        parking = None
    return {"nearby": nearby_malls(lat, lon), "located": lat is not None, "parking": parking}


@require_GET
def life_page(request: HttpRequest) -> HttpResponse:
    return _render(
        request, "navigation/app_life.html", "navigation/app_life_part.html", life_context(request)
    )


@require_GET
def citizen_page(request: HttpRequest) -> HttpResponse:
    return _render(request, "navigation/app_citizen.html", "navigation/app_citizen_part.html", {})


# --- consent -----------------------------------------------------------------------------------
def _wants_json(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) or "application/json" in request.headers.get(
        "Accept", ""
    )


@require_POST
def location_consent_view(request: HttpRequest) -> HttpResponse:
    """Allow (or with ``granted=0`` withdraw) the use of the shopper's location: recorded for
    a signed-in shopper, kept in the browser session for a visitor."""
    granted = request.POST.get("granted", "1") not in ("0", "false", "")
    purpose = ConsentPurpose.LOCATION_TRACKING.value
    try:
        if request.user.is_authenticated:
            consent_set(
                user=request.user,  # type: ignore[arg-type]
                purpose=purpose,
                granted=granted,
                policy_version=settings.PRIVACY_POLICY_VERSION,
                source="web",
            )
        else:
            consent_set_session(session=request.session, purpose=purpose, granted=granted)
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse({"granted": False, "detail": exc.detail}, status=400)
        return redirect(safe_next(request, "/"))
    if _wants_json(request):
        return JsonResponse({"granted": granted, "purpose": purpose})
    return redirect(safe_next(request, "/"))
