"""Shared by the POS pages: which shop and order the cashier works on, the checkout errors in
the reader's language, money as the cashier types it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.http import Http404
from django.utils.translation import gettext as _

from agora.accounts.actor import Actor
from agora.checkout import selectors as sel
from agora.console.errors import messages_for, reason_text
from agora.console.views.common import till_shop
from agora.core.errors import DomainError, FieldError
from agora.lib.money import format_fen
from agora.portal.views.common import visible

if TYPE_CHECKING:
    from agora.checkout.models import Order
    from agora.district.models import Shop

_NUMBER = re.compile(r"(\d+)")
_RIVAL = re.compile(r"^one (mall|shop) coupon per order: (.*) is used$")


def is_merchant(actor: Actor) -> bool:
    return actor.is_merchant


def pos_shop(actor: Actor, shop_id: int) -> Shop:
    """A shop whose POS the actor works (a merchant role there); any other is a 404."""
    return till_shop(actor, shop_id)


def pos_order(actor: Actor, shop: Shop, order_id: int) -> Order:
    """An order of this shop, with its lines, coupons, payments, refunds and invoices."""
    order = visible(sel.access_order, actor=actor, order_id=order_id)
    if order.shop_id != shop.pk or not sel.is_staff_of(actor, order):
        raise Http404("order not found")
    return order


def yuan_input(fen: int) -> str:
    """3650 -> "36.50" (what an amount field shows)."""
    whole, part = divmod(fen, 100)
    return f"{whole}.{part:02d}"


def user_key(actor: Actor, attempt: str) -> str:
    """The idempotency key of one form rendering, scoped to the signed-in cashier."""
    user = actor.require_user()
    return f"pos:{user.pk}:{attempt}"


def _number(reason: str) -> int:
    found = _NUMBER.search(reason)
    return int(found.group(1)) if found else 0


def _field_text(error: FieldError) -> str | None:
    name, code, reason = error.field, error.code, error.reason
    if name.startswith("coupon_codes"):
        if "another member" in reason:
            return _("This coupon belongs to another member.")
        if code == "not_found":
            return _("No coupon with this code.")
        if code == "too_long":
            return _("At most 10 coupon codes.")
        return _("Not a coupon code.")
    if name == "coupon_ids":
        if code == "stacking":
            return _("At most one mall coupon and one shop coupon per order.")
        return _("A ticked coupon does not apply to this order.")
    if name == "points":
        if code == "step":
            return _("Use points in steps of %(step)s.") % {"step": _number(reason)}
        if code == "range" and "at most" in reason:
            return _("At most %(points)s points can pay this order.") % {"points": _number(reason)}
        if "member" in reason:
            return _("Points need a member: identify the member first.")
        return _("Enter a number of points, 0 or more.")
    if name == "phone":
        return _("Not a member code, card number or phone number.")
    if name == "payments" and code == "sum":
        return _("The payments do not add up to what is payable: reload the order.")
    if name == "payments" and code == "required":
        return _("Choose how to pay.")
    if name.startswith("payments."):
        if name.endswith("tendered_fen"):
            return _("Less cash was handed over than the amount.")
        if name.endswith("card_last4"):
            return _("4 digits.")
        return _("Check the payment amounts.")
    if name == "lines":
        if code == "required":
            return _("Add at least one item.")
        if code == "too_long":
            return _("At most 100 items.")
        if "cost something" in reason:
            return _("The order must cost something.")
        return _("At most ¥1,000,000 in all.")
    if name.startswith("lines."):
        return _("Check the items: a name, a quantity of 1 to 9,999, a price up to ¥100,000.")
    if name == "amount_fen":
        return _("Nothing was paid in money: refund ¥0.")
    if name == "title_kind":
        return _("Choose an individual or a company.")
    if name == "title":
        return _("The invoice title is 2 to 100 characters.")
    if name == "taxpayer_id":
        if code == "required":
            return _("A company title needs its 18-character taxpayer ID.")
        return _("Not a valid taxpayer ID (unified social credit code).")
    if name == "email":
        return _("Not a valid e-mail address.")
    if name == "reason":
        return _("Say why, in 2 to 200 characters.")
    if name == "Idempotency-Key":
        return _("This form expired: reload the page and try again.")
    return None


def pos_messages(exc: DomainError, *, context: str = "") -> list[str]:
    """Every message of a checkout error, one line each, in the reader's language."""
    extra = exc.extra or {}
    known = {
        "order_not_open": _("This order was already submitted or cancelled."),
        "member_locked": _("Coupons or points of another member are applied to this order."),
        "refund_exceeds_paid": _("At most %(amount)s of this order can still be refunded.")
        % {"amount": format_fen(int(extra["refundable_fen"]))}
        if "refundable_fen" in extra
        else _("Another refund took what was left of this order."),
        "order_not_paid": _("Only a paid order can be refunded or invoiced."),
        "already_invoiced": _("This order already has an invoice."),
        "nothing_to_invoice": _("Nothing paid is left to invoice."),
        "order_paid": _("A paid order is refunded, not cancelled."),
        "order_partly_paid": _("Part of this order is paid: refund it instead."),
        "provider_unreachable": _("A payment could not be closed yet: try again in a moment."),
        "busy": _("Busy: please try again."),
    }
    if exc.code in known:
        return [known[exc.code]]
    if exc.code == "not_found" and context == "member":
        return [_("No member with this code, card number or phone number.")]
    if exc.errors:
        out = []
        for error in exc.errors:
            text = _field_text(error)
            out.append(
                text if text else messages_for(DomainError(errors=[error]), context=context)[0]
            )
        return out
    return messages_for(exc, context=context)


def errors_by_field(
    exc: DomainError, fields: dict[str, str], *, context: str = ""
) -> tuple[dict[str, list[str]], list[str]]:
    """Field errors next to the form's fields (``fields`` maps a service field, or a prefix
    ending in ".", to the form's name); the rest as general messages."""
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    if not exc.errors or exc.code in ("idempotency_key_reused",):
        return by_field, pos_messages(exc, context=context)
    for error in exc.errors:
        [text] = pos_messages(type(exc)(errors=[error]), context=context)
        name = next(
            (
                form_name
                for service_name, form_name in fields.items()
                if error.field == service_name
                or (service_name.endswith(".") and error.field.startswith(service_name))
            ),
            None,
        )
        if name is None:
            general.append(text)
        else:
            by_field.setdefault(name, []).append(text)
    return by_field, general


def option_reason(reason: str) -> str:
    """Why checkout does not use a coupon, from checkout_quote's English reason."""
    rival = _RIVAL.match(reason)
    if rival:
        if rival.group(1) == "mall":
            return _("one mall coupon per order: %(title)s is used") % {"title": rival.group(2)}
        return _("one shop coupon per order: %(title)s is used") % {"title": rival.group(2)}
    known = {
        "the order is already fully discounted": _("the order is already fully discounted"),
        "a gift coupon is handed over, not taken off the bill": _(
            "a gift coupon is handed over, not taken off the bill"
        ),
        "does not apply": _("does not apply"),
    }
    return known.get(reason) or reason_text(reason)


def add_form_errors(form: Any, by_field: dict[str, list[str]], general: list[str]) -> None:
    for name, texts in by_field.items():
        for text in texts:
            form.add_error(name if name in form.fields else None, text)
    for text in general:
        form.add_error(None, text)
