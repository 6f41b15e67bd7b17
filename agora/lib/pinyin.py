"""Pinyin search keys, so that typing `xbk` or `xingbake` finds 星巴克."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def search_keys(name: str) -> tuple[str, str]:
    """Return (full pinyin without spaces, initials), both lower case; ASCII kept as is."""
    full = lazy_pinyin(name, style=Style.NORMAL, errors="default")
    initials = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    keep = str.isalnum
    full_key = "".join("".join(ch for ch in part if keep(ch)) for part in full).lower()
    initials_key = "".join(part[0] for part in initials if part and keep(part[0])).lower()
    return full_key, initials_key
