"""Domain errors shown on pages: each FieldError next to its field, in the reader's language.

Services give their reasons in English for the API; pages translate the reasons they know by
the error's stable ``code`` and fall back to the service's own words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext as _

from agora.core.errors import DomainError, FieldError, RateLimited


def _reason_by_code(error: FieldError) -> str | None:
    known = {
        "phone": _("Enter a mainland China mobile number of 11 digits."),
        "code": _("Enter the 6 digits from the SMS."),
        "expired": _("No valid code for this phone: ask for a new one."),
        "used": _("This code was already used: ask for a new one."),
        "wrong_code": _("The code is wrong."),
        "required": _("This field is required."),
        "licence": _("Enter the 18-character unified social credit code."),
        "enum": _("Choose one of the listed values."),
        "hours": _("The closing time must differ from the opening time."),
        "unknown_unit": _("Not a shop unit of this mall."),
        "occupied": _("This unit is already occupied."),
        "stale_policy": _("Consent must be given to the current privacy policy."),
        "taken": _("This name is already taken."),
    }
    return known.get(error.code)


def translate_field_error(error: FieldError) -> str:
    return _reason_by_code(error) or error.reason


def translate_detail(exc: DomainError) -> str:
    """A one-line message for errors that name no field."""
    if isinstance(exc, RateLimited):
        wait = exc.extra.get("retry_after")
        if wait and int(wait) < 3600:
            return _("Please wait %(seconds)s seconds before asking for another code.") % {
                "seconds": wait
            }
        return _("Too many requests: please try again later.")
    if exc.code == "conflict":
        return _("This was changed meanwhile: %(detail)s") % {"detail": exc.detail}
    if exc.code == "permission_denied":
        return _("You may not do this.")
    if exc.code == "not_found":
        return _("Not found.")
    return exc.detail or _("Something is not right: please check and try again.")


@dataclass
class PageErrors:
    """Errors of one form: by field, plus those that name no field."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def page_errors(exc: DomainError, *, known_fields: Iterable[str] = ()) -> PageErrors:
    """Split a domain error into per-field messages (for ``known_fields``) and the rest."""
    known = set(known_fields)
    out = PageErrors()
    for error in exc.errors:
        message = translate_field_error(error)
        if error.field in known:
            out.fields.setdefault(error.field, []).append(message)
        else:
            out.general.append(message)
    if not exc.errors:
        out.general.append(translate_detail(exc))
    return out


def add_to_form(
    form: forms.BaseForm, exc: DomainError, *, aliases: dict[str, str] | None = None
) -> None:
    """Attach a domain error to a bound form: field errors to their fields, the rest on top."""
    aliases = aliases or {}
    names = set(form.fields)
    for error in exc.errors:
        name = aliases.get(error.field, error.field)
        form.add_error(name if name in names else None, translate_field_error(error))
    if not exc.errors:
        form.add_error(None, translate_detail(exc))
