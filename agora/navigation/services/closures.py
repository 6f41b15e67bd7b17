"""Operators close an area (a zone: corridor, atrium, wing, shop unit, lift landing) or a link
(a lift shaft, an escalator, a skywalk) for maintenance or an event; routes avoid it from the
next request on, and a route that cannot avoid it says so with the reason."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import Conflict, NotFound, field_error
from agora.core.services import audit_record
from agora.district.models import Zone
from agora.navigation.models import Closure, Link


def _may_close(actor: Actor, mall_id: int | None, district_id: int) -> bool:
    if actor.is_admin or district_id in actor.district_operator_ids:
        return True
    return mall_id is not None and actor.operates_mall(mall_id)


def closure_create(
    *,
    actor: Actor,
    zone_id: int | None = None,
    link_id: int | None = None,
    reason: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Closure:
    actor.require_user()
    if (zone_id is None) == (link_id is None):
        raise field_error("zone_id", "close either one zone or one link", "one_of")
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", "say why it is closed (shoppers see it)", "required")
    if len(reason) > 120:
        raise field_error("reason", "at most 120 characters", "length")
    now = timezone.now()
    starts = starts_at or now
    if ends_at is not None and ends_at <= starts:
        raise field_error("ends_at", "must be after starts_at", "order")
    if ends_at is not None and ends_at <= now:
        raise field_error("ends_at", "is already past", "past")
    mall_id: int | None
    if zone_id is not None:
        # another mall's zone answers exactly like one that does not exist (ADR 0006)
        zone = Zone.objects.select_related("floor__mall").filter(pk=zone_id).first()
        if zone is None or not _may_close(actor, zone.floor.mall_id, zone.floor.mall.district_id):
            raise field_error("zone_id", "no such zone", "unknown")
        mall_id, district_id = zone.floor.mall_id, zone.floor.mall.district_id
        target_label = f"{zone.code} {zone.name}"
    else:
        link = Link.objects.filter(pk=link_id or 0).first()
        if link is None or not _may_close(actor, link.mall_id, link.district_id):
            raise field_error("link_id", "no such link", "unknown")
        mall_id, district_id = link.mall_id, link.district_id
        target_label = link.code
    with transaction.atomic():
        same = {"zone_id": zone_id} if zone_id is not None else {"link_id": link_id}
        open_same = Closure.objects.select_for_update().filter(lifted_at__isnull=True, **same)
        if any(c.ends_at is None or c.ends_at > now for c in open_same):
            raise Conflict(detail=f"{target_label} is already closed", extra={"field": "zone_id"})
        closure = Closure.objects.create(
            district_id=district_id,
            mall_id=mall_id,
            zone_id=zone_id,
            link_id=link_id,
            reason=reason,
            starts_at=starts,
            ends_at=ends_at,
            created_by=actor.user,
        )
        audit_record(
            actor=actor,
            action="navigation.close",
            target=closure,
            mall_id=mall_id,
            after={"target": target_label, "reason": reason},
        )
    return closure


def closure_lift(*, actor: Actor, closure_id: int) -> Closure:
    actor.require_user()
    with transaction.atomic():
        closure = Closure.objects.select_for_update().filter(pk=closure_id).first()
        if closure is None or not _may_close(actor, closure.mall_id, closure.district_id):
            raise NotFound(detail="no such closure")
        if closure.lifted_at is not None:
            raise Conflict(detail="this closure was lifted already")
        closure.lifted_at = timezone.now()
        closure.lifted_by = actor.user
        closure.save(update_fields=["lifted_at", "lifted_by"])
        audit_record(
            actor=actor,
            action="navigation.reopen",
            target=closure,
            mall_id=closure.mall_id,
            after={"lifted_at": closure.lifted_at.isoformat()},
        )
    return closure
