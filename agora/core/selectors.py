"""Cross-cutting reads: cursor pages with clear errors, and the audit log."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from agora.core.errors import field_error
from agora.core.models import AuditLog
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
