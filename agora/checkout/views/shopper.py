"""The shopper's payment pages (mobile first, zh-Hans by default, English second).

* /pay/<number>/ — the order a shopper scanned at a till (or was sent a link to). Signed in,
  the order becomes theirs (as the API's claim does) so that their coupons and points apply:
  the best coupons are proposed, every other one says why it does not apply, points pay part,
  an online method is chosen; submitting gives the provider's QR / link, and the page polls
  the provider every 2 s until the order is paid (支付成功, with the points earned).
* /me/orders/ and /me/orders/<id>/ — the shopper's orders, newest first, with payments,
  refunds and invoices, and the e-invoice request.
* /me/invoices/ — every invoice (blue and red-letter) with its PDF.

Views only parse, call the checkout services and selectors, and shape output."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from agora.checkout import selectors as sel
from agora.checkout.choices import (
    InvoiceKind,
    Method,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    TitleKind,
)
from agora.checkout.forms_shopper import SHOPPER_METHODS, InvoiceForm, PayForm
from agora.checkout.services import invoices, orders, payments
from agora.core.errors import DomainError, FieldError, NotFound, PermissionDenied
from agora.core.selectors import page_of
from agora.coupons.choices import Party
from agora.district.selectors import districts_all
from agora.lib.money import format_fen
from agora.members.selectors import member_of_user
from agora.members.services.membership import member_ensure
from agora.portal.errors import translate_detail, translate_field_error
from agora.portal.views.common import actor_of, qr_svg

if TYPE_CHECKING:
    from agora.accounts.models import User

ORDERS_PER_PAGE = 20
POLL_SECONDS = 2
#: what a provider's code_url may be: a web page or a wallet app's deep link
LINK_SCHEMES = frozenset({"http", "https", "weixin", "alipays", "alipay", "upwrp"})
PAID_STATES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


# --- labels ------------------------------------------------------------------------------------
def method_label(method: str) -> str:
    return str(dict(Method.choices).get(method, method))


def order_status_label(status: str) -> str:
    if status == OrderStatus.OPEN:  # "Open" alone is a shop's opening hours in the catalogue
        return pgettext("order status for the shopper", "Open")
    return str(dict(OrderStatus.choices).get(status, status))


def payment_status_label(status: str) -> str:
    return str(dict(PaymentStatus.choices).get(status, status))


def refund_status_label(status: str) -> str:
    return str(dict(RefundStatus.choices).get(status, status))


def invoice_kind_label(kind: str) -> str:
    return str(dict(InvoiceKind.choices).get(kind, kind))


def title_kind_label(kind: str) -> str:
    return str(dict(TitleKind.choices).get(kind, kind))


_SPEND_AT_LEAST = re.compile(r"^spend at least (\d+) fen$")
_ONE_PER_ORDER = re.compile(r"^one (mall|shop) coupon per order: (.+) is used$")


def coupon_reason(reason: str) -> str:
    """Why a coupon is not used on this order, in the reader's language (the checkout
    service says it in English for the API)."""
    if not reason:
        return ""
    found = _SPEND_AT_LEAST.match(reason)
    if found:
        return _("Spend at least %(amount)s") % {"amount": format_fen(int(found.group(1)))}
    found = _ONE_PER_ORDER.match(reason)
    if found:
        if found.group(1) == "mall":
            return _("One mall coupon per order: %(title)s is used") % {"title": found.group(2)}
        return _("One shop coupon per order: %(title)s is used") % {"title": found.group(2)}
    fixed = {
        "already used": _("Already used"),
        "voided": _("Voided"),
        "expired": _("Expired"),
        "not valid yet": _("Not valid yet"),
        "not valid at this shop": _("Not valid at this shop"),
        "parking coupons are used at the car park exit": _(
            "Parking coupons are used at the car park exit"
        ),
        "a gift coupon is handed over, not taken off the bill": _(
            "A gift coupon is handed over, not taken off the bill"
        ),
        "the order is already fully discounted": _("The order is already fully discounted"),
        "does not apply": _("Does not apply to this order"),
    }
    return fixed.get(reason, reason)


def error_text(exc: DomainError) -> str:
    """One friendly line for a refused payment, invoice or claim."""
    known = {
        "order_not_open": _("This order is no longer open for payment."),
        "member_locked": _("Someone else is already paying this order."),
        "insufficient_points": _("You do not have that many points."),
        "already_invoiced": _("This order already has an invoice."),
        "order_not_paid": _("Only a paid order can be invoiced."),
        "nothing_to_invoice": _("Nothing paid is left to invoice."),
        "idempotency_key_reused": _("This form was already sent: reload the page."),
        "no_tiers": _("Membership is not open yet."),
    }
    if exc.code in known:
        return known[exc.code]
    return _detail_text(exc)


def field_error_text(error: FieldError) -> str:
    field_known = {
        ("points", "range"): _("That is more points than can pay this order."),
        ("points", "step"): _("Use the points in the steps shown."),
        ("coupon_ids", "invalid"): _("A chosen coupon no longer applies: please check again."),
        ("coupon_ids", "stacking"): _("At most one mall coupon and one shop coupon per order."),
        ("payments", "required"): _("Choose how to pay."),
        ("title", "too_short"): _("The invoice title is at least 2 characters."),
        ("taxpayer_id", "invalid"): _(
            "Not a valid unified social credit code: check the 18 characters."
        ),
        ("taxpayer_id", "required"): _("A company title needs its taxpayer ID."),
        ("email", "invalid"): _("Not a valid e-mail address."),
    }
    return field_known.get((error.field, error.code)) or translate_field_error(error)


def _detail_text(exc: DomainError) -> str:
    if exc.errors:
        return " ".join(field_error_text(e) for e in exc.errors)
    if isinstance(exc, NotFound):
        return _("Not found.")
    return translate_detail(exc)


def safe_link(url: str) -> str:
    """The provider's code_url when it is a link a phone may follow, else ""."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in LINK_SCHEMES else ""


# --- who is paying -----------------------------------------------------------------------------
ShopperView = Callable[..., HttpResponse]


def _login_redirect(request: HttpRequest, back: str | None = None) -> HttpResponse:
    target = back or request.get_full_path()
    login_url = reverse("portal:login")
    if getattr(request, "htmx", False):
        current = request.headers.get("HX-Current-URL", "") or target
        return HttpResponseClientRedirect(redirect_to_login(current, login_url).url)
    return redirect_to_login(target, login_url)


def shopper_page(view: ShopperView) -> ShopperView:
    """Signed-in shoppers only (others go to the SMS sign-in with ?next=); the member account is
    created on the first visit. The view gets the member after the request."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _login_redirect(request)
        user = cast("User", request.user)
        member = member_of_user(user=user)
        if member is None:
            district = districts_all().first()
            if district is None:
                raise Http404("no district yet")
            try:
                member = member_ensure(user=user, district_id=district.pk)
            except DomainError as exc:
                messages.error(request, error_text(exc))
                return redirect("portal:home")
        return view(request, member, *args, **kwargs)

    return wrapper


def _order_by_number(number: str) -> Any:
    try:
        return orders.order_by_number(number=number)
    except NotFound:
        raise Http404("no such order") from None


def _member_for(user: User, order: Any) -> Any:
    return member_of_user(user=user) or member_ensure(user=user, district_id=order.district_id)


def _claim(request: HttpRequest, order: Any) -> tuple[Any, str]:
    """Make the open order the signed-in shopper's (the API's claim); returns their member and
    why it could not be done ("" when it is theirs)."""
    user = cast("User", request.user)
    try:
        member = _member_for(user, order)
    except DomainError as exc:
        return None, error_text(exc)
    if order.status == OrderStatus.OPEN and order.member_id != member.pk:
        try:
            orders.order_set_member(order=order, member=member)
        except NotFound:
            return member, _("This order is from another district.")
        except DomainError as exc:
            return member, error_text(exc)
    return member, ""


def _owned(request: HttpRequest, order: Any, member: Any) -> Any:
    """The order with its lines, payments and refunds, if it is the shopper's."""
    if member is None or order.member_id != member.pk:
        return None
    try:
        return sel.access_order(actor=actor_of(request), order_id=order.pk)
    except NotFound:
        return None


# --- the quote ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CouponRow:
    id: int
    title: str
    code: str
    discount_fen: int
    chosen: bool
    reason: str
    valid_until: Any


def _row(option: Any) -> CouponRow:
    coupon = option.coupon
    return CouponRow(
        id=coupon.pk,
        title=str(coupon.template.title),
        code=str(coupon.code),
        discount_fen=option.discount_fen,
        chosen=option.chosen,
        reason=coupon_reason(option.reason),
        valid_until=coupon.valid_until,
    )


def _points_step(per_yuan: int) -> int:
    return per_yuan // math.gcd(per_yuan, 100)


def _quote_for(
    order: Any, *, coupon_ids: list[int] | None, points: int
) -> tuple[orders.Quote, list[str]]:
    """The quote for what the shopper asked; what cannot be had is said and left out (a
    coupon that no longer applies: the best ones instead; too many points: the most)."""
    notes: list[str] = []
    try:
        base = orders.checkout_quote(order=order, auto=True, coupon_ids=coupon_ids)
    except DomainError as exc:
        notes.append(error_text(exc))
        base = orders.checkout_quote(order=order, auto=True)
        coupon_ids = None
    step = _points_step(base.points_per_yuan)
    wanted = max(0, points)
    usable = min(wanted, base.points_max) // step * step
    if wanted > base.points_max:
        notes.append(
            _("At most %(points)s points can pay this order.") % {"points": base.points_max}
        )
    if not usable:
        return base, notes
    try:
        return orders.checkout_quote(
            order=order, auto=True, coupon_ids=coupon_ids, points=usable
        ), notes
    except DomainError as exc:
        notes.append(error_text(exc))
        return base, notes


def _quote_context(quote: orders.Quote, form_method: str = "") -> dict[str, Any]:
    mall: list[CouponRow] = []
    shop: list[CouponRow] = []
    unusable: list[CouponRow] = []
    for option in quote.options:
        row = _row(option)
        if option.applies and option.discount_fen > 0:
            funder = option.coupon.template.funder
            (mall if funder == Party.MALL else shop).append(row)
        else:
            unusable.append(row)
    return {
        "quote": quote,
        "mall_coupons": mall,
        "shop_coupons": shop,
        "mall_chosen": next((r.id for r in mall if r.chosen), None),
        "shop_chosen": next((r.id for r in shop if r.chosen), None),
        "unusable": unusable,
        "points_step": _points_step(quote.points_per_yuan),
        "points_max_fen": orders.points_fen_of(quote.points_max, quote.points_per_yuan),
        "methods": [(m.value, method_label(m.value)) for m in SHOPPER_METHODS],
        "method": form_method,
    }


# --- the pay page ------------------------------------------------------------------------------
def _login_url(request: HttpRequest, order: Any) -> str:
    back = reverse("pay-order", args=[order.number])
    return f"{reverse('portal:login')}?{urlencode({'next': back})}"


def _pending_payments(order: Any) -> list[dict[str, Any]]:
    out = []
    for p in order.payments.all():
        if p.status != PaymentStatus.PENDING:
            continue
        link = safe_link(p.code_url)
        out.append(
            {
                "p": p,
                "method_label": method_label(p.method),
                "link": link,
                "qr": qr_svg(p.code_url, label=method_label(p.method)) if p.code_url else "",
            }
        )
    return out


def _refresh_pending(order: Any) -> None:
    for p in order.payments.all():
        if p.status == PaymentStatus.PENDING:
            payments.payment_refresh(payment=p)


def _state_context(order: Any) -> dict[str, Any]:
    """What a submitted order shows: waiting for the provider, paid, or closed."""
    pays = list(order.payments.all())
    return {
        "order": order,
        "status_label": order_status_label(order.status),
        "pending": _pending_payments(order),
        "failed": any(p.status == PaymentStatus.FAILED for p in pays),
        "paid_payments": [
            {"p": p, "method_label": method_label(p.method)}
            for p in pays
            if p.status != PaymentStatus.PENDING and p.paid_at is not None
        ],
        "coupons": list(order.coupons.all()),
        "is_paid": order.status in PAID_STATES,
        "poll_seconds": POLL_SECONDS,
    }


def _pay_form_page(
    request: HttpRequest,
    order: Any,
    *,
    quote: orders.Quote,
    notes: list[str],
    error: str = "",
    method: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "key": str(uuid.uuid4()),  # a fresh key for each rendering of the form
        "notes": notes,
        "error": error,
        **_quote_context(quote, method),
    }
    return render(request, "checkout/shopper/pay.html", context, status=status)


@require_GET
@never_cache
def pay_order(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_by_number(number)
    if not request.user.is_authenticated:
        context = {
            "order": order,
            "is_open": order.status == OrderStatus.OPEN,
            "lines": list(order.lines.all()) if order.status == OrderStatus.OPEN else [],
            "login_url": _login_url(request, order),
        }
        return render(request, "checkout/shopper/pay_sign_in.html", context)
    member, problem = _claim(request, order)
    mine = _owned(request, order, member)
    if mine is None:
        if order.status != OrderStatus.OPEN:
            raise Http404("no such order")
        context = {"order": order, "error": problem or _("This order cannot be paid here.")}
        return render(request, "checkout/shopper/pay_refused.html", context, status=409)
    if mine.status == OrderStatus.OPEN:
        quote, notes = _quote_for(mine, coupon_ids=None, points=0)
        return _pay_form_page(request, mine, quote=quote, notes=notes)
    if mine.status == OrderStatus.PENDING:
        _refresh_pending(mine)
        mine = _owned(request, order, member)
    return render(request, "checkout/shopper/pay_state.html", _state_context(mine))


@require_POST
@never_cache
def pay_quote(request: HttpRequest, number: str) -> HttpResponse:
    """The coupons, points and totals again after a change (HTMX partial)."""
    if not request.user.is_authenticated:
        return _login_redirect(request, reverse("pay-order", args=[number]))
    order = _order_by_number(number)
    member, _problem = _claim(request, order)
    mine = _owned(request, order, member)
    if mine is None:
        raise Http404("no such order")
    if mine.status != OrderStatus.OPEN:
        return HttpResponseClientRedirect(reverse("pay-order", args=[number]))
    form = PayForm(request.POST)
    if not form.is_valid():
        quote, notes = _quote_for(mine, coupon_ids=None, points=0)
        notes.insert(0, _("Please check your choice."))
    else:
        trigger = request.headers.get("HX-Trigger-Name", "")
        quote, notes = _quote_for(
            mine, coupon_ids=form.coupon_ids(), points=form.points_wanted(trigger)
        )
    method = form.cleaned_data.get("method", "") if form.is_valid() else ""
    context = {"order": mine, "notes": notes, **_quote_context(quote, method)}
    return render(request, "checkout/shopper/partials/pay_quote.html", context)


@require_POST
@never_cache
def pay_submit(request: HttpRequest, number: str) -> HttpResponse:
    """Apply the chosen coupons and points, then start the payment (one per key)."""
    if not request.user.is_authenticated:
        return _login_redirect(request, reverse("pay-order", args=[number]))
    order = _order_by_number(number)
    member, problem = _claim(request, order)
    mine = _owned(request, order, member)
    if mine is None:
        if order.status != OrderStatus.OPEN:
            raise Http404("no such order")
        context = {"order": order, "error": problem or _("This order cannot be paid here.")}
        return render(request, "checkout/shopper/pay_refused.html", context, status=409)
    back = redirect("pay-order", number=mine.number)
    back.status_code = 303
    if mine.status != OrderStatus.OPEN:
        return back  # a retry of a submitted form, or paid meanwhile: the page says which
    form = PayForm(request.POST)
    if not form.is_valid() or form.cleaned_data.get("key") is None:
        quote, notes = _quote_for(mine, coupon_ids=None, points=0)
        if form.is_bound and "method" in form.errors:
            error = _("Choose how to pay.")
        else:
            error = _("This form has expired: please check and pay again.")
        return _pay_form_page(request, mine, quote=quote, notes=notes, error=error, status=400)
    data = form.cleaned_data
    user = cast("User", request.user)
    key = f"user:{user.pk}:{data['key']}"
    coupon_ids = form.coupon_ids()
    points = form.points_wanted("")
    method = str(data.get("method") or "")

    def again(error: str, status: int) -> HttpResponse:
        quote, notes = _quote_for(mine, coupon_ids=coupon_ids, points=points)
        return _pay_form_page(
            request, mine, quote=quote, notes=notes, error=error, method=method, status=status
        )

    try:
        seen = orders.checkout_quote(order=mine, auto=True, coupon_ids=coupon_ids, points=points)
    except DomainError as exc:
        return again(error_text(exc), 400)
    if seen.payable_fen and not method:
        return again(_("Choose how to pay."), 400)
    if data.get("payable") is not None and data["payable"] != seen.payable_fen:
        return again(_("The amount has changed: please check it and pay again."), 409)
    try:
        quote = orders.order_apply(order=mine, auto=True, coupon_ids=coupon_ids, points=points)
        specs = [payments.PaymentSpec(method, quote.payable_fen)] if quote.payable_fen else []
        payments.order_submit(actor=actor_of(request), order=mine, payments=specs, key=key)
    except DomainError as exc:
        fresh = _owned(request, order, member)
        if fresh is not None and fresh.status != OrderStatus.OPEN:
            return back
        return again(error_text(exc), 409)
    return back


@require_GET
@never_cache
def pay_status(request: HttpRequest, number: str) -> HttpResponse:
    """The poll of a submitted order: asks the provider about each pending payment; while
    one is pending the waiting line comes back, then the result replaces the payment panel."""
    if not request.user.is_authenticated:
        return _login_redirect(request, reverse("pay-order", args=[number]))
    order = _order_by_number(number)
    member = member_of_user(user=cast("User", request.user))
    mine = _owned(request, order, member)
    if mine is None:
        raise Http404("no such order")
    if not getattr(request, "htmx", False):
        return redirect("pay-order", number=mine.number)
    _refresh_pending(mine)
    mine = _owned(request, order, member)
    context = _state_context(mine)
    if mine.status == OrderStatus.PENDING and context["pending"]:
        return render(request, "checkout/shopper/partials/pay_poll.html", context)
    response = render(request, "checkout/shopper/partials/pay_panel.html", context)
    return reswap(retarget(response, "#pay-panel"), "outerHTML")


# --- my orders ---------------------------------------------------------------------------------
def _tabs(request: HttpRequest) -> list[dict[str, Any]]:
    items = [
        ("orders", _("My orders"), reverse("pay-my-orders")),
        ("invoices", _("My invoices"), reverse("pay-my-invoices")),
        ("card", _("Member card"), reverse("members:card")),
    ]
    return [
        {"key": key, "label": label, "url": url, "active": request.path.startswith(url)}
        for key, label, url in items
    ]


def _brief(order: Any) -> dict[str, Any]:
    return {
        "o": order,
        "status_label": order_status_label(order.status),
        "to_pay": order.status in (OrderStatus.OPEN, OrderStatus.PENDING),
    }


@require_GET
@shopper_page
def my_orders(request: HttpRequest, member: Any) -> HttpResponse:
    cursor = request.GET.get("cursor") or None
    try:
        page = page_of(
            sel.orders_of_member(member=member),
            cursor=cursor,
            limit=ORDERS_PER_PAGE,
            newest_first=True,
        )
    except DomainError:
        raise Http404("bad cursor") from None
    context = {
        "tabs": _tabs(request),
        "rows": [_brief(o) for o in page.items],
        "next_cursor": page.next_cursor,
        "first_page": cursor is None,
    }
    return render(request, "checkout/shopper/orders.html", context)


def _my_order(request: HttpRequest, order_id: int) -> Any:
    actor = actor_of(request)
    try:
        order = sel.access_order(actor=actor, order_id=order_id)
        sel.require_owner_or_staff(actor, order)
    except (NotFound, PermissionDenied):
        raise Http404("no such order") from None
    return order


def _can_invoice(order: Any) -> bool:
    has_blue = any(i.kind == InvoiceKind.BLUE for i in order.invoices.all())
    return (
        not has_blue
        and order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
        and order.paid_fen - order.refunded_fen > 0
    )


def _invoice_row(invoice: Any) -> dict[str, Any]:
    return {
        "i": invoice,
        "kind_label": invoice_kind_label(invoice.kind),
        "title_kind_label": title_kind_label(invoice.title_kind),
        "pdf_url": reverse("api:invoice_pdf", kwargs={"invoice_id": invoice.pk}),
    }


def _order_page(
    request: HttpRequest, order: Any, *, form: InvoiceForm | None = None, status: int = 200
) -> HttpResponse:
    user = cast("User", request.user)
    context = {
        "tabs": _tabs(request),
        "order": order,
        "status_label": order_status_label(order.status),
        "lines": list(order.lines.all()),
        "coupons": list(order.coupons.all()),
        "payments": [
            {
                "p": p,
                "method_label": method_label(p.method),
                "status_label": payment_status_label(p.status),
            }
            for p in order.payments.all()
        ],
        "refunds": [
            {"r": r, "status_label": refund_status_label(r.status)} for r in order.refunds.all()
        ],
        "invoices": [_invoice_row(i) for i in order.invoices.all()],
        "can_invoice": _can_invoice(order),
        "invoice_amount_fen": order.paid_fen - order.refunded_fen,
        "to_pay": order.status in (OrderStatus.OPEN, OrderStatus.PENDING),
        "form": form
        or InvoiceForm(
            auto_id="invoice_%s", initial={"title_kind": "personal", "title": user.display_name}
        ),
    }
    return render(request, "checkout/shopper/order.html", context, status=status)


@require_GET
@shopper_page
def my_order(request: HttpRequest, member: Any, order_id: int) -> HttpResponse:
    return _order_page(request, _my_order(request, order_id))


@require_http_methods(["POST"])
@shopper_page
def invoice_request(request: HttpRequest, member: Any, order_id: int) -> HttpResponse:
    order = _my_order(request, order_id)
    form = InvoiceForm(request.POST, auto_id="invoice_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            invoice = invoices.invoice_issue(
                actor=actor_of(request),
                order=order,
                title_kind=data["title_kind"],
                title=data["title"],
                taxpayer_id=data["taxpayer_id"],
                email=data["email"],
            )
        except DomainError as exc:
            for error in exc.errors:
                name = error.field if error.field in form.fields else None
                form.add_error(name, field_error_text(error))
            if not exc.errors:
                form.add_error(None, error_text(exc))
        else:
            messages.success(
                request,
                _("Invoice %(number)s is issued.") % {"number": invoice.number},
            )
            return redirect("pay-my-order", order_id=order.pk)
    return _order_page(request, _my_order(request, order_id), form=form, status=400)


@require_GET
@shopper_page
def my_invoices(request: HttpRequest, member: Any) -> HttpResponse:
    rows = [
        _invoice_row(i) for i in sel.invoices_of_member(member=member).order_by("-issued_at", "-id")
    ]
    return render(request, "checkout/shopper/invoices.html", {"tabs": _tabs(request), "rows": rows})
