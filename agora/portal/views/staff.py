"""Staff pages: password sign-in, the merchant console, the operator console (overview,
directory, onboarding) and the government home."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agora.accounts.actor import Actor
from agora.accounts.choices import Role
from agora.accounts.selectors import actor_for_user
from agora.core.errors import DomainError, PermissionDenied
from agora.district.choices import ApplicationStatus
from agora.district.selectors import (
    access_application,
    access_shop,
    applications_visible,
    district_overview,
    floors_of_mall,
    shops_managed,
    shops_matching,
)
from agora.district.services.onboarding import (
    merchant_application_approve,
    merchant_application_reject,
)
from agora.district.services.shops import shop_update
from agora.portal.errors import add_to_form, page_errors
from agora.portal.forms import RejectForm, ShopEditForm
from agora.portal.lookups import home_url_for, vacant_units
from agora.portal.views.common import console, is_operator, visible

if TYPE_CHECKING:
    from agora.district.models import Shop

DIRECTORY_LIMIT = 100
REVIEWED_LIMIT = 30
EDIT_ROLES = frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_MANAGER})


class StaffLoginView(LoginView):
    """Username and password; lands on the console of the person's role."""

    template_name = "portal/staff_login.html"

    def get_default_redirect_url(self) -> str:
        return home_url_for(actor_for_user(self.request.user))  # type: ignore[arg-type]


def _role_labels(roles: frozenset[str] | set[str] | list[str]) -> list[str]:
    labels = dict(Role.choices)
    order = list(Role.values)
    return [str(labels[r]) for r in sorted(roles, key=order.index) if r in labels]


# --- merchant console -----------------------------------------------------------------------
def _shop_edit_form(shop: Shop, data: Any = None) -> ShopEditForm:
    return ShopEditForm(
        data,
        initial={
            "opens_at": shop.opens_at,
            "closes_at": shop.closes_at,
            "phone": shop.phone,
            "description": shop.description,
        },
        auto_id=f"shop{shop.pk}_%s",
    )


def _merchant_page(
    request: HttpRequest, actor: Actor, bound: tuple[int, ShopEditForm] | None = None
) -> HttpResponse:
    shops = shops_managed(actor=actor).filter(id__in=actor.shop_ids).order_by("name_pinyin", "id")
    cards = []
    for shop in shops:
        can_edit = actor.has_shop_role(shop.pk, EDIT_ROLES)
        form = None
        if can_edit:
            form = bound[1] if bound and bound[0] == shop.pk else _shop_edit_form(shop)
        cards.append(
            {
                "shop": shop,
                "roles": _role_labels(actor.shop_roles.get(shop.pk, frozenset())),
                "can_edit": can_edit,
                "form": form,
                "units": list(shop.units.all()),
            }
        )
    return render(
        request,
        "portal/merchant_home.html",
        {"cards": cards, "role_names": _role_labels(set().union(*actor.shop_roles.values()))},
        status=400 if bound else 200,
    )


@require_GET
@console(lambda actor: actor.is_merchant)
def merchant_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _merchant_page(request, actor)


@require_POST
@console(lambda actor: actor.is_merchant)
def merchant_shop_edit(request: HttpRequest, actor: Actor, shop_id: int) -> HttpResponse:
    """Only the actor's own shops exist here; a cashier may look but not change."""
    if shop_id not in actor.shop_ids:
        raise Http404("shop not found")
    shop = visible(access_shop, actor=actor, shop_id=shop_id)
    if not actor.has_shop_role(shop.pk, EDIT_ROLES):
        raise DjangoPermissionDenied("only the shop's owner or manager may change it")
    form = _shop_edit_form(shop, request.POST)
    if form.is_valid():
        try:
            shop_update(actor=actor, shop=shop, changes=dict(form.cleaned_data))
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.detail) from None
        except DomainError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("%(shop)s was saved.") % {"shop": shop.name})
            return redirect("portal:merchant-home")
    return _merchant_page(request, actor, bound=(shop.pk, form))


# --- operator console -----------------------------------------------------------------------
def _overview(actor: Actor) -> list[dict[str, Any]]:
    out = []
    for district, summaries in district_overview(actor=actor):
        malls = []
        for s in summaries:
            vacancy = round(100 * s.vacant_units / s.units, 1) if s.units else 0.0
            malls.append(
                {"summary": s, "floors": list(floors_of_mall(mall=s.mall)), "vacancy": vacancy}
            )
        out.append(
            {
                "district": district,
                "malls": malls,
                "floors": sum(s.floors for s in summaries),
                "shops": sum(s.shops for s in summaries),
                "open_shops": sum(s.open_shops for s in summaries),
                "units": sum(s.units for s in summaries),
                "vacant_units": sum(s.vacant_units for s in summaries),
            }
        )
    return out


@require_GET
@console(is_operator)
def ops_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "portal/ops_home.html", {"districts": _overview(actor)})


@require_GET
@console(is_operator)
def ops_directory(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every shop the operator manages (any status); live search by name, pinyin, initials."""
    q = request.GET.get("q", "")[:40]
    shops = shops_matching(shops_managed(actor=actor), q=q)
    shops = shops.order_by("mall_id", "name_pinyin", "id")
    total = shops.count()
    context = {"q": q, "shops": list(shops[:DIRECTORY_LIMIT]), "total": total}
    template = (
        "portal/partials/ops_directory_rows.html"
        if getattr(request, "htmx", False)
        else "portal/ops_directory.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _applications_page(
    request: HttpRequest,
    actor: Actor,
    *,
    errors: dict[int, list[str]] | None = None,
    reject_forms: dict[int, RejectForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    visible_apps = applications_visible(actor=actor)
    pending = list(
        visible_apps.filter(status=ApplicationStatus.SUBMITTED).order_by("submitted_at", "id")
    )
    reviewed = list(
        visible_apps.exclude(status=ApplicationStatus.SUBMITTED).order_by("-reviewed_at", "-id")[
            :REVIEWED_LIMIT
        ]
    )
    units_by_mall: dict[int, Any] = {}
    rows = []
    for application in pending:
        if application.mall_id not in units_by_mall:
            units_by_mall[application.mall_id] = vacant_units(mall=application.mall)
        rows.append(
            {
                "application": application,
                "vacant": units_by_mall[application.mall_id],
                "errors": (errors or {}).get(application.pk, []),
                "reject_form": (reject_forms or {}).get(application.pk)
                or RejectForm(auto_id=f"app{application.pk}_%s"),
            }
        )
    return render(
        request,
        "portal/ops_applications.html",
        {"pending": rows, "reviewed": reviewed},
        status=status,
    )


@require_GET
@console(is_operator)
def ops_applications(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _applications_page(request, actor)


@require_POST
@console(is_operator)
def ops_application_approve(
    request: HttpRequest, actor: Actor, application_id: int
) -> HttpResponse:
    application = visible(access_application, actor=actor, application_id=application_id)
    raw = request.POST.getlist("unit_ids")
    unit_ids = [int(v) for v in raw if v.isdigit()]
    try:
        result = merchant_application_approve(
            actor=actor,
            application=application,
            unit_ids=unit_ids or None,
        )
    except DomainError as exc:
        found = page_errors(exc)
        return _applications_page(
            request, actor, errors={application.pk: found.general}, status=400
        )
    response = render(request, "portal/application_approved.html", {"result": result})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@console(is_operator)
def ops_application_reject(request: HttpRequest, actor: Actor, application_id: int) -> HttpResponse:
    application = visible(access_application, actor=actor, application_id=application_id)
    form = RejectForm(request.POST, auto_id=f"app{application.pk}_%s")
    if form.is_valid():
        try:
            merchant_application_reject(
                actor=actor, application=application, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            add_to_form(form, exc, aliases={"note": "note"})
        else:
            messages.success(
                request,
                _("The application for %(shop)s was rejected.") % {"shop": application.shop_name},
            )
            return redirect("portal:ops-applications")
    return _applications_page(request, actor, reject_forms={application.pk: form}, status=400)


# --- government -----------------------------------------------------------------------------
@require_GET
@console(lambda actor: actor.is_government)
def gov_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Counts and floor plans only: no shop contacts, no commerce data."""
    return render(request, "portal/gov_home.html", {"districts": _overview(actor)})
