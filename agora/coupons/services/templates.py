"""Coupon templates: create, change status, and the pure rules of what a coupon is worth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import FieldError, ValidationFailed, field_error
from agora.core.services import audit_record, snapshot
from agora.coupons.choices import (
    PARKING_KINDS,
    Channel,
    CouponKind,
    Party,
    TemplateStatus,
    Validity,
)
from agora.coupons.models import CouponTemplate

MAX_STOCK = 10_000_000


@dataclass
class TemplateSpec:
    """Everything a template needs, as validated input."""

    kind: str
    title: str
    description: str
    value_fen: int
    percent_off: int
    cap_fen: int
    threshold_fen: int
    gift_name: str
    parking_hours: int
    validity: str
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int
    claim_starts: datetime
    claim_ends: datetime
    total_stock: int
    per_member_total: int
    per_member_daily: int
    channels: list[str]
    funder: str
    restore_on_refund: bool
    scope_mall_ids: list[int]
    scope_shop_ids: list[int]
    scope_categories: list[str]


def _errors(spec: TemplateSpec) -> list[FieldError]:
    e: list[FieldError] = []

    def bad(field: str, reason: str, code: str = "invalid") -> None:
        e.append(FieldError(field, reason, code))

    if not spec.title.strip():
        bad("title", "give the coupon a title", "required")
    kind = spec.kind
    if (
        kind in (CouponKind.CASH_OFF, CouponKind.THRESHOLD, CouponKind.PARKING_FEE)
        and spec.value_fen <= 0
    ):
        bad("value_fen", "a positive amount in fen", "required")
    if kind == CouponKind.THRESHOLD and spec.threshold_fen <= spec.value_fen:
        bad("threshold_fen", "满减 needs a threshold above the reduction", "range")
    if kind == CouponKind.PERCENT_OFF:
        if not 1 <= spec.percent_off <= 90:
            bad("percent_off", "between 1 and 90 percent", "range")
        if spec.cap_fen <= 0:
            bad("cap_fen", "a percent-off coupon needs a cap in fen", "required")
    if kind == CouponKind.GIFT and not spec.gift_name.strip():
        bad("gift_name", "name the gift", "required")
    if kind == CouponKind.PARKING_HOURS and not 1 <= spec.parking_hours <= 24:
        bad("parking_hours", "between 1 and 24 hours", "range")
    if spec.validity == Validity.FIXED:
        if spec.valid_from is None or spec.valid_until is None:
            bad("valid_until", "fixed validity needs valid_from and valid_until", "required")
        elif spec.valid_until <= spec.valid_from:
            bad("valid_until", "must be after valid_from", "range")
        elif spec.valid_until < spec.claim_ends:
            bad("claim_ends", "claiming must end before the coupons expire", "range")
    elif not 1 <= spec.valid_days <= 366:
        bad("valid_days", "between 1 and 366 days from the claim", "range")
    if spec.claim_ends <= spec.claim_starts:
        bad("claim_ends", "must be after claim_starts", "range")
    if not 1 <= spec.total_stock <= MAX_STOCK:
        bad("total_stock", f"between 1 and {MAX_STOCK}", "range")
    if not 1 <= spec.per_member_total <= 100:
        bad("per_member_total", "between 1 and 100", "range")
    if spec.per_member_daily < 0 or spec.per_member_daily > spec.per_member_total:
        bad("per_member_daily", "0 (no daily limit) up to per_member_total", "range")
    if not spec.channels:
        bad("channels", "at least one channel", "required")
    elif len(set(spec.channels)) != len(spec.channels):
        bad("channels", "each channel once", "duplicate")
    if kind in PARKING_KINDS and (spec.scope_shop_ids or spec.scope_categories):
        bad("scope_shop_ids", "parking coupons apply to car parks, not shops", "invalid")
    return e


def template_create(
    *,
    actor: Actor,
    district_id: int,
    issuer: str,
    mall_id: int | None,
    shop: Any | None,
    spec: TemplateSpec,
) -> CouponTemplate:
    """Create a template. A merchant's coupon is funded by the merchant and applies in its own
    shop unless a wider scope is given (a cross-merchant promotion, EXP-3)."""
    errors = _errors(spec)
    if issuer == Party.MERCHANT and spec.funder != Party.MERCHANT:
        errors.append(FieldError("funder", "a merchant funds its own coupons", "invalid"))
    if issuer == Party.MERCHANT and spec.kind in PARKING_KINDS:
        errors.append(FieldError("kind", "parking coupons are issued by the mall", "invalid"))
    from agora.district.models import Mall, Shop

    malls = list(Mall.objects.filter(district_id=district_id, pk__in=spec.scope_mall_ids))
    if len(malls) != len(set(spec.scope_mall_ids)):
        errors.append(FieldError("scope_mall_ids", "unknown mall", "not_found"))
    shops = list(Shop.objects.filter(mall__district_id=district_id, pk__in=spec.scope_shop_ids))
    if len(shops) != len(set(spec.scope_shop_ids)):
        errors.append(FieldError("scope_shop_ids", "unknown shop", "not_found"))
    if (
        spec.funder == Party.MALL
        and issuer == Party.MALL
        and mall_id
        and spec.scope_mall_ids
        and set(spec.scope_mall_ids) != {mall_id}
    ):
        errors.append(
            FieldError("scope_mall_ids", "a mall's coupon applies in that mall only", "invalid")
        )
    if errors:
        raise ValidationFailed(detail="the coupon template is not valid", errors=errors)
    now = timezone.now()
    with transaction.atomic():
        template = CouponTemplate.objects.create(
            district_id=district_id,
            issuer=issuer,
            mall_id=mall_id,
            shop=shop,
            funder=spec.funder,
            kind=spec.kind,
            title=spec.title.strip(),
            description=spec.description.strip(),
            value_fen=spec.value_fen,
            percent_off=spec.percent_off,
            cap_fen=spec.cap_fen,
            threshold_fen=spec.threshold_fen,
            gift_name=spec.gift_name.strip(),
            parking_hours=spec.parking_hours,
            validity=spec.validity,
            valid_from=spec.valid_from,
            valid_until=spec.valid_until,
            valid_days=spec.valid_days,
            claim_starts=spec.claim_starts,
            claim_ends=spec.claim_ends,
            scope_categories=sorted(set(spec.scope_categories)),
            total_stock=spec.total_stock,
            per_member_total=spec.per_member_total,
            per_member_daily=spec.per_member_daily,
            channels=list(spec.channels),
            restore_on_refund=spec.restore_on_refund,
            created_by=actor.user,
            created_at=now,
        )
        if malls:
            template.scope_malls.set(malls)
        if shops:
            template.scope_shops.set(shops)
        elif (
            issuer == Party.MERCHANT
            and shop is not None
            and not malls
            and not spec.scope_categories
        ):
            template.scope_shops.set([shop])
        audit_record(
            actor=actor,
            action="coupon_template.create",
            target=template,
            after=snapshot(template, ["kind", "title", "total_stock", "funder"]),
            mall_id=mall_id,
            shop_id=shop.pk if shop is not None else None,
        )
    return template


def template_set_status(*, actor: Actor, template: CouponTemplate, status: str) -> CouponTemplate:
    """Pause, resume or end a template. Ended is final; coupons already claimed stay usable."""
    if template.status == TemplateStatus.ENDED:
        raise field_error("status", "an ended template cannot change", "final")
    if status == TemplateStatus.DRAFT:
        raise field_error("status", "a template cannot go back to draft", "invalid")
    with transaction.atomic():
        before = snapshot(template, ["status"])
        CouponTemplate.objects.filter(pk=template.pk).update(status=status)
        template.status = status
        audit_record(
            actor=actor,
            action="coupon_template.status",
            target=template,
            before=before,
            after={"status": status},
            mall_id=template.mall_id,
            shop_id=template.shop_id,
        )
    return template


# --- what a coupon is worth (pure) ----------------------------------------------------------
def discount_for(template: CouponTemplate, amount_fen: int) -> tuple[int, str]:
    """The discount in fen on an order of ``amount_fen`` and, when it is 0, why."""
    kind = template.kind
    if kind in PARKING_KINDS:
        return 0, "parking coupons are used at the car park exit"
    if amount_fen < template.threshold_fen:
        return 0, f"spend at least {template.threshold_fen} fen"
    if kind in (CouponKind.CASH_OFF, CouponKind.THRESHOLD):
        return min(template.value_fen, amount_fen), ""
    if kind == CouponKind.PERCENT_OFF:
        return min(amount_fen * template.percent_off // 100, template.cap_fen, amount_fen), ""
    return 0, ""  # a gift: handed over, nothing off the bill


__all__ = ["Channel", "TemplateSpec", "discount_for", "template_create", "template_set_status"]
