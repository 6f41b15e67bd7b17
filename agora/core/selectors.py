"""Cross-cutting reads: cursor pages with clear errors, the audit log and the calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from agora.core.errors import field_error
from agora.core.models import AuditLog, CalendarDay
from agora.lib.pagination import BadCursor, Page, paginate

MAX_LIMIT = 200


def page_of(
    qs: QuerySet[Any], *, cursor: str | None, limit: int, newest_first: bool = False
) -> Page:
    if limit < 1 or limit > MAX_LIMIT:
        raise field_error("limit", f"must be between 1 and {MAX_LIMIT}", "range")
    try:
        return paginate(qs, cursor=cursor, limit=limit, newest_first=newest_first)
    except BadCursor:
        raise field_error("cursor", "is not a cursor this API gave out", "cursor") from None


def audit_entries(
    *, everything: bool, mall_ids: frozenset[int], shop_ids: frozenset[int]
) -> QuerySet[AuditLog]:
    """Audit rows of the given malls and shops (or all, for platform admins)."""
    qs = AuditLog.objects.all()
    if everything:
        return qs
    return qs.filter(Q(mall_id__in=mall_ids) | Q(shop_id__in=shop_ids))


def rest_days(*, start: date, end: date) -> Callable[[date], bool]:
    """Whether a day between ``start`` and ``end`` is a rest day: the operators' calendar
    (public holidays and make-up working days) where it says so, else Saturday and Sunday."""
    marked = dict(
        CalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "rest")
    )

    def rest(day: date) -> bool:
        if day in marked:
            return marked[day]
        return day.weekday() >= 5

    return rest
