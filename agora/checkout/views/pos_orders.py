"""The shop's orders at the POS: the live list (today's by default, polled every 3 s), an
order's detail with refunds and the e-invoice, and the printable receipt (80 mm thermal
width; a PDF rendered by WeasyPrint with local fonts only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agora.accounts.actor import Actor
from agora.checkout import selectors as sel
from agora.checkout.choices import OrderStatus, RefundStatus
from agora.checkout.forms_pos import (
    INVOICE_KIND,
    ORDER_STATUS,
    PAYMENT_STATUS,
    REFUND_STATUS,
    InvoiceForm,
    OrdersFilterForm,
    RefundForm,
    label,
    method_label,
    new_attempt,
)
from agora.checkout.services import invoices, refunds
from agora.checkout.views.pos_common import (
    add_form_errors,
    errors_by_field,
    is_merchant,
    pos_order,
    pos_shop,
    user_key,
    yuan_input,
)
from agora.console.views.common import render_part, tier_name, till_shops
from agora.core.errors import DomainError
from agora.members.selectors import mask_phone
from agora.portal.views.common import console

if TYPE_CHECKING:
    from agora.checkout.models import Order
    from agora.district.models import Shop

ORDERS = "checkout/pos/orders.html"
ORDER = "checkout/pos/order.html"
MAX_ROWS = 100
PAID_STATES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


# --- the list ---------------------------------------------------------------------------------
@require_GET
@console(is_merchant)
def pos_orders(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    """Today's orders by default; ``day`` empty means every day; ``q`` searches the order or
    payment number or the last 4 digits of the member's phone; ``status`` filters."""
    shop = pos_shop(actor, shop_id)
    data = request.GET.copy()
    if "day" not in data:
        data["day"] = timezone.localdate().isoformat()
    form = OrdersFilterForm(data, auto_id="orders_%s")
    rows: list[Order] = []
    if form.is_valid():
        qs = sel.orders_search(
            qs=sel.orders_visible(actor=actor).filter(shop_id=shop.pk),
            status=form.cleaned_data["status"] or None,
            q=form.cleaned_data["q"],
            day=form.cleaned_data["day"],
        )
        rows = list(
            qs.select_related("member__user")
            .prefetch_related("payments")
            .order_by("-created_at", "-id")[:MAX_ROWS]
        )
    query = urlencode({k: data.get(k, "") for k in ("q", "status", "day")})
    context = {
        "shop": shop,
        "shops": till_shops(actor),
        "form": form,
        "rows": [_row(o) for o in rows],
        "query": query,
        "limit": MAX_ROWS,
    }
    return render_part(request, "checkout/pos/_orders_list.html", ORDERS, context)


def _row(order: Order) -> dict[str, Any]:
    member = order.member
    return {
        "order": order,
        "phone": mask_phone(member.user.phone) if member is not None else "",
        "status": label(ORDER_STATUS, order.status),
        "methods": sorted({method_label(p.method) for p in order.payments.all()}),
    }


# --- one order --------------------------------------------------------------------------------
def _detail_context(
    request: HttpRequest, actor: Actor, shop: Shop, order: Order, **extra: Any
) -> dict[str, Any]:
    member = order.member
    refundable = order.paid_fen - order.refunded_fen
    context: dict[str, Any] = {
        "shop": shop,
        "shops": till_shops(actor),
        "order": order,
        "status_label": label(ORDER_STATUS, order.status),
        "lines": list(order.lines.all()),
        "coupons": list(order.coupons.all()),
        "payments": [
            {
                "payment": p,
                "method": method_label(p.method),
                "status": label(PAYMENT_STATUS, p.status),
                "change_fen": p.tendered_fen - p.amount_fen if p.tendered_fen is not None else None,
            }
            for p in order.payments.all()
        ],
        "refunds": [
            {
                "refund": r,
                "status": label(REFUND_STATUS, r.status),
                "parts": [
                    {
                        "part": part,
                        "method": method_label(part.payment.method),
                        "status": label(REFUND_STATUS, part.status),
                    }
                    for part in r.parts.all()
                ],
            }
            for r in order.refunds.all()
        ],
        "invoices": [
            {
                "invoice": i,
                "kind": label(INVOICE_KIND, i.kind),
                "pdf_url": reverse("api:invoice_pdf", kwargs={"invoice_id": i.pk}),
            }
            for i in order.invoices.all()
        ],
        "member": {
            "phone": mask_phone(member.user.phone),
            "card": member.card_no[-4:],
            "tier": tier_name(member.tier),
        }
        if member is not None
        else None,
        "is_open": order.status in (OrderStatus.OPEN, OrderStatus.PENDING),
        "refundable_fen": refundable,
        "can_refund": order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED),
        "can_invoice": order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
        and refundable > 0
        and not any(i.kind == "blue" for i in order.invoices.all()),
        "refund_form": RefundForm(initial={"attempt": new_attempt()}, auto_id="refund_%s"),
        "invoice_form": InvoiceForm(auto_id="invoice_%s"),
        "refundable_input": yuan_input(refundable),
    }
    context.update(extra)
    return context


def _detail_response(
    request: HttpRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render_part(request, "checkout/pos/_order_detail.html", ORDER, context, status=status)


@require_GET
@console(is_merchant)
def pos_order_detail(
    request: HttpRequest, actor: Actor, shop_id: int, order_id: int
) -> HttpResponse:
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    response = render(request, ORDER, _detail_context(request, actor, shop, order))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@console(is_merchant)
def pos_refund(request: HttpRequest, actor: Actor, shop_id: int, order_id: int) -> HttpResponse:
    """Refund part of the order (``amount``) or what is left of it (``full``), with a reason.
    The form's ``attempt`` is the idempotency key: sending it twice refunds once."""
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    form = RefundForm(request.POST, auto_id="refund_%s")
    if not form.is_valid():
        context = _detail_context(request, actor, shop, order, refund_form=form)
        return _detail_response(request, context, status=400)
    data = form.cleaned_data
    full = "full" in request.POST
    amount = order.paid_fen - order.refunded_fen if full else data["amount"]
    if amount is None:
        form.add_error("amount", _("Enter the amount to refund, or refund everything."))
        context = _detail_context(request, actor, shop, order, refund_form=form)
        return _detail_response(request, context, status=400)
    try:
        refund = refunds.refund_create(
            actor=actor,
            order=order,
            amount_fen=amount,
            reason=data["reason"] or "",
            key=user_key(actor, data["attempt"]),
        )
    except DomainError as exc:
        by_field, general = errors_by_field(exc, {"amount_fen": "amount", "reason": "reason"})
        add_form_errors(form, by_field, general)
        order = pos_order(actor, shop, order.pk)
        context = _detail_context(request, actor, shop, order, refund_form=form)
        return _detail_response(request, context, status=400)
    order = pos_order(actor, shop, order.pk)
    context = _detail_context(
        request,
        actor,
        shop,
        order,
        refund_done=refund,
        refund_failed=refund.status == RefundStatus.FAILED,
    )
    return _detail_response(request, context)


@require_POST
@console(is_merchant)
def pos_invoice(request: HttpRequest, actor: Actor, shop_id: int, order_id: int) -> HttpResponse:
    """Issue the order's e-invoice to the title the shopper gives (invoice_issue)."""
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    form = InvoiceForm(request.POST, auto_id="invoice_%s")
    if not form.is_valid():
        context = _detail_context(request, actor, shop, order, invoice_form=form)
        return _detail_response(request, context, status=400)
    data = form.cleaned_data
    try:
        invoice = invoices.invoice_issue(
            actor=actor,
            order=order,
            title_kind=data["title_kind"],
            title=data["title"],
            taxpayer_id=data["taxpayer_id"],
            email=data["email"],
        )
    except DomainError as exc:
        by_field, general = errors_by_field(
            exc,
            {
                "title_kind": "title_kind",
                "title": "title",
                "taxpayer_id": "taxpayer_id",
                "email": "email",
            },
        )
        add_form_errors(form, by_field, general)
        order = pos_order(actor, shop, order.pk)
        context = _detail_context(request, actor, shop, order, invoice_form=form)
        return _detail_response(request, context, status=400)
    order = pos_order(actor, shop, order.pk)
    context = _detail_context(request, actor, shop, order, invoice_done=invoice)
    return _detail_response(request, context)


# --- the receipt ------------------------------------------------------------------------------
def _no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"the receipt may not load anything ({url[:60]})")


def _receipt_height_mm(order: Order) -> int:
    """A page tall enough for the receipt (a thermal roll has no fixed length)."""
    rows = (
        len(order.lines.all()) * 2
        + len(order.coupons.all())
        + len(order.payments.all()) * 2
        + len(order.refunds.all()) * 2
    )
    return 150 + rows * 6


@require_GET
@console(is_merchant)
def pos_receipt(request: HttpRequest, actor: Actor, shop_id: int, order_id: int) -> HttpResponse:
    """The receipt to print (80 mm), or ``?format=pdf`` to download."""
    shop = pos_shop(actor, shop_id)
    order = pos_order(actor, shop, order_id)
    pdf = request.GET.get("format") == "pdf"
    context = _detail_context(request, actor, shop, order)
    context.update(
        {
            "pdf": pdf,
            "paid": order.status in PAID_STATES,
            "printed_at": timezone.localtime(),
            "page_height_mm": _receipt_height_mm(order),
        }
    )
    if not pdf:
        response = render(request, "checkout/pos/receipt.html", context)
        response["Cache-Control"] = "no-store"
        return response
    from weasyprint import HTML  # heavy: only the PDF needs it

    html = render_to_string("checkout/pos/receipt.html", context, request=request)
    document = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    assert document is not None
    response = HttpResponse(bytes(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{order.number}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
