"""Aware datetimes everywhere; shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: Agora only handles aware datetimes")
    return value.astimezone(SHANGHAI)


def format_local(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def open_at(opens: time, closes: time, now: time) -> bool:
    """Whether opening hours [opens, closes) include ``now``; closing before opening means open
    past midnight, and equal times mean open all day."""
    if opens == closes:
        return True
    if opens < closes:
        return opens <= now < closes
    return now >= opens or now < closes
