"""What the route page draws: one floor plan per leg of a route, with the route's line, its
start and end, and where the route changes floor or building (GUIDE-2, APP-3).

Pure drawing: no queries here. The floor plans come from ``plan_of`` (a callable the view builds
from ``agora.district.selectors.floor_plan``), the route from ``route_find``. Coordinates stay
in metres (one SVG unit = one metre); text is drawn in groups scaled by 1/TEXT_SCALE, as in
``agora.portal.plans``, so Chromium's minimum font size does not blow labels up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from agora.lib.geometry import bounds
from agora.portal.plans import TEXT_SCALE, DrawnPlan, draw_plan, text_width_em

if TYPE_CHECKING:
    from agora.navigation.selectors import RouteView

MARGIN_M = 4.0  # room around the floor for markers at its edge
VERTICAL = ("lift", "escalator", "stairs")
BETWEEN_MALLS = ("street", "skywalk", "tunnel")

# a short mark and a colour per shop category (drawn in a corner of the shop)
CATEGORY_GLYPHS: dict[str, tuple[str, str]] = {
    "food": ("餐", "#ea580c"),
    "fashion": ("衣", "#db2777"),
    "cinema": ("影", "#7c3aed"),
    "supermarket": ("超", "#16a34a"),
    "kids": ("童", "#d97706"),
    "services": ("服", "#0891b2"),
    "beauty": ("美", "#e11d48"),
    "electronics": ("数", "#2563eb"),
    "sports": ("运", "#059669"),
    "jewellery": ("珠", "#a16207"),
}
# the mark inside a floor-change marker
CHANGE_GLYPHS: dict[str, str] = {
    "lift": "梯",
    "escalator": "扶",
    "stairs": "楼",
    "street": "街",
    "skywalk": "桥",
    "tunnel": "隧",
}


def _n(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


@dataclass
class Marker:
    """A point on the map with a round mark and a label on a pill above (or below) it."""

    kind: str  # start, end, or a link kind (lift, escalator, stairs, street, ...)
    role: str  # start, end, enter, leave
    x: float
    y: float
    r: float
    glyph: str
    label: str
    # the label's pill and text, in TEXT_SCALE units
    px: float = 0.0
    py: float = 0.0
    pw: float = 0.0
    ph: float = 0.0
    tx: float = 0.0
    ty: float = 0.0
    font: float = 0.0
    gx: float = 0.0  # the mark's centre
    gy: float = 0.0
    glyph_font: float = 0.0

    @property
    def css(self) -> str:
        if self.role in ("start", "end"):
            return f"nav-marker marker-{self.role}"
        return f"nav-marker floor-change change-{self.role}"


@dataclass
class Glyph:
    """A shop's category mark."""

    shop_id: int
    category: str
    x: float
    y: float
    r: float
    mark: str
    colour: str
    font: float

    @property
    def tx(self) -> float:
        return round(self.x * TEXT_SCALE, 1)

    @property
    def ty(self) -> float:
        return round(self.y * TEXT_SCALE, 1)


@dataclass
class FloorMap:
    index: int
    floor_id: int
    floor: str
    mall_id: int
    mall: str
    plan: DrawnPlan
    view_box: str
    line: str
    markers: list[Marker] = field(default_factory=list)
    glyphs: list[Glyph] = field(default_factory=list)
    kind: str = "floor"

    @property
    def text_scale(self) -> str:
        return _n(1 / TEXT_SCALE)


@dataclass
class Transfer:
    """Between two floor maps: the walk along the street (or over a skywalk) to the next mall."""

    kind: str  # street, skywalk, tunnel
    text: str
    to_mall: str


Section = FloorMap | Transfer


def _scale(width: float, depth: float) -> float:
    return max(min(width, depth) / 60.0, 0.5)


def _place_label(m: Marker, font_m: float, width: float) -> None:
    """The pill above the mark (below it near the top edge), kept inside the floor."""
    pad = font_m * 0.45
    w = text_width_em(m.label) * font_m + 2 * pad
    h = font_m * 1.45
    cx = min(max(m.x, -MARGIN_M + w / 2 + 0.2), width + MARGIN_M - w / 2 - 0.2)
    top = m.y - m.r - 0.5 - h
    if top < -MARGIN_M + 0.2:
        top = m.y + m.r + 0.5
    s = TEXT_SCALE
    m.px, m.py, m.pw, m.ph = (
        round((cx - w / 2) * s, 1),
        round(top * s, 1),
        round(w * s, 1),
        round(h * s, 1),
    )
    m.tx, m.ty = round(cx * s, 1), round((top + h / 2) * s, 1)
    m.font = round(font_m * s, 1)
    m.gx, m.gy = round(m.x * s, 1), round(m.y * s, 1)
    m.glyph_font = round(m.r * s * (1.15 if text_width_em(m.glyph) <= 1 else 0.9), 1)


def _arrow(from_level: int | None, to_level: int | None) -> str:
    if from_level is None or to_level is None or from_level == to_level:
        return "↕"
    return "↑" if to_level > from_level else "↓"


def _leave_label(hop: dict[str, Any], arrow: str) -> str:
    kind, floor, mall = hop["kind"], hop.get("floor", ""), hop.get("mall", "")
    if kind == "lift":
        return _("Lift to %(floor)s") % {"floor": floor}
    if kind == "escalator":
        return _("%(arrow)s %(floor)s by escalator") % {"arrow": arrow, "floor": floor}
    if kind == "stairs":
        return _("%(arrow)s %(floor)s by stairs") % {"arrow": arrow, "floor": floor}
    if kind == "skywalk":
        return _("Skywalk to %(mall)s") % {"mall": mall}
    if kind == "tunnel":
        return _("Underground passage to %(mall)s") % {"mall": mall}
    return _("Walk to %(mall)s") % {"mall": mall}


def _enter_label(hop: dict[str, Any]) -> str:
    place = hop.get("mall", "") if hop["kind"] in BETWEEN_MALLS else hop.get("floor", "")
    return _("Arrived from %(place)s") % {"place": place}


def _glyphs(plan: dict[str, Any], drawn: DrawnPlan, scale: float) -> list[Glyph]:
    """A category mark in the top-left corner of each labelled shop, where it fits."""
    zones = {pz.zone.pk: pz for pz in plan["zones"]}
    out: list[Glyph] = []
    r = round(0.75 * scale, 2)
    for item in drawn.shops:
        pz = zones.get(item.id)
        if pz is None or not pz.category or pz.category not in CATEGORY_GLYPHS:
            continue
        minx, miny, maxx, maxy = bounds(pz.zone.polygon)
        if maxx - minx < 6 * r or maxy - miny < 6 * r:
            continue
        mark, colour = CATEGORY_GLYPHS[pz.category]
        out.append(
            Glyph(
                shop_id=item.shop_id or 0,
                category=pz.category,
                x=round(minx + r + 0.35, 2),
                y=round(miny + r + 0.35, 2),
                r=r,
                mark=mark,
                colour=colour,
                font=round(r * TEXT_SCALE * 1.15, 1),
            )
        )
    return out


def route_maps(
    view: RouteView,
    *,
    plan_of: Callable[[int], dict[str, Any]],
    start_label: str,
    end_label: str,
    highlight_shop: int | None = None,
) -> list[Section]:
    """The route floor by floor: a FloorMap per leg, and a Transfer card wherever the route
    walks between malls (its words are the route's own street / skywalk instruction)."""
    plans: dict[int, dict[str, Any]] = {}
    between = [s["text"] for s in view.instructions if s["kind"] in BETWEEN_MALLS]
    sections: list[Section] = []
    last = len(view.legs) - 1
    for i, leg in enumerate(view.legs):
        fid = leg["floor_id"]
        if fid not in plans:
            plans[fid] = plan_of(fid)
        plan = plans[fid]
        floor = plan["floor"]
        drawn = draw_plan(plan, highlight_shop=highlight_shop)
        width, depth = drawn.width, drawn.depth
        scale = _scale(width, depth)
        font_m = round(max(1.6, min(width, depth) / 30.0), 2)
        r = round(1.3 * scale, 2)
        points = leg["points"]
        fm = FloorMap(
            index=i,
            floor_id=fid,
            floor=leg["floor"],
            mall_id=leg["mall_id"],
            mall=leg["mall"],
            plan=drawn,
            view_box=" ".join(
                _n(v) for v in (-MARGIN_M, -MARGIN_M, width + 2 * MARGIN_M, depth + 2 * MARGIN_M)
            ),
            line=" ".join(f"{_n(x)},{_n(y)}" for x, y in points),
            glyphs=_glyphs(plan, drawn, scale),
        )
        levels = {fid: floor.level}
        for hop in (leg["enter"], leg["leave"]):
            if hop and hop.get("floor_id") is not None and hop["kind"] in VERTICAL:
                other = hop["floor_id"]
                if other not in plans:
                    plans[other] = plan_of(other)
                levels[other] = plans[other]["floor"].level
        if leg["enter"]:
            hop = leg["enter"]
            fm.markers.append(
                Marker(
                    kind=hop["kind"],
                    role="enter",
                    x=hop["x"],
                    y=hop["y"],
                    r=r,
                    glyph=CHANGE_GLYPHS.get(hop["kind"], "•"),
                    label=_enter_label(hop),
                )
            )
        if leg["leave"]:
            hop = leg["leave"]
            arrow = _arrow(levels.get(fid), levels.get(hop.get("floor_id") or -1))
            fm.markers.append(
                Marker(
                    kind=hop["kind"],
                    role="leave",
                    x=hop["x"],
                    y=hop["y"],
                    r=r,
                    glyph=CHANGE_GLYPHS.get(hop["kind"], "•"),
                    label=_leave_label(hop, arrow),
                )
            )
        if i == last and points:
            x, y = points[-1]
            fm.markers.append(Marker("end", "end", x, y, r, "★", end_label))
        if i == 0 and points:  # drawn last: on top of everything
            x, y = points[0]
            fm.markers.append(Marker("start", "start", x, y, r * 1.1, "●", start_label))
        for m in fm.markers:
            _place_label(m, font_m, width)
        sections.append(fm)
        if leg["leave"] and leg["leave"]["kind"] in BETWEEN_MALLS:
            text = between.pop(0) if between else ""
            sections.append(Transfer(leg["leave"]["kind"], text, leg["leave"].get("mall", "")))
    return sections
