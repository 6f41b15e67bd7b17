"""Shared by the till and the loyalty console: which shops and malls the actor works for,
masking, coupon faces, HTMX-or-page rendering."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from agora.accounts.actor import Actor
from agora.coupons.choices import CouponKind
from agora.district.selectors import access_shop, malls_public, shops_managed
from agora.lib.money import format_fen
from agora.portal.views.common import visible

if TYPE_CHECKING:
    from agora.coupons.models import CouponTemplate
    from agora.district.models import Mall, Shop
    from agora.members.models import Member, Tier


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def render_part(
    request: HttpRequest,
    partial: str,
    page: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """The partial for an HTMX request, the whole page otherwise (no-JS fallback). HTMX swaps
    only 2xx answers, so a refused action is a 200 partial that shows the error; the whole page
    keeps the real status."""
    if is_htmx(request):
        response = render(request, partial, context)
    else:
        response = render(request, page, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    response["Cache-Control"] = "no-store"
    return response


# --- merchants ------------------------------------------------------------------------------
def till_shops(actor: Actor) -> list[Shop]:
    """The shops where the actor holds a merchant role (the tills they may work)."""
    return list(
        shops_managed(actor=actor).filter(id__in=actor.shop_ids).order_by("name_pinyin", "id")
    )


def till_shop(actor: Actor, shop_id: int) -> Shop:
    """A shop whose till the actor may work; any other shop does not exist here."""
    if not actor.has_shop_role(shop_id):
        raise Http404("shop not found")
    return visible(access_shop, actor=actor, shop_id=shop_id)


# --- operators ------------------------------------------------------------------------------
def operator_malls(actor: Actor) -> list[Mall]:
    qs = malls_public()
    if not actor.is_admin:
        qs = qs.filter(id__in=actor.operated_mall_ids)
    return list(qs)


def current_mall(request: HttpRequest, actor: Actor) -> tuple[Mall, list[Mall]]:
    """The mall the operator works on (``mall`` in the query or form; the first by default)."""
    malls = operator_malls(actor)
    if not malls:
        raise Http404("no mall")
    raw = request.POST.get("mall") or request.GET.get("mall") or ""
    if not raw:
        return malls[0], malls
    chosen = next((m for m in malls if str(m.pk) == raw), None)
    if chosen is None:
        raise Http404("mall not found")
    return chosen, malls


def may_see_district(actor: Actor, mall: Mall) -> bool:
    return actor.is_admin or mall.district_id in actor.district_operator_ids


# --- people and coupons -------------------------------------------------------------------------
def mask_name(name: str) -> str:
    """张三丰 -> 张**; keeps the first character only."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def member_name(member: Member) -> str:
    return mask_name(member.user.display_name or "") or _("Member")


def tier_name(tier: Tier) -> str:
    if (get_language() or "").startswith("en") and tier.name_en:
        return tier.name_en
    return tier.name


def coupon_face(template: CouponTemplate) -> str:
    """What the coupon is worth, in a few words."""
    kind = template.kind
    if kind == CouponKind.CASH_OFF:
        return _("%(value)s off") % {"value": format_fen(template.value_fen)}
    if kind == CouponKind.THRESHOLD:
        return _("%(value)s off orders from %(threshold)s") % {
            "value": format_fen(template.value_fen),
            "threshold": format_fen(template.threshold_fen),
        }
    if kind == CouponKind.PERCENT_OFF:
        return _("%(percent)s%% off, at most %(cap)s") % {
            "percent": template.percent_off,
            "cap": format_fen(template.cap_fen),
        }
    if kind == CouponKind.GIFT:
        return _("Gift: %(gift)s") % {"gift": template.gift_name}
    if kind == CouponKind.PARKING_HOURS:
        return _("%(hours)s free parking hours") % {"hours": template.parking_hours}
    return _("%(value)s off the parking fee") % {"value": format_fen(template.value_fen)}
