"""The merchant's till page (/merchant/loyalty/): identify a member by the dynamic member code
or a card number, earn or spend points, check and redeem coupons. Every action is an HTMX
partial swap (the cashier never reloads); without JavaScript each form posts to the same
address and gets the whole page back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agora.accounts.actor import Actor
from agora.console.errors import add_to_form, messages_for, reason_text
from agora.console.forms import (
    CouponCheckForm,
    CouponRedeemForm,
    EarnForm,
    IdentifyForm,
    SpendForm,
    new_op,
)
from agora.console.views.common import (
    coupon_face,
    member_name,
    render_part,
    tier_name,
    till_shop,
    till_shops,
)
from agora.core.errors import DomainError
from agora.coupons.selectors import wallet_usable
from agora.coupons.services.wallet import applicability, coupon_check, coupon_redeem
from agora.members.services.codes import (
    member_code_resolve,
    member_from_ticket,
    member_ticket_make,
)
from agora.points.selectors import points_balance
from agora.points.services.earning import points_earn
from agora.points.services.ledger import points_spend
from agora.portal.views.common import console

if TYPE_CHECKING:
    from agora.district.models import Shop
    from agora.members.models import Member

PAGE = "console/till.html"


def _is_merchant(actor: Actor) -> bool:
    return actor.is_merchant


def _page(request: HttpRequest, actor: Actor, shop: Shop, **context: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "shop": shop,
        "shops": till_shops(actor),
        "identify_form": IdentifyForm(auto_id="till_%s"),
        "check_form": CouponCheckForm(auto_id="coupon_%s"),
    }
    base.update(context)
    return base


def _member_context(shop: Shop, member: Member, ticket: str) -> dict[str, Any]:
    now = timezone.now()
    coupons = []
    for coupon in wallet_usable(member=member, now=now):
        check = applicability(coupon=coupon, shop=shop, amount_fen=0, now=now)
        applies = check.applies or check.reason.startswith("spend at least")
        coupons.append(
            {
                "coupon": coupon,
                "face": coupon_face(coupon.template),
                "applies": applies,
                "reason": reason_text(check.reason),
                "valid_until": coupon.valid_until,
            }
        )
    coupons.sort(key=lambda c: (not c["applies"], c["valid_until"]))
    return {
        "member": member,
        "member_name": member_name(member),
        "tier": tier_name(member.tier),
        "balance": points_balance(member=member),
        "coupons": coupons,
        "ticket": ticket,
        "earn_form": EarnForm(initial={"ticket": ticket, "op": new_op()}, auto_id="earn_%s"),
        "spend_form": SpendForm(initial={"ticket": ticket, "op": new_op()}, auto_id="spend_%s"),
    }


@require_GET
@console(_is_merchant)
def till(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The till of the actor's shop; a picker first when they work at several shops."""
    shops = till_shops(actor)
    if len(shops) == 1:
        return render(request, PAGE, _page(request, actor, shops[0]))
    return render(request, "console/till_pick.html", {"shops": shops})


@require_GET
@console(_is_merchant)
def till_shop_page(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    shop = till_shop(actor, shop_id)
    return render(request, PAGE, _page(request, actor, shop))


@require_POST
@console(_is_merchant)
def identify(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    shop = till_shop(actor, shop_id)
    form = IdentifyForm(request.POST, auto_id="till_%s")
    context: dict[str, Any] = {"identify_errors": []}
    status = 200
    if form.is_valid():
        try:
            member = member_code_resolve(code=form.cleaned_data["code"], shop_id=shop.pk)
        except DomainError as exc:
            context["identify_errors"] = messages_for(exc, context="member")
            status = 400
        else:
            ticket = member_ticket_make(member=member, shop_id=shop.pk)
            context.update(_member_context(shop, member, ticket))
    else:
        context["identify_errors"] = [e for errors in form.errors.values() for e in errors]
        status = 400
    page = _page(request, actor, shop, identify_form=form, **context)
    return render_part(request, "console/partials/till_member.html", PAGE, page, status=status)


def _ticket_member(shop: Shop, ticket: str) -> Member:
    return member_from_ticket(ticket=ticket, shop_id=shop.pk)


def _points_response(
    request: HttpRequest,
    actor: Actor,
    shop: Shop,
    *,
    section: str,
    form: EarnForm | SpendForm,
    member: Member | None,
    result: dict[str, Any] | None,
    status: int,
) -> HttpResponse:
    """The earn or spend section again (a fresh form after a success), the balance swapped
    out of band; the whole page without HTMX."""
    ticket = str(form.data.get("ticket", ""))
    context: dict[str, Any] = {"section": section, "result": result}
    if member is not None:
        context.update(_member_context(shop, member, ticket))
    else:
        context["identify_errors"] = list(form.non_field_errors())
    if result is None or member is None:
        context[f"{section}_form"] = form
    context["oob_balance"] = result is not None
    page = _page(request, actor, shop, **context)
    partial = f"console/partials/till_{section}.html"
    return render_part(request, partial, PAGE, page, status=status)


@require_POST
@console(_is_merchant)
def earn(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    shop = till_shop(actor, shop_id)
    form = EarnForm(request.POST, auto_id="earn_%s")
    member: Member | None = None
    result = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            member = _ticket_member(shop, data["ticket"])
            txn = points_earn(
                actor=actor,
                member=member,
                shop=shop,
                amount_fen=data["amount"],
                reference=data["reference"],
                source="pos",
                key=f"till:{shop.pk}:{data['op']}",
            )
        except DomainError as exc:
            add_to_form(form, exc, aliases={"amount_fen": "amount"}, context="member")
        else:
            result = {"points": txn.points, "amount_fen": data["amount"]}
    if member is None:
        member = _member_or_none(shop, str(form.data.get("ticket", "")))
    return _points_response(
        request,
        actor,
        shop,
        section="earn",
        form=form,
        member=member,
        result=result,
        status=200 if result else 400,
    )


@require_POST
@console(_is_merchant)
def spend(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    shop = till_shop(actor, shop_id)
    form = SpendForm(request.POST, auto_id="spend_%s")
    member: Member | None = None
    result = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            member = _ticket_member(shop, data["ticket"])
            txn = points_spend(
                actor=actor,
                member=member,
                shop=shop,
                points=data["points"],
                reference=data["reference"],
                key=f"till-spend:{shop.pk}:{data['op']}",
            )
        except DomainError as exc:
            add_to_form(form, exc, context="member")
        else:
            result = {"points": -txn.points}
    if member is None:
        member = _member_or_none(shop, str(form.data.get("ticket", "")))
    return _points_response(
        request,
        actor,
        shop,
        section="spend",
        form=form,
        member=member,
        result=result,
        status=200 if result else 400,
    )


def _member_or_none(shop: Shop, ticket: str) -> Member | None:
    try:
        return _ticket_member(shop, ticket)
    except DomainError:
        return None


# --- coupons ----------------------------------------------------------------------------------
def _coupon_response(
    request: HttpRequest, actor: Actor, shop: Shop, context: dict[str, Any], status: int
) -> HttpResponse:
    page = _page(request, actor, shop, **context)
    return render_part(request, "console/partials/till_coupon.html", PAGE, page, status=status)


@require_POST
@console(_is_merchant)
def coupon_check_view(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    shop = till_shop(actor, shop_id)
    form = CouponCheckForm(request.POST, auto_id="coupon_%s")
    context: dict[str, Any] = {"check_form": form}
    if not form.is_valid():
        return _coupon_response(request, actor, shop, context, 400)
    data = form.cleaned_data
    try:
        check = coupon_check(shop=shop, code=data["code"], amount_fen=data["amount"])
    except DomainError as exc:
        add_to_form(form, exc, aliases={"amount_fen": "amount"}, context="coupon")
        return _coupon_response(request, actor, shop, context, 400)
    coupon = check.coupon
    context["check"] = {
        "coupon": coupon,
        "face": coupon_face(coupon.template),
        "member_name": member_name(coupon.member),
        "applies": check.applies,
        "reason": reason_text(check.reason),
        "amount_fen": data["amount"],
        "discount_fen": check.discount_fen,
        "pay_fen": data["amount"] - check.discount_fen,
    }
    if check.applies:
        context["redeem_form"] = CouponRedeemForm(
            initial={
                "code": coupon.code,
                "amount": request.POST.get("amount", ""),
            },
            auto_id="redeem_%s",
        )
    return _coupon_response(request, actor, shop, context, 200)


@require_POST
@console(_is_merchant)
def coupon_redeem_view(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    shop = till_shop(actor, shop_id)
    form = CouponRedeemForm(request.POST, auto_id="redeem_%s")
    context: dict[str, Any] = {"redeem_form": form}
    if form.is_valid():
        data = form.cleaned_data
        try:
            coupon = coupon_redeem(
                actor=actor,
                shop=shop,
                code=data["code"],
                amount_fen=data["amount"],
                reference=data["reference"],
            )
        except DomainError as exc:
            context["redeem_errors"] = messages_for(exc, context="coupon")
        else:
            discount = coupon.discount_fen or 0
            context["redeemed"] = {
                "coupon": coupon,
                "face": coupon_face(coupon.template),
                "discount_fen": discount,
                "amount_fen": data["amount"],
                "pay_fen": data["amount"] - discount,
            }
            return _coupon_response(request, actor, shop, context, 200)
    else:
        context["redeem_errors"] = [e for errors in form.errors.values() for e in errors]
    return _coupon_response(request, actor, shop, context, 409 if form.is_valid() else 400)
