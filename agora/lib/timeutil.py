"""Aware datetimes everywhere; shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: Agora only handles aware datetimes")
    return value.astimezone(SHANGHAI)


def format_local(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")
