"""Domain errors of the loyalty services in the reader's language.

Services give their reasons in English for the API; these pages translate the ones they know by
the error's stable ``code`` (and field) and fall back to the portal's translations."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext as _

from agora.core.errors import DomainError, FieldError
from agora.lib.money import format_fen
from agora.portal.errors import translate_detail, translate_field_error

_SPEND_AT_LEAST = re.compile(r"^spend at least (\d+) fen$")


def _by_code(code: str, exc: DomainError | None = None) -> str | None:
    extra = exc.extra if exc is not None else {}
    known = {
        "member_code_used": _(
            "This member code was already used: ask the shopper to show the card again."
        ),
        "member_code_expired": _(
            "This member code has expired: ask the shopper to refresh the card."
        ),
        "card_not_linked": _("This card is not linked to a member."),
        "member_frozen": _("This membership is frozen."),
        "insufficient_points": _("The member has only %(balance)s points.")
        % {"balance": extra.get("balance", 0)},
        "idempotency_key_reused": _(
            "This form was already sent with other values: reload the page and try again."
        ),
        "coupon_used": _("This coupon was already used."),
        "coupon_void": _("This coupon was voided."),
        "coupon_expired": _("This coupon has expired."),
        "tag_exists": _("The member already has this tag."),
        "channel_closed": _("not given out this way"),
        "not_active": _("not being given out"),
        "not_started": _("claiming has not started"),
        "claim_ended": _("claiming has ended"),
        "expired": _("expired"),
        "member_limit": _("the member already holds the most allowed"),
        "daily_limit": _("the member reached today's limit"),
        "sold_out": _("sold out"),
    }
    return known.get(code)


def _field_message(error: FieldError, context: str) -> str:
    if error.field == "member_ticket":
        return _("Identify the member again (scan the member code).")
    if error.field == "code" and error.code == "invalid":
        if context == "coupon":
            return _("Not a coupon code.")
        return _("Not a member code or card number.")
    if error.field == "reason" and error.code == "required":
        return _("Say why (at least 2 characters).")
    if error.field == "tag" and error.code == "invalid":
        return _(
            "1-30 letters, digits, Chinese characters, - or _; tags starting with rfm:, fav:, "
            "freq: or spend: are computed."
        )
    if error.field == "points" and error.code == "range":
        return _("Enter a non-zero number of points (at most 10,000,000).")
    known = {
        ("title", "required"): _("Give it a title."),
        ("name", "required"): _("Give it a name."),
        ("body", "required"): _("Write a message."),
        ("value_fen", "required"): _("Enter a positive amount."),
        ("threshold_fen", "range"): _("The minimum spend must be above the reduction."),
        ("percent_off", "range"): _("Between 1 and 90 percent."),
        ("cap_fen", "required"): _("A percent-off coupon needs a largest discount."),
        ("gift_name", "required"): _("Name the gift."),
        ("parking_hours", "range"): _("Between 1 and 24 hours."),
        ("valid_days", "range"): _("Between 1 and 366 days."),
        ("claim_ends", "range"): _("Must be after the start."),
        ("ends_at", "range"): _("Must be after the start."),
        ("total_stock", "range"): _("Between 1 and 10,000,000."),
        ("per_member_total", "range"): _("Between 1 and 100."),
        ("per_member_daily", "range"): _("From 0 (no daily limit) up to the limit per member."),
        ("channels", "required"): _("Choose at least one."),
        ("points_per_yuan", "range"): _("Between 0 and 100 points per yuan."),
        ("daily_cap", "range"): _("A cap must be positive (leave it empty for none)."),
        ("multiplier", "range"): _("More than 1 and at most 10."),
    }
    return known.get((error.field, error.code)) or translate_field_error(error)


def messages_for(exc: DomainError, *, context: str = "") -> list[str]:
    """Every message of an error, one line each."""
    known = _by_code(exc.code, exc)
    if known:
        return [known]
    if exc.code == "coupon_not_applicable":
        reason = exc.detail.split(": ", 1)[-1]
        return [_("This coupon cannot be used here: %(reason)s") % {"reason": reason_text(reason)}]
    if exc.code == "not_found" and context == "coupon":
        return [_("No coupon with this code.")]
    if exc.errors:
        return [_field_message(e, context) for e in exc.errors]
    return [translate_detail(exc)]


def add_to_form(
    form: forms.BaseForm,
    exc: DomainError,
    *,
    aliases: dict[str, str] | None = None,
    context: str = "",
) -> None:
    """Attach a domain error to a bound form: field errors next to their fields."""
    aliases = aliases or {}
    names = set(form.fields)
    if not exc.errors or _by_code(exc.code, exc):
        for message in messages_for(exc, context=context):
            form.add_error(None, message)
        return
    for error in exc.errors:
        name = aliases.get(error.field, error.field)
        form.add_error(name if name in names else None, _field_message(error, context))


def reason_text(reason: str) -> str:
    """Why a coupon does not apply, from wallet.applicability's English reason."""
    if not reason:
        return ""
    match = _SPEND_AT_LEAST.match(reason)
    if match:
        return _("spend at least %(amount)s") % {"amount": format_fen(int(match.group(1)))}
    known = {
        "already used": _("already used"),
        "voided": _("voided"),
        "expired": _("expired"),
        "not valid yet": _("not valid yet"),
        "not valid at this shop": _("not valid at this shop"),
        "parking coupons are used at the car park exit": _(
            "parking coupons are used at the car park exit"
        ),
    }
    return known.get(reason, reason)


def refused_text(code: str) -> str:
    return _by_code(code) or code
