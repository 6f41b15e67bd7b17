"""The operator's loyalty console (/ops/loyalty/): earning rules and campaigns, coupon
templates with live counts, and the shared tab layout of the console."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from agora.accounts.actor import Actor
from agora.console.errors import add_to_form, messages_for, refused_text
from agora.console.forms import TEMPLATE_FIELDS, CampaignForm, PushForm, RuleForm, TemplateForm
from agora.console.views.common import coupon_face, current_mall
from agora.core.errors import DomainError
from agora.coupons.choices import Channel, CouponKind, Party, TemplateStatus, Validity
from agora.coupons.selectors import access_template, template_stats, templates_managed
from agora.coupons.services.templates import TemplateSpec, template_create, template_set_status
from agora.coupons.services.wallet import coupon_push
from agora.district.choices import ShopCategory
from agora.members.selectors import members_search
from agora.points.selectors import campaigns_of, rules_of
from agora.points.services.earning import campaign_create, rule_set
from agora.portal.views.common import console, is_operator, visible

if TYPE_CHECKING:
    from agora.district.models import Mall

TABS = [
    ("rules", "console:ops-loyalty", gettext_lazy("Rules & campaigns")),
    ("coupons", "console:ops-coupons", gettext_lazy("Coupons")),
    ("members", "console:ops-members", gettext_lazy("Members")),
    ("clearing", "console:ops-clearing", gettext_lazy("Clearing")),
    ("desk", "console:ops-desk", gettext_lazy("Service desk")),
]
TEMPLATE_LIMIT = 100
PUSH_LIMIT = 5000
POLL_SECONDS = 10


def mall_url(name: str, mall: Mall, malls: list[Mall], *args: Any) -> str:
    url = reverse(name, args=args)
    return f"{url}?mall={mall.pk}" if len(malls) > 1 else url


def ops_context(request: HttpRequest, actor: Actor, tab: str) -> dict[str, Any]:
    """The tabs, the mall switch and the current mall of every console page."""
    mall, malls = current_mall(request, actor)
    switch = []
    if len(malls) > 1:
        for m in malls:
            url = f"{request.path}?mall={m.pk}"
            switch.append({"mall": m, "url": url, "active": m.pk == mall.pk})
    return {
        "mall": mall,
        "malls": malls,
        "mall_switch": switch,
        "tab": tab,
        "tabs": [
            {"key": key, "label": label, "url": mall_url(name, mall, malls), "active": key == tab}
            for key, name, label in TABS
        ],
    }


def back_to(name: str, request: HttpRequest, actor: Actor, *args: Any) -> HttpResponse:
    mall, malls = current_mall(request, actor)
    return redirect(mall_url(name, mall, malls, *args))


# --- rules & campaigns -------------------------------------------------------------------------
def _category_label(category: str) -> str:
    if not category:
        return ""
    return str(dict(ShopCategory.choices).get(category, category))


def status_label(status: str) -> str:
    labels: dict[str, str] = {
        TemplateStatus.DRAFT: _("Draft"),
        TemplateStatus.ACTIVE: _("Being given out"),
        TemplateStatus.PAUSED: _("Paused"),
        TemplateStatus.ENDED: _("Ended"),
    }
    return labels.get(status, status)


def _campaign_state(campaign: Any, now: Any) -> str:
    if campaign.ends_at <= now:
        return str(_("Ended"))
    if campaign.starts_at > now:
        return str(_("Upcoming"))
    return str(_("Running"))


def _rules_page(
    request: HttpRequest,
    actor: Actor,
    *,
    rule_form: RuleForm | None = None,
    campaign_form: CampaignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = ops_context(request, actor, "rules")
    mall = context["mall"]
    now = timezone.now()
    campaigns = [
        {"campaign": c, "state": _campaign_state(c, now)}
        for c in campaigns_of(district_id=mall.district_id)
        .filter(Q(mall=None) | Q(mall_id=mall.pk))
        .order_by("-starts_at", "-id")[:50]
    ]
    start = timezone.localtime(now).replace(second=0, microsecond=0)
    context.update(
        {
            "rules": [
                {"rule": r, "category": _category_label(r.category)}
                for r in rules_of(district_id=mall.district_id, mall_ids={mall.pk})
            ],
            "campaigns": campaigns,
            "rule_form": rule_form or RuleForm(auto_id="rule_%s", initial={"funder": "mall"}),
            "campaign_form": campaign_form
            or CampaignForm(
                auto_id="campaign_%s",
                initial={"starts_at": start, "ends_at": start + timedelta(days=7)},
            ),
        }
    )
    return render(request, "console/ops_rules.html", context, status=status)


@require_GET
@console(is_operator)
def ops_loyalty(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _rules_page(request, actor)


@require_POST
@console(is_operator)
def rule_set_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    mall, _malls = current_mall(request, actor)
    form = RuleForm(request.POST, auto_id="rule_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            rule = rule_set(
                actor=actor,
                district_id=mall.district_id,
                mall_id=mall.pk,
                shop_id=None,
                category=data["category"],
                name=data["name"],
                points_per_yuan=data["points_per_yuan"],
                funder=data["funder"],
                daily_cap=data["daily_cap"],
            )
        except DomainError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("The rule “%(name)s” is in force.") % {"name": rule.name})
            return back_to("console:ops-loyalty", request, actor)
    return _rules_page(request, actor, rule_form=form, status=400)


@require_POST
@console(is_operator)
def campaign_create_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    mall, _malls = current_mall(request, actor)
    form = CampaignForm(request.POST, auto_id="campaign_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            campaign = campaign_create(
                actor=actor,
                district_id=mall.district_id,
                mall_id=mall.pk,
                name=data["name"],
                multiplier=data["multiplier"],
                categories=list(data["categories"]),
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
            )
        except DomainError as exc:
            add_to_form(form, exc)
        else:
            messages.success(
                request, _("The campaign “%(name)s” was created.") % {"name": campaign.name}
            )
            return back_to("console:ops-loyalty", request, actor)
    return _rules_page(request, actor, campaign_form=form, status=400)


# --- coupons ---------------------------------------------------------------------------------
def _template_rows(actor: Actor, mall: Mall) -> list[dict[str, Any]]:
    templates = (
        templates_managed(actor=actor)
        .filter(Q(mall_id=mall.pk) | Q(mall=None))
        .order_by("-id")[:TEMPLATE_LIMIT]
    )
    return [
        {
            "template": t,
            "face": coupon_face(t),
            "status": status_label(t.status),
            "stats": template_stats(template=t),
            "pushable": Channel.PUSH in t.channels and t.status == TemplateStatus.ACTIVE,
        }
        for t in templates
    ]


def _template_form(data: Any = None) -> TemplateForm:
    ends = timezone.localtime(timezone.now()).replace(second=0, microsecond=0) + timedelta(days=30)
    return TemplateForm(
        data,
        auto_id="tpl_%s",
        initial={
            "kind": CouponKind.CASH_OFF,
            "claim_ends": ends,
            "valid_days": 30,
            "total_stock": 100,
            "per_member_total": 1,
            "per_member_daily": 0,
            "channels": [Channel.APP],
        },
    )


def _coupons_page(
    request: HttpRequest,
    actor: Actor,
    *,
    form: TemplateForm | None = None,
    push_form: PushForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = ops_context(request, actor, "coupons")
    mall = context["mall"]
    rows = _template_rows(actor, mall)
    context.update(
        {
            "rows": rows,
            "pushable": [r["template"] for r in rows if r["pushable"]],
            "chosen": request.POST.get("template", ""),
            "form": form or _template_form(),
            "push_form": push_form or PushForm(auto_id="push_%s"),
            "poll_seconds": POLL_SECONDS,
            "stats_url": mall_url("console:ops-coupon-stats", mall, context["malls"]),
        }
    )
    return render(request, "console/ops_coupons.html", context, status=status)


@require_GET
@console(is_operator)
def coupons(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _coupons_page(request, actor)


@require_GET
@console(is_operator)
def coupon_stats(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The table body alone, polled every 10 s for live stock and counts."""
    context = ops_context(request, actor, "coupons")
    context.update(
        {
            "rows": _template_rows(actor, context["mall"]),
            "stats_url": request.get_full_path(),
            "poll_seconds": POLL_SECONDS,
        }
    )
    response = render(request, "console/partials/ops_coupon_rows.html", context)
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
@console(is_operator)
def coupon_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    mall, _malls = current_mall(request, actor)
    form = _template_form(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        spec = TemplateSpec(
            kind=data["kind"],
            title=data["title"],
            description=data["description"],
            value_fen=data["value"] or 0,
            percent_off=data["percent_off"] or 0,
            cap_fen=data["cap"] or 0,
            threshold_fen=data["threshold"] or 0,
            gift_name=data["gift_name"],
            parking_hours=data["parking_hours"] or 0,
            validity=Validity.RELATIVE,
            valid_from=None,
            valid_until=None,
            valid_days=data["valid_days"],
            claim_starts=timezone.now(),
            claim_ends=data["claim_ends"],
            total_stock=data["total_stock"],
            per_member_total=data["per_member_total"],
            per_member_daily=data["per_member_daily"],
            channels=list(data["channels"]),
            funder=Party.MALL,
            restore_on_refund=True,
            scope_mall_ids=[],
            scope_shop_ids=[],
            scope_categories=[],
        )
        try:
            template = template_create(
                actor=actor,
                district_id=mall.district_id,
                issuer=Party.MALL,
                mall_id=mall.pk,
                shop=None,
                spec=spec,
            )
        except DomainError as exc:
            add_to_form(form, exc, aliases=TEMPLATE_FIELDS)
        else:
            messages.success(
                request, _("The coupon “%(title)s” was created.") % {"title": template.title}
            )
            return back_to("console:ops-coupons", request, actor)
    return _coupons_page(request, actor, form=form, status=400)


STATUS_ACTIONS = {
    "pause": TemplateStatus.PAUSED,
    "resume": TemplateStatus.ACTIVE,
    "end": TemplateStatus.ENDED,
}


@require_POST
@console(is_operator)
def coupon_status(request: HttpRequest, actor: Actor, template_id: int) -> HttpResponse:
    template = visible(access_template, actor=actor, template_id=template_id)
    action = request.POST.get("action", "")
    if action not in STATUS_ACTIONS:
        messages.error(request, _("Choose pause, resume or end."))
        return back_to("console:ops-coupons", request, actor)
    try:
        template_set_status(actor=actor, template=template, status=STATUS_ACTIONS[action])
    except DomainError as exc:
        if exc.errors and exc.errors[0].code == "final":
            messages.error(request, _("An ended coupon cannot change any more."))
        else:
            for message in messages_for(exc):
                messages.error(request, message)
    else:
        messages.success(
            request,
            _("“%(title)s” is now %(status)s.")
            % {"title": template.title, "status": status_label(template.status)},
        )
    return back_to("console:ops-coupons", request, actor)


@require_POST
@console(is_operator)
def coupon_push_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = PushForm(request.POST, auto_id="push_%s")
    raw = request.POST.get("template", "")
    if not raw.isdigit():
        form.add_error(None, _("Choose a coupon."))
        return _coupons_page(request, actor, push_form=form, status=400)
    template = visible(access_template, actor=actor, template_id=int(raw))
    if not form.is_valid():
        return _coupons_page(request, actor, push_form=form, status=400)
    tag = form.cleaned_data["tag"].strip()
    members = list(members_search(actor=actor, tag=tag)[:PUSH_LIMIT])
    if not members:
        form.add_error("tag", _("No member has the tag “%(tag)s”.") % {"tag": tag})
        return _coupons_page(request, actor, push_form=form, status=400)
    result = coupon_push(actor=actor, template=template, members=members)
    refused = ", ".join(f"{refused_text(code)} {n}" for code, n in sorted(result.refused.items()))
    text = _("“%(title)s” pushed to %(issued)s of %(total)s members with the tag “%(tag)s”.") % {
        "title": template.title,
        "issued": result.issued,
        "total": len(members),
        "tag": tag,
    }
    if refused:
        text += " " + _("Not given: %(refused)s.") % {"refused": refused}
    messages.success(request, text)
    return back_to("console:ops-coupons", request, actor)
