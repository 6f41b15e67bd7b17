"""What the SVG floor-plan viewer draws, computed from ``floor_plan`` (no queries here).

Coordinates stay in metres: the SVG's viewBox is the floor's width × depth, so one user unit
is one metre and the browser scales the plan to the screen.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from shapely.geometry import Polygon
from shapely.ops import unary_union

from agora.district.choices import FacilityKind, ZoneKind
from agora.lib.geometry import bounds, centroid

if TYPE_CHECKING:
    from agora.district.selectors import PlanZone

# fill colours by zone kind (the legend shows the same)
ZONE_COLOURS: dict[str, str] = {
    ZoneKind.CORRIDOR: "#f1f5f9",
    ZoneKind.ATRIUM: "#e0f2fe",
    ZoneKind.SHOP_UNIT: "#ccfbf1",
    ZoneKind.SERVICE_DESK: "#fef3c7",
    ZoneKind.RESTROOM: "#ede9fe",
    ZoneKind.EVACUATION_EXIT: "#dcfce7",
    ZoneKind.LIFT: "#e2e8f0",
    ZoneKind.ESCALATOR: "#e2e8f0",
    ZoneKind.STAIRS: "#e2e8f0",
    ZoneKind.CAR_PARK: "#f5f5f4",
}
VACANT_COLOUR = "#ffffff"
# Text is drawn in a group scaled down by TEXT_SCALE: Chromium applies its minimum font size
# (6 px) in user units, which would blow up labels measured in metres.
TEXT_SCALE = 20
# drawn first (below), so that shop units and small rooms sit on top of corridors
ZONE_ORDER: dict[str, int] = {ZoneKind.CAR_PARK: 0, ZoneKind.CORRIDOR: 1, ZoneKind.ATRIUM: 2}

# a short mark and a colour per facility kind
FACILITY_SYMBOLS: dict[str, tuple[str, str]] = {
    FacilityKind.SERVICE_DESK: ("i", "#b45309"),
    FacilityKind.RESTROOM: ("WC", "#6d28d9"),
    FacilityKind.NURSING_ROOM: ("母", "#db2777"),
    FacilityKind.ATM: ("¥", "#0369a1"),
    FacilityKind.EV_CHARGER: ("EV", "#15803d"),
    FacilityKind.INFO_KIOSK: ("?", "#0f766e"),
    FacilityKind.AED: ("+", "#dc2626"),
    FacilityKind.LIFT: ("梯", "#475569"),
    FacilityKind.EVACUATION_EXIT: ("出", "#16a34a"),
}


def text_width_em(text: str) -> float:
    """Width of a label in ems: CJK characters are one em wide, Latin ones about 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text) or 1.0


@dataclass
class DrawnZone:
    id: int
    code: str
    kind: str
    kind_label: str
    points: str
    fill: str
    label: str
    title: str
    shop_id: int | None
    vacant: bool
    highlighted: bool
    x: float = 0.0  # label centre, in TEXT_SCALE units
    y: float = 0.0
    font_size: float = 0.0  # in TEXT_SCALE units; 0: no label drawn
    lines: list[str] = field(default_factory=list)

    @property
    def line_positions(self) -> list[tuple[str, float]]:
        """Each label line with the y of its centre (lines stacked around the zone's centre)."""
        step = self.font_size * 1.15
        first = self.y - step * (len(self.lines) - 1) / 2
        return [(line, round(first + i * step, 1)) for i, line in enumerate(self.lines)]

    @property
    def css(self) -> str:
        classes = ["zone", f"zone-{self.kind.replace('_', '-')}"]
        if self.vacant:
            classes.append("zone-vacant")
        if self.highlighted:
            classes.append("zone-hl")
        return " ".join(classes)


@dataclass
class DrawnFacility:
    id: int
    kind: str
    kind_label: str
    name: str
    x: float
    y: float
    mark: str
    colour: str
    r: float
    mark_size: float  # in TEXT_SCALE units


@dataclass
class LegendItem:
    label: str
    fill: str
    mark: str = ""


@dataclass
class DrawnPlan:
    width: float
    depth: float
    outline: str
    zones: list[DrawnZone] = field(default_factory=list)
    facilities: list[DrawnFacility] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    facility_legend: list[LegendItem] = field(default_factory=list)
    shops: list[DrawnZone] = field(default_factory=list)

    @property
    def view_box(self) -> str:
        return f"0 0 {_n(self.width)} {_n(self.depth)}"

    @property
    def text_scale(self) -> str:
        return _n(1 / TEXT_SCALE)


def _n(value: float) -> str:
    """A number as short SVG text (centimetre precision)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _points(ring: list[list[float]]) -> str:
    closed = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in closed)


def _split_label(text: str) -> list[list[str]]:
    """The label on one line, and (when long enough) on two lines of similar width."""
    options = [[text]]
    if len(text) >= 4:
        total = text_width_em(text)
        best, cut = total, 1
        for i in range(1, len(text)):
            left = text_width_em(text[:i])
            if abs(total / 2 - left) < best:
                best, cut = abs(total / 2 - left), i
        options.append([text[:cut].strip(), text[cut:].strip()])
    return options


def _fit_label(text: str, width: float, height: float, cap: float) -> tuple[float, list[str]]:
    """The largest font (metres, at most ``cap``) and line split that fit the label in a box."""
    if not text or width <= 0 or height <= 0:
        return 0.0, []
    best_size, best_lines = 0.0, [text]
    for lines in _split_label(text):
        widest = max(text_width_em(line) for line in lines)
        size = min(width * 0.86 / widest, height * 0.8 / (len(lines) * 1.15), cap)
        if size > best_size * 1.15:  # two lines only when clearly larger
            best_size, best_lines = size, lines
    return round(best_size, 2), best_lines


def _zone_label(pz: PlanZone) -> str:
    if pz.shop_name:
        return pz.shop_name
    if pz.zone.kind in (ZoneKind.CORRIDOR, ZoneKind.SHOP_UNIT, ZoneKind.CAR_PARK):
        return ""
    return pz.zone.name


Box = tuple[float, float, float, float]  # minx, miny, maxx, maxy


def _shop_areas(zones: list[PlanZone]) -> dict[int, tuple[int, Box, tuple[float, float]]]:
    """Per shop: the zone that carries its label, and the box and centre of all its units
    on this floor (a shop over two adjacent units is labelled once, across both)."""
    by_shop: dict[int, list[PlanZone]] = {}
    for pz in zones:
        if pz.shop_id is not None:
            by_shop.setdefault(pz.shop_id, []).append(pz)
    out = {}
    for shop_id, own in by_shop.items():
        own.sort(key=lambda pz: pz.zone.code)
        if len(own) == 1:
            ring = own[0].zone.polygon
            out[shop_id] = (own[0].zone.pk, bounds(ring), centroid(ring))
            continue
        merged = unary_union([Polygon([tuple(p) for p in pz.zone.polygon]) for pz in own])
        if merged.geom_type == "Polygon":
            c = merged.centroid
            out[shop_id] = (own[0].zone.pk, merged.bounds, (round(c.x, 2), round(c.y, 2)))
        else:  # not adjacent: label the first unit only
            ring = own[0].zone.polygon
            out[shop_id] = (own[0].zone.pk, bounds(ring), centroid(ring))
    return out


def _place_label(
    text: str,
    box: Box,
    centre: tuple[float, float],
    cap: float,
    scale: float,
    symbols: list[tuple[float, float, float]],
) -> tuple[float, float, float, list[str]]:
    """Fit the label in its zone; move it beside a facility symbol drawn at the same spot."""
    minx, miny, maxx, maxy = box
    cx, cy = centre
    top, bottom = miny, maxy
    for fx, fy, r in symbols:
        if minx <= fx <= maxx and miny <= fy <= maxy and abs(fy - cy) < r + 1.0:
            above, below = (fy - r - 0.2) - miny, maxy - (fy + r + 0.2)
            top, bottom = (miny, fy - r - 0.2) if above >= below else (fy + r + 0.2, maxy)
            cy = (top + bottom) / 2
            break
    size, lines = _fit_label(text, maxx - minx, bottom - top, cap)
    if size < 0.7 * scale:
        return cx, cy, 0.0, []
    return cx, cy, size, lines


def draw_plan(plan: dict[str, Any], *, highlight_shop: int | None = None) -> DrawnPlan:
    """Turn ``floor_plan(floor=...)`` into polygons, labels, symbols and a legend."""
    floor = plan["floor"]
    width, depth = float(floor.width_m), float(floor.depth_m)
    scale = max(min(width, depth) / 60.0, 0.5)  # labels grow a little on large floors
    drawn = DrawnPlan(width=width, depth=depth, outline=_points(floor.outline))

    facility_kinds = dict(FacilityKind.choices)
    radius = round(0.9 * scale, 2)
    seen_facilities: list[str] = []
    for facility in plan["facilities"]:
        mark, colour = FACILITY_SYMBOLS.get(facility.kind, ("•", "#334155"))
        drawn.facilities.append(
            DrawnFacility(
                id=facility.pk,
                kind=facility.kind,
                kind_label=str(facility_kinds.get(facility.kind, facility.kind)),
                name=facility.name,
                x=round(float(facility.x), 2),
                y=round(float(facility.y), 2),
                mark=mark,
                colour=colour,
                r=radius,
                mark_size=round(
                    radius * TEXT_SCALE * (1.2 if text_width_em(mark) <= 1 else 0.95), 1
                ),
            )
        )
        if facility.kind not in seen_facilities:
            seen_facilities.append(facility.kind)
    symbols = [(f.x, f.y, f.r) for f in drawn.facilities]

    zone_kinds = dict(ZoneKind.choices)
    seen_kinds: list[str] = []
    has_vacant = False
    zones: list[PlanZone] = sorted(
        plan["zones"], key=lambda pz: (ZONE_ORDER.get(pz.zone.kind, 9), pz.zone.pk)
    )
    areas = _shop_areas(zones)
    shop_units: dict[int, list[str]] = {}
    for pz in zones:
        zone = pz.zone
        vacant = zone.kind == ZoneKind.SHOP_UNIT and pz.shop_id is None
        has_vacant |= vacant
        if zone.kind not in seen_kinds:
            seen_kinds.append(zone.kind)
        title = pz.shop_name or zone.name
        if zone.code not in title:
            title = f"{zone.code} {title}"
        label = _zone_label(pz)
        box: Box = bounds(zone.polygon)
        centre = centroid(zone.polygon)
        cap = 1.5 * scale
        if pz.shop_id is not None:
            shop_units.setdefault(pz.shop_id, []).append(zone.code)
            label_zone, box, centre = areas[pz.shop_id]
            cap = 2.6 * scale
            if label_zone != zone.pk:
                label = ""
        x, y, size, lines = _place_label(label, box, centre, cap, scale, symbols)
        item = DrawnZone(
            id=zone.pk,
            code=zone.code,
            kind=zone.kind,
            kind_label=str(zone_kinds.get(zone.kind, zone.kind)),
            points=_points(zone.polygon),
            fill=VACANT_COLOUR if vacant else ZONE_COLOURS.get(zone.kind, "#f8fafc"),
            label=label,
            title=title,
            shop_id=pz.shop_id,
            vacant=vacant,
            highlighted=highlight_shop is not None and pz.shop_id == highlight_shop,
            x=round(x * TEXT_SCALE, 1),
            y=round(y * TEXT_SCALE, 1),
            font_size=round(size * TEXT_SCALE, 1),
            lines=lines,
        )
        drawn.zones.append(item)
        if pz.shop_id is not None and label:
            drawn.shops.append(item)
    for item in drawn.shops:
        item.code = " ".join(sorted(shop_units[item.shop_id or 0]))
    drawn.shops.sort(key=lambda z: z.code)

    order = list(ZoneKind.values)
    for kind in sorted(seen_kinds, key=order.index):
        drawn.legend.append(LegendItem(str(zone_kinds[kind]), ZONE_COLOURS.get(kind, "#f8fafc")))
    if has_vacant:
        drawn.legend.append(LegendItem(str(_("Vacant unit")), VACANT_COLOUR))
    forder = list(FacilityKind.values)
    for kind in sorted(seen_facilities, key=lambda k: forder.index(k) if k in forder else 99):
        mark, colour = FACILITY_SYMBOLS.get(kind, ("•", "#334155"))
        drawn.facility_legend.append(
            LegendItem(str(facility_kinds.get(kind, kind)), colour, mark=mark)
        )
    return drawn
