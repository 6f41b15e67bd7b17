"""Floor-plan geometry in metres: closed polygons, validated with shapely."""

from __future__ import annotations

from collections.abc import Sequence

from shapely.geometry import Polygon
from shapely.validation import explain_validity

Point = Sequence[float]
TOLERANCE_M2 = 1e-6


class GeometryError(ValueError):
    """A polygon that cannot be stored; the message says why, in words a person can act on."""


def to_polygon(points: Sequence[Point]) -> Polygon:
    """Validate a ring given as [[x, y], ...] with first == last, and return it as a Polygon."""
    if not isinstance(points, (list, tuple)) or len(points) < 4:
        raise GeometryError("a polygon needs at least 3 corners plus the closing point")
    coords: list[tuple[float, float]] = []
    for index, point in enumerate(points):
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise GeometryError(f"point {index} must be [x, y] in metres")
        x, y = point
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x, y)):
            raise GeometryError(f"point {index} must hold two numbers")
        coords.append((float(x), float(y)))
    if coords[0] != coords[-1]:
        raise GeometryError("polygon is not closed: the last point must equal the first")
    polygon = Polygon(coords)
    if not polygon.is_valid:
        raise GeometryError(f"polygon is not valid: {explain_validity(polygon)}")
    if polygon.area <= TOLERANCE_M2:
        raise GeometryError("polygon has no area")
    return polygon


def rectangle(x: float, y: float, w: float, h: float) -> list[list[float]]:
    """A closed axis-aligned rectangle ring, rounded to centimetres."""
    x0, y0, x1, y1 = (round(v, 2) for v in (x, y, x + w, y + h))
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def inside(inner: Polygon, outer: Polygon) -> bool:
    return inner.difference(outer).area <= TOLERANCE_M2


def overlaps(a: Polygon, b: Polygon) -> bool:
    """True when the interiors share area (touching edges is fine)."""
    return a.intersection(b).area > TOLERANCE_M2


def bounds(points: Sequence[Point]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def centroid(points: Sequence[Point]) -> tuple[float, float]:
    c = Polygon([(p[0], p[1]) for p in points]).centroid
    return round(c.x, 2), round(c.y, 2)
