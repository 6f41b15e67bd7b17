"""The shopper shell (home, live directory search, PWA files), SMS sign-in, the public merchant
application form and the floor-plan viewer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from agora.accounts.services.sms_login import sms_code_request, sms_code_verify
from agora.core.errors import DomainError, NotFound
from agora.district.selectors import (
    access_floor,
    access_mall,
    floor_plan,
    floors_of_mall,
    malls_public,
    shop_directory,
)
from agora.district.services.onboarding import merchant_application_submit
from agora.navigation.views import app as nav_app
from agora.portal.errors import PageErrors, add_to_form, page_errors
from agora.portal.forms import ApplyForm
from agora.portal.plans import draw_plan
from agora.portal.views.common import actor_of, safe_next, visible

DIRECTORY_LIMIT = 20
SHELL_VERSION = "agora-shell-v1"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _directory(q: str) -> list[Any]:
    if not q.strip():
        return []
    return list(shop_directory(q=q[:40]).prefetch_related("units__floor")[:DIRECTORY_LIMIT])


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The location-aware shell (APP-1): tabs 商场 / 生活 / 市民之窗; the main area shows the
    life page until the position (with the shopper's consent) says which mall they are in
    (agora/navigation/static/navigation/app.js swaps it). The directory search and the malls
    of the district stay below."""
    q = request.GET.get("q", "")
    malls = [(mall, list(floors_of_mall(mall=mall))) for mall in malls_public()]
    return render(
        request,
        "portal/home.html",
        {
            "malls": malls,
            "q": q,
            "results": _directory(q),
            "searched": bool(q.strip()),
            "consent": nav_app.location_consent(request),
            **nav_app.life_context(request),
        },
    )


@require_GET
def directory_search(request: HttpRequest) -> HttpResponse:
    """The live-search partial: open shops by name, brand, pinyin or initials (xbk → 星巴克)."""
    q = request.GET.get("q", "")
    return render(
        request,
        "portal/partials/directory_results.html",
        {"q": q, "results": _directory(q), "searched": bool(q.strip())},
    )


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": "智慧商圈 Agora",
        "short_name": "Agora",
        "description": _("Every mall of the district in one app."),
        "lang": "zh-Hans",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": "#0f766e",
        "background_color": "#ffffff",
        "icons": [
            {"src": static("agora/icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("agora/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("agora/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("agora/icons/maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = [
        "/",
        static("agora/app.css"),
        static("agora/app.js"),
        static("django_htmx/htmx-2.min.js"),
        static("agora/icons/icon.svg"),
        static("agora/icons/icon-192.png"),
    ]
    return render(
        request,
        "portal/sw.js",
        {"version": SHELL_VERSION, "shell": shell, "static_prefix": settings.STATIC_URL},
        content_type="application/javascript; charset=utf-8",
    )


# --- SMS sign-in ----------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def sms_login(request: HttpRequest) -> HttpResponse:
    """Phone → code → signed in. With HTMX the form swaps itself; without, it is a full page."""
    stage = "phone"
    phone = request.POST.get("phone", "").strip()
    errors = PageErrors()
    if request.method == "POST":
        if request.POST.get("step") == "verify":
            stage = "code"
            try:
                user = sms_code_verify(phone=phone, code=request.POST.get("code", "").strip())
            except DomainError as exc:
                errors = page_errors(exc, known_fields=["phone", "code"])
                if "phone" in errors.fields:
                    stage = "phone"
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                target = safe_next(request, reverse("portal:home"))
                if _is_htmx(request):
                    return HttpResponseClientRedirect(target)
                return redirect(target)
        else:
            try:
                sms_code_request(phone=phone)
            except DomainError as exc:
                errors = page_errors(exc, known_fields=["phone"])
            else:
                stage = "code"
    context = {
        "stage": stage,
        "phone": phone,
        "errors": errors,
        "next": safe_next(request, ""),
    }
    template = "portal/partials/sms_form.html" if _is_htmx(request) else "portal/login.html"
    return render(request, template, context)


# --- merchant application -------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mall = access_mall(actor=actor_of(request), mall_id=data["mall"])
            application = merchant_application_submit(
                mall=mall,
                shop_name=data["shop_name"],
                brand=data["brand"],
                category=data["category"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                contact_email=data["contact_email"],
                licence_number=data["licence_number"].strip(),
            )
        except NotFound:
            form.add_error("mall", _("Choose one of the listed values."))
        except DomainError as exc:
            add_to_form(form, exc, aliases={"unit_id": "mall"})
        else:
            request.session["applied"] = {
                "id": application.pk,
                "shop_name": application.shop_name,
                "mall": mall.name,
            }
            return redirect("portal:apply-done")
    return render(request, "portal/apply.html", {"form": form})


@require_GET
def apply_done(request: HttpRequest) -> HttpResponse:
    applied = request.session.get("applied")
    if not applied:
        return redirect("portal:apply")
    return render(request, "portal/apply_done.html", {"applied": applied})


# --- floor plans ----------------------------------------------------------------------------
@require_GET
def floor_view(request: HttpRequest, floor_id: int) -> HttpResponse:
    """Public map data: anyone may look at a floor's plan."""
    floor = visible(access_floor, actor=actor_of(request), floor_id=floor_id)
    highlight = request.GET.get("shop", "")
    plan = draw_plan(
        floor_plan(floor=floor), highlight_shop=int(highlight) if highlight.isdigit() else None
    )
    return render(
        request,
        "portal/floor.html",
        {
            "floor": floor,
            "mall": floor.mall,
            "floors": list(floors_of_mall(mall=floor.mall)),
            "plan": plan,
        },
    )
