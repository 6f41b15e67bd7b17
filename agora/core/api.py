"""Audit log API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from agora.accounts.choices import Role
from agora.core.auth import actor_of
from agora.core.errors import PermissionDenied
from agora.core.selectors import audit_entries, page_of

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str
    mall_id: int | None
    shop_id: int | None
    before: Any
    after: Any


class AuditPage(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None


@router.get("/audit-log", response=AuditPage, operation_id="audit_log_list")
def list_audit(request: HttpRequest, cursor: str | None = None, limit: int = 50):  # type: ignore[no-untyped-def]
    """Staff writes of your malls (operators), your shops (owners, managers) or all (admins)."""
    actor = actor_of(request)
    actor.require_user()
    if actor.api_key is not None:
        raise PermissionDenied(detail="the audit log is not open to API keys")
    owner_shops = frozenset(
        s
        for s, roles in actor.shop_roles.items()
        if roles & {Role.MERCHANT_OWNER, Role.MERCHANT_MANAGER}
    )
    if not (actor.is_admin or actor.operated_mall_ids or owner_shops):
        raise PermissionDenied(detail="the audit log is for operators, shop owners and admins")
    qs = audit_entries(
        everything=actor.is_admin, mall_ids=actor.operated_mall_ids, shop_ids=owner_shops
    )
    page = page_of(qs, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}
