"""Cursor (keyset) pagination: stable under inserts, O(limit) per page on any table size."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


class BadCursor(ValueError):
    """The cursor was not produced by this API."""


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"after": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise BadCursor("cursor is not valid") from None
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise BadCursor("cursor is not valid")
    return after


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def paginate(
    qs: QuerySet[Any], *, cursor: str | None, limit: int, newest_first: bool = False
) -> Page:
    """Return up to ``limit`` rows of ``qs`` ordered by id (descending when ``newest_first``:
    histories, inboxes, wallets), after the cursor."""
    qs = qs.order_by("-id" if newest_first else "id")
    if cursor:
        after = decode_cursor(cursor)
        qs = qs.filter(id__lt=after) if newest_first else qs.filter(id__gt=after)
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1].id) if more and rows else None)
