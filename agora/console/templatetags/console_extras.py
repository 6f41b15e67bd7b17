"""Template filters of the loyalty pages: money in fen as yuan."""

from __future__ import annotations

from django import template

from agora.lib.money import format_fen

register = template.Library()


@register.filter
def fen(value: int | None) -> str:
    """12345 -> ¥123.45 (an empty value stays empty)."""
    if value is None or value == "":
        return ""
    return format_fen(int(value))
