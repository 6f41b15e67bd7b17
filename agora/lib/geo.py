"""Latitude/longitude ↔ local metres (pure). A mall's floor plans have their origin (0, 0) at
the mall's stored latitude/longitude, x to the east and y to the north; at district scale an
equirectangular projection is exact to well under a metre."""

from __future__ import annotations

import math

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0


def to_metres(lat: float, lon: float, lat0: float, lon0: float) -> tuple[float, float]:
    """(x east, y north) in metres of (lat, lon) from the origin (lat0, lon0)."""
    x = (lon - lon0) * M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    y = (lat - lat0) * M_PER_DEG_LAT
    return x, y


def from_metres(x: float, y: float, lat0: float, lon0: float) -> tuple[float, float]:
    lat = lat0 + y / M_PER_DEG_LAT
    lon = lon0 + x / (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0)))
    return lat, lon


def distance_to_box(px: float, py: float, x0: float, y0: float, x1: float, y1: float) -> float:
    """Metres from a point to an axis-aligned box (0 inside)."""
    dx = max(x0 - px, 0.0, px - x1)
    dy = max(y0 - py, 0.0, py - y1)
    return math.hypot(dx, dy)
