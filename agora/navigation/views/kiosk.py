"""Guide kiosks (DEV-3, GUIDE-1): a full-screen, unattended page at a fixed spot of a mall.

"You are here" on the kiosk's floor plan, the mall's directory with a live search, the route
from the kiosk to what the visitor picks (steps, the plan with the route drawn, a QR code that
continues the route on the phone), a rotating strip of promotions and facility guides. The
page reports in every minute (``POST /api/v1/nav/kiosks/<code>/heartbeat``), returns to its home
state after a minute without touch and keeps showing its last content while offline
(``static/navigation/kiosk.js``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agora.core.errors import DomainError
from agora.coupons.selectors import claimable, coupon_centre
from agora.district.choices import FacilityKind, ShopCategory
from agora.district.selectors import (
    facilities_of_floor,
    floor_plan,
    floors_of_mall,
    shop_directory,
)
from agora.navigation.selectors import (
    access_kiosk,
    places_search,
    position_of_kiosk,
    route_find,
)
from agora.navigation.views.app import is_partial, parking_strip
from agora.portal.plans import TEXT_SCALE, DrawnPlan, draw_plan
from agora.portal.views.common import qr_svg, visible

BEAT_S = 60  # heartbeat
IDLE_S = 60  # back to the home state after this long without a touch
ROTATE_S = 8  # the promotions strip
RESULTS_LIMIT = 24
GUIDE_KINDS = (FacilityKind.SERVICE_DESK, FacilityKind.RESTROOM, FacilityKind.NURSING_ROOM)


def _seconds(raw: str, default: int, low: int, high: int) -> int:
    """A timing from the query string (tests shorten them), clamped; else the default."""
    return min(max(int(raw), low), high) if raw.isdigit() else default


@dataclass
class Item:
    """One entry of the kiosk's directory: something to route to."""

    kind: str  # shop or facility
    name: str
    detail: str
    place: str
    keys: str = ""  # name, pinyin and initials, for the offline filter in kiosk.js


def _shop_items(shops: Any) -> list[Item]:
    out = []
    for shop in shops:
        units = " ".join(f"{u.floor.name} {u.code}" for u in shop.units.all())
        keys = " ".join(
            k for k in (shop.name, shop.brand, shop.name_pinyin, shop.name_initials) if k
        )
        out.append(
            Item(
                "shop",
                shop.name,
                f"{shop.get_category_display()} · {units}".strip(" ·"),
                f"shop:{shop.pk}",
                keys.lower(),
            )
        )
    return out


def _directory(mall: Any, category: str = "") -> list[Item]:
    shops = shop_directory(mall_id=mall.pk, category=category or None)
    return _shop_items(shops.prefetch_related("units__floor"))


def _categories(mall: Any) -> list[tuple[str, str]]:
    present = set(shop_directory(mall_id=mall.pk).values_list("category", flat=True))
    return [(value, str(label)) for value, label in ShopCategory.choices if value in present]


def _search(mall: Any, q: str, category: str) -> list[Item]:
    if category and not q.strip():
        return _directory(mall, category)[:RESULTS_LIMIT]
    if not q.strip():
        return _directory(mall)[:RESULTS_LIMIT]
    found = places_search(q=q[:40], mall_id=mall.pk)
    items: list[Item] = []
    for f in found:
        if f.kind == "category":  # a category: its shops
            items.extend(_directory(mall, f.id))
        else:
            items.append(Item(f.kind, f.name, f.detail, f.place))
    unique: dict[str, Item] = {}
    for item in items:
        unique.setdefault(item.place, item)
    return list(unique.values())[:RESULTS_LIMIT]


def _strip(mall: Any) -> list[dict[str, Any]]:
    """The rotating strip: the mall's claimable coupons, then where the facilities are."""
    items: list[dict[str, Any]] = []
    for t in claimable(coupon_centre(district_id=mall.district_id, mall_id=mall.pk))[:8]:
        items.append(
            {
                "kind": "promotion",
                "title": t.title,
                "text": t.description or _("Claim it in the Agora app"),
                "place": "",
            }
        )
    labels = dict(FacilityKind.choices)
    by_kind: dict[str, list[tuple[str, int]]] = {}
    for floor in floors_of_mall(mall=mall):
        for fac in facilities_of_floor(floor=floor):
            if fac.kind in GUIDE_KINDS:
                by_kind.setdefault(fac.kind, []).append((f"{floor.name} {fac.name}", fac.pk))
    for kind in GUIDE_KINDS:
        where = by_kind.get(kind)
        if where:
            items.append(
                {
                    "kind": "guide",
                    "title": str(labels[kind]),
                    "text": "、".join(w for w, _pk in where),
                    "place": f"facility:{where[0][1]}",
                }
            )
    return items


def phone_link(code: str, spec: str) -> str:
    """The route page on the shopper's phone, starting at this kiosk."""
    query = urlencode({"from": f"kiosk:{code}", "to": spec}, safe=":")
    return f"{settings.SITE_URL.rstrip('/')}/nav/?{query}"


def _plan(kiosk: Any, highlight_shop: int | None = None) -> dict[str, Any]:
    """The kiosk floor's plan with the "you are here" mark (label sizes in TEXT_SCALE units)."""
    floor = kiosk.floor
    plan: DrawnPlan = draw_plan(floor_plan(floor=floor), highlight_shop=highlight_shop)
    pos = position_of_kiosk(kiosk=kiosk)
    size = max(min(plan.width, plan.depth) / 60.0, 0.6)
    return {
        "plan": plan,
        "floor": floor,
        "here": {
            "x": pos.x,
            "y": pos.y,
            "r": round(1.3 * size, 2),
            "halo": round(3.2 * size, 2),
            "tx": round(pos.x * TEXT_SCALE, 1),
            "ty": round((pos.y - 2.6 * size) * TEXT_SCALE, 1),
            "font": round(2.2 * size * TEXT_SCALE, 1),
        },
    }


def _route(kiosk: Any, to: str) -> dict[str, Any]:
    """The route from the kiosk, or why there is none."""
    code = kiosk.code
    mall = kiosk.floor.mall
    to = to.strip()[:60]
    try:
        view = route_find(district_id=mall.district_id, origin=f"kiosk:{code}", destination=to)
    except DomainError as exc:
        if exc.extra.get("reason"):  # no route: the selector says why, in the reader's language
            return {"to": to, "route_error": exc.detail, "route_error_detail": ""}
        return {
            "to": to,
            "route_error": _("There is no route to this place from here."),
            "route_error_detail": exc.detail,
        }
    shop = int(to[5:]) if to.startswith("shop:") and to[5:].isdigit() else None
    ctx = _plan(kiosk, highlight_shop=shop)
    here_floor = kiosk.floor_id
    lines = [
        " ".join(f"{x},{y}" for x, y in leg["points"])
        for leg in view.legs
        if leg["floor_id"] == here_floor and len(leg["points"]) >= 2
    ]
    end: dict[str, Any] | None = None
    last = view.legs[-1] if view.legs else None
    if last is not None and last["floor_id"] == here_floor and last["points"]:
        x, y = last["points"][-1]
        # a shop is highlighted on the plan with its name: no second label on top of it
        end = {"x": x, "y": y, "label": "" if shop is not None else view.destination_label}
    else:  # the route goes on elsewhere: mark where it leaves this floor
        for leg in view.legs:
            if leg["floor_id"] == here_floor and leg["leave"] is not None:
                hop = leg["leave"]
                end = {"x": hop["x"], "y": hop["y"], "label": f"{hop['mall']} {hop['floor']}"}
                break
    if end is not None:
        size = ctx["here"]["font"]
        end.update(
            r=ctx["here"]["r"],
            tx=round(end["x"] * TEXT_SCALE, 1),
            ty=round(end["y"] * TEXT_SCALE - size * 1.2, 1),
            font=size,
        )
    link = phone_link(code, to)
    return {
        **ctx,
        "to": to,
        "route": view,
        "minutes": max(1, math.ceil(view.route.seconds / 60)),
        "metres": round(view.route.distance_m),
        "lines": lines,
        "end": end,
        "other_floors": [
            f"{leg['mall']} {leg['floor']}" for leg in view.legs if leg["floor_id"] != here_floor
        ],
        "phone_link": link,
        "qr": qr_svg(link, label=_("Continue on your phone")),
    }


def _kiosk_or_404(code: str) -> Any:
    return visible(access_kiosk, code=code[:40])


@never_cache
@require_GET
def kiosk_page(request: HttpRequest, code: str) -> HttpResponse:
    kiosk = _kiosk_or_404(code)
    mall = kiosk.floor.mall
    to = request.GET.get("to", "")
    context: dict[str, Any] = {
        "kiosk": kiosk,
        "mall": mall,
        "home": _plan(kiosk),
        "directory": _directory(mall),
        "categories": _categories(mall),
        "strip": _strip(mall),
        "beat": _seconds(request.GET.get("beat", ""), BEAT_S, 1, 600),
        "idle": _seconds(request.GET.get("idle", ""), IDLE_S, 5, 3600),
        "rotate": _seconds(request.GET.get("rotate", ""), ROTATE_S, 2, 120),
        "stage": _route(kiosk, to) if to.strip() else None,
        "parking": parking_strip(
            district_id=mall.district_id,
            mall_code=mall.code,
            find_from=f"kiosk:{kiosk.code}",
            compact=True,
        ),
    }
    return render(request, "navigation/kiosk.html", context)


@require_GET
def kiosk_search(request: HttpRequest, code: str) -> HttpResponse:
    """The directory partial: the mall's shops and facilities by name, pinyin or initials."""
    kiosk = _kiosk_or_404(code)
    mall = kiosk.floor.mall
    q = request.GET.get("q", "")[:40]
    category = request.GET.get("category", "")
    category = category if category in ShopCategory.values else ""
    context = {
        "kiosk": kiosk,
        "items": _search(mall, q, category),
        "q": q,
        "category": category,
    }
    response = render(request, "navigation/kiosk_results.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def kiosk_route(request: HttpRequest, code: str) -> HttpResponse:
    """The route partial (HTMX); without HTMX the whole kiosk page showing the route."""
    if not is_partial(request):
        return kiosk_page(request, code)
    kiosk = _kiosk_or_404(code)
    context = {"kiosk": kiosk, "stage": _route(kiosk, request.GET.get("to", ""))}
    response = render(request, "navigation/kiosk_route.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response
