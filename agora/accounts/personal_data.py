"""Registry of personal-data exporters and erasers (PIPL). Each module that stores personal
data registers one of each in its AppConfig.ready(); export and delete walk the registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Exporter = Callable[[Any], Any]
Eraser = Callable[[Any], None]

_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}


def register(section: str, *, exporter: Exporter, eraser: Eraser | None = None) -> None:
    _exporters[section] = exporter
    if eraser is not None:
        _erasers[section] = eraser


def exporters() -> dict[str, Exporter]:
    return dict(_exporters)


def erasers() -> dict[str, Eraser]:
    return dict(_erasers)
