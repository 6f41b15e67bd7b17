"""The WiFi registry: access points (BSSID, floor, x, y, power) and survey fingerprints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from agora.accounts.actor import Actor
from agora.core.errors import FieldError, PermissionDenied, ValidationFailed
from agora.core.services import audit_record
from agora.district.models import Floor
from agora.lib.wifi import RSSI_MAX, RSSI_MIN, normalise_bssid
from agora.navigation.models import AccessPoint, SurveyPoint

MAX_IMPORT = 5000


def _require_operator(actor: Actor, floors: Sequence[Floor]) -> None:
    for f in floors:
        if not (
            actor.is_admin
            or actor.operates_mall(f.mall_id)
            or f.mall.district_id in actor.district_operator_ids
        ):
            raise PermissionDenied(detail=f"you do not operate {f.mall.name}")


def _floors(actor: Actor, ids: set[int]) -> dict[int, Floor]:
    """The floors among ``ids`` the actor operates: another mall's floor reads as unknown,
    exactly like one that does not exist (ADR 0006)."""
    floors = Floor.objects.filter(pk__in=ids).select_related("mall")
    return {
        f.pk: f
        for f in floors
        if actor.is_admin
        or actor.operates_mall(f.mall_id)
        or f.mall.district_id in actor.district_operator_ids
    }


def access_points_import(*, actor: Actor, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert or move access points; all rows are checked first and nothing is written when
    one is wrong."""
    actor.require_user()
    if not rows or len(rows) > MAX_IMPORT:
        raise ValidationFailed(
            detail="1 to 5,000 access points per import",
            errors=[FieldError("access_points", "1 to 5,000 rows", "length")],
        )
    floors = _floors(actor, {int(r["floor_id"]) for r in rows})
    errors: list[FieldError] = []
    clean: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(rows):
        bssid = normalise_bssid(str(r["bssid"]))
        floor = floors.get(int(r["floor_id"]))
        if bssid is None:
            errors.append(FieldError(f"access_points.{i}.bssid", "not a MAC address", "format"))
        if floor is None:
            errors.append(FieldError(f"access_points.{i}.floor_id", "no such floor", "unknown"))
        elif not (0 <= r["x"] <= floor.width_m and 0 <= r["y"] <= floor.depth_m):
            errors.append(FieldError(f"access_points.{i}.x", f"outside {floor}", "geometry"))
        tx = r.get("tx_power", -38.0)
        if not (-90 <= tx <= 0):
            errors.append(
                FieldError(f"access_points.{i}.tx_power", "dBm at 1 m, -90 to 0", "range")
            )
        if bssid and bssid in clean:
            errors.append(FieldError(f"access_points.{i}.bssid", "listed twice", "duplicate"))
        if bssid and floor is not None:
            clean[bssid] = {
                "floor": floor,
                "x": float(r["x"]),
                "y": float(r["y"]),
                "tx_power": float(tx),
                "ssid": str(r.get("ssid", ""))[:32],
            }
    if errors:
        raise ValidationFailed(
            detail="some access points are wrong; none was saved", errors=errors[:50]
        )
    with transaction.atomic():
        for bssid, values in clean.items():
            AccessPoint.objects.update_or_create(bssid=bssid, defaults=values)
        audit_record(
            actor=actor,
            action="navigation.access_points_import",
            target=next(iter(clean.values()))["floor"],
            after={"count": len(clean)},
        )
    return len(clean)


def survey_point_record(
    *,
    actor: Actor,
    floor: Floor,
    x: float,
    y: float,
    fingerprint: Mapping[str, float],
    samples: int = 1,
) -> SurveyPoint:
    actor.require_user()
    _require_operator(actor, [floor])
    errors: list[FieldError] = []
    if not (0 <= x <= floor.width_m and 0 <= y <= floor.depth_m):
        errors.append(FieldError("x", f"({x}, {y}) lies outside {floor}", "geometry"))
    clean: dict[str, float] = {}
    for raw, rssi in fingerprint.items():
        bssid = normalise_bssid(raw)
        if bssid is None:
            errors.append(FieldError(f"fingerprint.{raw}", "not a MAC address", "format"))
        elif not (RSSI_MIN <= rssi <= RSSI_MAX):
            errors.append(
                FieldError(f"fingerprint.{raw}", f"RSSI {RSSI_MIN}..{RSSI_MAX} dBm", "range")
            )
        else:
            clean[bssid] = float(rssi)
    if len(clean) < 3 and not errors:
        errors.append(FieldError("fingerprint", "a fingerprint needs 3 or more APs", "length"))
    if errors:
        raise ValidationFailed(detail="the survey point is wrong", errors=errors)
    with transaction.atomic():
        point = SurveyPoint.objects.create(
            floor=floor, x=x, y=y, fingerprint=clean, samples=samples
        )
    return point
