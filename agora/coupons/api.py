"""Coupons API: the shopper's coupon centre and wallet, the merchant's till (check and redeem),
and the operator's templates, pushes, voids and cross-merchant clearing."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Header, Router, Status

from agora.accounts.actor import Actor
from agora.accounts.choices import ApiScope, Role
from agora.core.auth import OPTIONAL, actor_of
from agora.core.errors import NotFound, PermissionDenied, field_error
from agora.core.selectors import page_of
from agora.core.services import idempotent_run
from agora.coupons import selectors as sel
from agora.coupons.choices import CouponStatus, Party
from agora.coupons.schemas import (
    ClearingOut,
    CouponCheckIn,
    CouponCheckOut,
    CouponOut,
    CouponPage,
    CouponRedeemedOut,
    CouponRedeemIn,
    CouponVoidIn,
    CouponVoidOut,
    TemplateAdminOut,
    TemplateCreateIn,
    TemplatePublicOut,
    TemplatePushIn,
    TemplatePushOut,
    TemplateSpecIn,
    TemplateStatusIn,
)
from agora.coupons.services import templates as template_services
from agora.coupons.services import wallet
from agora.district import selectors as district_sel
from agora.lib.timeutil import SHANGHAI
from agora.members import selectors as member_sel
from agora.members.services.membership import member_ensure

if TYPE_CHECKING:
    from agora.coupons.models import Coupon, CouponTemplate
    from agora.district.models import Shop

router = Router(tags=["coupons"])

OWNER_OR_MANAGER = frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_MANAGER})
CLEARING_MAX_DAYS = 400


def _aware(value: datetime | None) -> datetime | None:
    """A naive datetime is Asia/Shanghai time."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=SHANGHAI)


# --- shaping ----------------------------------------------------------------------------------
class _Names:
    """Issuer names: the shop, the mall, or (for district coupons) the district, looked up once."""

    def __init__(self) -> None:
        self._districts: dict[int, str] | None = None

    def of(self, t: CouponTemplate) -> str:
        if t.shop_id is not None and t.shop is not None:
            return t.shop.name
        if t.mall_id is not None and t.mall is not None:
            return t.mall.name
        if self._districts is None:
            self._districts = {d.pk: d.name for d in district_sel.districts_all()}
        return self._districts.get(t.district_id, "")


def _template_base(t: CouponTemplate, names: _Names) -> dict[str, Any]:
    return {
        "id": t.pk,
        "kind": t.kind,
        "title": t.title,
        "description": t.description,
        "value_fen": t.value_fen,
        "percent_off": t.percent_off,
        "cap_fen": t.cap_fen,
        "threshold_fen": t.threshold_fen,
        "gift_name": t.gift_name,
        "parking_hours": t.parking_hours,
        "validity": t.validity,
        "valid_from": t.valid_from,
        "valid_until": t.valid_until,
        "valid_days": t.valid_days,
        "claim_starts": t.claim_starts,
        "claim_ends": t.claim_ends,
        "stock_left": t.total_stock - t.issued,
        "per_member_total": t.per_member_total,
        "issuer": t.issuer,
        "issuer_name": names.of(t),
    }


def _template_admin(t: CouponTemplate, names: _Names) -> dict[str, Any]:
    return {
        **_template_base(t, names),
        "district_id": t.district_id,
        "mall_id": t.mall_id,
        "shop_id": t.shop_id,
        "status": t.status,
        "funder": t.funder,
        "total_stock": t.total_stock,
        "issued": t.issued,
        "redeemed": t.redeemed,
        "per_member_daily": t.per_member_daily,
        "channels": list(t.channels),
        "restore_on_refund": t.restore_on_refund,
        "scope_mall_ids": sorted(m.pk for m in t.scope_malls.all()),
        "scope_shop_ids": sorted(s.pk for s in t.scope_shops.all()),
        "scope_categories": list(t.scope_categories),
        "created_at": t.created_at,
        "stats": sel.template_stats(template=t),
    }


def _coupon_json(coupon: Coupon) -> dict[str, Any]:
    return CouponOut.model_validate(coupon).model_dump(mode="json")


def _held(actor: Actor, templates: list[CouponTemplate]) -> Counter[int]:
    """How many coupons of each template the signed-in member holds (one query)."""
    if actor.user is None or actor.api_key is not None or not templates:
        return Counter()
    member = member_sel.member_of_user(user=actor.user)
    if member is None:
        return Counter()
    ids = [t.pk for t in templates]
    return Counter(
        sel.wallet_of(member=member)
        .filter(template_id__in=ids)
        .values_list("template_id", flat=True)
        .order_by()
    )


# --- shoppers ---------------------------------------------------------------------------------
@router.get(
    "/coupons", auth=OPTIONAL, response=list[TemplatePublicOut], operation_id="coupon_centre"
)
def coupon_centre(  # type: ignore[no-untyped-def]
    request: HttpRequest, mall_id: int | None = None, district_id: int | None = None
):
    """The coupon centre: coupons claimable in the app now, of one mall (with the district's
    own) or of the whole district. Without ``mall_id`` or ``district_id``: the member's
    district, else the first district."""
    actor = actor_of(request)
    if mall_id is not None:
        district = district_sel.access_mall(actor=actor, mall_id=mall_id).district_id
    elif district_id is not None:
        district = district_id
    else:
        member = member_sel.member_of_user(user=actor.user) if actor.user is not None else None
        if member is not None:
            district = member.district_id
        else:
            first = district_sel.districts_all().first()
            district = first.pk if first is not None else 0
    templates = sel.claimable(sel.coupon_centre(district_id=district, mall_id=mall_id))
    held = _held(actor, templates)
    names = _Names()
    return [{**_template_base(t, names), "held": held[t.pk]} for t in templates]


@router.get(
    "/coupons/{template_id}",
    auth=OPTIONAL,
    response=TemplatePublicOut,
    operation_id="coupon_template_public_get",
)
def coupon_get(request: HttpRequest, template_id: int):  # type: ignore[no-untyped-def]
    actor = actor_of(request)
    template = sel.access_template_public(template_id=template_id)
    return {**_template_base(template, _Names()), "held": _held(actor, [template])[template.pk]}


@router.post("/coupons/{template_id}/claim", response={201: CouponOut}, operation_id="coupon_claim")
def coupon_claim(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    template_id: int,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
):
    """Claim a coupon into your wallet. Refusals are 409 with a code: not_active, not_started,
    claim_ended, expired, member_limit, daily_limit, sold_out, channel_closed. Send an
    Idempotency-Key so that a retry claims no second coupon."""
    user = actor_of(request).require_person()
    template = sel.access_template_public(template_id=template_id)

    def run() -> tuple[int, Any]:
        member = member_ensure(user=user, district_id=template.district_id)
        return 201, _coupon_json(wallet.coupon_claim(member=member, template=template))

    status, body = idempotent_run(
        owner=f"user:{user.pk}",
        scope=f"coupon_claim:{template_id}",
        key=idempotency_key,
        body={},
        run=run,
    )
    return Status(status, body)


@router.get("/me/coupons", response=CouponPage, operation_id="my_coupons_list")
def my_coupons(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    status: CouponStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    """Your wallet, optionally of one status, oldest claim first (cursor pages)."""
    user = actor_of(request).require_person()
    member = member_sel.member_of_user(user=user)  # None: not enrolled, an empty wallet
    page = page_of(
        sel.wallet_of(member=member, status=status), cursor=cursor, limit=limit, newest_first=True
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


# --- the merchant's till ----------------------------------------------------------------------
def _till(request: HttpRequest, shop_id: int, *, write: bool) -> tuple[Actor, Shop]:
    """The shop's own staff (any merchant role), or an API key for the shop with a loyalty
    scope (loyalty:write to redeem)."""
    actor = actor_of(request)
    actor.require_user()
    if write:
        actor.require_scope(ApiScope.LOYALTY_WRITE)
    elif actor.scopes is not None and not {ApiScope.LOYALTY_READ, ApiScope.LOYALTY_WRITE} & set(
        actor.scopes
    ):
        actor.require_scope(ApiScope.LOYALTY_READ)
    shop = district_sel.access_shop(actor=actor, shop_id=shop_id)
    if not actor.has_shop_role(shop.pk):
        raise PermissionDenied(detail="coupons are checked and redeemed by the shop's own staff")
    return actor, shop


@router.post("/shops/{shop_id}/coupons/check", response=CouponCheckOut, operation_id="coupon_check")
def coupon_check(request: HttpRequest, shop_id: int, payload: CouponCheckIn):  # type: ignore[no-untyped-def]
    """Whether a coupon can be used at this shop on this amount, and what it takes off."""
    _actor, shop = _till(request, shop_id, write=False)
    result = wallet.coupon_check(shop=shop, code=payload.code, amount_fen=payload.amount_fen)
    return {
        "applies": result.applies,
        "reason": result.reason,
        "discount_fen": result.discount_fen,
        "coupon": result.coupon,
    }


@router.post(
    "/shops/{shop_id}/coupons/redeem", response=CouponRedeemedOut, operation_id="coupon_redeem"
)
def coupon_redeem(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    shop_id: int,
    payload: CouponRedeemIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
):
    """Use a coupon at the till, exactly once: 409 coupon_used, coupon_void, coupon_expired or
    coupon_not_applicable otherwise. Send an Idempotency-Key so that a retry is answered
    with the first result."""
    actor, shop = _till(request, shop_id, write=True)
    body = payload.model_dump(mode="json")

    def run() -> tuple[int, Any]:
        coupon = wallet.coupon_redeem(
            actor=actor,
            shop=shop,
            code=payload.code,
            amount_fen=payload.amount_fen,
            reference=payload.reference.strip(),
        )
        return 200, CouponRedeemedOut.model_validate(coupon).model_dump(mode="json")

    assert actor.user is not None
    status, out = idempotent_run(
        owner=f"user:{actor.user.pk}",
        scope=f"coupon_redeem:{shop_id}",
        key=idempotency_key,
        body=body,
        run=run,
    )
    return Status(status, out)


# --- templates: operators and merchants -------------------------------------------------------
def _staff(request: HttpRequest, scope: str) -> Actor:
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(scope)
    if not actor.is_staff_role:
        raise PermissionDenied(detail="coupon templates are run by operators and merchants")
    return actor


def _require_runs(actor: Actor, template: CouponTemplate) -> None:
    """Changing a template (or its coupons) is for its mall's operators, the district's
    operators for district coupons, and the issuing shop's owner or manager."""
    if actor.is_admin:
        return
    if template.shop_id is not None:
        if actor.has_shop_role(template.shop_id, OWNER_OR_MANAGER):
            return
        if template.shop is not None and template.shop.mall_id in actor.operated_mall_ids:
            return
    elif template.mall_id is not None:
        if template.mall_id in actor.operated_mall_ids:
            return
    elif template.district_id in actor.district_operator_ids:
        return
    raise PermissionDenied(detail="only the coupon's issuer may change it")


def _spec(payload: TemplateSpecIn, *, funder: str) -> template_services.TemplateSpec:
    claim_starts = _aware(payload.claim_starts) or timezone.now()
    claim_ends = _aware(payload.claim_ends)
    assert claim_ends is not None
    return template_services.TemplateSpec(
        kind=str(payload.kind),
        title=payload.title,
        description=payload.description,
        value_fen=payload.value_fen,
        percent_off=payload.percent_off,
        cap_fen=payload.cap_fen,
        threshold_fen=payload.threshold_fen,
        gift_name=payload.gift_name,
        parking_hours=payload.parking_hours,
        validity=str(payload.validity),
        valid_from=_aware(payload.valid_from),
        valid_until=_aware(payload.valid_until),
        valid_days=payload.valid_days,
        claim_starts=claim_starts,
        claim_ends=claim_ends,
        total_stock=payload.total_stock,
        per_member_total=payload.per_member_total,
        per_member_daily=payload.per_member_daily,
        channels=[str(c) for c in payload.channels],
        funder=funder,
        restore_on_refund=payload.restore_on_refund,
        scope_mall_ids=list(payload.scope_mall_ids),
        scope_shop_ids=list(payload.scope_shop_ids),
        scope_categories=[str(c) for c in payload.scope_categories],
    )


def _admin_out(actor: Actor, template_id: int) -> dict[str, Any]:
    return _template_admin(sel.access_template(actor=actor, template_id=template_id), _Names())


@router.get(
    "/coupon-templates", response=list[TemplateAdminOut], operation_id="coupon_templates_list"
)
def templates_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    """The templates you run, newest first, with live counts."""
    actor = _staff(request, ApiScope.LOYALTY_READ)
    names = _Names()
    qs = sel.templates_managed(actor=actor).prefetch_related("scope_malls", "scope_shops")
    return [_template_admin(t, names) for t in qs]


@router.post(
    "/coupon-templates", response={201: TemplateAdminOut}, operation_id="coupon_template_create"
)
def template_create(request: HttpRequest, payload: TemplateCreateIn):  # type: ignore[no-untyped-def]
    """A mall's coupon (its operators) or, with ``mall_id`` null, a district coupon (district
    operators and platform admins)."""
    actor = _staff(request, ApiScope.LOYALTY_WRITE)
    if payload.mall_id is not None:
        mall = district_sel.access_mall(actor=actor, mall_id=payload.mall_id)
        if not actor.operates_mall(mall.pk):
            raise PermissionDenied(detail="only the mall's operators issue its coupons")
        if payload.district_id is not None and payload.district_id != mall.district_id:
            raise field_error("district_id", "the mall is in another district", "invalid")
        district_id = mall.district_id
    else:
        own = sorted(actor.district_operator_ids)
        if payload.district_id is not None:
            district_id = payload.district_id
        elif len(own) == 1:
            district_id = own[0]
        elif not actor.is_admin and not own:
            raise PermissionDenied(detail="district coupons are issued by district operators")
        else:
            raise field_error("district_id", "name the district", "required")
        if not (actor.is_admin or district_id in actor.district_operator_ids):
            raise PermissionDenied(detail="district coupons are issued by district operators")
        if not district_sel.districts_all().filter(pk=district_id).exists():
            raise field_error("district_id", "unknown district", "not_found")
    template = template_services.template_create(
        actor=actor,
        district_id=district_id,
        issuer=Party.MALL,
        mall_id=payload.mall_id,
        shop=None,
        spec=_spec(payload, funder=str(payload.funder)),
    )
    return Status(201, _admin_out(actor, template.pk))


@router.post(
    "/shops/{shop_id}/coupon-templates",
    response={201: TemplateAdminOut},
    operation_id="merchant_coupon_template_create",
)
def merchant_template_create(request: HttpRequest, shop_id: int, payload: TemplateSpecIn):  # type: ignore[no-untyped-def]
    """A merchant's own coupon (its owner or manager): funded by the merchant, valid in the shop
    unless a wider scope is named (a cross-merchant promotion)."""
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(ApiScope.LOYALTY_WRITE)
    shop = district_sel.access_shop(actor=actor, shop_id=shop_id)
    if not actor.has_shop_role(shop.pk, OWNER_OR_MANAGER):
        raise PermissionDenied(detail="the shop's owner or manager issues its coupons")
    template = template_services.template_create(
        actor=actor,
        district_id=shop.mall.district_id,
        issuer=Party.MERCHANT,
        mall_id=shop.mall_id,
        shop=shop,
        spec=_spec(payload, funder=Party.MERCHANT),
    )
    return Status(201, _admin_out(actor, template.pk))


@router.get(
    "/coupon-templates/{template_id}",
    response=TemplateAdminOut,
    operation_id="coupon_template_get",
)
def template_get(request: HttpRequest, template_id: int):  # type: ignore[no-untyped-def]
    actor = _staff(request, ApiScope.LOYALTY_READ)
    return _admin_out(actor, template_id)


@router.post(
    "/coupon-templates/{template_id}/status",
    response=TemplateAdminOut,
    operation_id="coupon_template_status_set",
)
def template_status(request: HttpRequest, template_id: int, payload: TemplateStatusIn):  # type: ignore[no-untyped-def]
    """Pause, resume (active) or end a template; ended is final."""
    actor = _staff(request, ApiScope.LOYALTY_WRITE)
    template = sel.access_template(actor=actor, template_id=template_id)
    _require_runs(actor, template)
    template_services.template_set_status(
        actor=actor, template=template, status=str(payload.status)
    )
    return _admin_out(actor, template_id)


@router.post(
    "/coupon-templates/{template_id}/push",
    response=TemplatePushOut,
    operation_id="coupon_template_push",
)
def template_push(request: HttpRequest, template_id: int, payload: TemplatePushIn):  # type: ignore[no-untyped-def]
    """Put a coupon into members' wallets: the listed members or every member with a tag. Each
    member within the template's limits and stock; ``refused`` counts the others by reason."""
    actor = _staff(request, ApiScope.LOYALTY_WRITE)
    template = sel.access_template(actor=actor, template_id=template_id)
    _require_runs(actor, template)
    if not (actor.is_admin or actor.is_operator):
        raise PermissionDenied(detail="coupons are pushed by mall operators")
    if (payload.member_ids is None) == (payload.tag is None):
        raise field_error("member_ids", "give exactly one of member_ids or tag", "required")
    if payload.member_ids is not None:
        wanted = set(payload.member_ids)
        members = list(member_sel.members_visible(actor=actor).filter(pk__in=wanted))
        if len(members) != len(wanted):
            raise field_error("member_ids", "unknown member", "not_found")
    else:
        members = list(member_sel.members_search(actor=actor, tag=payload.tag or ""))
    members = [m for m in members if m.district_id == template.district_id]
    members.sort(key=lambda m: m.pk)
    result = wallet.coupon_push(actor=actor, template=template, members=members)
    return {"issued": result.issued, "refused": result.refused}


@router.post("/wallet-coupons/{coupon_id}/void", response=CouponVoidOut, operation_id="coupon_void")
def coupon_void(request: HttpRequest, coupon_id: int, payload: CouponVoidIn):  # type: ignore[no-untyped-def]
    """Void an unused coupon (fraud, a mistaken push); audited."""
    actor = _staff(request, ApiScope.LOYALTY_WRITE)
    coupon = sel.access_coupon(actor=actor, coupon_id=coupon_id)
    _require_runs(actor, coupon.template)
    return wallet.coupon_void(actor=actor, coupon=coupon, reason=payload.reason)


# --- clearing ---------------------------------------------------------------------------------
@router.get(
    "/districts/{district_id}/coupon-clearing",
    response=ClearingOut,
    operation_id="coupon_clearing_report",
)
def clearing(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    district_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
):
    """Who owes whom for coupons redeemed in [start, end) (default: the last 30 days): the
    funder pays the redeeming shop the discount. District operators see every row, mall
    operators the rows of their malls' shops."""
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(ApiScope.LOYALTY_READ)
    district = district_sel.districts_visible(actor=actor).filter(pk=district_id).first()
    if district is None:
        raise NotFound(detail="district not found")
    mall_ids: set[int] | None
    if actor.is_admin or district_id in actor.district_operator_ids:
        mall_ids = None
    elif actor.is_operator:
        mall_ids = set(actor.operated_mall_ids)
    else:
        raise PermissionDenied(detail="coupon clearing is for the district's operators")
    until = _aware(end) or timezone.now()
    since = _aware(start) or until - timedelta(days=30)
    if until <= since:
        raise field_error("end", "must be after start", "range")
    if until - since > timedelta(days=CLEARING_MAX_DAYS):
        raise field_error("start", f"at most {CLEARING_MAX_DAYS} days at a time", "range")
    rows = sel.clearing_report(district_id=district_id, start=since, end=until, mall_ids=mall_ids)
    return {
        "district_id": district_id,
        "start": since,
        "end": until,
        "total_fen": sum(r.amount_fen for r in rows),
        "rows": rows,
    }
