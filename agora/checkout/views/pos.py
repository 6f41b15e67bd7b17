"""The merchant's POS sale screen (/merchant/pos/<shop>/) and order panel (MERCH-3, APP-9).

A sale: the cashier adds lines (carried in the form's hidden fields until the order is
created), creates the order, recognises the member (member QR code, card number or phone),
lets checkout pick the best coupons (or ticks them), lets points pay part, and takes payment
by one method or two. Online methods show the provider's QR and the status is polled every
2 s (asking the provider too) until paid. Every step is an HTMX partial swap; without
JavaScript each form posts to the same address and gets the whole page back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from agora.accounts.actor import Actor
from agora.checkout.choices import ONLINE_METHODS, OrderStatus, PaymentStatus
from agora.checkout.forms_pos import (
    PAYMENT_STATUS,
    ApplyForm,
    CartDamaged,
    CartLine,
    LineForm,
    MemberForm,
    PayForm,
    cart_from,
    label,
    looks_like_phone,
    method_label,
    new_attempt,
)
from agora.checkout.services import orders, payments
from agora.checkout.views.pos_common import (
    add_form_errors,
    errors_by_field,
    is_merchant,
    option_reason,
    pos_messages,
    pos_order,
    pos_shop,
    user_key,
    yuan_input,
)
from agora.console.views.common import (
    coupon_face,
    member_name,
    render_part,
    tier_name,
    till_shops,
)
from agora.core.errors import DomainError
from agora.members.selectors import mask_phone
from agora.members.services.codes import member_code_resolve
from agora.points.selectors import points_balance
from agora.portal.views.common import console, qr_svg

if TYPE_CHECKING:
    from agora.checkout.models import Order
    from agora.district.models import Shop

SALE = "checkout/pos/sale.html"
CHECKOUT = "checkout/pos/checkout.html"
PANEL = "checkout/pos/_panel.html"
STATUS = "checkout/pos/_status.html"
CLOSE_REASON = "cancelled at the till"


# --- choosing the shop ----------------------------------------------------------------------
@require_GET
@console(is_merchant)
def pos_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The actor's POS; a picker first when they work at several shops."""
    shops = till_shops(actor)
    if len(shops) == 1:
        return _sale_page(request, actor, shops[0])
    return render(request, "checkout/pos/pick.html", {"shops": shops})


@require_GET
@console(is_merchant)
def pos_sale(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    return _sale_page(request, actor, pos_shop(actor, shop_id))


# --- the cart ---------------------------------------------------------------------------------
def _cart_context(
    actor: Actor,
    shop: Shop,
    lines: list[CartLine],
    *,
    line_form: LineForm | None = None,
    errors: list[str] | None = None,
    attempt: str = "",
) -> dict[str, Any]:
    return {
        "shop": shop,
        "shops": till_shops(actor),
        "lines": lines,
        "subtotal_fen": sum(line.amount_fen for line in lines),
        "line_form": line_form or LineForm(auto_id="line_%s"),
        "cart_errors": errors or [],
        "attempt": attempt or new_attempt(),
    }


def _sale_page(request: HttpRequest, actor: Actor, shop: Shop) -> HttpResponse:
    response = render(request, SALE, _cart_context(actor, shop, []))
    response["Cache-Control"] = "no-store"
    return response


def _cart_response(
    request: HttpRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render_part(request, "checkout/pos/_cart.html", SALE, context, status=status)


def _read_cart(request: HttpRequest) -> tuple[list[CartLine], list[str]]:
    try:
        return cart_from(request.POST), []
    except CartDamaged:
        return [], [_msg_cart_damaged()]


def _msg_cart_damaged() -> str:
    return _("The list of items was damaged: start the sale again.")


@require_POST
@console(is_merchant)
def pos_cart(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    """Add a line (``add``) or remove one (``remove`` = its index); the cart again."""
    shop = pos_shop(actor, shop_id)
    lines, errors = _read_cart(request)
    attempt = str(request.POST.get("attempt", ""))[:32]
    if errors:
        return _cart_response(request, _cart_context(actor, shop, [], errors=errors), status=400)
    remove = request.POST.get("remove")
    if remove is not None:
        if remove.isdigit() and int(remove) < len(lines):
            del lines[int(remove)]
        return _cart_response(request, _cart_context(actor, shop, lines, attempt=attempt))
    form = LineForm(request.POST, auto_id="line_%s")
    if not form.is_valid():
        context = _cart_context(actor, shop, lines, line_form=form, attempt=attempt)
        return _cart_response(request, context, status=400)
    data = form.cleaned_data
    lines.append(CartLine(data["name"], data["quantity"], data["price"]))
    return _cart_response(request, _cart_context(actor, shop, lines, attempt=attempt))


@require_POST
@console(is_merchant)
def pos_order_create(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    """Create the order from the cart (a line still typed in the fields is added first) and
    go to its panel. The form's ``attempt`` makes a double click create one order."""
    shop = pos_shop(actor, shop_id)
    lines, errors = _read_cart(request)
    attempt = str(request.POST.get("attempt", ""))
    if errors:
        return _cart_response(request, _cart_context(actor, shop, [], errors=errors), status=400)
    if str(request.POST.get("name", "")).strip():
        form = LineForm(request.POST, auto_id="line_%s")
        if not form.is_valid():
            context = _cart_context(actor, shop, lines, line_form=form, attempt=attempt)
            return _cart_response(request, context, status=400)
        data = form.cleaned_data
        lines.append(CartLine(data["name"], data["quantity"], data["price"]))
    if len(attempt) != 32 or not attempt.isalnum():
        attempt = new_attempt()
    try:
        order = orders.order_create(
            actor=actor,
            shop=shop,
            lines=[orders.LineSpec(ln.name, ln.quantity, ln.unit_price_fen) for ln in lines],
            channel="pos",
            key=user_key(actor, attempt),
        )
    except DomainError as exc:
        context = _cart_context(actor, shop, lines, errors=pos_messages(exc), attempt=attempt)
        return _cart_response(request, context, status=400)
    url = reverse("pos-checkout", args=[shop.pk, order.pk])
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


# --- the order panel --------------------------------------------------------------------------
def _applied_codes(order: Order) -> list[str]:
    return [oc.coupon.code for oc in order.coupons.all()]


def _display_quote(order: Order, codes: list[str]) -> tuple[orders.Quote | None, str]:
    """The coupons and points as recorded on the order, with every other coupon's reason."""
    if order.status != OrderStatus.OPEN:
        return None, ""
    try:
        quote = orders.checkout_quote(
            order=order,
            coupon_codes=codes,
            auto=True,
            coupon_ids=[oc.coupon_id for oc in order.coupons.all()],
            points=order.points_used,
        )
    except DomainError as exc:
        try:
            quote = orders.checkout_quote(order=order, auto=True)
        except DomainError:
            return None, pos_messages(exc)[0]
        return quote, pos_messages(exc)[0]
    return quote, ""


def _options(quote: orders.Quote | None) -> list[dict[str, Any]]:
    if quote is None:
        return []
    return [
        {
            "id": o.coupon.pk,
            "code": o.coupon.code,
            "title": o.coupon.template.title,
            "face": coupon_face(o.coupon.template),
            "applies": o.applies and o.discount_fen > 0,
            "chosen": o.chosen,
            "discount_fen": o.discount_fen,
            "reason": option_reason(o.reason) if not o.chosen else "",
        }
        for o in quote.options
    ]


def _member_facts(order: Order, balance: int | None) -> dict[str, Any] | None:
    member = order.member
    if member is None:
        return None
    return {
        "name": member_name(member),
        "phone": mask_phone(member.user.phone),
        "card": member.card_no[-4:],
        "tier": tier_name(member.tier),
        "balance": points_balance(member=member) if balance is None else balance,
    }


def _payments(order: Order) -> list[dict[str, Any]]:
    out = []
    for p in order.payments.all():
        pending = p.status == PaymentStatus.PENDING and bool(p.code_url)
        out.append(
            {
                "payment": p,
                "method": method_label(p.method),
                "status": label(PAYMENT_STATUS, p.status),
                "online": p.method in ONLINE_METHODS,
                "qr": qr_svg(p.code_url, label=method_label(p.method), scale=6, css="pay-qr-svg")
                if pending
                else "",
                "change_fen": p.tendered_fen - p.amount_fen if p.tendered_fen is not None else None,
            }
        )
    return out


def _panel_context(
    request: HttpRequest,
    actor: Actor,
    shop: Shop,
    order: Order,
    *,
    quote: orders.Quote | None = None,
    codes: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    codes = _applied_codes(order) if codes is None else codes
    note = ""
    if quote is None:
        quote, note = _display_quote(order, codes)
    paid = order.status in (
        OrderStatus.PAID,
        OrderStatus.PARTIALLY_REFUNDED,
        OrderStatus.REFUNDED,
    )
    context: dict[str, Any] = {
        "shop": shop,
        "shops": till_shops(actor),
        "order": order,
        "lines": list(order.lines.all()),
        "applied": list(order.coupons.all()),
        "member": _member_facts(order, quote.points_balance if quote else None),
        "quote": quote,
        "options": _options(quote),
        "codes": codes,
        "quote_note": note,
        "apply_points": order.points_used or "",
        "payments": _payments(order),
        "is_open": order.status == OrderStatus.OPEN,
        "is_pending": order.status == OrderStatus.PENDING,
        "is_paid": paid,
        "is_closed": order.status == OrderStatus.CLOSED,
        "cancellable": order.status in (OrderStatus.OPEN, OrderStatus.PENDING),
        "member_form": MemberForm(auto_id="member_%s"),
        "pay_form": PayForm(
            payable_fen=order.payable_fen,
            initial={"attempt": new_attempt(), "amount": yuan_input(order.payable_fen)},
            auto_id="pay_%s",
        ),
        "payable_input": yuan_input(order.payable_fen),
    }
    context.update(extra)
    return context


def _fresh(actor: Actor, shop: Shop, order: Order) -> Order:
    return pos_order(actor, shop, order.pk)


def _panel_response(
    request: HttpRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render_part(request, PANEL, CHECKOUT, context, status=status)


@require_GET
@console(is_merchant)
def pos_checkout(request: HttpRequest, actor: Actor, shop_id: int, order_id: int) -> HttpResponse:
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    response = render(request, CHECKOUT, _panel_context(request, actor, shop, order))
    response["Cache-Control"] = "no-store"
    return response


def _resolve_member(shop: Shop, text: str) -> Any:
    if looks_like_phone(text):
        return orders.member_by_phone(district_id=shop.mall.district_id, phone=text)
    return member_code_resolve(code=text, shop_id=shop.pk)


@require_POST
@console(is_merchant)
def pos_member(request: HttpRequest, actor: Actor, shop_id: int, order_id: int) -> HttpResponse:
    """Recognise the member and let checkout pick the best coupons of their wallet."""
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    form = MemberForm(request.POST, auto_id="member_%s")
    codes = [c for c in request.POST.getlist("codes") if c.strip()][:10]
    if not form.is_valid():
        context = _panel_context(request, actor, shop, order, codes=codes, member_form=form)
        return _panel_response(request, context, status=400)
    quote = None
    apply_errors: list[str] = []
    try:
        member = _resolve_member(shop, form.cleaned_data["code"])
        if order.member_id not in (None, member.pk):
            codes = []  # the other member's scanned coupons go with them
            if order.discount_fen or order.points_used:
                orders.order_apply(order=order, auto=False, coupon_ids=[], points=0)
        orders.order_set_member(order=order, member=member)
    except DomainError as exc:
        add_form_errors(form, {}, pos_messages(exc, context="member"))
        order = _fresh(actor, shop, order)
        context = _panel_context(request, actor, shop, order, codes=codes, member_form=form)
        return _panel_response(request, context, status=400)
    try:
        quote = orders.order_apply(order=order, coupon_codes=codes, auto=True, points=0)
    except DomainError as exc:
        apply_errors = pos_messages(exc, context="coupon")
    order = _fresh(actor, shop, order)
    context = _panel_context(
        request,
        actor,
        shop,
        order,
        quote=quote,
        codes=codes,
        apply_errors=apply_errors,
    )
    return _panel_response(request, context)


@require_POST
@console(is_merchant)
def pos_apply(request: HttpRequest, actor: Actor, shop_id: int, order_id: int) -> HttpResponse:
    """Record the coupons (the best ones, or those ticked) and the points (order_apply)."""
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    form = ApplyForm(request.POST, auto_id="apply_%s")
    typed_points = str(request.POST.get("points", ""))[:12]
    if not form.is_valid():
        by_field = {k: [str(e) for e in v] for k, v in form.errors.items()}
        context = _panel_context(
            request,
            actor,
            shop,
            order,
            codes=[c for c in request.POST.getlist("codes") if c.strip()][:10],
            apply_field_errors=by_field,
            apply_points=typed_points,
        )
        return _panel_response(request, context, status=400)
    codes = form.scanned()
    new_code = bool((form.cleaned_data.get("code") or "").strip())
    best = form.cleaned_data.get("pick") != "chosen" or new_code
    points = form.cleaned_data.get("points") or 0
    try:
        quote = orders.order_apply(
            order=order,
            coupon_codes=codes,
            auto=True,
            coupon_ids=None if best else form.ticked(),
            points=points,
        )
    except DomainError as exc:
        by_field, general = errors_by_field(
            exc, {"coupon_codes.": "code", "points": "points"}, context="coupon"
        )
        if new_code and "code" in by_field:
            codes = (
                codes[:-1]
                if codes and codes[-1] == form.cleaned_data["code"].strip().upper()
                else codes
            )
        order = _fresh(actor, shop, order)
        context = _panel_context(
            request,
            actor,
            shop,
            order,
            codes=codes,
            apply_field_errors=by_field,
            apply_errors=general,
            apply_points=typed_points,
            typed_code=form.cleaned_data.get("code") or "",
        )
        return _panel_response(request, context, status=400)
    order = _fresh(actor, shop, order)
    context = _panel_context(
        request, actor, shop, order, quote=quote, codes=codes, applied_now=True
    )
    return _panel_response(request, context)


@require_POST
@console(is_merchant)
def pos_pay(request: HttpRequest, actor: Actor, shop_id: int, order_id: int) -> HttpResponse:
    """Take payment (order_submit): one method, or two that add up to what is payable. The
    form's ``attempt`` is the idempotency key: a double click pays once."""
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    form = PayForm(request.POST, payable_fen=order.payable_fen, auto_id="pay_%s")
    attempt = str(request.POST.get("attempt", ""))
    specs: list[payments.PaymentSpec] = []
    if order.payable_fen == 0:
        valid = len(attempt) == 32 and attempt.isalnum()
    else:
        valid = form.is_valid()
        if valid:
            specs = [
                payments.PaymentSpec(
                    method=s.method,
                    amount_fen=s.amount_fen,
                    tendered_fen=s.tendered_fen,
                    card_last4=s.card_last4,
                )
                for s in form.cleaned_data["specs"]
            ]
    if not valid:
        if order.payable_fen == 0:
            form.add_error(None, _("This form expired: reload the page and try again."))
        context = _panel_context(request, actor, shop, order, pay_form=form)
        return _panel_response(request, context, status=400)
    key = user_key(actor, attempt)
    try:
        payments.order_submit(actor=actor, order=order, payments=specs, key=key)
    except DomainError as exc:
        order.refresh_from_db()
        if order.submit_key != key:  # not a double click that went through meanwhile
            by_field, general = errors_by_field(exc, {"payments.0.tendered_fen": "tendered"})
            add_form_errors(form, by_field, general)
            order = _fresh(actor, shop, order)
            context = _panel_context(request, actor, shop, order, pay_form=form)
            return _panel_response(request, context, status=400)
    order = _fresh(actor, shop, order)
    return _panel_response(request, _panel_context(request, actor, shop, order))


def _refresh_pending(order: Order) -> bool:
    """Ask the provider about each pending payment; whether any was found paid."""
    changed = False
    for payment in order.payments.all():
        if payment.status == PaymentStatus.PENDING:
            after = payments.payment_refresh(payment=payment)
            changed = changed or after.status != PaymentStatus.PENDING
    return changed


@require_GET
@console(is_merchant)
def pos_status(request: HttpRequest, actor: Actor, shop_id: int, order_id: int) -> HttpResponse:
    """The payment status (polled every 2 s while the order awaits payment)."""
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    if order.status == OrderStatus.PENDING and _refresh_pending(order):
        order = _fresh(actor, shop, order)
    context = _panel_context(request, actor, shop, order)
    return render_part(request, STATUS, CHECKOUT, context)


@require_POST
@console(is_merchant)
def pos_cancel(request: HttpRequest, actor: Actor, shop_id: int, order_id: int) -> HttpResponse:
    """Cancel the unpaid order: payments closed, coupons and points given back."""
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    errors: list[str] = []
    try:
        payments.order_close(actor=actor, order=order, reason=CLOSE_REASON)
    except DomainError as exc:
        errors = pos_messages(exc)
    order = _fresh(actor, shop, order)
    context = _panel_context(request, actor, shop, order, cancel_errors=errors)
    return _panel_response(request, context, status=409 if errors else 200)


__all__ = [
    "pos_apply",
    "pos_cancel",
    "pos_cart",
    "pos_checkout",
    "pos_home",
    "pos_member",
    "pos_order_create",
    "pos_pay",
    "pos_sale",
    "pos_status",
]
