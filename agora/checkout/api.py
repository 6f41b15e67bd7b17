"""Checkout API: orders at the till and online, coupons and points applied, payments by every
method, refunds, e-invoices; operators' payments, notifications, reconciliation and
settlement. A merchant's own POS uses an API key with ``orders:read`` / ``orders:write``.

Submitting an order and refunding take an ``Idempotency-Key``: a retry returns the first
result and moves no money, points or coupons twice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Header, Router, Status

from agora.accounts.actor import Actor
from agora.accounts.choices import ApiScope
from agora.checkout import selectors as sel
from agora.checkout.choices import OrderStatus
from agora.checkout.schemas import (
    ApplyIn,
    CancelIn,
    InvoiceIn,
    InvoiceOut,
    MemberIn,
    NoticePage,
    OrderCreateIn,
    OrderOut,
    OrderPage,
    PaymentOut,
    QuoteOut,
    ReconcileIn,
    RefundIn,
    RefundOut,
    RunOut,
    SettlementRowOut,
    SubmitIn,
)
from agora.checkout.selectors_settlement import settlement, settlement_csv
from agora.checkout.services import invoices, orders, payments, reconcile, refunds
from agora.core.auth import actor_of
from agora.core.errors import Conflict, NotFound, PermissionDenied, field_error
from agora.core.selectors import page_of
from agora.district.selectors import access_mall, access_shop, district_ids_operated
from agora.members.selectors import mask_phone, member_of_user
from agora.members.services.codes import member_code_resolve
from agora.members.services.membership import member_ensure

router = Router(tags=["checkout"])

IDEMPOTENCY_KEY = Header(
    default=None,
    alias="Idempotency-Key",
    description="required: a retry with the same key returns the first result",
)
MAX_SETTLEMENT_DAYS = 92


# --- output -----------------------------------------------------------------------------------
def order_out(order: Any) -> dict[str, Any]:
    member = order.member
    return {
        "id": order.pk,
        "number": order.number,
        "shop_id": order.shop_id,
        "shop_name": order.shop.name,
        "mall_id": order.mall_id,
        "channel": order.channel,
        "status": order.status,
        "member": {
            "id": member.pk,
            "card_no": member.card_no,
            "phone_masked": mask_phone(member.user.phone),
            "tier": member.tier.name,
        }
        if member is not None
        else None,
        **{
            f: getattr(order, f)
            for f in (
                "subtotal_fen",
                "discount_fen",
                "points_used",
                "points_fen",
                "payable_fen",
                "paid_fen",
                "refunded_fen",
                "points_earned",
                "points_clawed_back",
                "points_returned",
                "created_at",
                "paid_at",
                "closes_at",
            )
        },
        "lines": list(order.lines.all()),
        "coupons": [
            {
                "coupon_id": oc.coupon_id,
                "code": oc.coupon.code,
                "title": oc.title,
                "funder": oc.funder,
                "discount_fen": oc.discount_fen,
                "redeemed": oc.redeemed,
                "restored": oc.restored_at is not None,
            }
            for oc in order.coupons.all()
        ],
        "payments": [payment_out(p) for p in order.payments.all()],
        "refunds": [refund_out(r, order.number) for r in order.refunds.all()],
        "invoice_numbers": [i.number for i in order.invoices.all()],
    }


def payment_out(p: Any) -> dict[str, Any]:
    change = p.tendered_fen - p.amount_fen if p.tendered_fen is not None else None
    return {
        "id": p.pk,
        "number": p.number,
        "method": p.method,
        "provider": p.provider,
        "amount_fen": p.amount_fen,
        "refunded_fen": p.refunded_fen,
        "status": p.status,
        "code_url": p.code_url,
        "tendered_fen": p.tendered_fen,
        "change_fen": change,
        "paid_at": p.paid_at,
        "expires_at": p.expires_at,
    }


def refund_out(r: Any, order_number: str) -> dict[str, Any]:
    return {
        "id": r.pk,
        "number": r.number,
        "order_number": order_number,
        "amount_fen": r.amount_fen,
        "reason": r.reason,
        "status": r.status,
        "points_clawed_back": r.points_clawed_back,
        "points_returned": r.points_returned,
        "points_shortfall": r.points_shortfall,
        "coupons_restored": r.coupons_restored,
        "parts": [
            {
                "number": part.number,
                "payment_number": part.payment.number,
                "method": part.payment.method,
                "amount_fen": part.amount_fen,
                "status": part.status,
            }
            for part in r.parts.all()
        ],
        "created_at": r.created_at,
    }


def quote_out(q: orders.Quote) -> dict[str, Any]:
    return {
        "subtotal_fen": q.subtotal_fen,
        "discount_fen": q.discount_fen,
        "coupons": [
            {
                "coupon_id": o.coupon.pk,
                "code": o.coupon.code,
                "title": o.coupon.template.title,
                "funder": o.coupon.template.funder,
                "applies": o.applies,
                "chosen": o.chosen,
                "discount_fen": o.discount_fen,
                "reason": o.reason,
            }
            for o in q.options
        ],
        "points_balance": q.points_balance,
        "points_per_yuan": q.points_per_yuan,
        "points_max": q.points_max,
        "points_used": q.points_used,
        "points_fen": q.points_fen,
        "payable_fen": q.payable_fen,
        "points_to_earn": q.points_to_earn,
    }


def invoice_out(i: Any) -> dict[str, Any]:
    return {
        "id": i.pk,
        "number": i.number,
        "kind": i.kind,
        "order_number": i.order.number,
        "title_kind": i.title_kind,
        "title": i.title,
        "taxpayer_id": i.taxpayer_id,
        "email": i.email,
        "amount_fen": i.amount_fen,
        "tax_fen": i.tax_fen,
        "original_number": i.original.number if i.original_id else None,
        "issued_at": i.issued_at,
        "pdf_url": reverse("api:invoice_pdf", kwargs={"invoice_id": i.pk}),
    }


# --- access -----------------------------------------------------------------------------------
def _actor(request: HttpRequest, scope: str) -> Actor:
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(scope)
    return actor


def _order(actor: Actor, order_id: int, *, staff: bool, detail: bool = False) -> Any:
    if detail:
        order = sel.access_order(actor=actor, order_id=order_id)
    else:
        order = sel.access_order_brief(actor=actor, order_id=order_id)
    if staff:
        sel.require_staff(actor, order)
    else:
        sel.require_owner_or_staff(actor, order)
    return order


def _fresh(actor: Actor, order_id: int) -> dict[str, Any]:
    return order_out(sel.access_order(actor=actor, order_id=order_id))


def _require_key(key: str | None) -> str:
    if not key:
        raise field_error("Idempotency-Key", "this request needs an idempotency key", "required")
    if len(key) > 150:
        raise field_error("Idempotency-Key", "must be at most 150 characters", "too_long")
    return key


def _resolve_member(shop: Any, code: str, phone: str) -> Any:
    if code.strip():
        return member_code_resolve(code=code, shop_id=shop.pk)
    if phone.strip():
        return orders.member_by_phone(district_id=shop.mall.district_id, phone=phone)
    return None


# --- the till and the merchant's own systems -------------------------------------------------
@router.post("/shops/{shop_id}/orders", response={201: OrderOut}, operation_id="order_create")
def post_order(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    shop_id: int,
    payload: OrderCreateIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    """A new order at the shop's till (or from the merchant's own system), optionally with the
    member (scanned member code, card number or phone)."""
    actor = _actor(request, ApiScope.ORDERS_WRITE)
    shop = access_shop(actor=actor, shop_id=shop_id)
    if actor.api_key is None and not actor.has_shop_role(shop.pk):
        raise PermissionDenied(detail="only the shop's staff take orders at its till")
    member = _resolve_member(shop, payload.member_code, payload.member_phone)
    key = f"{actor.idempotency_owner()}:{idempotency_key}" if idempotency_key else None
    order = orders.order_create(
        actor=actor,
        shop=shop,
        lines=[
            orders.LineSpec(ln.name, ln.quantity, ln.unit_price_fen, ln.sku) for ln in payload.lines
        ],
        channel=payload.channel,
        member=member,
        note=payload.note,
        key=key,
    )
    return Status(201, _fresh(actor, order.pk))


@router.get("/shops/{shop_id}/orders", response=OrderPage, operation_id="shop_orders_list")
def list_shop_orders(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    shop_id: int,
    status: OrderStatus | None = None,
    q: str = "",
    day: date | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    """The shop's orders, newest first: search by order or payment number, or the last 4
    digits of the member's phone."""
    actor = _actor(request, ApiScope.ORDERS_READ)
    shop = access_shop(actor=actor, shop_id=shop_id)
    qs = sel.orders_search(
        qs=sel.orders_visible(actor=actor).filter(shop=shop), status=status, q=q[:40], day=day
    )
    page = page_of(qs, cursor=cursor, limit=limit, newest_first=True)
    return {"items": [_brief(o) for o in page.items], "next_cursor": page.next_cursor}


def _brief(o: Any) -> dict[str, Any]:
    return {
        "id": o.pk,
        "number": o.number,
        "shop_name": o.shop.name,
        "status": o.status,
        "subtotal_fen": o.subtotal_fen,
        "payable_fen": o.payable_fen,
        "paid_fen": o.paid_fen,
        "refunded_fen": o.refunded_fen,
        "created_at": o.created_at,
        "paid_at": o.paid_at,
    }


@router.get("/orders/{order_id}", response=OrderOut, operation_id="order_get")
def get_order(request: HttpRequest, order_id: int):  # type: ignore[no-untyped-def]
    actor = _actor(request, ApiScope.ORDERS_READ)
    return order_out(_order(actor, order_id, staff=False, detail=True))


@router.post("/orders/{order_id}/member", response=OrderOut, operation_id="order_member_set")
def post_order_member(request: HttpRequest, order_id: int, payload: MemberIn):  # type: ignore[no-untyped-def]
    """Recognise the member: a scanned member QR code, a card number, or a phone number."""
    actor = _actor(request, ApiScope.ORDERS_WRITE)
    order = _order(actor, order_id, staff=True)
    if not (payload.code.strip() or payload.phone.strip()):
        raise field_error(
            "code", "scan the member code, or type a card or phone number", "required"
        )
    member = _resolve_member(order.shop, payload.code, payload.phone)
    orders.order_set_member(order=order, member=member)
    return _fresh(actor, order.pk)


@router.post("/orders/{order_id}/quote", response=QuoteOut, operation_id="order_quote")
def post_quote(request: HttpRequest, order_id: int, payload: ApplyIn):  # type: ignore[no-untyped-def]
    """What the order would cost with these coupons and points (changes nothing): the best
    coupons, and for every other coupon why it is not used."""
    actor = _actor(request, ApiScope.ORDERS_READ)
    order = _order(actor, order_id, staff=False)
    return quote_out(
        orders.checkout_quote(
            order=order,
            coupon_codes=payload.coupon_codes,
            auto=payload.auto,
            coupon_ids=payload.coupon_ids,
            points=payload.points,
        )
    )


@router.post("/orders/{order_id}/apply", response=QuoteOut, operation_id="order_apply")
def post_apply(request: HttpRequest, order_id: int, payload: ApplyIn):  # type: ignore[no-untyped-def]
    """Apply coupons and points to the open order (replacing an earlier choice)."""
    actor = _actor(request, ApiScope.ORDERS_WRITE)
    order = _order(actor, order_id, staff=False)
    return quote_out(
        orders.order_apply(
            order=order,
            coupon_codes=payload.coupon_codes,
            auto=payload.auto,
            coupon_ids=payload.coupon_ids,
            points=payload.points,
        )
    )


@router.post("/orders/{order_id}/submit", response=OrderOut, operation_id="order_submit")
def post_submit(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    order_id: int,
    payload: SubmitIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    """Take payment: coupons are redeemed and points spent now; cash and card are paid at
    once, each online method gets a QR (``code_url``) or settles a scanned payment code. The
    payments must add up to what is payable."""
    actor = _actor(request, ApiScope.ORDERS_WRITE)
    order = _order(actor, order_id, staff=False)
    key = f"{actor.idempotency_owner()}:{_require_key(idempotency_key)}"
    specs = [
        payments.PaymentSpec(
            method=p.method,
            amount_fen=p.amount_fen,
            tendered_fen=p.tendered_fen,
            card_last4=p.card_last4,
            auth_code=p.auth_code,
        )
        for p in payload.payments
    ]
    if not sel.is_staff_of(actor, order) and any(
        s.method in ("cash", "bank_card") or s.auth_code for s in specs
    ):
        raise PermissionDenied(detail="cash, card and payment codes are taken at the till")
    payments.order_submit(actor=actor, order=order, payments=specs, key=key)
    return _fresh(actor, order.pk)


@router.post("/orders/{order_id}/cancel", response=OrderOut, operation_id="order_cancel")
def post_cancel(request: HttpRequest, order_id: int, payload: CancelIn):  # type: ignore[no-untyped-def]
    """Cancel an unpaid order: payments closed (each provider asked first), coupons and points
    given back."""
    actor = _actor(request, ApiScope.ORDERS_WRITE)
    order = _order(actor, order_id, staff=False)
    payments.order_close(actor=actor, order=order, reason=payload.reason)
    return _fresh(actor, order.pk)


@router.post("/payments/{payment_id}/refresh", response=PaymentOut, operation_id="payment_refresh")
def post_payment_refresh(request: HttpRequest, payment_id: int):  # type: ignore[no-untyped-def]
    """Ask the provider about a pending payment now (the till's 查询 button)."""
    actor = _actor(request, ApiScope.ORDERS_READ)
    payment = sel.access_payment(actor=actor, payment_id=payment_id)
    sel.require_owner_or_staff(actor, payment.order)
    return payment_out(payments.payment_refresh(payment=payment))


@router.post("/orders/{order_id}/refunds", response={201: RefundOut}, operation_id="order_refund")
def post_refund(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    order_id: int,
    payload: RefundIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    """Refund all or part of a paid order through its original payments; points follow in
    proportion, coupons come back on a full refund when their template says so."""
    actor = _actor(request, ApiScope.ORDERS_WRITE)
    order = _order(actor, order_id, staff=True)
    refund = refunds.refund_create(
        actor=actor,
        order=order,
        amount_fen=payload.amount_fen,
        reason=payload.reason,
        key=f"{actor.idempotency_owner()}:{_require_key(idempotency_key)}",
    )
    return Status(201, refund_out(refund, order.number))


@router.post("/orders/{order_id}/invoice", response={201: InvoiceOut}, operation_id="order_invoice")
def post_invoice(request: HttpRequest, order_id: int, payload: InvoiceIn):  # type: ignore[no-untyped-def]
    """Issue the e-invoice of a paid order (the shopper or the cashier asks); e-mailed with its
    PDF when an address is given."""
    actor = _actor(request, ApiScope.ORDERS_WRITE)
    order = _order(actor, order_id, staff=False)
    invoice = invoices.invoice_issue(
        actor=actor,
        order=order,
        title_kind=payload.title_kind,
        title=payload.title,
        taxpayer_id=payload.taxpayer_id,
        email=payload.email,
    )
    return Status(201, invoice_out(invoice))


@router.get("/invoices/{invoice_id}", response=InvoiceOut, operation_id="invoice_get")
def get_invoice(request: HttpRequest, invoice_id: int):  # type: ignore[no-untyped-def]
    actor = _actor(request, ApiScope.ORDERS_READ)
    return invoice_out(sel.access_invoice(actor=actor, invoice_id=invoice_id))


@router.get("/invoices/{invoice_id}/pdf", url_name="invoice_pdf", operation_id="invoice_pdf")
def get_invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The invoice as PDF."""
    actor = _actor(request, ApiScope.ORDERS_READ)
    invoice = sel.access_invoice(actor=actor, invoice_id=invoice_id)
    response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


# --- the shopper ------------------------------------------------------------------------------
@router.get("/me/orders", response=OrderPage, operation_id="my_orders_list")
def list_my_orders(request: HttpRequest, cursor: str | None = None, limit: int = 50):  # type: ignore[no-untyped-def]
    user = actor_of(request).require_person()
    member = member_of_user(user=user)
    if member is None:
        return {"items": [], "next_cursor": None}
    page = page_of(
        sel.orders_of_member(member=member), cursor=cursor, limit=limit, newest_first=True
    )
    return {"items": [_brief(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post("/me/orders/{number}/claim", response=OrderOut, operation_id="my_order_claim")
def post_claim(request: HttpRequest, number: str):  # type: ignore[no-untyped-def]
    """Pay an open till order on your phone: scanning its QR makes it yours (and your member
    coupons and points become usable on it)."""
    actor = actor_of(request)
    user = actor.require_person()
    order = orders.order_by_number(number=number)
    member = member_of_user(user=user) or member_ensure(user=user, district_id=order.district_id)
    orders.order_set_member(order=order, member=member)
    return _fresh(actor, order.pk)


# --- operators --------------------------------------------------------------------------------
def _operated(actor: Actor) -> set[int] | None:
    if actor.is_admin:
        return None
    if not actor.operated_mall_ids:
        raise PermissionDenied(detail="only the malls' operators see payments")
    return set(actor.operated_mall_ids)


@router.get("/payments/notices", response=NoticePage, operation_id="payment_notices_list")
def list_notices(  # type: ignore[no-untyped-def]
    request: HttpRequest, verdict: str | None = None, cursor: str | None = None, limit: int = 50
):
    """Every provider notification received, with its verdict (forged, stale, duplicate...)."""
    actor = _actor(request, ApiScope.ORDERS_READ)
    malls = _operated(actor)
    qs = sel.notices_recent()
    if malls is not None and not district_ids_operated(actor=actor):
        raise PermissionDenied(detail="only district operators see the notification log")
    if verdict:
        qs = qs.filter(verdict=verdict)
    page = page_of(qs, cursor=cursor, limit=limit, newest_first=True)
    return {"items": page.items, "next_cursor": page.next_cursor}


def _require_district_operator(actor: Actor) -> None:
    if not (actor.is_admin or district_ids_operated(actor=actor)):
        raise PermissionDenied(detail="only the district's operators reconcile payments")


@router.post("/reconciliation/runs", response={201: RunOut}, operation_id="reconcile_run")
def post_reconcile(request: HttpRequest, payload: ReconcileIn):  # type: ignore[no-untyped-def]
    """Compare a day's payments and refunds with the provider's bill; lists every mismatch."""
    actor = _actor(request, ApiScope.ORDERS_WRITE)
    _require_district_operator(actor)
    from agora.checkout.providers import providers_configured

    if payload.provider not in providers_configured():
        raise field_error("provider", f"one of {', '.join(providers_configured())}", "invalid")
    if payload.day > timezone.localdate():
        raise field_error("day", "not in the future", "range")
    run = reconcile.reconcile_day(provider=payload.provider, day=payload.day)
    return Status(201, _run_out(run))


def _run_out(run: Any) -> dict[str, Any]:
    return {
        "id": run.pk,
        "provider": run.provider,
        "day": run.day,
        "ran_at": run.ran_at,
        "payments_checked": run.payments_checked,
        "refunds_checked": run.refunds_checked,
        "matched": run.matched,
        "mismatched": run.mismatched,
        "error": run.error,
        "mismatches": list(run.mismatches.all()),
    }


@router.get("/reconciliation/runs", response=list[RunOut], operation_id="reconcile_runs_list")
def list_runs(request: HttpRequest, day: date | None = None):  # type: ignore[no-untyped-def]
    actor = _actor(request, ApiScope.ORDERS_READ)
    _require_district_operator(actor)
    qs = sel.runs_recent()
    if day:
        qs = qs.filter(day=day)
    return [_run_out(r) for r in qs[:60]]


def _settlement_rows(
    actor: Actor, shop_id: int | None, mall_id: int | None, day_from: date, day_to: date
) -> list[Any]:
    if day_to < day_from:
        raise field_error("day_to", "on or after day_from", "range")
    if (day_to - day_from) > timedelta(days=MAX_SETTLEMENT_DAYS):
        raise field_error("day_to", f"at most {MAX_SETTLEMENT_DAYS} days", "range")
    if shop_id is not None:
        shop = access_shop(actor=actor, shop_id=shop_id)
        if not (actor.has_shop_role(shop.pk) or actor.operates_mall(shop.mall_id)):
            raise PermissionDenied(detail="not your shop")
        return settlement(
            shop_ids=[shop.pk],
            district_id=shop.mall.district_id,
            day_from=day_from,
            day_to=day_to,
        )
    if mall_id is None:
        raise field_error("mall_id", "name a shop or a mall", "required")
    mall = access_mall(actor=actor, mall_id=mall_id)
    if not actor.operates_mall(mall.pk):
        raise PermissionDenied(detail="only the mall's operators see its settlement")
    shop_ids = list(mall.shops.values_list("pk", flat=True))
    return settlement(
        shop_ids=shop_ids, district_id=mall.district_id, day_from=day_from, day_to=day_to
    )


@router.get("/settlement", response=list[SettlementRowOut], operation_id="settlement_report")
def get_settlement(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    day_from: date,
    day_to: date,
    shop_id: int | None = None,
    mall_id: int | None = None,
):
    """Per merchant and day: sales by method, refunds, coupon discounts by funder, points,
    and what the district owes the merchant. A merchant sees only its own shop."""
    actor = _actor(request, ApiScope.ORDERS_READ)
    return [r.__dict__ for r in _settlement_rows(actor, shop_id, mall_id, day_from, day_to)]


@router.get("/settlement.csv", operation_id="settlement_csv")
def get_settlement_csv(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    day_from: date,
    day_to: date,
    shop_id: int | None = None,
    mall_id: int | None = None,
) -> HttpResponse:
    actor = _actor(request, ApiScope.ORDERS_READ)
    rows = _settlement_rows(actor, shop_id, mall_id, day_from, day_to)
    response = HttpResponse(settlement_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="settlement-{day_from}-{day_to}.csv"'
    return response


__all__ = ["Conflict", "NotFound", "router"]
