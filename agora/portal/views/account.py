"""我的数据与授权: consents, the personal-data download and account deletion (PIPL)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agora.accounts.choices import ConsentPurpose
from agora.accounts.selectors import consent_current
from agora.accounts.services.privacy import account_delete, consent_set, personal_data_export
from agora.core.errors import DomainError
from agora.portal.errors import translate_detail
from agora.portal.views.common import ConsoleView

CONFIRM_WORD = "DELETE"


def signed_in(view: ConsoleView) -> ConsoleView:
    """Shopper pages: anonymous visitors are sent to the SMS sign-in first."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        return view(request, *args, **kwargs)

    return wrapper


def _consents(request: HttpRequest) -> list[dict[str, Any]]:
    current = consent_current(user=request.user)  # type: ignore[arg-type]
    return [
        {"purpose": value, "label": label, "record": current.get(value)}
        for value, label in ConsentPurpose.choices
    ]


def _page(request: HttpRequest, **extra: Any) -> HttpResponse:
    context = {
        "consents": _consents(request),
        "policy_version": settings.PRIVACY_POLICY_VERSION,
        "confirm_word": CONFIRM_WORD,
        **extra,
    }
    return render(request, "portal/my_data.html", context)


@require_GET
@signed_in
def my_data(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@signed_in
def consent_toggle(request: HttpRequest) -> HttpResponse:
    error = ""
    try:
        consent_set(
            user=request.user,  # type: ignore[arg-type]
            purpose=request.POST.get("purpose", ""),
            granted=request.POST.get("granted") == "1",
            policy_version=settings.PRIVACY_POLICY_VERSION,
            source="web",
        )
    except DomainError as exc:
        error = translate_detail(exc) if not exc.errors else _("Choose one of the listed values.")
    if getattr(request, "htmx", False):
        return render(
            request,
            "portal/partials/consents.html",
            {"consents": _consents(request), "consent_error": error},
        )
    if error:
        messages.error(request, error)
    return redirect("portal:my-data")


@require_GET
@signed_in
def data_export(request: HttpRequest) -> JsonResponse:
    data = personal_data_export(user=request.user)  # type: ignore[arg-type]
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = 'attachment; filename="agora-personal-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["POST"])
@signed_in
def delete_account(request: HttpRequest) -> HttpResponse:
    if request.POST.get("confirm", "").strip() != CONFIRM_WORD:
        return _page(
            request,
            delete_error=_("Type %(word)s to confirm.") % {"word": CONFIRM_WORD},
        )
    account_delete(user=request.user)  # type: ignore[arg-type]
    logout(request)
    messages.success(request, _("Your account was deleted and your personal data erased."))
    return redirect("portal:home")
