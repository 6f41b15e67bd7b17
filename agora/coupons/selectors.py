"""Reads of coupons: the coupon centre, wallets, templates with live counts, clearing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import NotFound
from agora.coupons.choices import Channel, CouponStatus, Party, TemplateStatus
from agora.coupons.models import Coupon, CouponTemplate
from agora.district.selectors import district_ids_operated


def coupon_centre(
    *, district_id: int, mall_id: int | None = None, now: datetime | None = None
) -> QuerySet[CouponTemplate]:
    """Templates a member can claim in the app now (APP-6: downloadable anywhere)."""
    when = now or timezone.now()
    qs = CouponTemplate.objects.filter(
        district_id=district_id,
        status=TemplateStatus.ACTIVE,
        claim_starts__lte=when,
        claim_ends__gt=when,
    )
    if mall_id:
        qs = qs.filter(Q(mall_id=mall_id) | Q(mall=None))
    return qs.select_related("shop", "mall").order_by("claim_ends", "id")


def claimable(templates: QuerySet[CouponTemplate]) -> list[CouponTemplate]:
    """Only the templates given out in the app (channels is JSON; filtered in Python so that
    SQLite and PostgreSQL agree)."""
    return [t for t in templates if Channel.APP in t.channels]


def access_template_public(*, template_id: int) -> CouponTemplate:
    template = (
        CouponTemplate.objects.select_related("shop", "mall")
        .filter(pk=template_id)
        .exclude(status=TemplateStatus.DRAFT)
        .first()
    )
    if template is None:
        raise NotFound(detail="coupon not found")
    return template


def templates_managed(*, actor: Actor) -> QuerySet[CouponTemplate]:
    """Templates the actor runs: operators those of their malls (and district-wide ones of
    their districts), merchants those of their shops."""
    qs = CouponTemplate.objects.select_related("shop", "mall")
    if actor.is_admin:
        return qs
    districts = district_ids_operated(actor=actor)
    return qs.filter(
        Q(mall_id__in=actor.operated_mall_ids, issuer=Party.MALL)
        | Q(mall=None, district_id__in=districts & set(actor.district_operator_ids))
        | Q(shop_id__in=actor.shop_ids)
        | Q(shop__mall_id__in=actor.operated_mall_ids)
    )


def access_template(*, actor: Actor, template_id: int) -> CouponTemplate:
    template = templates_managed(actor=actor).filter(pk=template_id).first()
    if template is None:
        raise NotFound(detail="coupon template not found")
    return template


def wallet_of(*, member: Any, status: str | None = None) -> QuerySet[Coupon]:
    qs = Coupon.objects.filter(member=member).select_related(
        "template", "template__shop", "template__mall"
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def wallet_usable(*, member: Any, now: datetime | None = None) -> QuerySet[Coupon]:
    when = now or timezone.now()
    return (
        wallet_of(member=member, status=CouponStatus.ACTIVE)
        .filter(valid_from__lte=when, valid_until__gt=when)
        .prefetch_related("template__scope_shops", "template__scope_malls")
    )


def access_coupon(*, actor: Actor, coupon_id: int) -> Coupon:
    """A coupon staff may act on: one of a template they manage."""
    coupon = (
        Coupon.objects.select_related("template")
        .filter(pk=coupon_id, template__in=templates_managed(actor=actor))
        .first()
    )
    if coupon is None:
        raise NotFound(detail="coupon not found")
    return coupon


def held_count(*, member: Any, template: CouponTemplate) -> int:
    return Coupon.objects.filter(member=member, template=template).count()


@dataclass(frozen=True)
class ClearingRow:
    """Who owes whom for redeemed coupons: the funder pays the redeeming shop the discount."""

    payer: str  # "mall:<id>" or "shop:<id>"
    payer_name: str
    payee_shop_id: int
    payee_name: str
    coupons: int
    amount_fen: int


def clearing_report(
    *, district_id: int, start: datetime, end: datetime, mall_ids: set[int] | None = None
) -> list[ClearingRow]:
    """Cross-merchant coupon clearing for redemptions in [start, end): one row per (funder,
    redeeming shop) where they differ. A merchant's coupon used in its own shop settles
    nothing. ``mall_ids`` limits the report to shops of those malls."""
    from agora.district.models import Mall, Shop

    qs = Coupon.objects.filter(
        template__district_id=district_id,
        status=CouponStatus.REDEEMED,
        redeemed_at__gte=start,
        redeemed_at__lt=end,
    )
    if mall_ids is not None:
        qs = qs.filter(redeemed_shop__mall_id__in=mall_ids)
    rows = (
        qs.values("template__funder", "template__shop_id", "template__mall_id", "redeemed_shop_id")
        .annotate(n=Count("id"), fen=Sum("discount_fen"))
        .order_by()
    )
    shops = {s.pk: s.name for s in Shop.objects.filter(mall__district_id=district_id)}
    malls = {m.pk: m.name for m in Mall.objects.filter(district_id=district_id)}
    out: dict[tuple[str, int], list[int]] = {}
    for row in rows:
        payee = row["redeemed_shop_id"]
        if row["template__funder"] == Party.MERCHANT:
            if row["template__shop_id"] == payee:
                continue
            payer = f"shop:{row['template__shop_id']}"
        else:
            mall_id = row["template__mall_id"]
            payer = f"mall:{mall_id}" if mall_id else f"district:{district_id}"
        acc = out.setdefault((payer, payee), [0, 0])
        acc[0] += int(row["n"])
        acc[1] += int(row["fen"] or 0)

    def name(payer: str) -> str:
        kind, _, ident = payer.partition(":")
        if kind == "district":
            return "商圈"
        return (malls if kind == "mall" else shops).get(int(ident), payer)

    return [
        ClearingRow(payer, name(payer), payee, shops.get(payee, str(payee)), n, fen)
        for (payer, payee), (n, fen) in sorted(out.items(), key=lambda kv: (-kv[1][1], kv[0]))
    ]


def template_stats(*, template: CouponTemplate) -> dict[str, int]:
    """Live counts beside the template's counters (claimed, used, voided, expired)."""
    counts = dict(
        Coupon.objects.filter(template=template).values_list("status").annotate(n=Count("id"))
    )
    return {
        "stock_left": template.total_stock - template.issued,
        "issued": template.issued,
        "redeemed": template.redeemed,
        "void": int(counts.get(CouponStatus.VOID, 0)),
        "expired": int(counts.get(CouponStatus.EXPIRED, 0)),
    }
