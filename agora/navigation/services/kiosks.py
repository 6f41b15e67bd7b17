"""Guide kiosks (DEV-3): registered at a fixed spot by operators; they report in while on."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import PermissionDenied, field_error
from agora.core.services import audit_record
from agora.district.models import Floor
from agora.navigation.models import Kiosk


def kiosk_create(
    *, actor: Actor, floor: Floor, code: str, name: str, x: float, y: float, facing: float = 90.0
) -> Kiosk:
    actor.require_user()
    if not (actor.is_admin or actor.operates_mall(floor.mall_id)):
        raise PermissionDenied(detail=f"you do not operate {floor.mall.name}")
    if not (0 <= x <= floor.width_m and 0 <= y <= floor.depth_m):
        raise field_error("x", f"({x}, {y}) lies outside {floor}", "geometry")
    if Kiosk.objects.filter(code=code).exists():
        raise field_error("code", f"a kiosk {code!r} exists already", "duplicate")
    with transaction.atomic():
        kiosk = Kiosk.objects.create(
            floor=floor, code=code, name=name, x=x, y=y, facing=facing % 360
        )
        audit_record(
            actor=actor,
            action="navigation.kiosk_create",
            target=kiosk,
            mall_id=floor.mall_id,
            after={"code": code, "x": x, "y": y},
        )
    return kiosk


def kiosk_heartbeat(*, kiosk: Kiosk) -> Kiosk:
    """The kiosk page calls in every minute; operators see when one has gone quiet."""
    now = timezone.now()
    Kiosk.objects.filter(pk=kiosk.pk).update(last_seen_at=now)
    kiosk.last_seen_at = now
    return kiosk
