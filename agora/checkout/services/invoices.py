"""E-invoices (电子发票) for paid orders, and red-letter (红字) credits after refunds.

One blue invoice per order, for what the shopper paid with money and kept (``paid_fen -
refunded_fen``; coupons and points are not invoiced), VAT 13% included. Its lines are the
order's lines scaled to that amount; the tax is spread over the lines the same way, both by
largest remainder so that they add up exactly. A refund after the invoice brings a red-letter
invoice for the refunded amount (never more than the blue one has left), with negative lines
that follow the blue one's. The configured issuer (``agora.checkout.invoicing``) numbers each
invoice and renders its PDF; the row and the issue happen in one transaction, so an issuer
that fails leaves nothing behind. A given e-mail address receives the PDF once the
transaction has committed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.checkout.choices import InvoiceKind, OrderStatus, RefundStatus, TitleKind
from agora.checkout.invoicing import InvoiceDraft, InvoiceLine, issuer, render_pdf, yuan
from agora.checkout.models import Invoice, Order, Refund
from agora.core.errors import Conflict, field_error
from agora.core.services import audit_record

log = logging.getLogger("agora.checkout")

VAT_PERMILLE = 130  # 13%, the rate on goods
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


# --- pure helpers -----------------------------------------------------------------------------
def taxpayer_id_valid(text: str) -> bool:
    """Whether ``text`` is an 18-character unified social credit code (统一社会信用代码) whose
    last character is the GB 32100-2015 check character. Upper case only (callers normalise)."""
    if len(text) != 18 or any(char not in _USCC_ALPHABET for char in text):
        return False
    total = sum(
        _USCC_ALPHABET.index(char) * weight
        for char, weight in zip(text[:17], _USCC_WEIGHTS, strict=True)
    )
    return text[17] == _USCC_ALPHABET[(31 - total % 31) % 31]


def vat_included(amount_fen: int, permille: int = VAT_PERMILLE) -> int:
    """The VAT inside a tax-included amount, rounded half up (away from zero when negative):
    ``amount * rate / (1 + rate)`` in integers."""
    sign = -1 if amount_fen < 0 else 1
    numerator = abs(amount_fen) * permille
    denominator = 1000 + permille
    return sign * ((2 * numerator + denominator) // (2 * denominator))


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` (>= 0) in proportion to ``weights`` (>= 0, not all zero) by largest
    remainder: the parts add up to ``total`` exactly; ties go to the earlier weight."""
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("nothing to apportion over")
    parts = [total * weight // whole for weight in weights]
    rests = [total * weight % whole for weight in weights]
    short = total - sum(parts)
    for index in sorted(range(len(weights)), key=lambda i: (-rests[i], i))[:short]:
        parts[index] += 1
    return parts


# --- validation -------------------------------------------------------------------------------
def _clean_buyer(title_kind: str, title: str, taxpayer_id: str, email: str) -> tuple[str, str, str]:
    if title_kind not in TitleKind.values:
        raise field_error("title_kind", "must be personal or company", "enum")
    title = (title or "").strip()
    if not title:
        raise field_error("title", "the invoice title is required", "required")
    if len(title) < 2:
        raise field_error("title", "the invoice title is at least 2 characters", "too_short")
    if len(title) > 100:
        raise field_error("title", "the invoice title is at most 100 characters", "too_long")
    taxpayer_id = (taxpayer_id or "").strip().upper()
    if not taxpayer_id and title_kind == TitleKind.COMPANY:
        raise field_error(
            "taxpayer_id", "a company title needs its unified social credit code", "required"
        )
    if taxpayer_id and not taxpayer_id_valid(taxpayer_id):
        raise field_error("taxpayer_id", "not a valid unified social credit code", "invalid")
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise field_error("email", "not a valid e-mail address", "invalid") from None
        if len(email) > 254:
            raise field_error("email", "the e-mail address is too long", "too_long")
    return title, taxpayer_id, email


# --- building invoices ------------------------------------------------------------------------
def _placeholder_number() -> str:
    """Unique until the issuer gives the real number (inside the same transaction)."""
    return f"pending-{uuid.uuid4().hex[:16]}"


def _blue_lines(order: Order, amount_fen: int, tax_fen: int) -> list[dict[str, Any]]:
    lines = list(order.lines.all())
    if not lines or sum(line.amount_fen for line in lines) <= 0:
        names = [(0, f"{order.shop.name} 消费", 1, 1)]
    else:
        names = [(ln.position, ln.name, ln.quantity, ln.amount_fen) for ln in lines]
    amounts = apportion(amount_fen, [weight for *_, weight in names])
    taxes = apportion(tax_fen, amounts)
    return [
        {"position": position, "name": name, "quantity": quantity, "amount_fen": a, "tax_fen": t}
        for (position, name, quantity, _), a, t in zip(names, amounts, taxes, strict=True)
    ]


def _draft_of(invoice: Invoice) -> InvoiceDraft:
    order = invoice.order
    return InvoiceDraft(
        kind=invoice.kind,
        seller_name=settings.INVOICE_SELLER_NAME,
        seller_tax_id=settings.INVOICE_SELLER_TAX_ID,
        buyer_title_kind=invoice.title_kind,
        buyer_title=invoice.title,
        buyer_taxpayer_id=invoice.taxpayer_id,
        buyer_email=invoice.email,
        lines=tuple(
            InvoiceLine(
                name=line["name"],
                quantity=line["quantity"],
                amount_fen=line["amount_fen"],
                tax_fen=line["tax_fen"],
            )
            for line in invoice.lines
        ),
        amount_fen=invoice.amount_fen,
        tax_fen=invoice.tax_fen,
        tax_rate_permille=invoice.tax_rate_permille,
        order_number=order.number,
        shop_name=order.shop.name,
        mall_name=order.mall.name,
        issued_at=invoice.issued_at,
        sequence=invoice.pk,
        original_number=invoice.original.number if invoice.original is not None else "",
    )


def _issue(invoice: Invoice) -> None:
    """Number the (just created) row and attach its PDF through the configured issuer."""
    connector = issuer()
    issued = connector.issue(_draft_of(invoice))
    invoice.number = issued.number
    invoice.pdf = issued.pdf
    invoice.issuer = connector.name[:40]
    invoice.save(update_fields=["number", "pdf", "issuer"])


def _mail_after_commit(invoice: Invoice, when: datetime) -> None:
    if invoice.email:
        transaction.on_commit(lambda: _mail(invoice, when))


def _mail(invoice: Invoice, when: datetime) -> None:
    order = invoice.order
    if invoice.kind == InvoiceKind.RED:
        subject = f"红字电子发票 {invoice.number}"
        what = (
            f"红字电子发票（发票号码 {invoice.number}，冲减蓝字发票 "
            f"{invoice.original.number if invoice.original else ''}）"
        )
    else:
        subject = f"电子发票 {invoice.number}"
        what = f"电子发票（发票号码 {invoice.number}）"
    body = (
        f"您好：\n\n附件是您在{order.mall.name}{order.shop.name}的订单 {order.number} 的{what}，"
        f"价税合计 ¥{yuan(invoice.amount_fen)}。\n\n{settings.INVOICE_SELLER_NAME}\n"
    )
    message = EmailMessage(subject=subject, body=body, to=[invoice.email])
    message.attach(f"{invoice.number}.pdf", bytes(invoice.pdf), "application/pdf")
    try:
        message.send()
    except Exception:  # the invoice stands; it can be downloaded or sent again
        log.exception("invoice e-mail failed", extra={"invoice": invoice.number})
        return
    Invoice.objects.filter(pk=invoice.pk).update(emailed_at=when)
    invoice.emailed_at = when


# --- services ---------------------------------------------------------------------------------
def _has_blue(order_id: int) -> bool:
    return Invoice.objects.filter(order_id=order_id, kind=InvoiceKind.BLUE).exists()


def invoice_issue(
    *,
    actor: Actor | None,
    order: Order,
    title_kind: str,
    title: str,
    taxpayer_id: str = "",
    email: str = "",
    now: datetime | None = None,
) -> Invoice:
    """Issue the order's (one) blue e-invoice to the buyer named by the title.

    422 on a bad title, taxpayer id or e-mail; 409 ``order_not_paid``, ``already_invoiced`` or
    ``nothing_to_invoice``. The PDF is e-mailed (after commit) when an address is given."""
    title, taxpayer_id, email = _clean_buyer(title_kind, title, taxpayer_id, email)
    when = now or timezone.now()
    already = Conflict(code="already_invoiced", detail="this order already has an invoice")
    try:
        with transaction.atomic():
            locked = (
                Order.objects.select_for_update().select_related("shop", "mall").get(pk=order.pk)
            )
            if locked.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
                raise Conflict(code="order_not_paid", detail="only a paid order is invoiced")
            if _has_blue(locked.pk):
                raise already
            amount = locked.paid_fen - locked.refunded_fen
            if amount <= 0:
                raise Conflict(code="nothing_to_invoice", detail="nothing paid is left to invoice")
            tax = vat_included(amount)
            invoice = Invoice.objects.create(
                order=locked,
                kind=InvoiceKind.BLUE,
                number=_placeholder_number(),
                issuer="",
                title_kind=title_kind,
                title=title,
                taxpayer_id=taxpayer_id,
                email=email,
                amount_fen=amount,
                tax_fen=tax,
                tax_rate_permille=VAT_PERMILLE,
                lines=_blue_lines(locked, amount, tax),
                pdf=b"",
                requested_by=actor.user if actor is not None else None,
                issued_at=when,
            )
            _issue(invoice)
            if actor is not None and actor.user is not None:
                audit_record(
                    actor=actor,
                    action="invoice.issue",
                    target=invoice,
                    after={
                        "number": invoice.number,
                        "order": locked.number,
                        "title_kind": title_kind,
                        "title": title,
                        "taxpayer_id": taxpayer_id,
                        "amount_fen": amount,
                        "tax_fen": tax,
                    },
                    mall_id=locked.mall_id,
                    shop_id=locked.shop_id,
                )
            _mail_after_commit(invoice, when)
    except IntegrityError as exc:  # two requests at once: the partial unique index decides
        if Invoice.objects.filter(order_id=order.pk, kind=InvoiceKind.BLUE).exists():
            raise already from exc
        raise
    return invoice


def _red_lines(
    blue: Invoice, credits: list[Invoice], credit_fen: int, remaining_tax: int
) -> tuple[list[dict[str, Any]], int]:
    """The red invoice's (negative) lines and tax for crediting ``credit_fen`` of ``blue``."""
    left: dict[int, list[int]] = {
        line["position"]: [line["amount_fen"], line["tax_fen"]] for line in blue.lines
    }
    for red in credits:
        for line in red.lines:
            left[line["position"]][0] += line["amount_fen"]
            left[line["position"]][1] += line["tax_fen"]
    remaining = sum(amount for amount, _ in left.values())
    if credit_fen == remaining:  # the last credit: take exactly what is left, line by line
        amounts = [left[line["position"]][0] for line in blue.lines]
        taxes = [left[line["position"]][1] for line in blue.lines]
        tax = remaining_tax
    else:
        amounts = apportion(credit_fen, [max(left[ln["position"]][0], 0) for ln in blue.lines])
        tax = min(vat_included(credit_fen), remaining_tax)
        taxes = apportion(tax, amounts)
    lines = [
        {
            "position": line["position"],
            "name": line["name"],
            # a whole line credited shows its quantity; a partial one is an amount-only credit
            "quantity": -line["quantity"] if amount == line["amount_fen"] else 0,
            "amount_fen": -amount,
            "tax_fen": -line_tax,
        }
        for line, amount, line_tax in zip(blue.lines, amounts, taxes, strict=True)
        if amount or line_tax
    ]
    return lines, tax


def invoice_credit(*, refund: Refund, now: datetime | None = None) -> Invoice | None:
    """The red-letter invoice for a refund of an invoiced order: ``-min(refund, what the blue
    invoice has left)``, same buyer, negative lines following the blue ones. ``None`` when the
    order has no blue invoice, when the refund was completed before the blue invoice was issued
    (which then only invoiced what was kept) or when nothing is left to credit; the refund's
    existing red invoice when it has one already (one per refund). Call it once the refund has
    succeeded; calling it again is harmless."""
    existing = Invoice.objects.filter(refund_id=refund.pk).first()
    if existing is not None:
        return existing
    if refund.status == RefundStatus.FAILED:
        raise Conflict(code="refund_failed", detail="a failed refund is not credited")
    when = now or timezone.now()
    try:
        with transaction.atomic():
            blue = (
                Invoice.objects.select_for_update()
                .select_related("order__shop", "order__mall")
                .filter(order_id=refund.order_id, kind=InvoiceKind.BLUE)
                .first()
            )
            if blue is None:
                return None
            done_at = refund.completed_at or refund.created_at
            if done_at < blue.issued_at:  # refunded before the invoice: it never included it
                return None
            credits = list(Invoice.objects.filter(original=blue, kind=InvoiceKind.RED))
            remaining = blue.amount_fen + sum(red.amount_fen for red in credits)
            remaining_tax = blue.tax_fen + sum(red.tax_fen for red in credits)
            credit = min(refund.amount_fen, remaining)
            if credit <= 0:
                return None
            lines, tax = _red_lines(blue, credits, credit, remaining_tax)
            red = Invoice.objects.create(
                order=blue.order,
                kind=InvoiceKind.RED,
                original=blue,
                refund=refund,
                number=_placeholder_number(),
                issuer="",
                title_kind=blue.title_kind,
                title=blue.title,
                taxpayer_id=blue.taxpayer_id,
                email=blue.email,
                amount_fen=-credit,
                tax_fen=-tax,
                tax_rate_permille=blue.tax_rate_permille,
                lines=lines,
                pdf=b"",
                issued_at=when,
            )
            _issue(red)
            _mail_after_commit(red, when)
    except IntegrityError:  # the same refund credited at the same moment
        existing = Invoice.objects.filter(refund_id=refund.pk).first()
        if existing is None:
            raise
        return existing
    return red


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF as issued (rendered again locally only if none was stored)."""
    stored = bytes(invoice.pdf or b"")
    if stored:
        return stored
    return render_pdf(_draft_of(invoice), invoice.number)
