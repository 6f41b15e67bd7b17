"""Shopper pages of indoor navigation (GUIDE-2, APP-3, APP-5, MKT-3): the route page with its
place pickers, and a shop's page with "take me there".

``/nav/?from=<spec>&to=<spec>&mode=fastest|step_free`` is shareable (kiosk QR codes point to
it) and draws the route on the server, so it works without JavaScript; with HTMX the pickers
search as you type and the page swaps its content in place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from agora.core.errors import DomainError, NotFound
from agora.coupons.selectors import claimable, coupon_centre
from agora.district.choices import ShopCategory
from agora.district.selectors import access_directory_shop, access_floor, floor_plan, shop_directory
from agora.lib.timeutil import open_at
from agora.navigation.choices import NearestKind, RouteMode
from agora.navigation.instructions import about_metres
from agora.navigation.maps import route_maps
from agora.navigation.selectors import (
    RouteView,
    default_district,
    network_of,
    place_resolve,
    places_search,
    route_find,
)
from agora.portal.views.common import actor_of

FIELDS = ("from", "to")
QUICK = (NearestKind.RESTROOM, NearestKind.EXIT, NearestKind.SERVICE_DESK, NearestKind.LIFT)
PAGE_MODES = (RouteMode.FASTEST, RouteMode.STEP_FREE)
CHOICES_LIMIT = 12
SPEC_MAX = 80


@dataclass
class Choice:
    """One row of a picker's results: a place to route from or to, or a category to open."""

    kind: str  # shop, facility, category
    name: str
    detail: str
    spec: str  # the place spec ("" for a category)
    url: str  # the route page with this place filled in (works without JavaScript)
    category: str = ""


@dataclass
class FieldState:
    name: str  # from, to
    spec: str
    label: str
    q: str
    error: str = ""
    choices: list[Choice] | None = None  # None: nothing searched


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _param(request: HttpRequest, key: str, limit: int = SPEC_MAX) -> str:
    return request.GET.get(key, "").strip()[:limit]


def nav_url(*, origin: str = "", destination: str = "", mode: str = "") -> str:
    params = {
        k: v
        for k, v in (("from", origin), ("to", destination), ("mode", mode))
        if v and not (k == "mode" and v == RouteMode.FASTEST)
    }
    base = reverse("nav-route")
    return f"{base}?{urlencode(params)}" if params else base


def _choice_url(field: str, spec: str, other: str, mode: str) -> str:
    if field == "from":
        return nav_url(origin=spec, destination=other, mode=mode)
    return nav_url(origin=other, destination=spec, mode=mode)


def _choices(*, field: str, q: str, category: str, other: str, mode: str) -> list[Choice] | None:
    """Search results for a picker: by name/pinyin/initials, or the open shops of a category."""
    out: list[Choice] = []
    if category:
        if category not in ShopCategory.values:
            return []
        shops = shop_directory(category=category).prefetch_related("units__floor")
        for shop in shops[: CHOICES_LIMIT * 2]:
            floors = sorted({u.floor.name for u in shop.units.all()})
            spec = f"shop:{shop.pk}"
            out.append(
                Choice(
                    "shop",
                    shop.name,
                    f"{shop.mall.name} {' '.join(floors)}".strip(),
                    spec,
                    _choice_url(field, spec, other, mode),
                )
            )
        return out
    if not q:
        return None
    for found in places_search(q=q, limit=CHOICES_LIMIT):
        if found.kind == "category":
            url = _choice_url(field, "", other, mode)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}{urlencode({f'{field}_cat': found.id})}"
            out.append(Choice("category", found.name, "", "", url, category=found.id))
        else:
            out.append(
                Choice(
                    found.kind,
                    found.name,
                    found.detail,
                    found.place,
                    _choice_url(field, found.place, other, mode),
                )
            )
    return out


def _label(net: Any, spec: str, field: str) -> tuple[str, str]:
    """(label, error) of a place spec on its own."""
    try:
        return place_resolve(net, spec, field_name=field).label, ""
    except DomainError as exc:
        return "", exc.detail


def _error(exc: DomainError) -> dict[str, str]:
    first = exc.errors[0] if exc.errors else None
    reason = str(exc.extra.get("reason") or (first.code if first else exc.code))
    field = first.field if first else ""
    where = {
        "from": pgettext("nav", "Start"),
        "to": pgettext("nav", "Destination"),
        "mode": _("Route mode"),
    }.get(field, "")
    return {"reason": reason, "field": field, "where": where, "detail": exc.detail}


def _shop_id(spec: str) -> int | None:
    kind, _sep, ref = spec.partition(":")
    return int(ref) if kind == "shop" and ref.isdigit() else None


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60.0 - 0.25))


def _route_context(request: HttpRequest) -> dict[str, Any]:
    mode = _param(request, "mode", 20) or RouteMode.FASTEST
    states = {
        f: FieldState(
            name=f,
            spec=_param(request, f),
            label="",
            q=_param(request, f"{f}_q", 40),
        )
        for f in FIELDS
    }
    context: dict[str, Any] = {
        "mode": mode,
        "modes": [(m.value, m.label) for m in PAGE_MODES],
        "quick": [(f"nearest:{k.value}", k.label) for k in QUICK],
        "fields": states,
        "route": None,
        "error": None,
    }
    try:
        district = default_district()
    except NotFound:
        context["error"] = {
            "reason": "no_district",
            "field": "",
            "where": "",
            "detail": _("There is no district to navigate yet."),
        }
        return context
    net = network_of(district.pk)
    for f, st in states.items():
        other = states["to" if f == "from" else "from"].spec
        if st.spec:
            st.label, st.error = _label(net, st.spec, f)
            # the text box no longer shows the chosen place: the shopper typed something else
            if st.q and st.label and st.q != st.label:
                st.spec, st.label = "", ""
        if not st.spec or st.error:
            cat = _param(request, f"{f}_cat", 20)
            st.choices = _choices(field=f, q=st.q, category=cat, other=other, mode=mode)
    origin, destination = states["from"], states["to"]
    if origin.spec and destination.spec and not origin.error and not destination.error:
        try:
            view = route_find(
                district_id=district.pk,
                origin=origin.spec,
                destination=destination.spec,
                mode=mode,
            )
        except DomainError as exc:
            context["error"] = _error(exc)
        else:
            context["route"] = _route_view(request, view, origin.spec, destination.spec)
    elif origin.error or destination.error:
        bad = origin if origin.error else destination
        context["error"] = {
            "reason": "bad_place",
            "field": bad.name,
            "where": (
                pgettext("nav", "Start") if bad.name == "from" else pgettext("nav", "Destination")
            ),
            "detail": bad.error,
        }
    for st in states.values():
        if not st.q:
            st.q = st.label
    context["mode_links"] = [
        (value, label, nav_url(origin=origin.spec, destination=destination.spec, mode=value))
        for value, label in context["modes"]
    ]
    context["quick_links"] = [
        (spec, label, nav_url(origin=origin.spec, destination=spec, mode=mode))
        for spec, label in context["quick"]
    ]
    context["swap_url"] = (
        nav_url(origin=destination.spec, destination=origin.spec, mode=mode)
        if origin.spec and destination.spec and not destination.spec.startswith("nearest:")
        else ""
    )
    return context


def _route_view(
    request: HttpRequest, view: RouteView, origin: str, destination: str
) -> dict[str, Any]:
    actor = actor_of(request)

    def plan_of(floor_id: int) -> dict[str, Any]:
        return floor_plan(floor=access_floor(actor=actor, floor_id=floor_id))

    here = origin.split(":", 1)[0] in ("kiosk", "point")
    start_label = (
        view.origin_label if here else _("Start: %(place)s") % {"place": view.origin_label}
    )
    dest_shop = _shop_id(destination)
    sections = route_maps(
        view,
        plan_of=plan_of,
        start_label=start_label,
        end_label=view.destination_label,
        highlight_shop=dest_shop,
    )
    return {
        "view": view,
        "minutes": _minutes(view.route.seconds),
        "metres": about_metres(view.route.distance_m),
        "sections": sections,
        "floors": sum(1 for s in sections if s.kind == "floor"),
        "dest_shop_url": reverse("nav-shop", args=[dest_shop]) if dest_shop else "",
        "here": here,
    }


@require_GET
def route_page(request: HttpRequest) -> HttpResponse:
    context = _route_context(request)
    if _is_htmx(request) and request.headers.get("HX-Target") == "nav-app":
        return render(request, "navigation/route_result.html", context)
    return render(request, "navigation/route.html", context)


@require_GET
def places(request: HttpRequest) -> HttpResponse:
    """The picker's live results (HTMX): ``?field=from|to&from_q=...`` or ``&to_cat=food``."""
    field = request.GET.get("field", "to")
    if field not in FIELDS:
        field = "to"
    other_field = "to" if field == "from" else "from"
    mode = _param(request, "mode", 20) or RouteMode.FASTEST
    q = _param(request, f"{field}_q", 40) or _param(request, "q", 40)
    category = _param(request, f"{field}_cat", 20) or _param(request, "category", 20)
    choices = _choices(
        field=field, q=q, category=category, other=_param(request, other_field), mode=mode
    )
    return render(
        request,
        "navigation/route_places.html",
        {"field": field, "choices": choices, "q": q},
    )


@require_GET
def shop_page(request: HttpRequest, shop_id: int) -> HttpResponse:
    try:
        shop = access_directory_shop(shop_id=shop_id)
    except NotFound:
        raise Http404("no such shop") from None
    units = sorted(shop.units.select_related("floor"), key=lambda z: (z.floor.level, z.code))
    floors: list[Any] = []
    for unit in units:
        if unit.floor not in floors:
            floors.append(unit.floor)
    origin = _param(request, "from")
    offers = [
        t
        for t in claimable(coupon_centre(district_id=shop.mall.district_id, mall_id=shop.mall_id))
        if t.shop_id == shop.pk
    ]
    return render(
        request,
        "navigation/shop.html",
        {
            "shop": shop,
            "units": units,
            "floors": floors,
            "open_now": open_at(shop.opens_at, shop.closes_at, timezone.localtime().time()),
            "take_me": nav_url(origin=origin, destination=f"shop:{shop.pk}"),
            "offers": offers,
            "coupon_centre": f"{reverse('members:coupon-centre')}?mall={shop.mall_id}",
        },
    )
